"""Writes of plans, measures and visits. Only the village's own cadres keep them (the pairing cadre's
work); reviewers read them."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from assistance.models import (
    AssistancePlan,
    Effect,
    Measure,
    MeasureCategory,
    MeasureStatus,
    Satisfaction,
    Visit,
    VisitPhoto,
)
from assistance.selectors import measure_risks, pairing_cadre_candidates
from fpr import clock
from fpr.uploads import validate_attachment
from households.models import User
from monitoring.cases.services import ensure_village_actor
from monitoring.models import FOLLOWED_STAGES, MonitoringCase, RiskCategory

# A plan is kept while the case is under monitoring or being assessed for elimination, and after.
PLAN_STAGES = FOLLOWED_STAGES


def _ensure_plan_stage(case: MonitoringCase) -> None:
    if case.stage not in PLAN_STAGES:
        raise ValidationError(f"该案件处于“{case.get_stage_display()}”环节，县级审定纳入监测后才能制定帮扶计划。")


@transaction.atomic
def plan_create(
    *,
    user: User,
    case: MonitoringCase,
    situation: str,
    risk_analysis: str,
    needs: str,
    pairing_cadre=None,
    pairing_cadre_name="",
) -> AssistancePlan:
    """一户一策: one plan per monitoring object."""
    case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
    ensure_village_actor(user=user, case=case)
    _ensure_plan_stage(case)
    if AssistancePlan.objects.filter(case=case).exists():
        raise ValidationError("该监测对象已有帮扶计划，请调整现有计划。")
    plan = AssistancePlan(
        case=case,
        situation=situation,
        risk_analysis=risk_analysis,
        needs=needs,
        pairing_cadre=pairing_cadre,
        pairing_cadre_name=pairing_cadre_name,
    )
    _check_cadre(plan, case=case, changed=True)
    plan.full_clean(exclude=["case", "pairing_cadre"])
    plan.save()
    return plan


def _check_cadre(plan: AssistancePlan, *, case: MonitoringCase, changed: bool) -> None:
    if not plan.pairing_cadre_id and not plan.pairing_cadre_name.strip():
        raise ValidationError({"pairing_cadre": "请指定结对帮扶干部。"})
    # A cadre named before this rule existed may stay; a new one must be able to do the work.
    if (
        changed
        and plan.pairing_cadre_id
        and not pairing_cadre_candidates(case=case).filter(pk=plan.pairing_cadre_id).exists()
    ):
        raise ValidationError(
            {
                "pairing_cadre": f"{plan.pairing_cadre}不能担任该户的结对帮扶干部：应为本村、本乡镇或本县的村级干部、"
                "镇街审核员或县级审定员；没有系统账号的帮扶干部请填写姓名。"
            }
        )


@transaction.atomic
def plan_adjust(*, user: User, plan: AssistancePlan, reason: str, **fields) -> AssistancePlan:
    """动态调整: the plan's new version; the earlier one stays in its history."""
    plan = AssistancePlan.objects.select_for_update().select_related("case").get(pk=plan.pk)
    ensure_village_actor(user=user, case=plan.case)
    if not reason.strip():
        raise ValidationError({"adjustment_reason": "请填写调整原因。"})
    before = plan.pairing_cadre_id
    for name in ("situation", "risk_analysis", "needs", "pairing_cadre", "pairing_cadre_name"):
        if name in fields:
            setattr(plan, name, fields[name])
    _check_cadre(plan, case=plan.case, changed=plan.pairing_cadre_id != before)
    plan.version += 1
    plan.adjustment_reason = reason
    plan.full_clean(exclude=["case", "pairing_cadre"])
    plan.save()
    return plan


MEASURE_FIELDS = (
    "category",
    "risk_category",
    "description",
    "amount",
    "starts_on",
    "ends_on",
    "status",
    "effect",
    "effect_note",
)


