"""Reads of plans, measures and visits for the pages and the API, already scoped to the user."""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from assistance.models import AssistancePlan, Measure, Visit
from fpr.roles import PREFIX_LENGTH, Level, Role
from households.models import Member, Relationship, User
from monitoring.models import FOLLOWED_STAGES, MonitoringCase, RiskCategory, Stage


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of the month of `month` and the first day of the next month."""
    start = month.replace(day=1)
    return start, (start + dt.timedelta(days=32)).replace(day=1)


def plan_for(*, user: User, case: MonitoringCase) -> AssistancePlan | None:
    """The case's "一户一策" plan with its measures (category and risk loaded), or None when the case
    has none or lies outside the user's subtree."""
    measures = Measure.objects.select_related("category", "risk_category").order_by("starts_on", "id")
    return (
        AssistancePlan.objects.for_user(user)
        .filter(case=case)
        .select_related("case", "pairing_cadre")
        .prefetch_related(Prefetch("measures", queryset=measures))
        .first()
    )


@dataclass
class PlanVersion:
    version: int
    situation: str
    risk_analysis: str
    needs: str
    pairing_cadre: str
    adjustment_reason: str
    changed_at: dt.datetime
    changed_by: str


def plan_versions(*, plan: AssistancePlan) -> list[PlanVersion]:
    """Every version of the plan, oldest first: each adjustment (动态调整) saved one history record."""
    records = plan.history.select_related("history_user", "pairing_cadre").order_by("history_date", "history_id")
    return [
        PlanVersion(
            version=record.version,
            situation=record.situation,
            risk_analysis=record.risk_analysis,
            needs=record.needs,
            pairing_cadre=str(record.pairing_cadre) if record.pairing_cadre_id else record.pairing_cadre_name,
            adjustment_reason=record.adjustment_reason,
            changed_at=record.history_date,
            changed_by=str(record.history_user) if record.history_user else "系统",
        )
        for record in records
    ]


def measures_for(*, user: User, case: MonitoringCase | None = None) -> QuerySet[Measure]:
    """Measures in the user's subtree (of one case when given), with what a list shows loaded."""
    measures = Measure.objects.for_user(user).select_related("plan", "category", "risk_category")
    if case is not None:
        measures = measures.filter(plan__case=case)
    return measures.order_by("starts_on", "id")


def visits_for(*, user: User, case: MonitoringCase | None = None, month: dt.date | None = None) -> QuerySet[Visit]:
    """Visits in the user's subtree, newest first; of one case and/or one month when given."""
    visits = Visit.objects.for_user(user).select_related("visitor", "case__household").prefetch_related("photos")
    if case is not None:
        visits = visits.filter(case=case)
    if month is not None:
        start, end = month_bounds(month)
        visits = visits.filter(visited_on__gte=start, visited_on__lt=end)
    return visits.order_by("-visited_on", "-id")


# Who can be a pairing cadre (结对帮扶干部, 帮扶责任人): the cadres who work the case — the village's cadres,
# the township's and the county's (seeds: 安排干部一对一开展结对帮扶，重点对象由县级领导帮扶). Not a department's
# data officer, not a system administrator: they do no assistance work. Cadres without an account
# (a county unit's, 驻村工作队) are named in free text.
PAIRING_ROLES = (Role.VILLAGE_CADRE, Role.TOWNSHIP_REVIEWER, Role.COUNTY_REVIEWER)


