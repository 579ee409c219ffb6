"""我的待办: one inbox of what waits on the user — the case queue (待办), department warnings (预警线索), the
jobs' to-do items (待办事项) and this month's visits (走访任务) — counted by kind and deadline, overdue first.

Lives in workflow because it composes the reads of monitoring, workflow and assistance. Everything is read
through `for_user` (the user's subtree and role). `inbox_counts` is ONE query however many items there are
(a scalar COUNT subquery per kind and deadline), so the menu badges can be shown on every page;
`inbox_items` adds one bounded query per kind for the inbox page.

Deadlines, the same rules the pages and the overdue job (monitoring.jobs.overdue_scan) use:
- a warning: its 48-hour `due_at` (已超时 once passed; 今天到期 when it falls before midnight tonight);
- a case in notice (公示): the day it may go to the township, `starts_on + NOTICE_DAYS` (今天到期 that day,
  已超时 from the next day on); the other stages of the queue have no deadline in the seeds;
- a to-do item: the kinds that are themselves a passed deadline (warning_overdue, notice_overdue) are
  已超时; the others have none. Items that repeat a warning or a notice already in the inbox are left out;
- a visit: the end of the month (今天到期 on its last day).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    DateField,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    When,
)
from django.urls import reverse
from django.utils import timezone

from assistance.models import AssistancePlan, Visit
from assistance.selectors import month_bounds
from fpr import clock
from fpr.roles import CASE_READERS, Role
from households.models import Member, Relationship, User
from monitoring.models import (
    FOLLOWED_STAGES,
    NOTICE_DAYS,
    NOTICE_STAGES,
    MonitoringCase,
    Notice,
    RiskWarning,
    TodoItem,
    TodoKind,
)
from monitoring.screening.warning_selectors import warning_deadline
from workflow.selectors import case_queue, queue_stages

OVERDUE, TODAY, LATER, NONE = "overdue", "today", "later", "none"
BUCKET_LABELS = {OVERDUE: "已超时", TODAY: "今天到期", LATER: "未到期", NONE: "无期限"}
BUCKET_ORDER = {OVERDUE: 0, TODAY: 1, LATER: 2, NONE: 3}
OVERDUE_TODO_KINDS = (TodoKind.WARNING_OVERDUE, TodoKind.NOTICE_OVERDUE)
ITEMS_PER_KIND = 20  # shown on the inbox page; "查看全部" goes to the kind's own page
# The menu entry of each kind's own page.
PAGE_LABELS = {"cases": "待办", "warnings": "预警线索", "todos": "待办事项", "visits": "走访任务"}


class _Count(Subquery):
    """COUNT(*) of a queryset as a scalar subquery, so that several counts cost one query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _n)"
    output_field = IntegerField()

    def __init__(self, queryset, **extra):
        super().__init__(queryset.order_by().values("pk"), **extra)


@dataclass
class KindCount:
    key: str  # cases / warnings / todos / visits
    label: str
    url: str  # the page where this kind is handled
    total: int  # what the inbox holds of this kind
    overdue: int = 0
    today: int = 0
    page_total: int | None = None  # the kind's own page counts more (todos repeating a warning)

    @property
    def page_label(self) -> str:
        return PAGE_LABELS[self.key]

    @property
    def more(self) -> bool:
        """More than the inbox page lists: "查看全部" on the kind's page."""
        return self.total > ITEMS_PER_KIND

    @property
    def other(self) -> int:
        return self.total - self.overdue - self.today

    @property
    def badge(self) -> int:
        return self.total if self.page_total is None else self.page_total


@dataclass
class InboxCounts:
    kinds: list[KindCount]

    @property
    def total(self) -> int:
        return sum(k.total for k in self.kinds)

    @property
    def overdue(self) -> int:
        return sum(k.overdue for k in self.kinds)

    @property
    def today(self) -> int:
        return sum(k.today for k in self.kinds)

    def get(self, key: str) -> KindCount | None:
        return next((k for k in self.kinds if k.key == key), None)

    def badges(self) -> dict[str, int]:
        """Menu badges by the URL of each kind's page, and the inbox's own."""
        badges = {k.url: k.badge for k in self.kinds if k.badge}
        if self.total:
            badges[reverse("inbox")] = self.total
        return badges


@dataclass
class InboxItem:
    kind: str
    kind_label: str
    title: str  # what is to be done
    subject: str  # the household: 户编号 and head
    bucket: str
    deadline: str  # "2026-11-25 10:00 前", "公示期满 11-24 起可报镇街", ""
    url: str
    sort_key: tuple
    note: str = ""  # a returned case: who returned it for what (the village sees what was asked)

    @property
    def bucket_label(self) -> str:
        return BUCKET_LABELS[self.bucket]


# --------------------------------------------------------------------------- which kinds a user has


