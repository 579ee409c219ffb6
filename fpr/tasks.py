from celery import shared_task


@shared_task(ignore_result=False)  # its answer is read back (CELERY_TASK_IGNORE_RESULT is on)
def ping() -> str:
    """Round trip through the broker and a worker; used by the health check and the wiring test."""
    return "pong"
