"""Advice shown on the plan page (warnings, not blockers): SPEC §4 and seeds/004 §四."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from assistance.models import AssistancePlan, Measure, MeasureStatus
from fpr import clock
from households.models import HAS_LABOUR
from monitoring.models import MonitoringCase


@dataclass(frozen=True)
class Advice:
    code: str
    title: str
    detail: str


def plan_advice(*, case: MonitoringCase, today: dt.date | None = None) -> list[Advice]:
    today = today or clock.today()
    plan = AssistancePlan.objects.filter(case=case).first()
    measures = (
        list(Measure.objects.filter(plan=plan).exclude(status=MeasureStatus.STOPPED).select_related("category"))
        if plan
        else []
    )
    risks = list(case.risk_categories.all())
    advice = []
    answered = {m.risk_category_id for m in measures}
    missing = [r.name for r in risks if r.code not in answered]
    if missing:
        advice.append(Advice("gap", "缺什么补什么", f"风险类型“{'、'.join(missing)}”还没有对应的帮扶措施。"))
    has_labour = any(m.labour_capacity in HAS_LABOUR for m in case.household.members.all())
    if measures and has_labour and all(m.category.is_safety_net for m in measures):
        advice.append(
            Advice("safety_net_only", "一兜了之", "家庭有劳动力，却只有兜底保障类措施，应同时安排产业或就业帮扶。")
        )
    limit = settings.FPR_WELFARE_TRAP_MEASURES
    if len(risks) == 1 and len(measures) > limit:
        advice.append(
            Advice(
                "welfare_trap",
                "福利陷阱",
                f"只有一种风险，却有{len(measures)}项措施（超过{limit}项），注意避免“福利陷阱”和养懒汉。",
            )
        )
    if not case.visits.filter(visited_on__year=today.year, visited_on__month=today.month).exists():
        advice.append(
            Advice("no_visit", "本月未走访", f"{today:%Y年%m月}还没有走访记录，结对帮扶干部每月至少走访一次。")
        )
    return advice