def reads_inbox(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (user.is_superuser or user.has_role(*CASE_READERS))


def _has_warnings(user) -> bool:
    # The village verifies warnings (SPEC §5); reviewers follow them through the overdue to-do items.
    return user.is_superuser or user.has_role(Role.VILLAGE_CADRE, Role.ADMINISTRATOR)


def _has_visits(user) -> bool:
    return user.has_role(Role.VILLAGE_CADRE, Role.TOWNSHIP_REVIEWER)


def _todo_repeats(user) -> list[str]:
    """To-do kinds that repeat an item already in this user's inbox."""
    repeats = []
    if _has_warnings(user):
        repeats.append(TodoKind.WARNING_OVERDUE)
    if set(NOTICE_STAGES) & set(queue_stages(user)):
        repeats.append(TodoKind.NOTICE_OVERDUE)
    return repeats


# --------------------------------------------------------------------------- the querysets


def _today_end(today: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))


def _queue(user) -> QuerySet[MonitoringCase]:
    notices = Notice.objects.filter(case=OuterRef("pk")).order_by("-starts_on", "-id").values("starts_on")[:1]
    return (
        MonitoringCase.objects.for_user(user)
        .open()
        .filter(stage__in=queue_stages(user))
        .annotate(
            inbox_notice_on=Case(
                When(stage__in=NOTICE_STAGES, then=Subquery(notices)), default=None, output_field=DateField()
            )
        )
    )


def _warnings(user) -> QuerySet[RiskWarning]:
    return RiskWarning.objects.for_user(user).open() if _has_warnings(user) else RiskWarning.objects.none()


def _todos(user) -> QuerySet[TodoItem]:
    return TodoItem.objects.for_user(user).open()


def _unvisited(user, today: dt.date) -> QuerySet[AssistancePlan]:
    if not _has_visits(user):
        return AssistancePlan.objects.none()
    start, end = month_bounds(today)
    visited = Visit.objects.filter(case=OuterRef("case_id"), visited_on__gte=start, visited_on__lt=end)
    return AssistancePlan.objects.for_user(user).filter(case__stage__in=FOLLOWED_STAGES).filter(~Exists(visited))


# --------------------------------------------------------------------------- counts: one query


def inbox_counts(*, user) -> InboxCounts | None:
    """The inbox's counts by kind and deadline, in one query; None for a user without an inbox (a
    department officer)."""
    if not reads_inbox(user):
        return None
    now, today = clock.now(), clock.today()
    may_advance_today = today - dt.timedelta(days=NOTICE_DAYS)
    queue, warnings, todos = _queue(user), _warnings(user), _todos(user)
    repeats = _todo_repeats(user)
    counts = {
        "cases": _Count(queue),
        "cases_overdue": _Count(queue.filter(inbox_notice_on__lt=may_advance_today)),
        "cases_today": _Count(queue.filter(inbox_notice_on=may_advance_today)),
        "warnings": _Count(warnings),
        "warnings_overdue": _Count(warnings.filter(due_at__lt=now)),
        "warnings_today": _Count(warnings.filter(due_at__gte=now, due_at__lt=_today_end(today))),
        "todos_page": _Count(todos),
        "todos": _Count(todos.exclude(kind__in=repeats)),
        "todos_overdue": _Count(todos.exclude(kind__in=repeats).filter(kind__in=OVERDUE_TODO_KINDS)),
        "visits": _Count(_unvisited(user, today)),
    }
    # A one-row query to hang the subqueries on: the user's own row.
    row = User.objects.filter(pk=user.pk).values(**counts).first() or dict.fromkeys(counts, 0)
    kinds = [
        KindCount("cases", "待办案件", reverse("cases:queue"), row["cases"], row["cases_overdue"], row["cases_today"])
    ]
    if _has_warnings(user):
        kinds.append(
            KindCount(
                "warnings",
                "预警线索",
                reverse("monitoring:warnings"),
                row["warnings"],
                row["warnings_overdue"],
                row["warnings_today"],
            )
        )
    kinds.append(
        KindCount(
            "todos",
            "待办事项",
            reverse("monitoring:todos"),
            row["todos"],
            row["todos_overdue"],
            page_total=row["todos_page"],
        )
    )
    if _has_visits(user):
        last_day = month_bounds(today)[1] - dt.timedelta(days=1)
        kinds.append(
            KindCount(
                "visits",
                "本月未走访",
                reverse("assistance:visit_duty"),
                row["visits"],
                today=row["visits"] if today == last_day else 0,
            )
        )
    return InboxCounts(kinds)


# --------------------------------------------------------------------------- items: one query per kind


def _head_name():
    heads = Member.objects.filter(household=OuterRef("household_id"), relationship=Relationship.HEAD).order_by("pk")
    return Subquery(heads.values("name")[:1])


def _subject(number: str, head: str | None) -> str:
    return f"{number} {head}" if head else number


