"""Reads of the registry, already scoped to the user."""

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from fpr import history
from fpr.history import HistoryEntry
from fpr.periods import accounting_year
from fpr.roles import PREFIX_LENGTH, Level
from fpr.sensitive import kind_of, mask, shown_in_full
from households.id_numbers import normalize_id_number
from households.models import (
    TRANSFER_KINDS,
    Division,
    Expenditure,
    Health,
    Household,
    IncomeItem,
    IncomeKind,
    Member,
    MonitoringLine,
    Relationship,
    SpecialGroup,
    User,
)

CENT = Decimal("0.01")


def divisions_visible(*, user: User) -> QuerySet[Division]:
    return Division.objects.for_user(user)


def villages_visible(*, user: User) -> QuerySet[Division]:
    return divisions_visible(user=user).filter(level=Level.VILLAGE)


SPECIAL_GROUP_FILTERS: dict[str, Q] = {
    SpecialGroup.SERIOUS_ILLNESS: Q(members__health=Health.SERIOUS),
    SpecialGroup.CHRONIC_ILLNESS: Q(members__health=Health.CHRONIC),
    SpecialGroup.SEVERE_DISABILITY: Q(members__health=Health.DISABLED, members__disability_grade__in=[1, 2]),
    SpecialGroup.DISABLED_ELDERLY: Q(members__is_disabled_elderly=True),
    SpecialGroup.LEFT_BEHIND: Q(members__is_left_behind=True),
    SpecialGroup.SINGLE_PARENT: Q(single_parent=True),
}


