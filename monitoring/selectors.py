"""Reads for the case pages that belong to monitoring alone: the open case of a household, who may be
picked as a verifier, and a case's field history (变更记录)."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from households.models import Household
from monitoring.models import MonitoringCase, RiskCategory

# Bookkeeping columns every transition touches; the timeline already tells those steps.
_QUIET_FIELDS = {"created_at", "updated_at", "stage_entered_at", "stage_round", "last_transition"}


def household_open_case(*, household: Household) -> MonitoringCase | None:
    """The case in process or under monitoring, if any (at most one, by a database constraint)."""
    return MonitoringCase.objects.filter(household=household, is_open=True).first()


def verifier_candidates(*, case: MonitoringCase) -> QuerySet:
    """System users who may be on the verification team: those of the case's village and township."""
    divisions = [case.village_id, case.village.parent_id]
    return (
        get_user_model()
        .objects.filter(division_id__in=[d for d in divisions if d], is_active=True)
        .select_related("division")
        .order_by("-division__level", "full_name", "username")
    )


@dataclass
class CaseChange:
    when: dt.datetime
    who: str
    action: str
    changes: list[tuple[str, str, str]]


def case_history(*, case: MonitoringCase, limit: int = 200) -> list[CaseChange]:
    """Every recorded change of the case's own fields (including its stage), newest first. Records are
    diffed against their predecessor in memory; one case has a few dozen at most."""
    records = list(case.history.select_related("history_user").order_by("history_date", "history_id")[:limit])
    names = dict(RiskCategory.objects.values_list("code", "name"))
    entries, previous = [], None
    for record in records:
        action = {"+": "新增", "~": "修改", "-": "删除"}[record.history_type]
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, excluded_fields=_QUIET_FIELDS)
            changes = [_change(record, change, names) for change in delta.changes]
        previous = record
        if record.history_type == "~" and not changes:
            continue
        who = str(record.history_user) if record.history_user else "系统"
        entries.append(CaseChange(when=record.history_date, who=who, action=action, changes=changes))
    return entries[::-1]


def _change(record, change, names: dict) -> tuple[str, str, str]:
    field = MonitoringCase._meta.get_field(change.field)
    if field.many_to_many:
        return (str(field.verbose_name), _risk_names(change.old, names), _risk_names(change.new, names))
    return (str(field.verbose_name), _display(field, change.old), _display(field, change.new))


def _risk_names(rows, names: dict) -> str:
    codes = [row.get("riskcategory") for row in rows or []]
    return "、".join(names.get(code, str(code)) for code in codes) or "（空）"


def _display(field, value) -> str:
    if value in (None, ""):
        return "（空）"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)
