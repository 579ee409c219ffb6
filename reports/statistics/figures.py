"""Statistics (统计) of a division's subtree for a period, scoped to the user — the one source of the
statistics page, the statistics table (XLSX), the dashboard and the API, so their numbers agree.

Definitions (every count is over the division's subtree within the user's jurisdiction):

- **Status groups** (状态, a case's stage *now*): 识别中 = the six identification stages (提交申请 …
  县级审定, including a case reopened after elimination); 监测中 = 监测中 and the five risk-elimination
  stages (the case is still a monitoring object while its elimination is under way); 风险消除 = 风险消除;
  不予纳入 = 不予纳入. ``workflow.selectors.STATUS_GROUPS`` holds them, so the case list filters alike.
- **Monitoring objects** (监测对象, counted by type and by risk category) = 监测中 + 风险消除, i.e. the
  cases identified and not reopened. A household with several risk categories counts under each.
- **Households** (户) = distinct households having such a case; **persons** (人) = the members of those
  households as registered now.
- **New** (新识别) = households whose case was identified (``identified_on``, the county's approval) in the
  period; **eliminated** (风险消除) = households whose case's ``eliminated_on`` is in the period (a case
  reopened later no longer has one).
- **监测纳入率** = of the warnings the village verified as at risk (纳入 or 并入在办案件) in the period
  (``handled_at``), the share whose case has been identified (``identified_on`` set).
- **帮扶措施到位率** = of the cases under monitoring (the 监测中 group), the share that have at least one
  measure in effect (any status but 已终止) and such a measure for every one of their risk categories.
- **返贫人口动态清零** = the number of cases under monitoring without any measure in effect (target 0).
- **群众认可度** = of the follow-up visits in the period with a satisfaction recorded, the share 满意 or
  基本满意.
- **预警核实及时率** = of the warnings raised (pushed to the village) in the period, the share verified by
  their deadline (``handled_at`` ≤ ``due_at``, 48 hours).
- **流程时效** = per stage, the median days a case spent in it, over the stays that ended in the period
  (a TransitionEvent leaving the stage; the stay began at the case's previous event, or its creation).
  PostgreSQL computes it with ``percentile_cont(0.5)``; elsewhere (SQLite, the demo) Python does.

Rates are ``None`` when nothing is counted (shown as "—"). Each function runs a fixed number of queries,
whatever the number of divisions or cases: the figures per child division are grouped by the prefix of
the 12-digit village code, never one query per division.
"""

import datetime as dt
import statistics as pystatistics
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Aggregate, Count, Exists, F, FloatField, Func, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, Substr

from assistance.models import Measure, MeasureStatus, Satisfaction, Visit
from fpr import clock
from fpr.periods import Period
from fpr.roles import CASE_READERS, PREFIX_LENGTH, Level
from households.models import Division
from monitoring.models import (
    ELIMINATION_STAGES,
    IDENTIFICATION_STAGES,
    CaseType,
    MonitoringCase,
    RegionalAlert,
    RiskCategory,
    RiskWarning,
    Stage,
    TodoItem,
    WarningStatus,
)
from monitoring.screening import warning_selectors
from workflow.models import TransitionEvent
from workflow.selectors import STATUS_GROUPS

__all__ = ["Period", "Figures", "Tally", "statistics", "statistics_by_child", "ChildRows"]

STATUSES = ("identifying", "monitoring", "eliminated", "rejected")
TIMED_STAGES = tuple(stage.value for stage in (*IDENTIFICATION_STAGES, *ELIMINATION_STAGES))
AT_RISK = (WarningStatus.INCLUDED, WarningStatus.ATTACHED)
APPROVING = (Satisfaction.SATISFIED, Satisfaction.FAIR)


@dataclass
class Tally:
    households: int = 0
    persons: int = 0


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """Every number of one division (or of a total row) for one period. See the module docstring."""

    code: str
    name: str
    level: int
    objects: Tally = field(default_factory=Tally)
    by_type: dict[str, Tally] = field(default_factory=lambda: {t: Tally() for t in CaseType.values})
    by_status: dict[str, Tally] = field(default_factory=lambda: {s: Tally() for s in STATUSES})
    by_risk: dict[str, Tally] = field(default_factory=dict)
    new: Tally = field(default_factory=Tally)
    eliminated: Tally = field(default_factory=Tally)
    warnings_at_risk: int = 0
    warnings_at_risk_identified: int = 0
    monitored_cases: int = 0
    covered_cases: int = 0
    cases_without_measure: int = 0
    visits_rated: int = 0
    visits_approving: int = 0
    warnings_raised: int = 0
    warnings_on_time: int = 0
    stage_days: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(TIMED_STAGES))

    @property
    def inclusion_rate(self) -> float | None:
        """监测纳入率"""
        return _ratio(self.warnings_at_risk_identified, self.warnings_at_risk)

    @property
    def coverage_rate(self) -> float | None:
        """帮扶措施到位率"""
        return _ratio(self.covered_cases, self.monitored_cases)

    @property
    def approval_rate(self) -> float | None:
        """群众认可度"""
        return _ratio(self.visits_approving, self.visits_rated)

    @property
    def timeliness_rate(self) -> float | None:
        """预警核实及时率（WARNING_DUE_HOURS 小时内）"""
        return _ratio(self.warnings_on_time, self.warnings_raised)


