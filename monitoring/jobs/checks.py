"""Monitoring's own scheduled check, registered with the runner by monitoring's AppConfig: the daily
overdue scan (48-hour warning verification, notices past their 7 days)."""

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from fpr import clock
from monitoring.jobs.runner import Finding, Job, JobRun, Outcome, register, sync_todos
from monitoring.models import (
    NOTICE_DAYS,
    NOTICE_STAGES,
    WARNING_DUE_HOURS,
    MonitoringCase,
    Notice,
    Objection,
    ObjectionStatus,
    RiskWarning,
    Stage,
    TodoKind,
    WarningStatus,
)

# --------------------------------------------------------------------------- 3. daily overdue scan
from monitoring.screening.departments import KIND_LABELS


def overdue_scan(run: JobRun) -> Outcome:
    """Deadlines that passed (SPEC §3.1, §5):

    - WARNING_OVERDUE: a department warning still 待核实 after its 48-hour deadline (`due_at`);
    - NOTICE_OVERDUE: a case still in a notice stage (公示) a full day after the day it could have gone to
      the township (`Notice.may_advance_on` of its latest notice); a pending objection is named, because
      it is what holds the case.
    The item texts hold dates only, never "hours overdue", so a second run writes the same text.
    """
    now, today = run.started_at, clock.today()
    warnings = [
        Finding(
            key=f"warning:{pk}",
            division_id=village_id,
            household_id=household_id,
            case_id=case_id,
            detail=(
                f"{KIND_LABELS.get(kind, kind)}（{period}）预警线索，核实时限"
                f"{timezone.localtime(due_at):%Y-%m-%d %H:%M}，已超过{WARNING_DUE_HOURS}小时未核实。"
            ),
        )
        for pk, village_id, household_id, case_id, kind, period, due_at in RiskWarning.objects.filter(
            status=WarningStatus.OPEN, due_at__lt=now
        )
        .order_by("pk")
        .values_list("pk", "village_id", "household_id", "case_id", "kind", "period", "due_at")
        .iterator(chunk_size=2000)
    ]
    latest_notice = Notice.objects.filter(case=OuterRef("pk")).order_by("-starts_on", "-id").values("starts_on")[:1]
    pending_objection = Objection.objects.filter(notice__case=OuterRef("pk"), status=ObjectionStatus.PENDING)
    late = (
        MonitoringCase.objects.open()
        .filter(stage__in=NOTICE_STAGES)
        .annotate(notice_starts_on=Subquery(latest_notice), objection=Exists(pending_objection))
    )
    # may_advance_on = starts_on + 7; overdue from the day after it.
    late = late.filter(notice_starts_on__lte=today - dt.timedelta(days=NOTICE_DAYS + 1))
    notices = []
    for pk, village_id, household_id, stage, starts_on, objection in late.values_list(
        "pk", "village_id", "household_id", "stage", "notice_starts_on", "objection"
    ):
        may_advance_on = starts_on + dt.timedelta(days=NOTICE_DAYS)
        detail = (
            f"{Stage(stage).label}自{starts_on:%Y-%m-%d}开始，{may_advance_on:%Y-%m-%d}起可报送镇街审核，至今未推进"
        )
        detail += "；有未处理的异议，请先核查处理。" if objection else "。"
        notices.append(
            Finding(key=f"case:{pk}", division_id=village_id, household_id=household_id, case_id=pk, detail=detail)
        )
    outcome = Outcome()
    with transaction.atomic():
        outcome.counts.update(sync_todos(run, TodoKind.WARNING_OVERDUE, warnings))
        outcome.counts.update(sync_todos(run, TodoKind.NOTICE_OVERDUE, notices))
    return outcome


register(
    Job("overdue_scan", f"逾期扫描（{WARNING_DUE_HOURS}小时预警核实、公示期满未推进）", "每日", overdue_scan, order=3)
)
