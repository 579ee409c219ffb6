"""Running an export: log it, write the file (now, or in the worker for large ones), keep the file.

Each kind has a writer registered in WRITERS: `writer(export, path, progress)` writes the XLSX at `path`
and calls `progress(rows_written, rows_total)` now and then; it reads only what `export.user` may see
(every writer goes through `for_user`) and masks ID numbers unless `export.unmasked`.
"""

import datetime as dt
import logging
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.db import transaction

from fpr import clock, queueing
from reports.models import Export, ExportStatus

logger = logging.getLogger(__name__)

Writer = Callable[[Export, str, Callable[[int, int], None]], int]
WRITERS: dict[str, Writer] = {}
# The modules whose @writer functions fill WRITERS (imported by ReportsConfig.ready).
WRITER_MODULES: list[str] = ["reports.exports.ledger", "reports.exports.paper_forms", "reports.statistics.xlsx"]


def writer(kind: str):
    """Register the writer of an export kind."""

    def register(function: Writer) -> Writer:
        WRITERS[kind] = function
        return function

    return register


def may_see_full_ids(user) -> bool:
    return user.has_perm("households.view_sensitive")


def export_start(*, user, kind: str, division, filters: dict, background: bool, full_ids: bool = False) -> Export:
    """Record the export and write it: in this request (`background=False`, for one case's form or a
    statistics table) or in the worker (the ledger, which may be 100,000 rows). ID numbers are masked
    unless the user asked for them in full (`full_ids`) and holds households.view_sensitive; the log
    row says which (`unmasked`)."""
    export = Export.objects.create(
        kind=kind,
        user=user,
        division=division,
        filters=filters,
        unmasked=bool(full_ids) and may_see_full_ids(user),
    )
    if background:
        transaction.on_commit(lambda: export_enqueue(export.pk))
        return export
    return export_run(export.pk)


def export_enqueue(export_id: int) -> bool:
    """Queue a background export. With the broker down the export stays QUEUED (its status page says
    so and queues it again once the broker is back) instead of failing the request."""
    from reports.tasks import run_export

    return queueing.enqueue(run_export, export_id, what=f"export {export_id}")


def export_requeue_stalled(export: Export) -> bool:
    """Queue again an export still QUEUED a minute after it was asked for (fpr.queueing); a finished
    export is not written again."""
    if export.status != ExportStatus.QUEUED:
        return False
    return queueing.requeue_stalled(
        key=f"export-requeued:{export.pk}", since=export.created_at, enqueue=lambda: export_enqueue(export.pk)
    )


def export_run(export_id: int) -> Export:
    export = Export.objects.select_related("user", "division").get(pk=export_id)
    if export.status == ExportStatus.DONE:
        return export
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)

    def progress(written: int, total: int) -> None:
        Export.objects.filter(pk=export.pk).update(rows_written=written, rows_total=total)

    try:
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
            written = WRITERS[export.kind](export, handle.name, progress)
            with open(handle.name, "rb") as built:
                export.file.save(export_filename(export), File(built), save=False)
    except Exception:
        logger.exception("export %s (%s) failed", export.pk, export.kind)
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error="生成文件时出错，请重试或联系管理员。", finished_at=clock.now()
        )
        raise
    export.status = ExportStatus.DONE
    export.rows_written = export.rows_total = written
    export.finished_at = clock.now()
    export.save(update_fields=["file", "status", "rows_written", "rows_total", "finished_at"])
    return export


def export_files_prune(*, keep_days: int | None = None) -> int:
    """Delete the files of exports finished more than `keep_days` (FPR_EXPORT_KEEP_DAYS) ago; the log row
    stays, marked with when its file went (an export holds personal data: a copy kept on the server for
    ever is a copy that can leak). Idempotent; returns the number of files removed."""
    keep_days = settings.FPR_EXPORT_KEEP_DAYS if keep_days is None else keep_days
    cutoff = clock.now() - dt.timedelta(days=keep_days)
    removed = 0
    old = Export.objects.filter(file_removed_at__isnull=True, created_at__lt=cutoff).exclude(file="")
    for export in old.only("pk", "file").iterator():
        try:
            export.file.delete(save=False)  # a file already gone from the disk is not an error
        except OSError:
            logger.exception("could not delete the file of export %s", export.pk)
            continue
        Export.objects.filter(pk=export.pk).update(file="", file_removed_at=clock.now())
        removed += 1
    return removed


def export_filename(export: Export) -> str:
    return f"{export.get_kind_display()}_{export.division.name}_{clock.localtime_now():%Y%m%d%H%M}.xlsx"
