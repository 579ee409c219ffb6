"""The services fpr runs on are the real ones: PostgreSQL, Redis and a Celery worker process."""

import pytest
from django.db import connection

from fpr.tasks import ping


def test_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_a_real_worker_runs_a_task_through_redis(celery_worker_process):
    result = ping.delay()
    assert result.get(timeout=30) == "pong"
    assert celery_worker_process.poll() is None  # still a live separate process


@pytest.mark.django_db
def test_health_check_reports_database_and_broker(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"database": True, "broker": True}