@dataclass
class ChildRows:
    """The figures of each child division (county → townships → villages) and the parent's own total.
    At a village the only row is the village itself."""

    division: Division
    period: Period
    risks: list[tuple[str, str]]  # (code, name) of every risk category, in order
    rows: list[Figures]
    total: Figures


# --------------------------------------------------------------------------- entry points


def ensure_division_readable(user, division: Division) -> None:
    """Refuse a division outside the user's jurisdiction, or a user who does not read case data."""
    if user.is_superuser:
        return
    if not user.has_role(*CASE_READERS):
        raise PermissionDenied("统计报表由村、镇、县各级工作人员和系统管理员使用。")
    prefix = user.jurisdiction_prefix
    if not prefix or not division.code.startswith(prefix):
        raise PermissionDenied("该区划不在您的管辖范围内。")


def statistics(*, user, division: Division, period: Period) -> Figures:
    """Every number for the division's whole subtree (a fixed number of queries)."""
    ensure_division_readable(user, division)
    risks = _risks()
    figures = Figures(code=division.code, name=division.name, level=division.level)
    _fill(
        user=user,
        prefix=division.prefix,
        key_length=len(division.prefix),
        period=period,
        rows={division.prefix: figures},
        risks=risks,
    )
    return figures


def statistics_by_child(*, user, division: Division, period: Period) -> ChildRows:
    """The same numbers per child division, grouped by the child's code prefix in one pass per source,
    plus the total row — computed over the whole subtree, so it equals ``statistics(division)``."""
    ensure_division_readable(user, division)
    risks = _risks()
    if division.level >= Level.VILLAGE:
        children = [division]
    else:
        children = list(Division.objects.filter(parent=division).order_by("code"))
    rows = {child.prefix: Figures(code=child.code, name=child.name, level=child.level) for child in children}
    key_length = PREFIX_LENGTH[Level(min(division.level + 1, Level.VILLAGE))]
    _fill(user=user, prefix=division.prefix, key_length=key_length, period=period, rows=rows, risks=risks)
    total = Figures(code=division.code, name="合计", level=division.level)
    _fill(
        user=user,
        prefix=division.prefix,
        key_length=len(division.prefix),
        period=period,
        rows={division.prefix: total},
        risks=risks,
    )
    return ChildRows(division=division, period=period, risks=risks, rows=list(rows.values()), total=total)


def _risks() -> list[tuple[str, str]]:
    return list(RiskCategory.objects.order_by("order", "code").values_list("code", "name"))


# --------------------------------------------------------------------------- the queries


