"""Verifying a warning (预警线索核实, SPEC §5): the village first contacts the household within 48 hours
(联系记录: 已电话联系 / 已上门 / 未联系上, each attempt kept), then includes it (纳入: opens an application with the
channel 部门筛查预警), does not include it (不纳入, with a reason), or — when the household already has a
case in process or under monitoring — attaches it to that case (并入在办案件).

Warnings are raised in bulk by monitoring.screening.comparison, never here. Each action locks the warning row and
checks it is still open, so of two cadres acting at once the second is told "已被他人处理".
"""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction

from fpr import clock
from fpr.errors import ApplicationError, ConflictError
from fpr.roles import Role
from monitoring.cases.selectors import household_open_case
from monitoring.cases.services import case_create
from monitoring.models import Channel, ContactOutcome, MonitoringCase, RiskWarning, WarningContact, WarningStatus


def ensure_warning_actor(*, user, warning: RiskWarning) -> None:
    """The village verifies its warnings (村级干部); an administrator of the area may act for it."""
    if not (user.is_superuser or user.has_role(Role.VILLAGE_CADRE, Role.ADMINISTRATOR)):
        raise PermissionDenied("只有本村村级干部或系统管理员可以核实预警线索。")
    if not user.is_superuser and not warning.village_id.startswith(user.jurisdiction_prefix or "-"):
        raise PermissionDenied("该预警线索不在您的管辖范围内。")


def _lock_open(*, user, warning: RiskWarning) -> RiskWarning:
    """The warning re-read under a row lock, still open. Prevents two cadres verifying it at once: the
    second waits for the first's transaction, then finds it handled."""
    ensure_warning_actor(user=user, warning=warning)
    locked = RiskWarning.objects.select_for_update().get(pk=warning.pk)
    if locked.status != WarningStatus.OPEN:
        raise ConflictError(
            f"该预警线索已被他人处理（{locked.get_status_display()}），请刷新后查看。",
            extra={"status": locked.status},
        )
    return locked


def _handled(warning: RiskWarning, *, user, status: str, reason: str = "", case: MonitoringCase | None = None):
    warning.status = status
    warning.reason = reason
    if case is not None:
        warning.case = case
    warning.handled_by = user
    warning.handled_at = clock.now()
    warning._change_reason = f"核实：{WarningStatus(status).label}"  # the history entry's title
    warning.save()
    return warning


@transaction.atomic
def warning_contact_record(
    *,
    user,
    warning: RiskWarning,
    outcome: str,
    contacted_at: dt.datetime | None = None,
    note: str = "",
) -> WarningContact:
    """联系记录: one attempt to reach the household (by phone, at home, or not reached), by whom and when.
    Only while the warning is open: the lock makes an attempt and a verification by another cadre
    serialise, so an attempt is never added to a warning verified meanwhile."""
    warning = _lock_open(user=user, warning=warning)
    if outcome not in ContactOutcome.values:
        raise ApplicationError("请选择联系情况（已电话联系、已上门或未联系上）。", field="outcome")
    now = clock.now()
    contacted_at = contacted_at or now
    if contacted_at > now + dt.timedelta(minutes=5):  # a little slack for the phone's clock
        raise ApplicationError("联系时间不能晚于现在。", field="contacted_at")
    if contacted_at < warning.raised_at - dt.timedelta(days=1):
        raise ApplicationError("联系时间早于预警线索推送时间，请核对。", field="contacted_at")
    note = (note or "").strip()
    if outcome == ContactOutcome.UNREACHED and not note:
        raise ApplicationError("未联系上时请说明情况（如：电话无人接听，已请村民小组长转告）。", field="note")
    contact = WarningContact(warning=warning, outcome=outcome, contacted_at=contacted_at, contacted_by=user, note=note)
    contact._change_reason = f"联系农户：{contact.get_outcome_display()}"
    contact.save()
    return contact


@transaction.atomic
def warning_include(
    *,
    user,
    warning: RiskWarning,
    case_type: str,
    risk_categories: list[str],
    description: str,
    colour: str = "",
) -> RiskWarning:
    """纳入: the village opens an application for the household on the warning's strength (发现渠道
    部门筛查预警); the warning keeps the case it opened."""
    if not user.has_role(Role.VILLAGE_CADRE):
        # case_create would refuse too (even a superuser); say why in the warning's terms.
        raise PermissionDenied("纳入即代农户提交监测申请，须由本村村级干部办理。")
    warning = _lock_open(user=user, warning=warning)
    existing = household_open_case(household=warning.household_id)
    if existing is not None:
        raise ApplicationError(
            f"农户 {warning.household.number} 已有在办或监测中的案件（{existing.get_stage_display()}），"
            "不能重复申请，请选择“并入在办案件”。"
        )
    case = case_create(
        user=user,
        household=warning.household,
        case_type=case_type,
        risk_categories=risk_categories,
        channel=Channel.DEPARTMENT_WARNING,
        description=description,
        colour=colour,
    )
    return _handled(warning, user=user, status=WarningStatus.INCLUDED, case=case)


@transaction.atomic
def warning_exclude(*, user, warning: RiskWarning, reason: str) -> RiskWarning:
    """不纳入: the village contacted the household and found no risk to monitor; the reason is kept."""
    reason = (reason or "").strip()
    warning = _lock_open(user=user, warning=warning)
    if not reason:
        raise ApplicationError(
            "请填写不纳入的原因（如：经入户核实，医疗费用已由大病保险报销，家庭收入稳定）。", field="reason"
        )
    return _handled(warning, user=user, status=WarningStatus.EXCLUDED, reason=reason)


@transaction.atomic
def warning_attach(*, user, warning: RiskWarning, note: str = "") -> RiskWarning:
    """并入在办案件: the household already has a case in process or under monitoring, so the warning
    becomes part of that case (its risk is assessed there) instead of opening a second one."""
    warning = _lock_open(user=user, warning=warning)
    case = household_open_case(household=warning.household_id)
    if case is None:
        raise ApplicationError("该户没有在办或监测中的案件，不能并入；请选择“纳入”或“不纳入”。")
    return _handled(warning, user=user, status=WarningStatus.ATTACHED, reason=(note or "").strip(), case=case)
