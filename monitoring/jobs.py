"""Scheduled jobs (SPEC §6; issue #5 point 5): what they find, and the runner that makes each one safe.

Every job goes through `job_run`:
- the lock is the database: a JobRun row in status RUNNING, of which the partial unique constraint
  `one_running_run_per_job` allows one per job. A second start while one runs gets an IntegrityError and
  is recorded as SKIPPED. A RUNNING row older than settings.FPR_JOB_LOCK_MINUTES belongs to a worker that
  died (a killed process never writes its end), so it is marked ABANDONED and the lock is taken over;
- a job's findings are upserted by (kind, key) into TodoItem (or by (division, period, kind) into
  RegionalAlert) and the to-do items it no longer finds are resolved with one UPDATE, so running a job
  twice changes nothing but the `job_run` each item was last confirmed by;
- the run record (started, finished, counts, errors) is what administrators see in the admin.

Jobs are started by Celery beat (the schedules are rows of django-celery-beat, created by migration
monitoring 0006 and edited in the admin), by hand from the admin ("立即运行") or by `manage.py run_job`.

The risk-elimination review reads the "七个不消" rules of assistance, to the right of monitoring in the
import order; it imports them inside the function, as the scheduled jobs sit here by decision (all of
SPEC §6 in one module) while only that one job needs assistance.
"""

import datetime as dt
import logging
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from fpr import clock
from fpr.periods import accounting_year
from households.id_numbers import mask_id_number, parse_id_number
from households.models import HousingSafety, IncomeItem, Member
from monitoring.departments import KIND_LABELS
from monitoring.models import (
    ELIMINATION_STAGES,
    NOTICE_DAYS,
    NOTICE_STAGES,
    DepartmentUpload,
    JobRun,
    JobStatus,
    MonitoringCase,
    Notice,
    Objection,
    ObjectionStatus,
    RegionalAlert,
    RiskWarning,
    Stage,
    TodoItem,
    TodoKind,
    UploadStatus,
    WarningStatus,
)

logger = logging.getLogger(__name__)

CHUNK = 500  # cases evaluated per batch of the elimination review (a fixed number of queries each)
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


def _sync_todos(run: JobRun, kind: str, findings: Iterable[Finding]) -> dict[str, int]:
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


# --------------------------------------------------------------------------- 1. departmental comparison


def comparison_pending(run: JobRun) -> Outcome:
    """Compare every department upload still waiting (QUEUED), and write its rejected-rows report. An
    upload is normally compared by its own task right after it arrives; this catches those whose task
    was never queued (broker down) or lost. comparison_run locks the upload row and returns a finished
    one as it is, so running beside the upload's own task compares it once. Each upload is compared on
    its own, so one that fails does not stop the others; its error is in the run record."""
    from monitoring.comparison import comparison_run, rejected_report_build

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


# --------------------------------------------------------------------------- 2. monthly risk-elimination review


