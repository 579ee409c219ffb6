"""Reads of monitoring cases for work queues, lists and the case timeline, already scoped to the user."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import TruncDate

from fpr import clock
from fpr.errors import ApplicationError
from fpr.roles import Role
from households.models import Division, Household, Member, Relationship, User
from households.selectors import household_search, search_area
from monitoring.models import (
    ELIMINATION_STAGES,
    FOLLOWED_STAGES,
    IDENTIFICATION_STAGES,
    NOTICE_DAYS,
    NOTICE_STAGES,
    CaseQuerySet,
    MonitoringCase,
    Notice,
    Stage,
)
from workflow.engine import Transition
from workflow.models import BulkJob, TransitionEvent
from workflow.services import WORKFLOWS, find_transition

# Every stage in which a case waits on someone: identification and risk elimination (风险消除).
IN_PROCESS_STAGES = (*IDENTIFICATION_STAGES, *ELIMINATION_STAGES)


def roles_waited_on(stage: str) -> frozenset[str]:
    """The roles a case in `stage` waits on: those of the transitions from it, read off the tables."""
    return frozenset().union(*(workflow.roles_at(stage) for workflow in WORKFLOWS))


def stages_waiting_on(role: str) -> tuple[str, ...]:
    """The in-process stages whose cases wait on `role`, in the order of the procedures."""
    return tuple(stage for stage in IN_PROCESS_STAGES if role in roles_waited_on(stage))


# A village cadre's stages hold drafts, returned cases and notices (running and due) of both procedures.
VILLAGE_STAGES = stages_waiting_on(Role.VILLAGE_CADRE)
TOWNSHIP_STAGES = stages_waiting_on(Role.TOWNSHIP_REVIEWER)
COUNTY_STAGES = stages_waiting_on(Role.COUNTY_REVIEWER)
# Who a case waits on, as the case page says it (本环节由…办理).
WAITS_ON = {
    stage: "、".join(Role(role).label for role in Role.values if role in roles_waited_on(stage))
    for stage in IN_PROCESS_STAGES
}

# Status groups (状态) of the statistics and of the case list's 状态 filter; every case is in exactly one
# of the first four. "identified" (已纳入监测) is 监测中 + 风险消除: the monitoring objects counted by type
# and risk category.
STATUS_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "identifying": ("识别中", IDENTIFICATION_STAGES),
    "monitoring": ("监测中", (Stage.MONITORING, *ELIMINATION_STAGES)),
    "eliminated": ("风险消除", (Stage.ELIMINATED,)),
    "rejected": ("不予纳入", (Stage.REJECTED,)),
    "identified": ("已纳入监测（监测中+风险消除）", FOLLOWED_STAGES),
}

# The stages whose cases wait on each role (from the transition tables); reviewers see only what waits
# for their own decision, the administrator every case in process.
QUEUE_STAGES: dict[str, tuple[str, ...]] = {
    Role.VILLAGE_CADRE: VILLAGE_STAGES,
    Role.TOWNSHIP_REVIEWER: TOWNSHIP_STAGES,
    Role.COUNTY_REVIEWER: COUNTY_STAGES,
    Role.ADMINISTRATOR: IN_PROCESS_STAGES,
}


def case_list(
    *,
    user: User,
    village: str | None = None,
    case_type: str | None = None,
    risk: str | None = None,
    stage: str | None = None,
    status: str | None = None,
    identified_in: tuple[dt.date, dt.date] | None = None,
    eliminated_in: tuple[dt.date, dt.date] | None = None,
    search: str | None = None,
    page_rows: bool = False,
) -> CaseQuerySet:
    """Cases in the user's subtree, filtered, annotated so that a page of any size costs a fixed
    number of queries: household number, head's name, village name, waiting time and, for a case in
    notice, the current notice's start and whether it may go to the township today.

    `status` is a key of STATUS_GROUPS; `identified_in` / `eliminated_in` are (first, last) days — the
    statistics pages link here with them, so the list shows the cases behind a number. `search` finds the
    person (name, 户编号, ID number or its last digits: households.selectors.household_search).

    `page_rows`: for the list pages, which show only the annotated values. The household number and
    village name are then read by subqueries, which PostgreSQL runs for the page's rows only, instead of
    joining the household and village: with the join it hashed every household of the county before
    sorting (a county reviewer's queue on 100,000 households: 27 ms → 5 ms). Callers that read
    `case.household` (API, exports) keep the join."""
    today = clock.today()
    cases = MonitoringCase.objects.for_user(user)
    if status in STATUS_GROUPS:
        cases = cases.filter(stage__in=STATUS_GROUPS[status][1])
    if identified_in:
        cases = cases.filter(identified_on__range=identified_in)
    if eliminated_in:
        cases = cases.filter(eliminated_on__range=eliminated_in)
    area = _division_prefix(village) if village else None
    if area:
        cases = cases.filter(village__code__startswith=area)
    if (matching := household_search(search, area=search_area(user, area))) is not None:
        cases = cases.filter(household_id__in=matching)
    if case_type:
        cases = cases.filter(case_type=case_type)
    if risk:
        # One risk code matches at most one row of the through table, so no duplicates.
        cases = cases.filter(risk_categories__code=risk)
    if stage:
        cases = cases.filter(stage=stage)
    heads = Member.objects.filter(household=OuterRef("household_id"), relationship=Relationship.HEAD).order_by("pk")
    notices = Notice.objects.filter(case=OuterRef("pk")).order_by("-starts_on", "-id")
    number: Subquery | F
    village_name: Subquery | F
    if page_rows:
        number = Subquery(Household.objects.filter(pk=OuterRef("household_id")).values("number")[:1])
        village_name = Subquery(Division.objects.filter(pk=OuterRef("village_id")).values("name")[:1])
    else:
        cases = cases.select_related("household", "village")
        number, village_name = F("household__number"), F("village__name")
    return (
        cases.prefetch_related("risk_categories")
        .annotate(
            household_number=number,
            head_name=Subquery(heads.values("name")[:1]),
            village_name=village_name,
            # Whole calendar days (Beijing time) since the case entered its stage.
            waiting=ExpressionWrapper(
                Value(today, output_field=DateField()) - TruncDate("stage_entered_at"), output_field=DurationField()
            ),
            # Only while the case is in notice: an earlier round's notice says nothing about now.
            notice_starts_on=Case(
                When(stage__in=NOTICE_STAGES, then=Subquery(notices.values("starts_on")[:1])),
                default=None,
                output_field=DateField(),
            ),
        )
        .annotate(
            notice_due=Case(
                When(notice_starts_on__lte=today - dt.timedelta(days=NOTICE_DAYS), then=True),
                default=False,
                output_field=BooleanField(),
            )
        )
    )


def case_queue(
    *,
    user: User,
    village: str | None = None,
    case_type: str | None = None,
    risk: str | None = None,
    stage: str | None = None,
    search: str | None = None,
) -> QuerySet[MonitoringCase]:
    """The user's own work queue: the open cases waiting on their role, longest waiting first."""
    stages = queue_stages(user)
    if stage:
        stages = tuple(s for s in stages if s == stage)
    cases = case_list(user=user, village=village, case_type=case_type, risk=risk, search=search, page_rows=True)
    # A returned case shows, in the row, who returned it for what: the village sees what was asked.
    last_event = TransitionEvent.objects.filter(case=OuterRef("pk")).order_by("-at", "-id")
    returned = {"last_transition__endswith": "_return"}
    cases = cases.annotate(
        return_label=Case(
            When(**returned, then=Subquery(last_event.values("label")[:1])), default=None, output_field=CharField()
        ),
        return_opinion=Case(
            When(**returned, then=Subquery(last_event.values("opinion")[:1])), default=None, output_field=TextField()
        ),
    )
    return cases.open().filter(stage__in=stages).order_by("stage_entered_at", "pk")


def next_in_queue(
    *, user: User, exclude: int, after: tuple[dt.datetime, int] | None = None, filters: dict | None = None
) -> MonitoringCase | None:
    """下一件: the case after position `after` (stage_entered_at, pk) in the user's queue with the same
    filters, or the first one when none is after it (the queue wraps round); never `exclude`."""
    cases = case_queue(user=user, **(filters or {})).exclude(pk=exclude)
    if after is not None:
        entered, pk = after
        later = cases.filter(Q(stage_entered_at__gt=entered) | Q(stage_entered_at=entered, pk__gt=pk)).first()
        if later is not None:
            return later
    return cases.first()


def queue_stages(user: User) -> tuple[str, ...]:
    if getattr(user, "is_superuser", False):
        return IN_PROCESS_STAGES
    stages: list[str] = []
    for role, role_stages in QUEUE_STAGES.items():
        if user.has_role(role):
            stages.extend(s for s in role_stages if s not in stages)
    return tuple(stages)


def bulk_transitions(*, user: User) -> list[Transition]:
    """The transitions of every workflow the user may fire on many cases at once from the queue
    (township_approve, township_approve_elim, county_approve, county_approve_elim)."""
    return [t for workflow in WORKFLOWS for t in workflow.transitions if t.bulk and user.has_role(*t.roles)]


def transition_label(name: str) -> str:
    """The Chinese label of a transition of any workflow (the name itself when unknown)."""
    try:
        return find_transition(name)[1].label
    except ApplicationError:
        return name


def notice_may_advance_on(starts_on: dt.date | None) -> dt.date | None:
    """The first day a case in notice may go to the township (the notice has run its 7 days)."""
    return starts_on + dt.timedelta(days=NOTICE_DAYS) if starts_on else None


def _division_prefix(code: str) -> str:
    division = Division.objects.filter(pk=code).first()
    return division.prefix if division else code


# --------------------------------------------------------------------------- returns (退回)


@dataclass
class ReturnRequest:
    """What the reviewer who returned the case asked for: the step they chose, their reason and what
    the village must now do (workflow.identification.RETURN_REQUESTS)."""

    transition: str
    label: str
    opinion: str
    asks: str
    actor: str
    actor_division: str
    at: dt.datetime
    attachments: list[tuple[str, str]] = field(default_factory=list)


def return_request(*, case: MonitoringCase, timeline: list["TimelineEntry"] | None = None) -> ReturnRequest | None:
    """The request behind a returned case (None when its last step was not a return)."""
    from workflow.identification import RETURN_REQUESTS

    if not case.returned:
        return None
    if timeline is None:
        timeline = case_timeline(case=case)
    events = [e for e in timeline if e.kind == "transition"]
    if not events or events[-1].record.transition != case.last_transition:
        return None
    event = events[-1]
    return ReturnRequest(
        transition=event.record.transition,
        label=event.title,
        opinion=event.text,
        asks=RETURN_REQUESTS.get(event.record.transition, ""),
        actor=event.actor,
        actor_division=event.actor_division,
        at=event.at,
        attachments=event.attachments,
    )


# --------------------------------------------------------------------------- timeline


@dataclass
class TimelineEntry:
    """One line of a case's history: a fired transition or a stage record (visit, appraisal, notice,
    objection). `record` is the model instance, for a page that renders a kind its own way."""

    kind: str  # transition | verification | appraisal | notice | objection
    at: dt.datetime
    title: str
    actor: str
    record: Any  # TransitionEvent, Verification, Appraisal, Notice or Objection
    text: str = ""
    actor_division: str = ""
    from_stage: str = ""
    to_stage: str = ""
    details: dict = field(default_factory=dict)
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (name, url)
    sort_key: tuple = ()


def case_timeline(*, case: MonitoringCase) -> list[TimelineEntry]:
    """Transitions and stage records of one case, merged in the order they happened.

    Sorted by stage round first, then time: the n-th transition opens round n, and a stage record
    belongs to the round it was made in. Timestamps alone cannot order a transition and the record
    made in the same instant (a notice is created by the transition that starts it). The stage a round
    was spent in tells an identification record from a risk-elimination one.
    """
    events = list(
        TransitionEvent.objects.filter(case=case).select_related("actor").prefetch_related("attachments").order_by("id")
    )
    round_stages = {round_no: event.to_stage for round_no, event in enumerate(events, start=1)}
    entries = [_event_entry(event, round_no) for round_no, event in enumerate(events, start=1)]
    for verification in case.verifications.select_related("recorded_by").prefetch_related("verifiers"):
        entries.append(_verification_entry(verification, round_stages.get(verification.round, "")))
    for appraisal in case.appraisals.select_related("recorded_by"):
        entries.append(_appraisal_entry(appraisal, round_stages.get(appraisal.round, "")))
    # Each transition into a notice stage (start_notice, start_elim_notice) created one notice, in order.
    notice_rounds = iter(n for n, event in enumerate(events, start=1) if event.to_stage in NOTICE_STAGES)
    notices = case.notices.select_related("recorded_by").prefetch_related("objections__resolved_by").order_by("id")
    for notice in notices:
        round_no = next(notice_rounds, len(events))
        entries.append(_notice_entry(notice, round_no, round_stages.get(round_no, "")))
        entries.extend(_objection_entry(objection, round_no) for objection in notice.objections.all())
    return sorted(entries, key=lambda entry: entry.sort_key)


def _record_title(title: str, stage: str) -> str:
    """风险消除 records are named after their own forms so the timeline tells the two procedures apart."""
    return f"风险消除·{title}" if stage in ELIMINATION_STAGES else title


def _name(user: User) -> str:
    return str(user) if user is not None else ""


def _url(file) -> str:
    return file.url if file else ""


def _event_entry(event: TransitionEvent, round_no: int) -> TimelineEntry:
    return TimelineEntry(
        kind="transition",
        at=event.at,
        title=event.label,
        actor=_name(event.actor),
        actor_division=event.actor_division,
        record=event,
        text=event.opinion,
        from_stage=event.from_stage,
        to_stage=event.to_stage,
        details=dict(event.data),
        attachments=[(a.name, _url(a.file)) for a in event.attachments.all()],
        sort_key=(round_no, 0, event.at, event.pk),
    )


def _verification_entry(verification, stage: str) -> TimelineEntry:
    team = [f"{v.name}（{v.unit}）" if v.unit else v.name for v in verification.verifiers.all()]
    return TimelineEntry(
        kind="verification",
        at=verification.created_at,
        title=_record_title("入户核实记录", stage),
        actor=_name(verification.recorded_by),
        record=verification,
        text=verification.findings,
        details={
            "visit_date": verification.visit_date,
            "verifiers": team,
            "risk_points": verification.risk_points,
            "collected": verification.collected,
        },
        sort_key=(verification.round, 2, verification.created_at, verification.pk),
    )


def _appraisal_entry(appraisal, stage: str) -> TimelineEntry:
    result = "评议通过" if appraisal.passed else "评议未通过"
    return TimelineEntry(
        kind="appraisal",
        at=appraisal.created_at,
        title=_record_title("民主评议记录", stage),
        actor=_name(appraisal.recorded_by),
        record=appraisal,
        text=(
            f"参会{len(appraisal.participants)}人，同意{appraisal.votes_for}票，反对{appraisal.votes_against}票，"
            f"弃权{appraisal.votes_abstain}票，{result}。"
        ),
        details={
            "meeting_date": appraisal.meeting_date,
            "participants": appraisal.participants,
            "votes_for": appraisal.votes_for,
            "votes_against": appraisal.votes_against,
            "votes_abstain": appraisal.votes_abstain,
            "passed": appraisal.passed,
        },
        attachments=[("签字会议记录", _url(appraisal.minutes_scan))],
        sort_key=(appraisal.round, 2, appraisal.created_at, appraisal.pk),
    )


def _notice_entry(notice: Notice, round_no: int, stage: str) -> TimelineEntry:
    return TimelineEntry(
        kind="notice",
        at=notice.created_at,
        title=_record_title("公示", stage),
        actor=_name(notice.recorded_by),
        record=notice,
        text=f"公示期 {notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d}，地点：{notice.place}",
        details={
            "starts_on": notice.starts_on,
            "ends_on": notice.ends_on,
            "may_advance_on": notice.may_advance_on,
            "place": notice.place,
        },
        sort_key=(round_no, 1, notice.created_at, notice.pk),
    )


def _objection_entry(objection, round_no: int) -> TimelineEntry:
    return TimelineEntry(
        kind="objection",
        at=objection.created_at,
        title=f"公示异议（{objection.get_status_display()}）",
        actor=objection.lodged_by,
        record=objection,
        text=objection.content,
        details={
            "id": objection.pk,
            "lodged_on": objection.lodged_on,
            "lodged_by": objection.lodged_by,
            "status": objection.status,
            "resolution": objection.resolution,
            "resolved_by": _name(objection.resolved_by),
            "resolved_at": objection.resolved_at,
        },
        sort_key=(round_no, 3, objection.created_at, objection.pk),
    )


# --------------------------------------------------------------------------- bulk jobs


def bulk_job_for(*, user: User, job_id: int) -> BulkJob | None:
    """A bulk job is visible to the user who started it only."""
    if not getattr(user, "is_authenticated", False):
        return None
    return BulkJob.objects.filter(pk=job_id, user=user).first()
