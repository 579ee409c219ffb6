import logging

from django.db import connection
from django.http import JsonResponse

from fpr.broker import broker_available

logger = logging.getLogger(__name__)


def healthz(request):
    """Liveness for the load balancer and docker-compose: the database must answer; the broker's state
    is reported but does not fail the check (pages keep working while jobs wait)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = True
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        logger.exception("health check: database unavailable")
        database = False
    body = {"database": database, "broker": broker_available()}
    return JsonResponse(body, status=200 if database else 503)
