from celery import shared_task
from django.db import InterfaceError, OperationalError

from reports.exports.runner import export_files_prune, export_run


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def run_export(export_id: int) -> str:
    return export_run(export_id).status


@shared_task(name="reports.tasks.prune_export_files")
def prune_export_files() -> int:
    """Daily (a django-celery-beat row made by reports' migration): export files past FPR_EXPORT_KEEP_DAYS."""
    return export_files_prune()
