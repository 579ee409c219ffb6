from celery import shared_task
from django.db import InterfaceError, OperationalError

from monitoring.screening import comparison

# The scheduled jobs' tasks are registered with the worker by the apps' ready() (monitoring.jobs.runner).


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def run_comparison(upload_id: int) -> str:
    """Compare one department upload; a killed worker's run is redelivered and starts again."""
    upload = comparison.comparison_run(upload_id)
    if upload.rows_kept and not upload.rejected_report:
        build_rejected_report.delay(upload_id)
    return upload.status


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def build_rejected_report(upload_id: int) -> bool:
    return bool(comparison.rejected_report_build(upload_id).rejected_report)
