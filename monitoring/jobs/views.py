"""定时任务 page: the scheduled jobs' last runs and "立即运行", for administrators (it used to be in the Django
admin, which is now for the system's operators only).

A job runs for the whole database (every county's cases), exactly as the schedule runs it, under the same
lock; starting one early changes nothing the schedule would not change. The page shows each run's status
and counts; a run's error text can name households of any county, so it is shown to the province's
administrators and the operators only.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from fpr.roles import Level, Role
from monitoring.jobs import runner
from monitoring.models import JobRun

RECENT_RUNS = 30


def can_run_jobs(user) -> bool:
    return bool(user.is_active and (user.is_superuser or user.has_role(Role.ADMINISTRATOR)))


def reads_job_errors(user) -> bool:
    return bool(
        user.is_superuser or (can_run_jobs(user) and user.division_id and user.division.level == Level.PROVINCE)
    )


def job_start(*, user, job: str) -> tuple[JobRun | None, runner.Job | None]:
    """Start a job by hand: run it here when Celery runs in-process (the demo), else queue it. Returns the
    run (in-process) or the queued job's spec."""
    if not can_run_jobs(user):
        raise PermissionDenied("只有系统管理员可以手动运行定时任务。")
    if job not in runner.JOBS:
        raise PermissionDenied("没有这个任务。")
    triggered_by = f"手动：{user.get_username()}"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return runner.job_run(job=job, triggered_by=triggered_by), None
    runner.TASKS[job].delay(triggered_by=triggered_by)
    return None, runner.JOBS[job]


@login_required
def job_list(request):
    if not can_run_jobs(request.user):
        raise PermissionDenied("只有系统管理员可以查看定时任务。")
    result = queued = None
    if request.method == "POST":
        name = request.POST.get("job", "")
        if name not in runner.JOBS:
            messages.error(request, "没有这个任务。")
            return redirect("monitoring:jobs")
        result, queued = job_start(user=request.user, job=name)
        if queued:
            messages.success(request, f"已提交后台运行：{queued.label}。稍后刷新本页查看结果。")
            return redirect("monitoring:jobs")
    runs = list(JobRun.objects.all()[:RECENT_RUNS])
    last_runs = {name: JobRun.objects.filter(job=name).first() for name in runner.JOBS}
    context = {
        "rows": [(spec, last_runs.get(name)) for name, spec in runner.JOBS.items()],
        "runs": [(run, runner.JOBS.get(run.job), runner.labelled_counts(run.counts)) for run in runs],
        "result": result,
        "result_counts": runner.labelled_counts(result.counts) if result else [],
        "show_errors": reads_job_errors(request.user),
    }
    return render(request, "monitoring/jobs.html", context)