def _clean_measure(measure: Measure, case: MonitoringCase, *, risk_changed: bool = True) -> None:
    errors = {}
    if risk_changed and measure.risk_category_id:
        risks = measure_risks(case=case)
        if not risks.filter(pk=measure.risk_category_id).exists():
            names = "、".join(risks.values_list("name", flat=True))
            errors["risk_category"] = f"措施应针对本户的风险（{names}），“{measure.risk_category.name}”不是本户的风险。"
    if measure.ends_on and measure.ends_on < measure.starts_on:
        errors["ends_on"] = "结束日期不能早于开始日期。"
    if measure.status == MeasureStatus.PLANNED and measure.effect:
        errors["effect"] = "计划中的措施尚未实施，不能评估成效。"
    if measure.effect == Effect.UNCLEAR and not measure.effect_note:
        errors["effect_note"] = "成效不明显时请说明原因和下一步打算。"
    try:
        measure.full_clean(exclude=["plan"])
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)


def _resolve_measure_refs(data: dict) -> dict:
    data = dict(data)
    if isinstance(data.get("category"), str):
        data["category"] = MeasureCategory.objects.filter(pk=data["category"]).first()
        if data["category"] is None:
            raise ValidationError({"category": "措施类别不正确。"})
    if isinstance(data.get("risk_category"), str):
        data["risk_category"] = RiskCategory.objects.filter(pk=data["risk_category"]).first()
        if data["risk_category"] is None:
            raise ValidationError({"risk_category": "针对的风险类型不正确。"})
    if "amount" in data and data["amount"] in (None, ""):
        data["amount"] = Decimal("0")
    return data


@transaction.atomic
def measure_add(*, user: User, plan: AssistancePlan, **data) -> Measure:
    plan = AssistancePlan.objects.select_for_update().select_related("case").get(pk=plan.pk)
    ensure_village_actor(user=user, case=plan.case)
    _ensure_plan_stage(plan.case)
    data = _resolve_measure_refs(data)
    measure = Measure(plan=plan, **{k: v for k, v in data.items() if k in MEASURE_FIELDS})
    _clean_measure(measure, plan.case)
    measure.save()
    return measure


@transaction.atomic
def measure_update(*, user: User, measure: Measure, **data) -> Measure:
    measure = Measure.objects.select_for_update().select_related("plan__case").get(pk=measure.pk)
    ensure_village_actor(user=user, case=measure.plan.case)
    data = _resolve_measure_refs(data)
    risk_before = measure.risk_category_id
    for name, value in data.items():
        if name in MEASURE_FIELDS:
            setattr(measure, name, value)
    _clean_measure(measure, measure.plan.case, risk_changed=measure.risk_category_id != risk_before)
    measure.save()
    return measure


@transaction.atomic
def visit_record(
    *,
    user: User,
    case: MonitoringCase,
    visited_on: dt.date,
    findings: str,
    income_change: str = "",
    satisfaction: str = "",
    photos=(),
) -> Visit:
    """走访记录 by the pairing cadre (or another village cadre)."""
    ensure_village_actor(user=user, case=case)
    _ensure_plan_stage(case)
    errors: dict[str, Any] = {}  # a message per field; the photos' list of them
    if visited_on > clock.today():
        errors["visited_on"] = "走访日期不能晚于今天。"
    if not findings.strip():
        errors["findings"] = "请填写走访情况。"
    if satisfaction and satisfaction not in Satisfaction.values:
        errors["satisfaction"] = "满意度选项不正确。"
    for photo in photos:
        try:
            validate_attachment(photo)
        except ValidationError as exc:
            errors.setdefault("photos", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    visit = Visit.objects.create(
        case=case,
        visited_on=visited_on,
        visitor=user,
        findings=findings,
        income_change=income_change,
        satisfaction=satisfaction,
    )
    for photo in photos:
        VisitPhoto.objects.create(visit=visit, file=photo)
    return visit