def household_list(
    *,
    user: User,
    division: str | None = None,
    poverty_status: str | None = None,
    special_group: str | None = None,
    search: str | None = None,
) -> QuerySet[Household]:
    """Households in the user's subtree, filtered; annotated with the head's name and member count so
    a page of any size costs a fixed number of queries."""
    qs = Household.objects.for_user(user)
    # The area the rows come from: the village or township asked for, else the user's jurisdiction
    # (a superuser's is the whole registry, whatever division the account has).
    if division:
        area = _division_prefix(division)
        qs = qs.filter(village__code__startswith=area)
    else:
        area = search_area(user)
    if poverty_status:
        qs = qs.filter(poverty_status=poverty_status)
    if special_group:
        condition = SPECIAL_GROUP_FILTERS.get(special_group)
        if condition is None:
            return qs.none()
        qs = qs.filter(pk__in=Household.objects.filter(condition).values("pk"))
    if (matching := household_search(search, area=area)) is not None:
        qs = qs.filter(pk__in=matching)
    heads = Member.objects.filter(household=OuterRef("pk"), relationship=Relationship.HEAD)
    return qs.select_related("village__parent").annotate(
        head_name=Subquery(heads.values("name")[:1]),
        head_id_number=Subquery(heads.values("id_number")[:1]),
        member_count=Subquery(
            Member.objects.filter(household=OuterRef("pk"))
            .order_by()
            .values("household")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
    )


# The last digits of an ID number a cadre reads off a card or hears on the phone ("尾号 1234").
ID_SUFFIX = re.compile(r"^[0-9]{3,5}[0-9X]$")


def search_area(user: User, prefix: str | None = None) -> str:
    """The division-code prefix a list reads: the division asked for, else the user's jurisdiction (a
    superuser's is the whole registry, whatever division the account has)."""
    if prefix:
        return prefix
    return "" if user.is_superuser else getattr(user, "jurisdiction_prefix", "")


def household_search(words: str | None, *, area: str = "") -> QuerySet[Household, Any] | None:
    """The households a cadre's search words name — the one rule of every list that finds a person
    (农户, 监测对象, 待办, 预警线索): the 户编号 exactly; a full ID number, normalised by the one
    normaliser and matched exactly on the stored normal form; its last 4–6 digits, on the end of the
    number; anything else, a member's name (part of it). A query of household ids, for `pk__in` /
    `household_id__in`, so a list stays one query whatever matches; None when the words are empty.

    `area` is the division-code prefix the list reads (the user's jurisdiction or the village asked for):
    for a village, members are read through its households (a village's few hundred instead of the
    county's 350,000: LIKE '%…%' and a suffix match use no index)."""
    words = (words or "").strip()
    if not words:
        return None
    normal = normalize_id_number(words)
    if len(normal) == 18:
        condition = Q(id_number=normal)
    elif ID_SUFFIX.match(normal):
        condition = Q(id_number__endswith=normal)
    else:
        condition = Q(name__contains=words)
    members = Member.objects.filter(condition)
    if len(area or "") == PREFIX_LENGTH[Level.VILLAGE]:
        # For a township or county, joining its households costs more than one scan of the members
        # (the caller's list is scoped anyway).
        members = members.filter(household__village_id=area)
    return Household.objects.filter(Q(number=words) | Q(pk__in=members.values("household_id"))).values("pk")


def _division_prefix(code: str) -> str:
    division = Division.objects.filter(pk=code).first()
    return division.prefix if division else code


def monitoring_line_for(*, village_code: str, year: int) -> MonitoringLine | None:
    province_code = village_code[:2] + "0" * 10
    return MonitoringLine.objects.filter(province_id=province_code, year=year).first()


@dataclass
class IncomeSummary:
    """算账 for one household and year. Computed from the items every time, never stored."""

    year: int
    size: int
    wage: Decimal = Decimal(0)
    business: Decimal = Decimal(0)
    business_cost: Decimal = Decimal(0)
    property_income: Decimal = Decimal(0)
    transfers: dict[str, Decimal] = field(default_factory=dict)
    expenditures: dict[str, Decimal] = field(default_factory=dict)
    monitoring_line: Decimal | None = None

    @property
    def business_net(self) -> Decimal:
        return self.business - self.business_cost

    @property
    def transfer_total(self) -> Decimal:
        return sum(self.transfers.values(), Decimal(0))

    @property
    def net_total(self) -> Decimal:
        return self.wage + self.business_net + self.property_income + self.transfer_total

    @property
    def per_capita(self) -> Decimal | None:
        if not self.size:
            return None
        return (self.net_total / self.size).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def expenditure_total(self) -> Decimal:
        return sum(self.expenditures.values(), Decimal(0))

    @property
    def per_capita_after_expenditure(self) -> Decimal | None:
        if not self.size:
            return None
        return ((self.net_total - self.expenditure_total) / self.size).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def above_line(self) -> bool | None:
        if self.monitoring_line is None or self.per_capita is None:
            return None
        return self.per_capita > self.monitoring_line

    @property
    def after_expenditure_above_line(self) -> bool | None:
        if self.monitoring_line is None or self.per_capita_after_expenditure is None:
            return None
        return self.per_capita_after_expenditure > self.monitoring_line

    @property
    def rigid_expenditure_heavy(self) -> bool:
        """刚性支出较大: after the rigid expenditure (医疗自付, 教育, 灾害损失, 意外事故) per-capita income is
        not above the monitoring line — a risk however high the income itself (seeds/002 橙色 "因病因灾因
        意外事故等刚性支出较大…导致基本生活出现严重困难"; the "七个不消" rule 2 reads the same)."""
        return bool(self.expenditure_total) and self.after_expenditure_above_line is False

    @property
    def at_risk(self) -> bool | None:
        """The headline of the 算账: at risk when income is not above the line, or rigid expenditure
        brings it there; None when it cannot be judged (no line, nobody in the household)."""
        if self.above_line is None:
            return None
        return not self.above_line or self.rigid_expenditure_heavy

    @property
    def has_items(self) -> bool:
        return bool(self.wage or self.business or self.property_income or self.transfers)


_SUMMARY_FIELD: dict[str, str] = {
    IncomeKind.WAGE: "wage",
    IncomeKind.BUSINESS: "business",
    IncomeKind.BUSINESS_COST: "business_cost",
    IncomeKind.PROPERTY: "property_income",
}


def income_summary(*, household: Household, year: int) -> IncomeSummary:
    summary = IncomeSummary(year=year, size=household.members.count())
    for kind, amount in IncomeItem.objects.filter(household=household, year=year).values_list("kind", "amount"):
        _add_income(summary, kind, amount)
    summary.expenditures = dict(
        Expenditure.objects.filter(household=household, year=year).values_list("kind", "amount")
    )
    line = monitoring_line_for(village_code=household.village_id, year=year)
    summary.monitoring_line = line.amount if line else None
    return summary


def income_summaries(*, households: list[Household], year: int) -> dict[int, IncomeSummary]:
    """`income_summary` for many households in four queries (the scheduled jobs), keyed by household id."""
    ids = [h.pk for h in households]
    sizes = dict(
        Member.objects.filter(household_id__in=ids)
        .order_by()
        .values("household_id")
        .annotate(n=Count("pk"))
        .values_list("household_id", "n")
    )
    lines = dict(MonitoringLine.objects.filter(year=year).values_list("province_id", "amount"))
    summaries = {
        h.pk: IncomeSummary(year=year, size=sizes.get(h.pk, 0), monitoring_line=lines.get(h.village_id[:2] + "0" * 10))
        for h in households
    }
    for household_id, kind, amount in IncomeItem.objects.filter(household_id__in=ids, year=year).values_list(
        "household_id", "kind", "amount"
    ):
        _add_income(summaries[household_id], kind, amount)
    for household_id, kind, amount in Expenditure.objects.filter(household_id__in=ids, year=year).values_list(
        "household_id", "kind", "amount"
    ):
        summaries[household_id].expenditures[kind] = amount
    return summaries


def _add_income(summary: IncomeSummary, kind: str, amount: Decimal) -> None:
    if kind in TRANSFER_KINDS:
        summary.transfers[kind] = amount
    else:
        setattr(summary, _SUMMARY_FIELD[kind], amount)


def income_years(*, household: Household) -> list[int]:
    """The years the household has accounts for, and the accounting year (`fpr.periods.accounting_year`),
    newest first."""
    years = set(IncomeItem.objects.filter(household=household).values_list("year", flat=True))
    years.add(accounting_year())
    return sorted(years, reverse=True)


def _entries(records, subject_of, shows) -> list[HistoryEntry]:
    """Turn historical records into entries, each diffed against the same object's previous record
    (fpr.history). `shows(kind)`: whether a value of the sensitive-field list is shown in full."""

    def show(model_field, value) -> str:
        kind = kind_of(model_field.model._meta.label, model_field.name)
        if kind is None or shows(kind) or value in (None, ""):
            return history.display(model_field, value)
        return mask(kind, value)

    records = sorted(records, key=lambda r: (r.id, r.history_date))
    previous: dict = {}
    entries = []
    for record in records:
        prior = previous.get(record.id)
        previous[record.id] = record
        changes = []
        if record.history_type == "~" and prior is not None:
            changes = history.recorded_changes(record, prior, show=show)
            if not changes:
                continue
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=history.who(record),
                action=history.action(record),
                subject=subject_of(record),
                changes=changes,
            )
        )
    return entries


