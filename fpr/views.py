import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)


def broker_available() -> bool:
    """Whether background jobs can be queued now (always true when tasks run in-process)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


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