def _fill(*, user, prefix: str, key_length: int, period: Period, rows: dict[str, Figures], risks) -> None:
    """Fill `rows` (keyed by code prefix of length `key_length`) from one grouped query per source."""
    for figures in rows.values():
        figures.by_risk = {code: Tally() for code, _ in risks}
    start, end = period.aware_bounds()
    days = (period.start, period.end)

    cases = MonitoringCase.objects.for_user(user).filter(village__code__startswith=prefix).order_by()
    cases = cases.annotate(key=Substr("village_id", 1, key_length))
    identified = Q(stage__in=STATUS_GROUPS["identified"][1])

    # 1. Households and persons by type, status, new and eliminated.
    tallies = {"objects": identified, "new": Q(identified_on__range=days), "eliminated": Q(eliminated_on__range=days)}
    tallies |= {f"type:{t}": identified & Q(case_type=t) for t in CaseType.values}
    tallies |= {f"status:{s}": Q(stage__in=STATUS_GROUPS[s][1]) for s in STATUSES}
    aggregates = {}
    for index, condition in enumerate(tallies.values()):
        aggregates[f"h{index}"] = Count("household", distinct=True, filter=condition)
        aggregates[f"p{index}"] = Count("household__members", distinct=True, filter=condition)
    for row in cases.values("key").annotate(**aggregates):
        figures = rows.get(row["key"])
        if figures is None:
            continue
        for index, name in enumerate(tallies):
            tally = Tally(row[f"h{index}"], row[f"p{index}"])
            kind, _, value = name.partition(":")
            if kind == "type":
                figures.by_type[value] = tally
            elif kind == "status":
                figures.by_status[value] = tally
            else:
                setattr(figures, name, tally)

    # 2. Monitoring objects by risk category.
    by_risk = (
        cases.filter(identified, risk_categories__isnull=False)
        .values("key", risk=F("risk_categories__code"))
        .annotate(h=Count("household", distinct=True), p=Count("household__members", distinct=True))
    )
    for row in by_risk:
        if row["key"] in rows:
            rows[row["key"]].by_risk[row["risk"]] = Tally(row["h"], row["p"])

    # 3. Measures of the cases under monitoring (帮扶措施到位率, 返贫人口动态清零).
    in_effect = Measure.objects.exclude(status=MeasureStatus.STOPPED)
    gaps = MonitoringCase.risk_categories.through.objects.filter(monitoringcase=OuterRef("pk")).exclude(
        Exists(in_effect.filter(plan__case=OuterRef("monitoringcase"), risk_category=OuterRef("riskcategory")))
    )
    coverage = (
        cases.filter(stage__in=STATUS_GROUPS["monitoring"][1])
        .annotate(has_measure=Exists(in_effect.filter(plan__case=OuterRef("pk"))), has_gap=Exists(gaps))
        .values("key")
        .annotate(
            total=Count("pk"),
            covered=Count("pk", filter=Q(has_measure=True, has_gap=False)),
            without=Count("pk", filter=Q(has_measure=False)),
        )
    )
    for row in coverage:
        if figures := rows.get(row["key"]):
            figures.monitored_cases, figures.covered_cases = row["total"], row["covered"]
            figures.cases_without_measure = row["without"]

    # 4. Warnings: verified as at risk (监测纳入率) and verified in time (预警核实及时率).
    handled_in = Q(handled_at__gte=start, handled_at__lt=end)
    raised_in = Q(raised_at__gte=start, raised_at__lt=end)
    at_risk = handled_in & Q(status__in=AT_RISK)
    warnings = (
        RiskWarning.objects.for_user(user)
        .filter(village__code__startswith=prefix)
        .filter(handled_in | raised_in)
        .order_by()
        .annotate(key=Substr("village_id", 1, key_length))
        .values("key")
        .annotate(
            at_risk=Count("pk", filter=at_risk),
            at_risk_identified=Count("pk", filter=at_risk & Q(case__identified_on__isnull=False)),
            raised=Count("pk", filter=raised_in),
            on_time=Count("pk", filter=raised_in & Q(handled_at__isnull=False, handled_at__lte=F("due_at"))),
        )
    )
    for row in warnings:
        if figures := rows.get(row["key"]):
            figures.warnings_at_risk, figures.warnings_at_risk_identified = row["at_risk"], row["at_risk_identified"]
            figures.warnings_raised, figures.warnings_on_time = row["raised"], row["on_time"]

    # 5. Satisfaction of the follow-up visits (群众认可度).
    visits = (
        Visit.objects.for_user(user)
        .filter(case__village__code__startswith=prefix, visited_on__range=days)
        .exclude(satisfaction="")
        .order_by()
        .annotate(key=Substr("case__village_id", 1, key_length))
        .values("key")
        .annotate(rated=Count("pk"), approving=Count("pk", filter=Q(satisfaction__in=APPROVING)))
    )
    for row in visits:
        if figures := rows.get(row["key"]):
            figures.visits_rated, figures.visits_approving = row["rated"], row["approving"]

    # 6. Median days per stage (流程时效).
    for key, stage, days_ in _stage_medians(user=user, prefix=prefix, key_length=key_length, start=start, end=end):
        if figures := rows.get(key):
            figures.stage_days[stage] = days_


