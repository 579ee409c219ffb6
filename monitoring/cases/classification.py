"""Risk classification helper: from the household's data, suggest the case type, risk categories and
colour, each with its reasons (SPEC §3; seeds/004 §三 for the type, seeds/002 "防返贫监测和帮扶制度" for
the colours). The cadre confirms or overrides; `monitoring.cases.services.case_classify` records which."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from fpr.periods import accounting_year
from households.models import (
    ExpenditureKind,
    Health,
    Household,
    HousingSafety,
    LabourCapacity,
    PovertyStatus,
    Schooling,
)
from households.selectors import income_summary, monitoring_line_for
from monitoring.models import CaseType, RiskColour


@dataclass
class Suggestion:
    case_type: str
    risk_categories: list[str]
    colour: str
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "case_type": self.case_type,
            "risk_categories": self.risk_categories,
            "colour": self.colour,
            "reasons": self.reasons,
        }


def suggest_classification(*, household: Household, year: int | None = None) -> Suggestion:
    year = year or accounting_year()
    summary = income_summary(household=household, year=year)
    members = list(household.members.all())
    reasons: list[str] = []
    risks: list[str] = []

    def risk(code: str, why: str) -> None:
        if code not in risks:
            risks.append(code)
        reasons.append(why)

    for m in members:
        if m.health == Health.SERIOUS:
            risk("illness", f"成员 {m.name} 患大病（{m.illness or '未注明'}）→ 因病")
        elif m.health == Health.CHRONIC:
            risk("illness", f"成员 {m.name} 患长期慢性病 → 因病")
        if m.health == Health.DISABLED:
            risk("disability", f"成员 {m.name} 残疾（{m.get_disability_grade_display() or '等级未填'}）→ 因残")
        if m.schooling in (Schooling.HIGH_SCHOOL, Schooling.VOCATIONAL, Schooling.COLLEGE):
            risk("schooling", f"成员 {m.name} 就读{m.get_schooling_display()}，教育支出较大 → 因学")
        if m.schooling == Schooling.DROPOUT:
            risk("schooling", f"成员 {m.name} 辍学 → 因学")
    if not any(m.labour_capacity in (LabourCapacity.ORDINARY, LabourCapacity.SKILLED) for m in members):
        risk("lack_of_labour", "家庭没有普通或技能劳动力 → 缺劳动力")
    if household.housing_safety != HousingSafety.SAFE:
        risk("housing", f"住房为{household.get_housing_safety_display()} → 住房安全")
    if household.water_problems:
        risk("drinking_water", f"饮水{'、'.join(household.water_problems)}不达标 → 饮水安全")
    if summary.expenditures.get(ExpenditureKind.DISASTER):
        risk("disaster", f"灾害损失{summary.expenditures[ExpenditureKind.DISASTER]}元 → 因灾")
    if summary.expenditures.get(ExpenditureKind.ACCIDENT):
        risk("accident", f"意外事故支出{summary.expenditures[ExpenditureKind.ACCIDENT]}元 → 因意外事故")
    if not risks:
        risk("other", "未发现明确的风险点，请根据入户情况选择")

    large_expenditure = bool(summary.net_total > 0 and summary.expenditure_total) and (
        summary.expenditure_total > Decimal(str(settings.FPR_LARGE_EXPENDITURE_SHARE)) * summary.net_total
    )
    if household.poverty_status == PovertyStatus.LIFTED:
        case_type = CaseType.UNSTABLE_LIFTED
        reasons.append("脱贫户存在返贫风险 → 脱贫不稳定户")
    elif large_expenditure:
        case_type = CaseType.SUDDEN_HARDSHIP
        reasons.append(f"刚性支出{summary.expenditure_total}元，超过家庭纯收入的一半 → 突发严重困难户")
    else:
        case_type = CaseType.MARGINAL
        reasons.append("一般农户收入接近监测范围、存在致贫风险 → 边缘易致贫户")

    colour, why = _colour(household=household, summary=summary, large_expenditure=large_expenditure, year=year)
    reasons.append(why)
    return Suggestion(case_type=case_type, risk_categories=risks, colour=colour, reasons=reasons)


def _colour(*, household, summary, large_expenditure: bool, year: int) -> tuple[str, str]:
    line = monitoring_line_for(village_code=household.village_id, year=year)
    per_capita = summary.per_capita
    unmet = household.guarantees_unmet
    if unmet or (line and line.poverty_line and per_capita is not None and per_capita < line.poverty_line):
        detail = "、".join(unmet) if unmet else f"人均纯收入{per_capita}元低于国家扶贫标准{line.poverty_line}元"
        return RiskColour.RED, f"{detail} → 红色（已返贫致贫，需即刻帮扶）"
    if per_capita is not None and line and per_capita <= line.amount:
        return RiskColour.ORANGE, f"人均纯收入{per_capita}元不高于监测范围{line.amount}元 → 橙色"
    if large_expenditure:
        return RiskColour.ORANGE, "刚性支出较大导致基本生活出现严重困难 → 橙色"
    if summary.expenditure_total:
        return RiskColour.YELLOW, f"收入高于监测范围，但有刚性支出{summary.expenditure_total}元的隐患 → 黄色"
    return RiskColour.BLUE, "收入高于监测范围、两不愁三保障达标 → 蓝色（持续跟踪关注）"