def _case_items(user, today: dt.date) -> list[InboxItem]:
    rows = case_queue(user=user).order_by("notice_starts_on", "stage_entered_at", "pk")[:ITEMS_PER_KIND]
    items = []
    for case in rows:
        title = case.get_stage_display() + ("（被退回）" if case.returned else "")
        if case.notice_starts_on:
            may_advance = case.notice_starts_on + dt.timedelta(days=NOTICE_DAYS)
            bucket = OVERDUE if may_advance < today else TODAY if may_advance == today else LATER
            deadline = f"公示期满，{may_advance:%m-%d} 起可报镇街"
            order = (BUCKET_ORDER[bucket], may_advance.isoformat())
        else:
            bucket, deadline = NONE, f"已等待 {case.waiting.days} 天"
            order = (BUCKET_ORDER[bucket], case.stage_entered_at.isoformat())
        note = f"{case.return_label}：{case.return_opinion}" if case.returned and case.return_label else ""
        items.append(
            InboxItem(
                "cases",
                "待办案件",
                title,
                _subject(case.household_number, case.head_name),
                bucket,
                deadline,
                reverse("cases:detail", args=[case.pk]),
                order,
                note=note,
            )
        )
    return items


def _warning_items(user, now: dt.datetime, today: dt.date) -> list[InboxItem]:
    rows = _warnings(user).select_related("household").annotate(head_name=_head_name()).order_by("due_at", "pk")
    items = []
    end = _today_end(today)
    for warning in rows[:ITEMS_PER_KIND]:
        deadline = warning_deadline(warning, now)
        bucket = OVERDUE if deadline.overdue else TODAY if warning.due_at < end else LATER
        due = timezone.localtime(warning.due_at)
        items.append(
            InboxItem(
                "warnings",
                "预警线索",
                f"{warning.kind_label}（{warning.period}）",
                _subject(warning.household.number, warning.head_name),
                bucket,
                f"{due:%m-%d %H:%M} 前联系核实 · {deadline.text}",
                reverse("monitoring:warning", args=[warning.pk]),
                (BUCKET_ORDER[bucket], warning.due_at.isoformat()),
            )
        )
    return items


def _todo_items(user) -> list[InboxItem]:
    rows = (
        _todos(user)
        .exclude(kind__in=_todo_repeats(user))
        .select_related("household")
        .annotate(overdue_first=Case(When(kind__in=OVERDUE_TODO_KINDS, then=0), default=1, output_field=IntegerField()))
        .order_by("overdue_first", "opened_at", "pk")
    )
    items = []
    for item in rows[:ITEMS_PER_KIND]:
        bucket = OVERDUE if item.kind in OVERDUE_TODO_KINDS else NONE
        if item.case_id:
            url = reverse("cases:detail", args=[item.case_id])
        elif item.household_id:
            url = reverse("households:detail", args=[item.household_id])
        else:
            url = reverse("monitoring:todos") + f"?kind={item.kind}"
        items.append(
            InboxItem(
                "todos",
                "待办事项",
                item.get_kind_display(),
                item.household.number if item.household_id else item.detail[:40],
                bucket,
                f"{timezone.localtime(item.opened_at):%Y-%m-%d} 发现",
                url,
                (BUCKET_ORDER[bucket], item.opened_at.isoformat()),
            )
        )
    return items


def _visit_items(user, today: dt.date) -> list[InboxItem]:
    last_day = month_bounds(today)[1] - dt.timedelta(days=1)
    bucket = TODAY if today == last_day else LATER
    heads = Member.objects.filter(household=OuterRef("case__household_id"), relationship=Relationship.HEAD)
    rows = (
        _unvisited(user, today)
        .annotate(head_name=Subquery(heads.order_by("pk").values("name")[:1]))
        .select_related("case__household")
        .order_by("case__household__number")
    )
    return [
        InboxItem(
            "visits",
            "本月未走访",
            "本月走访",
            _subject(plan.case.household.number, plan.head_name),
            bucket,
            f"{last_day:%m-%d} 前走访",
            reverse("assistance:plan", args=[plan.case_id]) + "#visits",
            (BUCKET_ORDER[bucket], last_day.isoformat()),
        )
        for plan in rows[:ITEMS_PER_KIND]
    ]


def inbox_items(*, user, counts: InboxCounts) -> list[InboxItem]:
    """Up to ITEMS_PER_KIND items of each kind the user has, overdue first, then due today, then the rest
    by deadline; a fixed number of queries (one per kind, case_queue's prefetch of risks aside)."""
    now, today = clock.now(), clock.today()
    items: list[InboxItem] = []
    for kind in counts.kinds:
        if not kind.total:
            continue
        if kind.key == "cases":
            items += _case_items(user, today)
        elif kind.key == "warnings":
            items += _warning_items(user, now, today)
        elif kind.key == "todos":
            items += _todo_items(user)
        elif kind.key == "visits":
            items += _visit_items(user, today)
    return sorted(items, key=lambda item: item.sort_key)