class _Median(Aggregate):
    """PostgreSQL's ordered-set median."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class _DaysBetween(Func):
    """(later − earlier) in fractional days, on PostgreSQL."""

    arg_joiner = " - "
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)"
    output_field = FloatField()


def _stage_medians(*, user, prefix: str, key_length: int, start: dt.datetime, end: dt.datetime):
    """(key, stage, median days) for every group and stage with a stay that ended in [start, end)."""
    previous = (
        TransitionEvent.objects.filter(case=OuterRef("case"))
        .filter(Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    stays = (
        TransitionEvent.objects.for_user(user)
        .filter(case__village__code__startswith=prefix, at__gte=start, at__lt=end, from_stage__in=TIMED_STAGES)
        .order_by()
        .annotate(
            key=Substr("case__village_id", 1, key_length), entered=Coalesce(Subquery(previous), "case__created_at")
        )
    )
    if connection.vendor == "postgresql":
        medians = stays.values("key", "from_stage").annotate(median=_Median(_DaysBetween(F("at"), F("entered"))))
        return [(row["key"], row["from_stage"], round(row["median"], 1)) for row in medians]
    spans: dict[tuple[str, str], list[float]] = {}
    for key, stage, left, entered in stays.values_list("key", "from_stage", "at", "entered"):
        spans.setdefault((key, stage), []).append((left - entered).total_seconds() / 86400)
    return [(key, stage, round(pystatistics.median(values), 1)) for (key, stage), values in spans.items()]


# --------------------------------------------------------------------------- the dashboard's extra series


@dataclass
class MonthPoint:
    period: Period
    new: int
    eliminated: int


def monthly_trend(*, user, division: Division, last: Period, months: int = 12) -> list[MonthPoint]:
    """New and eliminated households per month, the `months` months ending with `last`'s last month —
    each month's numbers are `statistics(period=that month).new / .eliminated` (households)."""
    ensure_division_readable(user, division)
    periods = last.previous_months(months)
    window = (periods[0].start, periods[-1].end)
    cases = MonitoringCase.objects.for_user(user).filter(village__code__startswith=division.prefix).order_by()

    def per_month(field_name: str) -> dict[tuple[int, int], int]:
        rows = (
            cases.filter(**{f"{field_name}__range": window})
            .annotate(y=ExtractYear(field_name), m=ExtractMonth(field_name))
            .values("y", "m")
            .annotate(n=Count("household", distinct=True))
        )
        return {(row["y"], row["m"]): row["n"] for row in rows}

    new, eliminated = per_month("identified_on"), per_month("eliminated_on")
    return [
        MonthPoint(p, new.get((p.start.year, p.start.month), 0), eliminated.get((p.start.year, p.start.month), 0))
        for p in periods
    ]


@dataclass
class DepartmentWarnings:
    department: str
    label: str
    raised: int
    open: int
    overdue: int


def warnings_by_department(*, user, division: Division, period: Period) -> list[DepartmentWarnings]:
    """Warnings raised in the period per department; of them still open, and open past their deadline."""
    from fpr.roles import Department

    ensure_division_readable(user, division)
    start, end = period.aware_bounds()
    now = clock.now()
    rows = (
        RiskWarning.objects.for_user(user)
        .filter(village__code__startswith=division.prefix, raised_at__gte=start, raised_at__lt=end)
        .order_by()
        .values("department")
        .annotate(
            raised=Count("pk"),
            open=Count("pk", filter=Q(status=WarningStatus.OPEN)),
            overdue=Count("pk", filter=Q(status=WarningStatus.OPEN, due_at__lt=now)),
        )
        .order_by("-raised", "department")
    )
    labels = dict(Department.choices)
    return [
        DepartmentWarnings(
            r["department"], labels.get(r["department"], r["department"]), r["raised"], r["open"], r["overdue"]
        )
        for r in rows
    ]


@dataclass
class Overdue:
    warnings_overdue: int  # open warnings past their 48-hour deadline, now
    todos: list[tuple[str, str, int]]  # (kind, label, open items)


def overdue_items(*, user, division: Division) -> Overdue:
    """What is late now: open warnings past due, and the open to-do items the jobs found, by kind."""
    from monitoring.models import TodoKind

    ensure_division_readable(user, division)
    overdue = (
        RiskWarning.objects.for_user(user)
        .filter(village__code__startswith=division.prefix, status=WarningStatus.OPEN, due_at__lt=clock.now())
        .count()
    )
    labels = dict(TodoKind.choices)
    todos = (
        TodoItem.objects.for_user(user)
        .filter(division__code__startswith=division.prefix, resolved_at__isnull=True)
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
        .order_by("-n", "kind")
    )
    return Overdue(overdue, [(row["kind"], labels.get(row["kind"], row["kind"]), row["n"]) for row in todos])


def regional_alerts(*, user, division: Division, limit: int = 10) -> list[RegionalAlert]:
    """规模性返贫风险预警 of the subtree, newest period first."""
    ensure_division_readable(user, division)
    return warning_selectors.regional_alerts(user=user, division=division, limit=limit)


STAGE_LABELS = {stage: Stage(stage).label for stage in TIMED_STAGES}
