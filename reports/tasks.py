from celery import shared_task
from django.db import InterfaceError, OperationalError

from reports.exports import export_run


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def run_export(export_id: int) -> str:
    return export_run(export_id).status