def _months_ago(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it has no such day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def elimination_review(run: JobRun) -> Outcome:
    """The monthly review of the cases under monitoring (stage 监测中), with three lists:

    - ELIMINATION_PROPOSAL: every "七个不消" rule passes except the procedure (一看二算…), which is the
      village's next step: the village visits and proposes (提出名单). The item says when the household has
      not been visited this month yet.
    - INTENSIFY: not meeting the standard and identified (识别纳入) more than FPR_INTENSIFY_AFTER_MONTHS
      months ago (加大帮扶力度, `002` Step 4); the item names the rules that still fail. A case that meets
      the standard is proposed, not flagged. Cases already in the elimination procedure are in neither.
    - REOPEN: eliminated cases (still followed, 跟踪监测) with a department warning raised after the day of
      elimination and not verified as 不纳入; it resolves when the village reopens the case or excludes
      the warnings.
    The rules are evaluated per case, in batches whose facts are loaded in a fixed number of queries.
    """
    from assistance.rules import evaluate, load_facts_many

    today = clock.today()
    months = settings.FPR_INTENSIFY_AFTER_MONTHS
    intensify_before = _months_ago(today, months)
    proposals: list[Finding] = []
    intensify: list[Finding] = []
    under_monitoring = MonitoringCase.objects.filter(is_open=True, stage=Stage.MONITORING).order_by("pk")
    last_pk = reviewed = 0
    while batch := list(under_monitoring.filter(pk__gt=last_pk)[:CHUNK]):
        last_pk, reviewed = batch[-1].pk, reviewed + len(batch)
        facts = load_facts_many(batch, today=today)
        for case in batch:
            check = evaluate(facts[case.pk])
            failing = [r for r in check.failures if r.code != "procedure"]
            common = {"key": f"case:{case.pk}", "division_id": case.village_id, "household_id": case.household_id}
            if not failing:
                detail = "风险消除条件（“七个不消”及风险消除标准、帮扶措施录入）均已符合，可按程序提出风险消除名单。"
                if not facts[case.pk].procedure["look"]:
                    detail += f"本月（{today:%Y年%m月}）尚未走访，提出前须入户走访（一看）。"
                proposals.append(Finding(case_id=case.pk, detail=detail, **common))
            elif case.identified_on and case.identified_on <= intensify_before:
                names = "；".join(r.condition for r in failing)
                detail = (
                    f"{case.identified_on:%Y-%m-%d}纳入监测，帮扶超过{months}个月仍未达到消除标准，"
                    f"以下条件不符合：{names}。"
                )
                intensify.append(Finding(case_id=case.pk, detail=detail, **common))

    new_warnings = (
        RiskWarning.objects.filter(household_id=OuterRef("household_id"), raised_at__date__gt=OuterRef("eliminated_on"))
        .exclude(status=WarningStatus.EXCLUDED)
        .order_by()
        .values("household_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    reopen = [
        Finding(
            key=f"case:{pk}",
            division_id=village_id,
            household_id=household_id,
            case_id=pk,
            detail=f"{eliminated_on:%Y-%m-%d}风险消除后出现{n}条新的预警线索，请研判是否存在返贫致贫风险，需要时重新纳入监测。",
        )
        for pk, village_id, household_id, eliminated_on, n in MonitoringCase.objects.filter(
            is_open=True, stage=Stage.ELIMINATED, eliminated_on__isnull=False
        )
        .annotate(new_warnings=Subquery(new_warnings))
        .filter(new_warnings__gt=0)
        .values_list("pk", "village_id", "household_id", "eliminated_on", "new_warnings")
    ]
    outcome = Outcome()
    with transaction.atomic():
        outcome.counts.update(_sync_todos(run, TodoKind.ELIMINATION_PROPOSAL, proposals))
        outcome.counts.update(_sync_todos(run, TodoKind.INTENSIFY, intensify))
        outcome.counts.update(_sync_todos(run, TodoKind.REOPEN, reopen))
    outcome.counts["cases_reviewed"] = reviewed
    return outcome


# --------------------------------------------------------------------------- 3. daily overdue scan


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
                f"{timezone.localtime(due_at):%Y-%m-%d %H:%M}，已超过48小时未核实。"
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
    late = MonitoringCase.objects.filter(is_open=True, stage__in=NOTICE_STAGES).annotate(
        notice_starts_on=Subquery(latest_notice), objection=Exists(pending_objection)
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
        outcome.counts.update(_sync_todos(run, TodoKind.WARNING_OVERDUE, warnings))
        outcome.counts.update(_sync_todos(run, TodoKind.NOTICE_OVERDUE, notices))
    return outcome


# --------------------------------------------------------------------------- 4. weekly data-quality checks


FOLLOWED_STAGES = (Stage.MONITORING, *ELIMINATION_STAGES, Stage.ELIMINATED)
GUARANTEES_UNMET = (
    Q(household__food_secure=False)
    | Q(household__clothing_secure=False)
    | Q(household__education_secured=False)
    | Q(household__medical_secured=False)
    | ~Q(household__housing_safety=HousingSafety.SAFE)
    | Q(household__water_quantity_ok=False)
    | Q(household__water_quality_ok=False)
    | Q(household__water_convenience_ok=False)
    | Q(household__water_assurance_ok=False)
)


def data_quality(run: JobRun) -> Outcome:
    """Logic errors of `004` §六, one to-do list per village:

    - ELIMINATED_WITHOUT_MEASURES: an eliminated case (风险消除, still followed) with no measure at all;
    - ELIMINATED_GUARANTEES_UNMET: an eliminated case whose household's 两不愁三保障 or water is not met now;
    - INCOME_MISSING: an open case (any stage) whose household has no income item for the accounting
      year (`fpr.periods.accounting_year`) — so from 1 March every followed household is listed until
      that year's accounting (算账) is entered;
    - INVALID_ID: a registered member whose ID number fails GB 11643 (possible in data imported before
      the check existed); the check digit is computed in Python over one streamed query;
    - RISK_WITHOUT_MEASURE: a case under assistance (监测中, in the elimination procedure or eliminated)
      with a risk category no measure answers (a stopped measure answers nothing; 缺什么补什么).
    """
    from assistance.models import Measure

    today = clock.today()
    has_measure = Exists(Measure.objects.filter(plan__case_id=OuterRef("pk")))
    eliminated = MonitoringCase.objects.filter(is_open=True, stage=Stage.ELIMINATED)

    without_measures = [
        Finding(
            key=f"case:{pk}",
            division_id=village_id,
            household_id=household_id,
            case_id=pk,
            detail=f"{eliminated_on:%Y-%m-%d}已风险消除，但没有录入任何帮扶措施（逻辑错误）。"
            if eliminated_on
            else "已风险消除，但没有录入任何帮扶措施（逻辑错误）。",
        )
        for pk, village_id, household_id, eliminated_on in eliminated.exclude(has_measure).values_list(
            "pk", "village_id", "household_id", "eliminated_on"
        )
    ]
    guarantees = [
        Finding(
            key=f"case:{case.pk}",
            division_id=case.village_id,
            household_id=case.household_id,
            case_id=case.pk,
            detail=f"已风险消除，但“两不愁三保障”及饮水安全未达标：{'、'.join(case.household.guarantees_unmet)}。",
        )
        for case in eliminated.filter(GUARANTEES_UNMET).select_related("household").order_by("pk")
    ]
    year = accounting_year(today)
    no_income = IncomeItem.objects.filter(household_id=OuterRef("household_id"), year=year)
    income = [
        Finding(
            key=f"household:{household_id}",
            division_id=village_id,
            household_id=household_id,
            case_id=pk,
            detail=f"{number}户尚未核算{year}年家庭收入（算账）。",
        )
        for pk, household_id, village_id, number in MonitoringCase.objects.filter(is_open=True)
        .exclude(Exists(no_income))
        .values_list("pk", "household_id", "village_id", "household__number")
    ]
    invalid = []
    members = Member.objects.order_by("pk").values_list(
        "pk", "name", "id_number", "household_id", "household__village_id"
    )
    not_normal = []
    for pk, name, id_number, household_id, village_id in members.iterator(chunk_size=2000):
        try:
            info = parse_id_number(id_number, today=today)
        except ValidationError as exc:
            invalid.append(
                Finding(
                    key=f"member:{pk}",
                    division_id=village_id,
                    household_id=household_id,
                    detail=f"成员 {name} 的身份证号“{id_number}”无效：{exc.messages[0]}",
                )
            )
        else:
            if info.number != id_number:
                not_normal.append((pk, name, info.number, household_id, village_id))
    invalid.extend(_id_numbers_not_normal(not_normal))
    gaps = _risks_without_measure()
    outcome = Outcome()
    with transaction.atomic():
        outcome.counts.update(_sync_todos(run, TodoKind.ELIMINATED_WITHOUT_MEASURES, without_measures))
        outcome.counts.update(_sync_todos(run, TodoKind.ELIMINATED_GUARANTEES_UNMET, guarantees))
        outcome.counts.update(_sync_todos(run, TodoKind.INCOME_MISSING, income))
        outcome.counts.update(_sync_todos(run, TodoKind.INVALID_ID, invalid))
        outcome.counts.update(_sync_todos(run, TodoKind.RISK_WITHOUT_MEASURE, gaps))
    return outcome


def _id_numbers_not_normal(members: list[tuple]) -> list[Finding]:
    """Stored numbers not in normal form (full-width digits, spaces, lower-case x) that the migration
    households 0009 could not normalise because the normal form is another member's: the same person
    registered twice, which only the county can merge."""
    holders = {
        number: (name, household_number)
        for number, name, household_number in Member.objects.filter(
            id_number__in=[normal for _, _, normal, _, _ in members]
        ).values_list("id_number", "name", "household__number")
    }
    findings = []
    for pk, name, normal, household_id, village_id in members:
        if normal in holders:
            other_name, other_household = holders[normal]
            detail = (
                f"身份证号不是标准格式：成员 {name} 的身份证号（含全角字符、空格或小写x）按标准写法为"
                f"“{mask_id_number(normal)}”，与 {other_household} 户成员 {other_name} 相同，应是同一人重复登记。"
                f"请县级核实后合并：保留一条登记，删除另一户中的重复成员。"
            )
        else:
            detail = (
                f"身份证号不是标准格式：成员 {name} 的身份证号含全角字符、空格或小写x，标准写法为"
                f"“{mask_id_number(normal)}”。请用“更正身份证号”改为标准写法，否则部门名单比对不到该成员。"
            )
        findings.append(Finding(key=f"member:{pk}", division_id=village_id, household_id=household_id, detail=detail))
    return findings


def _risks_without_measure() -> list[Finding]:
    from assistance.models import Measure, MeasureStatus

    through = MonitoringCase.risk_categories.through
    answered = Measure.objects.filter(
        plan__case_id=OuterRef("monitoringcase_id"), risk_category_id=OuterRef("riskcategory_id")
    ).exclude(status=MeasureStatus.STOPPED)
    rows = (
        through.objects.filter(monitoringcase__is_open=True, monitoringcase__stage__in=FOLLOWED_STAGES)
        .exclude(Exists(answered))
        .order_by("monitoringcase_id", "riskcategory__order")
        .values_list(
            "monitoringcase_id", "monitoringcase__village_id", "monitoringcase__household_id", "riskcategory__name"
        )
    )
    missing: dict[tuple[int, str, int], list[str]] = defaultdict(list)
    for case_id, village_id, household_id, risk in rows:
        missing[(case_id, village_id, household_id)].append(risk)
    return [
        Finding(
            key=f"case:{case_id}",
            division_id=village_id,
            household_id=household_id,
            case_id=case_id,
            detail=f"风险类型“{'、'.join(risks)}”还没有对应的帮扶措施（缺什么补什么）。",
        )
        for (case_id, village_id, household_id), risks in missing.items()
    ]


# --------------------------------------------------------------------------- 5. regional alert (规模性返贫风险)


def _period_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def _previous_periods(period: str, n: int) -> list[str]:
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1
    return [f"{(index - k) // 12:04d}-{(index - k) % 12 + 1:02d}" for k in range(1, n + 1)]


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
    from households.models import Division

    today = clock.today()
    since_day = _months_ago(today.replace(day=1), 1)
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


# --------------------------------------------------------------------------- the table of jobs, and their tasks


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    cadence: str
    function: Callable[[JobRun], Outcome]


JOBS = {
    job.name: job
    for job in (
        Job("comparison_pending", "部门数据比对（待比对的上传批次）", "每月", comparison_pending),
        Job("elimination_review", "风险消除月度研判", "每月", elimination_review),
        Job("overdue_scan", "逾期扫描（48小时预警核实、公示期满未推进）", "每日", overdue_scan),
        Job("data_quality", "数据质量检查", "每周", data_quality),
        Job("regional_alert", "规模性返贫风险预警", "每月", regional_alert),
    )
}

# Labels of the counts a run records, for the admin.
COUNT_LABELS = {
    **{kind.value: kind.label for kind in TodoKind},
    **{f"{kind.value}.resolved": f"{kind.label}（已解决）" for kind in TodoKind},
    "uploads": "待比对批次",
    "uploads.done": "比对完成",
    "uploads.failed": "比对失败",
    "cases_reviewed": "研判监测对象",
    "periods": "研判期间",
    "alerts": "预警区划",
}


@shared_task(name="monitoring.jobs.comparison_pending")
def comparison_pending_task(triggered_by: str = BEAT) -> int:
    return job_run(job="comparison_pending", triggered_by=triggered_by).pk


@shared_task(name="monitoring.jobs.elimination_review")
def elimination_review_task(triggered_by: str = BEAT) -> int:
    return job_run(job="elimination_review", triggered_by=triggered_by).pk


@shared_task(name="monitoring.jobs.overdue_scan")
def overdue_scan_task(triggered_by: str = BEAT) -> int:
    return job_run(job="overdue_scan", triggered_by=triggered_by).pk


@shared_task(name="monitoring.jobs.data_quality")
def data_quality_task(triggered_by: str = BEAT) -> int:
    return job_run(job="data_quality", triggered_by=triggered_by).pk


@shared_task(name="monitoring.jobs.regional_alert")
def regional_alert_task(triggered_by: str = BEAT) -> int:
    return job_run(job="regional_alert", triggered_by=triggered_by).pk


TASKS = {
    "comparison_pending": comparison_pending_task,
    "elimination_review": elimination_review_task,
    "overdue_scan": overdue_scan_task,
    "data_quality": data_quality_task,
    "regional_alert": regional_alert_task,
}


def labelled_counts(counts: dict) -> list[tuple[str, int]]:
    """A run's counts with their Chinese labels, in the order the job recorded them."""
    return [(COUNT_LABELS.get(key, key), value) for key, value in counts.items()]
