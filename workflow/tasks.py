from celery import shared_task

from workflow.services import bulk_job_run


@shared_task(acks_late=True)
def run_bulk_job(job_id: int) -> int:
    return bulk_job_run(job_id=job_id).succeeded
