"""The scheduled jobs of department screening, registered with the runner (monitoring.jobs.runner) by
monitoring's AppConfig: the pending comparisons (a safety net under each upload's own task) and the
regional alert (规模性返贫风险预警)."""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from fpr import clock
from fpr.periods import Period, months_before
from households.models import Division
from monitoring.jobs.runner import Job, Outcome, register
from monitoring.models import DepartmentUpload, JobRun, RegionalAlert, RiskWarning, UploadStatus
from monitoring.screening.comparison import comparison_run, rejected_report_build

logger = logging.getLogger(__name__)


def comparison_pending(run: JobRun) -> Outcome:
    """Compare every department upload still waiting (QUEUED), and write its rejected-rows report. An
    upload is normally compared by its own task right after it arrives; this catches those whose task
    was never queued (broker down) or lost. comparison_run locks the upload row and returns a finished
    one as it is, so running beside the upload's own task compares it once. Each upload is compared on
    its own, so one that fails does not stop the others; its error is in the run record."""
    outcome = Outcome()
    pending = list(
        DepartmentUpload.objects.filter(status=UploadStatus.QUEUED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    for upload_id in pending:
        try:
            upload = comparison_run(upload_id)
            if upload.rows_rejected and not upload.rejected_report:
                rejected_report_build(upload_id)
        except Exception as exc:
            logger.exception("comparison of upload %s failed", upload_id)
            outcome.errors.append(f"上传批次 {upload_id}：{exc}")
    statuses = dict(
        DepartmentUpload.objects.filter(pk__in=pending)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    outcome.counts = {
        "uploads": len(pending),
        "uploads.done": statuses.get(UploadStatus.DONE, 0),
        "uploads.failed": statuses.get(UploadStatus.FAILED, 0),
    }
    return outcome


# --------------------------------------------------------------------------- 5. regional alert (规模性返贫风险)


def _previous_periods(period: str, n: int) -> list[str]:
    """The codes of the `n` months before `period` ("2026-11"), the nearest first."""
    return [p.code for p in Period.parse(period).previous_months(n + 1)[-2::-1]]


def regional_alert(run: JobRun) -> Outcome:
    """规模性返贫风险 (`001` §二(三)): a township's or county's new department warnings in a period well above
    its usual level, for all kinds together (kind "") and for each kind (a disaster shows in 应急管理, mass
    unemployment in 人社 before it shows in the total).

    - Periods judged: those of the warnings raised since the first day of last month (a department's
      list for a month often arrives during the next one).
    - Usual level (baseline): the mean count over the FPR_REGIONAL_ALERT_BASELINE_PERIODS periods before,
      counting only the periods in which the division's county received any warning (a county that
      started uploading later is not compared with months it had no data); a period of such history
      where the division had none counts as 0. With no such period at all there is nothing to compare
      with, and no alert.
    - Alert when count ≥ FPR_REGIONAL_ALERT_MIN_COUNT and count > FPR_REGIONAL_ALERT_MULTIPLE × the
      baseline, the baseline counted as at least 1 (so a quiet area alerts from the minimum count on,
      and `multiple` is count / max(baseline, 1)).
    An alert is kept once raised; a later run updates its count (more lists for the same period) but
    never deletes it.
    """
    today = clock.today()
    since_day = months_before(today.replace(day=1), 1)
    since = timezone.make_aware(dt.datetime.combine(since_day, dt.time.min))
    periods = sorted(
        RiskWarning.objects.filter(raised_at__gte=since).order_by().values_list("period", flat=True).distinct()
    )
    n_base = settings.FPR_REGIONAL_ALERT_BASELINE_PERIODS
    window = set(periods) | {p for period in periods for p in _previous_periods(period, n_base)}
    # One aggregate over the window, rolled up to township and county in Python (rows per village,
    # period and kind: bounded by the map, not by the number of warnings).
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    county_periods: dict[str, set[str]] = defaultdict(set)
    rows = (
        RiskWarning.objects.filter(period__in=window)
        .order_by()
        .values_list("village_id", "period", "kind")
        .annotate(n=Count("pk"))
    )
    for village, period, kind, n in rows:
        county = village[:6] + "000000"
        county_periods[county].add(period)
        for division in (village[:9] + "000", county):
            counts[(division, period, kind)] += n
            counts[(division, period, "")] += n
    existing = set(Division.objects.filter(pk__in={division for division, _, _ in counts}).values_list("pk", flat=True))
    threshold, min_count = settings.FPR_REGIONAL_ALERT_MULTIPLE, settings.FPR_REGIONAL_ALERT_MIN_COUNT
    alerts = []
    for (division, period, kind), count in counts.items():
        if period not in periods or division not in existing or count < min_count:
            continue
        history = [p for p in _previous_periods(period, n_base) if p in county_periods[division[:6] + "000000"]]
        if not history:
            continue
        baseline = sum(counts.get((division, p, kind), 0) for p in history) / len(history)
        if count > threshold * max(baseline, 1.0):
            alerts.append(
                RegionalAlert(
                    division_id=division,
                    period=period,
                    kind=kind,
                    count=count,
                    baseline=round(baseline, 2),
                    multiple=round(count / max(baseline, 1.0), 2),
                    raised_at=run.started_at,
                    job_run=run,
                )
            )
    RegionalAlert.objects.bulk_create(
        alerts,
        update_conflicts=True,
        unique_fields=["division", "period", "kind"],
        update_fields=["count", "baseline", "multiple"],
    )
    return Outcome(counts={"periods": len(periods), "alerts": len(alerts)})


register(
    Job(
        "comparison_pending",
        "部门数据比对（待比对的上传批次）",
        "每月",
        comparison_pending,
        order=1,
        counts={"uploads": "待比对批次", "uploads.done": "比对完成", "uploads.failed": "比对失败"},
    )
)
register(
    Job(
        "regional_alert",
        "规模性返贫风险预警",
        "每月",
        regional_alert,
        order=5,
        counts={"periods": "研判期间", "alerts": "预警区划"},
    )
)