def pairing_cadre_candidates(*, case: MonitoringCase) -> QuerySet:
    """System users who may be named the pairing cadre of this case: active, holding a pairing role, and
    working at the case's village or above it (its township, its county) — not another village's or
    another township's cadre. The plan services refuse anyone else, whatever door they came by."""
    code = case.village_id
    line = [
        code[: PREFIX_LENGTH[level]].ljust(len(code), "0") for level in (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
    ]
    user_model = get_user_model()
    holders = user_model.groups.through.objects.filter(
        group__name__in=[Role(role).label for role in PAIRING_ROLES]
    ).values("user_id")
    return (
        user_model.objects.filter(is_active=True, division_id__in=line, pk__in=holders)
        .select_related("division")
        .order_by("-division__level", "full_name", "username")
    )


# --------------------------------------------------------------------------- monthly visit duty


@dataclass
class UnvisitedHousehold:
    case_id: int
    household_id: int
    household_number: str
    head_name: str
    village_name: str
    stage: str
    last_visited_on: dt.date | None

    @property
    def stage_display(self) -> str:
        return Stage(self.stage).label


@dataclass
class CadreDuty:
    """One pairing cadre's month: how many households they follow, how many were visited."""

    cadre_id: int | None  # None: a cadre named in free text, not a system user
    cadre_name: str
    households: int
    visited: int
    unvisited: list[UnvisitedHousehold] = field(default_factory=list)

    @property
    def unvisited_count(self) -> int:
        return self.households - self.visited


def visit_duty(*, user: User, month: dt.date) -> list[CadreDuty]:
    """走访 duty for the month of `month`, per pairing cadre in the user's subtree: households followed
    (a plan on a case under monitoring, in elimination or eliminated), how many were visited this
    month, and which were not. Two queries whatever the number of cadres: the counts grouped by
    cadre, then the unvisited households. Cadres with the most unvisited households come first."""
    start, end = month_bounds(month)
    in_month = Visit.objects.filter(case=OuterRef("case_id"), visited_on__gte=start, visited_on__lt=end)
    plans = (
        AssistancePlan.objects.for_user(user)
        .filter(case__stage__in=FOLLOWED_STAGES)
        .annotate(
            visited=Exists(in_month),
            # A system user is the cadre when set; otherwise the name typed in (trimmed).
            cadre_label=Case(
                When(pairing_cadre__isnull=False, then=Value("")),
                default=F("pairing_cadre_name"),
            ),
        )
        .order_by()
    )
    counts = plans.values(
        "pairing_cadre_id", "cadre_label", "pairing_cadre__full_name", "pairing_cadre__username"
    ).annotate(households=Count("pk"), visited_count=Count("pk", filter=Q(visited=True)))
    duties: dict[tuple, CadreDuty] = {}
    for row in counts:
        key = _cadre_key(row["pairing_cadre_id"], row["cadre_label"])
        name = row["pairing_cadre__full_name"] or row["pairing_cadre__username"] or row["cadre_label"].strip()
        duty = duties.setdefault(
            key, CadreDuty(cadre_id=row["pairing_cadre_id"], cadre_name=name, households=0, visited=0)
        )
        duty.households += row["households"]
        duty.visited += row["visited_count"]

    heads = Member.objects.filter(household=OuterRef("case__household_id"), relationship=Relationship.HEAD)
    unvisited = (
        plans.filter(visited=False)
        .annotate(
            household_id=F("case__household_id"),
            household_number=F("case__household__number"),
            head_name=Coalesce(Subquery(heads.values("name")[:1]), Value("")),
            village_name=F("case__village__name"),
            case_stage=F("case__stage"),
            # The last visit up to the end of the month asked about (a later one did not happen yet then).
            last_visited_on=Subquery(
                Visit.objects.filter(case=OuterRef("case_id"), visited_on__lt=end)
                .order_by()
                .values("case")
                .annotate(last=Max("visited_on"))
                .values("last")[:1]
            ),
        )
        .order_by("case__household__number")
        .values(
            "pairing_cadre_id",
            "cadre_label",
            "case_id",
            "household_id",
            "household_number",
            "head_name",
            "village_name",
            "case_stage",
            "last_visited_on",
        )
    )
    for row in unvisited:
        duties[_cadre_key(row["pairing_cadre_id"], row["cadre_label"])].unvisited.append(
            UnvisitedHousehold(
                case_id=row["case_id"],
                household_id=row["household_id"],
                household_number=row["household_number"],
                head_name=row["head_name"],
                village_name=row["village_name"],
                stage=row["case_stage"],
                last_visited_on=row["last_visited_on"],
            )
        )
    return sorted(duties.values(), key=lambda d: (-d.unvisited_count, d.cadre_name))


def _cadre_key(cadre_id: int | None, label: str) -> tuple:
    return ("user", cadre_id) if cadre_id is not None else ("name", label.strip())


def measure_risks(*, case: MonitoringCase) -> QuerySet:
    """The risks a measure of the case may answer: the case's own, or every category for a case without
    any (the plan page's choices; assistance.services.measure_add refuses any other)."""
    own = RiskCategory.objects.filter(cases=case)
    return own if own.exists() else RiskCategory.objects.all()
