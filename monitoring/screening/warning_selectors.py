"""Reads of warnings (预警线索): the village queue with the 48-hour countdown, one warning's source row,
its history, and the warnings of a household (for the property check, 富人戴穷帽). Every read starts
from `RiskWarning.objects.for_user(user)`: another village's warning does not exist for the caller."""

import datetime as dt
import json
import re
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from fpr import clock, history
from fpr.history import HistoryEntry
from fpr.sensitive import Kind, mask, mask_text, shown_in_full
from households.id_numbers import mask_id_number
from households.models import PovertyStatus
from households.selectors import household_search, search_area
from monitoring.models import (
    CaseType,
    ContactOutcome,
    RegionalAlert,
    RiskWarning,
    WarningContact,
    WarningStatus,
)
from monitoring.screening.departments import ID, KIND_LABELS

# Anything shaped like a resident ID number in a department's row is masked, whatever its column.
_ID_SHAPE = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
_HISTORY_FIELDS = ("status", "case", "reason")


def warning_list(
    *,
    user,
    status: str | None = WarningStatus.OPEN,
    department: str | None = None,
    period: str | None = None,
    overdue: bool | None = None,
    search: str | None = None,
) -> QuerySet[RiskWarning]:
    """The warnings of the user's subtree, earliest deadline first (so the overdue ones lead).
    `status=None` means every status. `search` finds the household (name, 户编号, ID number or its last
    digits: households.selectors.household_search)."""
    latest = WarningContact.objects.filter(warning=OuterRef("pk")).order_by("-contacted_at", "-id")
    warnings = (
        RiskWarning.objects.for_user(user)
        .select_related("member", "household", "village")
        # The latest contact attempt, for the queue's 联系情况 column: part of the list's one query.
        .annotate(
            last_contact_outcome=Subquery(latest.values("outcome")[:1]),
            last_contact_at=Subquery(latest.values("contacted_at")[:1]),
        )
    )
    if (matching := household_search(search, area=search_area(user))) is not None:
        warnings = warnings.filter(household_id__in=matching)
    if status:
        warnings = warnings.filter(status=status)
    if department:
        warnings = warnings.filter(department=department)
    if period:
        warnings = warnings.filter(period=period)
    if overdue is not None:
        late = {"status": WarningStatus.OPEN, "due_at__lt": clock.now()}
        warnings = warnings.filter(**late) if overdue else warnings.exclude(**late)
    return warnings.order_by("due_at", "id")


def warning_get(*, user, pk: int) -> RiskWarning | None:
    warnings = RiskWarning.objects.for_user(user).select_related(
        "member", "household", "village__parent", "upload", "risk_category", "case", "handled_by"
    )
    return warnings.filter(pk=pk).first()


# --------------------------------------------------------------------------- the 48-hour countdown


@dataclass(frozen=True)
class Deadline:
    text: str  # "剩余 31小时", "已超时 5小时", "已核实（按时）"
    overdue: bool
    # Whole hours to the deadline (truncated), negative once overdue; None when handled.
    hours_left: int | None


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)}分钟"
    hours = minutes // 60
    if hours <= 48:
        return f"{hours}小时"
    return f"{hours // 24}天{hours % 24}小时" if hours % 24 else f"{hours // 24}天"


def warning_deadline(warning: RiskWarning, now: dt.datetime | None = None) -> Deadline:
    """Time left to contact the household (SPEC §3.1: within 48 hours of the warning)."""
    now = now or clock.now()
    if warning.status != WarningStatus.OPEN:
        late = warning.handled_at is not None and warning.handled_at > warning.due_at
        return Deadline("已核实（超时）" if late else "已核实（按时）", False, None)
    left = warning.due_at - now
    hours = int(left.total_seconds() / 3600)
    if left >= dt.timedelta(0):  # overdue once now > due_at, as RiskWarning.is_overdue
        return Deadline(f"剩余 {_duration(left)}", False, hours)
    return Deadline(f"已超时 {_duration(-left)}", True, hours)


# --------------------------------------------------------------------------- one warning


def masked_value(header: str, value) -> str:
    text = "" if value is None else str(value)
    if header in ID.headers or _ID_SHAPE.match(text.strip()):
        return mask_id_number(text.strip())
    # Any other column may hold a certificate, phone or bank account: masked by the one list's patterns.
    return mask_text(text)


def source_rows(warning: RiskWarning, *, show_sensitive: bool = False) -> list[tuple[str, str]]:
    """The department's row as (column header, value), in the file's column order; ID numbers masked
    unless the viewer may see them."""
    try:
        values = json.loads(warning.source_values or "[]")
    except ValueError:
        values = [warning.source_values]
    headers = list(warning.upload.columns or [])
    headers += [f"第{n}列" for n in range(len(headers) + 1, len(values) + 1)]
    return [
        (header, str(value if value is not None else "") if show_sensitive else masked_value(header, value))
        for header, value in zip(headers, values, strict=False)
    ]


def source_summary(warning: RiskWarning) -> str:
    """The row's facts in one line for a case description: "个人自付金额 60000、就诊机构 县人民医院"."""
    facts = [
        f"{header} {value}"
        for header, value in source_rows(warning)
        if value and header not in ID.headers and header != "姓名" and not _ID_SHAPE.match(value)
    ]
    return "、".join(facts)


