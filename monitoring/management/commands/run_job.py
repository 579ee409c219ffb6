"""python manage.py run_job <job>   — run one scheduled job now, under its lock, and print the run record.
python manage.py run_job --list  — the jobs and their last run."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitoring.jobs.runner import JOBS, job_run, labelled_counts
from monitoring.models import JobRun, JobStatus


class Command(BaseCommand):
    help = "立即运行一个定时任务（与定时调度使用同一把锁），并打印运行记录。Run a scheduled job now."

    def add_arguments(self, parser):
        parser.add_argument("job", nargs="?", choices=sorted(JOBS), help="任务名")
        parser.add_argument("--list", action="store_true", dest="list_jobs", help="列出所有任务及最近一次运行")

    def handle(self, *args, job=None, list_jobs=False, **options):
        if list_jobs:
            for name, spec in JOBS.items():
                last = JobRun.objects.filter(job=name).first()
                when = (
                    f"{timezone.localtime(last.started_at):%Y-%m-%d %H:%M} {last.get_status_display()}"
                    if last
                    else "从未运行"
                )
                self.stdout.write(f"{name:<20} {spec.cadence}  {spec.label}  最近运行：{when}")
            return
        if not job:
            raise CommandError("请指定任务名，或用 --list 查看所有任务。")
        run = job_run(job=job, triggered_by="命令行")
        self.stdout.write(format_run(run))
        if run.status == JobStatus.FAILED:
            raise CommandError(f"任务 {job} 运行失败。")


def format_run(run: JobRun) -> str:
    lines = [
        f"任务：{run.job}（{JOBS[run.job].label}）",
        f"状态：{run.get_status_display()}",
        f"开始：{timezone.localtime(run.started_at):%Y-%m-%d %H:%M:%S}",
        f"结束：{timezone.localtime(run.finished_at):%Y-%m-%d %H:%M:%S}" if run.finished_at else "结束：—",
    ]
    lines += [f"  {label}：{value}" for label, value in labelled_counts(run.counts)]
    if run.errors:
        lines.append(f"错误：{run.errors}")
    return "\n".join(lines)
