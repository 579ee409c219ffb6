"""Import jobs (#15 point 6): every onboarding import is a background job with a result page, in two
steps — the file is **checked in full** (the kind's dry run: every problem, row by row, nothing written),
then **imported** when the administrator confirms a file that passed. Each step runs in the worker
(in-process in the demo); the job row keeps the check report and the result, so the page and the API
show them, and the import log is the list of jobs (who, what file, when, what it changed).

A kind is one entry of KINDS: its loader `load(actor, path, file_name, dry_run)` returns a report with
`refused` and `lines()`. The file is kept as uploaded (`ImportJob.file`), so the import
reads exactly the bytes that were checked.
"""

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction

from fpr import clock
from fpr.errors import ApplicationError
from fpr.queueing import enqueue
from households.accounts import is_account_administrator
from workflow.models import ImportJob, ImportKind, ImportStatus
from workflow.onboarding.cases import cases_import
from workflow.onboarding.divisions import FileProblem, divisions_load
from workflow.onboarding.registry import registry_import
from workflow.onboarding.users import password_sheet, users_import

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kind:
    label: str
    load: Callable  # (actor=, path=, file_name=, dry_run=) -> report
    keep: Callable | None = None  # (job, report): what the import leaves besides its lines


def _keep_passwords(job: ImportJob, report) -> None:
    """The new accounts' initial passwords: one printable list per division, in one ZIP for the importer
    to download once (workflow.onboarding.views.import_passwords). Nowhere else: not in the result, the
    log or the page."""
    divisions = report.by_division()
    if not divisions:
        return
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for (code, name), created in divisions.items():
            sheet = io.BytesIO()
            password_sheet((code, name), created, file_name=job.file_name).save(sheet)
            archive.writestr(f"{code}-{name}-初始密码.xlsx", sheet.getvalue())
    job.passwords.save(f"passwords-{job.pk}.zip", ContentFile(out.getvalue()), save=False)


KINDS = {
    ImportKind.DIVISIONS: Kind("区划代码（统计用区划代码表）", divisions_load),
    ImportKind.USERS: Kind("干部账号（姓名、手机号、所属村或乡镇、角色）", users_import, keep=_keep_passwords),
    ImportKind.REGISTRY: Kind(
        "农户和家庭成员（每个成员一行：户编号、姓名、身份证号、与户主关系、所属村）", registry_import
    ),
    ImportKind.CASES: Kind(
        "监测对象（原系统）（每户一行：户编号或户主身份证号、监测对象类型、风险类型、识别时间、当前状态）", cases_import
    ),
}
MAX_MB = settings.FPR_MAX_DEPARTMENT_UPLOAD_MB


def ensure_importer(user) -> None:
    if not (user.is_superuser or is_account_administrator(user)):
        raise PermissionDenied("只有系统管理员可以导入数据。")


def import_create(*, user, kind: str, file) -> ImportJob:
    """Keep the file and queue its check."""
    ensure_importer(user)
    if kind not in KINDS:
        raise ApplicationError("请选择导入内容。", field="kind")
    if file is None:
        raise ApplicationError("请选择要导入的文件。", field="file")
    if file.size > MAX_MB * 1024 * 1024:
        raise ApplicationError(f"文件超过 {MAX_MB}MB，请分批导入。", field="file")
    name = Path(file.name).name[:200]
    job = ImportJob.objects.create(kind=kind, file=file, file_name=name, user=user, division_id=user.division_id)
    _enqueue("check", job.pk)
    return job


def import_start(*, user, job: ImportJob) -> ImportJob:
    """Confirm a checked file: queue its import. Only once, and only a file that passed its check."""
    ensure_importer(user)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.CHECKED:
            raise ApplicationError(f"该文件{job.get_status_display()}，不能导入。")
        job.status, job.started_at = ImportStatus.RUNNING, clock.now()
        job.save(update_fields=["status", "started_at"])
    _enqueue("run", job.pk)
    return job


def import_check(job_id: int) -> ImportJob:
    """The dry run: every problem of the file, nothing written."""
    return _step(job_id, dry_run=True)


def import_run(job_id: int) -> ImportJob:
    """The import itself: one transaction (the kind's loader), nothing written when a row is refused."""
    return _step(job_id, dry_run=False)


def _step(job_id: int, *, dry_run: bool) -> ImportJob:
    expected = ImportStatus.CHECKING if dry_run else ImportStatus.RUNNING
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    if job.status != expected:  # a redelivered message: the step is done
        return job
    kind = KINDS[job.kind]
    actor = job.user
    try:
        report = kind.load(actor=actor, path=job.file.path, file_name=job.file_name, dry_run=dry_run)
    except (FileProblem, ApplicationError, PermissionDenied) as exc:
        job.error = (getattr(exc, "message", None) or str(exc))[:1000]
        job.status = ImportStatus.REFUSED if dry_run else ImportStatus.FAILED
    except Exception:
        logger.exception("import %s failed", job_id)
        job.error = "导入时发生系统错误，未写入任何数据，请联系系统运维人员。"
        job.status = ImportStatus.FAILED
    else:
        summary = {"lines": report.lines(), "refused": report.refused}
        if dry_run:
            job.check_report = summary
            job.status = ImportStatus.REFUSED if report.refused else ImportStatus.CHECKED
        else:
            job.result = summary
            job.status = ImportStatus.FAILED if report.refused else ImportStatus.DONE
            if kind.keep and not report.refused:
                kind.keep(job, report)
    job.finished_at = clock.now()
    job.save(update_fields=["check_report", "result", "status", "error", "finished_at", "passwords"])
    return job


def import_passwords_take(*, user, job: ImportJob) -> bytes:
    """The initial passwords' ZIP, once, for the administrator who ran the import; the file is deleted as
    it is handed over, so a second download is refused."""
    ensure_importer(user)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.user_id != user.pk:
            raise PermissionDenied("初始密码清单只能由导入人下载。")
        if not job.passwords:
            taken = f"已于 {job.passwords_taken_at:%Y-%m-%d %H:%M} 下载，" if job.passwords_taken_at else ""
            raise ApplicationError(f"初始密码清单{taken}只提供一次下载。如有遗失，请为相关账号重置密码。")
        with job.passwords.open("rb") as file:
            data = file.read()
        job.passwords.delete(save=False)
        job.passwords_taken_at = clock.now()
        job.save(update_fields=["passwords", "passwords_taken_at"])
    return data


def _enqueue(step: str, job_id: int) -> None:
    """After the commit, so the worker finds the row; in the demo (eager) it runs right here. With the
    broker down the job keeps its status (检查中 / 导入中) and the page says background work is delayed."""
    from workflow.tasks import run_import_step

    transaction.on_commit(lambda: enqueue(run_import_step, step, job_id, what=f"step {step} of import {job_id}"))
