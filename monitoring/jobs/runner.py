"""The job runner (SPEC §6; issue #5 point 5): the registry of scheduled jobs and what makes each one safe.

Each app owns its jobs in its own module (monitoring.screening.jobs: the pending comparisons and the
regional alert; monitoring.jobs.checks: the overdue scan; assistance.jobs: the elimination review and
the data-quality checks) and registers them here with `register`, from its AppConfig.ready. The
runner imports none of them, so the import direction (fpr ← households ← monitoring ← assistance ←
workflow ← reports) holds.

Every job goes through `job_run`:
- the lock is the database: a JobRun row in status RUNNING, of which the partial unique constraint
  `one_running_run_per_job` allows one per job. A second start while one runs gets an IntegrityError and
  is recorded as SKIPPED. A RUNNING row older than settings.FPR_JOB_LOCK_MINUTES belongs to a worker that
  died (a killed process never writes its end), so it is marked ABANDONED and the lock is taken over;
- a job's findings are upserted by (kind, key) into TodoItem (or by (division, period, kind) into
  RegionalAlert) with `sync_todos`, and the to-do items it no longer finds are resolved with one UPDATE,
  so running a job twice changes nothing but the `job_run` each item was last confirmed by;
- the run record (started, finished, counts, errors) is what administrators see on the jobs page.

Jobs are started by Celery beat (the schedules are rows of django-celery-beat, created by migration
monitoring 0006 and edited in the admin), by hand from the jobs page ("立即运行") or by `manage.py
run_job`. Each registered job gets the Celery task `monitoring.jobs.<name>` — the runner's name, not
the owner's, so the saved schedules keep working wherever the job's code lives.
"""

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fpr import clock
from monitoring.models import JobRun, JobStatus, TodoItem, TodoKind

logger = logging.getLogger(__name__)

BEAT = "定时调度"


@dataclass
class Outcome:
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """One to-do item as a job finds it; `key` names the object ("case:12", "warning:7", "member:3")."""

    key: str
    division_id: str
    household_id: int | None = None
    case_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    cadence: str
    function: Callable[[JobRun], Outcome]
    order: int = 99  # where the jobs page lists it
    counts: dict[str, str] = field(default_factory=dict)  # labels of the counts it records besides to-do kinds


JOBS: dict[str, Job] = {}
TASKS: dict = {}
# Labels of the counts a run records, for the jobs page: every to-do kind, then what the jobs add.
COUNT_LABELS = {
    **{kind.value: kind.label for kind in TodoKind},
    **{f"{kind.value}.resolved": f"{kind.label}（已解决）" for kind in TodoKind},
}


def register(job: Job) -> Job:
    """Add a job to the registry (once: an app's ready() may run again in tests) and give it its task."""
    if job.name in JOBS:
        return JOBS[job.name]

    def run_task(triggered_by: str = BEAT) -> int:
        return job_run(job=job.name, triggered_by=triggered_by).pk

    run_task.__name__ = run_task.__qualname__ = f"{job.name}_task"
    TASKS[job.name] = shared_task(name=f"monitoring.jobs.{job.name}")(run_task)
    COUNT_LABELS.update(job.counts)
    ordered = sorted({**JOBS, job.name: job}.items(), key=lambda item: item[1].order)
    JOBS.clear()
    JOBS.update(ordered)
    return job


# --------------------------------------------------------------------------- the runner


def job_run(*, job: str, triggered_by: str = "") -> JobRun:
    """Run one job under its lock and return the run record (SKIPPED when another run holds the lock).

    Each call must run in autocommit (Celery, the command, the admin view): the RUNNING row has to be
    committed before the job starts, or a second start could not see it.
    """
    spec = JOBS[job]
    now = clock.now()
    stale = now - dt.timedelta(minutes=settings.FPR_JOB_LOCK_MINUTES)
    JobRun.objects.filter(job=job, status=JobStatus.RUNNING, started_at__lt=stale).update(
        status=JobStatus.ABANDONED,
        finished_at=now,
        errors=f"超过{settings.FPR_JOB_LOCK_MINUTES}分钟未结束（运行进程已中断），由下一次运行接管。",
    )
    try:
        # Two starts at once: the unique index lets one insert through; the other gets IntegrityError.
        with transaction.atomic():
            run = JobRun.objects.create(job=job, status=JobStatus.RUNNING, started_at=now, triggered_by=triggered_by)
    except IntegrityError:
        holder = JobRun.objects.filter(job=job, status=JobStatus.RUNNING).first()
        since = f"（开始于 {timezone.localtime(holder.started_at):%Y-%m-%d %H:%M:%S}）" if holder else ""
        return JobRun.objects.create(
            job=job,
            status=JobStatus.SKIPPED,
            started_at=now,
            finished_at=now,
            triggered_by=triggered_by,
            errors=f"同一任务正在运行{since}，本次未执行。",
        )
    try:
        outcome = spec.function(run)
    except Exception:
        logger.exception("job %s failed", job)
        run.status, run.errors = JobStatus.FAILED, traceback.format_exc()[-4000:]
    else:
        run.counts = outcome.counts
        run.errors = "\n".join(outcome.errors)
        run.status = JobStatus.FAILED if outcome.errors else JobStatus.SUCCEEDED
    run.finished_at = clock.now()
    run.save(update_fields=["status", "counts", "errors", "finished_at"])
    return run


def sync_todos(run: JobRun, kind: str, findings: Iterable[Finding]) -> dict[str, int]:
    """Upsert the items of one kind and resolve, in one UPDATE, the open ones this run did not find.

    An item found again keeps the date it was first found (`opened_at`); one that had been resolved is
    opened again (resolved_at cleared)."""
    now = run.started_at
    items = {
        f.key: TodoItem(
            kind=kind,
            key=f.key,
            division_id=f.division_id,
            household_id=f.household_id,
            case_id=f.case_id,
            detail=f.detail,
            opened_at=now,
            resolved_at=None,
            job_run=run,
        )
        for f in findings
    }
    TodoItem.objects.bulk_create(
        items.values(),
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["kind", "key"],
        update_fields=["division", "household", "case", "detail", "resolved_at", "job_run"],
    )
    resolved = TodoItem.objects.filter(kind=kind, resolved_at__isnull=True).exclude(job_run=run).update(resolved_at=now)
    return {kind: len(items), f"{kind}.resolved": resolved}


def labelled_counts(counts: dict) -> list[tuple[str, int]]:
    """A run's counts with their Chinese labels, in the order the job recorded them."""
    return [(COUNT_LABELS.get(key, key), value) for key, value in counts.items()]