def household_history(
    *, household: Household, user: User | None = None, revealed: bool = False, limit: int = 300
) -> list[HistoryEntry]:
    """Every change to the household, its members and its accounting, newest first. One household's
    history is small, so each source is read whole (four queries) and diffed in memory. Values of the
    sensitive-field list are masked as the household page masks them for `user` (all of them without
    a user)."""
    sources = [
        (household.history.all(), lambda r: "农户信息"),
        (Member.history.filter(household_id=household.pk), lambda r: f"成员 {r.name}"),
        (
            IncomeItem.history.filter(household_id=household.pk),
            lambda r: f"{r.year}年 {IncomeKind(r.kind).label}" + _amount_note(r),
        ),
        (
            Expenditure.history.filter(household_id=household.pk),
            lambda r: f"{r.year}年 {r.get_kind_display()}" + _amount_note(r),
        ),
    ]

    def shows(kind) -> bool:
        return user is not None and shown_in_full(kind, user=user, revealed=revealed)

    entries = chain.from_iterable(
        _entries(records.select_related("history_user"), subject, shows) for records, subject in sources
    )
    return sorted(entries, key=lambda e: e.when, reverse=True)[:limit]


def _amount_note(record) -> str:
    return f"：{record.amount}元" if record.history_type == "+" else ""