def application_prefill(warning: RiskWarning) -> dict:
    """The application (纳入) prefilled from the warning — its risk, its grade as the colour, its facts —
    as the warning page's form and the API's warning detail (`application_prefill`) offer it."""
    lifted = warning.household.poverty_status == PovertyStatus.LIFTED
    summary = source_summary(warning)
    description = (
        f"部门筛查预警：{warning.get_department_display()} {warning.period} {warning.kind_label}"
        f"（{warning.member.name}{'：' + summary if summary else ''}）。"
    )
    return {
        "case_type": CaseType.UNSTABLE_LIFTED if lifted else CaseType.MARGINAL,
        "risk_categories": [warning.risk_category_id] if warning.risk_category_id else [],
        "colour": warning.grade,
        "description": description,
    }


# --------------------------------------------------------------------------- contacting the household


def household_phone(*, user, warning: RiskWarning) -> str:
    """The household's phone as `user` may see it (fpr.sensitive: in full for the village cadre, who must
    call; `138****5678` for everyone else)."""
    phone = warning.household.phone
    return phone if shown_in_full(Kind.PHONE, user=user) else mask(Kind.PHONE, phone)


def warning_contacts(*, warning: RiskWarning) -> list[WarningContact]:
    """The attempts to contact the household, latest first."""
    return list(warning.contacts.select_related("contacted_by").order_by("-contacted_at", "-id"))


def warning_history(*, warning: RiskWarning) -> list[HistoryEntry]:
    """Who raised the warning, who contacted the household and who verified it, newest first
    (django-simple-history records of the warning and of its contact attempts, diffed in memory: a
    warning has a handful)."""
    records = list(warning.history.select_related("history_user").order_by("history_date", "history_id"))

    def show(field, value) -> str:
        if field.name == "case" and value not in (None, ""):
            return f"{warning.household.number} 的监测案件（#{value}）"
        return history.display(field, value)

    entries, previous = [], None
    for record in records:
        who = history.who(record)
        if record.history_type == "+":
            subject = record.history_change_reason or "推送预警线索"
            entries.append(HistoryEntry(record.history_date, who, "新增", subject, []))
        else:
            changes = history.field_changes(
                RiskWarning, previous, record, _HISTORY_FIELDS, missing=lambda field: field.get_default(), show=show
            )
            if changes or record.history_type == "-":
                action = "删除" if record.history_type == "-" else "修改"
                subject = record.history_change_reason or "核实预警线索"
                entries.append(HistoryEntry(record.history_date, who, action, subject, changes))
        previous = record
    entries += _contact_changes(warning)
    entries.sort(key=lambda entry: entry.when)
    return entries[::-1]


_CONTACT_FIELDS = ("outcome", "contacted_at", "note")


def _contact_changes(warning: RiskWarning) -> list[HistoryEntry]:
    records = WarningContact.history.filter(warning_id=warning.pk).select_related("history_user")
    entries, previous = [], {}
    for record in records.order_by("history_date", "history_id"):
        action = {"+": "新增", "-": "删除"}.get(record.history_type, "修改")
        subject = record.history_change_reason or "联系农户"
        changes = history.field_changes(
            WarningContact, previous.get(record.id), record, _CONTACT_FIELDS, show=_contact_value
        )
        entries.append(HistoryEntry(record.history_date, history.who(record), action, subject, changes))
        previous[record.id] = record
    return entries


def _contact_value(field, value) -> str:
    if value in (None, ""):
        return history.EMPTY
    if field.name == "outcome":
        return str(ContactOutcome(value).label)
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return str(value)


# --------------------------------------------------------------------------- a household's warnings


@dataclass
class HouseholdWarnings:
    warnings: list[RiskWarning]
    total: int
    asset_hits: list[str]  # "车辆（车管 2026-11）"

    @property
    def notice(self) -> str:
        if not self.asset_hits:
            return ""
        return f"资产比对命中：{'、'.join(self.asset_hits)}— 需核查家庭财产，防止“富人戴穷帽”"


def household_warnings(*, user, household_id: int, limit: int = 10) -> HouseholdWarnings:
    """The latest warnings of a household, and every asset hit (车辆/商品房/工商注册/财政供养) among all of
    them: those flag the household for the property check (家庭经济状况核查). Two queries."""
    scoped = RiskWarning.objects.for_user(user).filter(household_id=household_id)
    latest = list(scoped.order_by("-raised_at", "-id")[: limit + 1])
    assets = (
        scoped.exclude(asset_kind="")
        .order_by("-period", "asset_kind")
        .values_list("asset_kind", "department", "period")
        .distinct()
    )
    labels = dict(RiskWarning._meta.get_field("department").flatchoices)
    hits = [f"{kind}（{labels.get(department, department)} {period}）" for kind, department, period in assets]
    total = len(latest) if len(latest) <= limit else scoped.count()
    return HouseholdWarnings(warnings=latest[:limit], total=total, asset_hits=hits)


# --------------------------------------------------------------------------- regional alerts


def regional_alerts(*, user, division=None, limit: int = 20) -> list[RegionalAlert]:
    """规模性返贫风险预警 of the user's subtree (of `division` within it, when given), newest period first,
    each with `kind_label` (全部类型 for an alert over every kind)."""
    alerts = RegionalAlert.objects.for_user(user)
    if division is not None:
        alerts = alerts.filter(division__code__startswith=division.prefix)
    shown = list(alerts.select_related("division").order_by("-period", "-count")[:limit])
    for alert in shown:
        alert.kind_label = KIND_LABELS.get(alert.kind, alert.kind) if alert.kind else "全部类型"
    return shown
