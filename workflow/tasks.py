from celery import shared_task

from workflow.services import bulk_job_run


@shared_task(acks_late=True)
def run_bulk_job(job_id: int) -> int:
    return bulk_job_run(job_id=job_id).succeeded


@shared_task(acks_late=True)
def run_import_step(step: str, job_id: int) -> str:
    """One step of an onboarding import: "check" (the dry run) or "run" (the import)."""
    from workflow.onboarding.jobs import import_check, import_run

    return (import_check if step == "check" else import_run)(job_id).status
