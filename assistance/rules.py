"""The risk-elimination standard and the "七个不消" rules (SPEC §3.2, seeds/004 §五 and §六).

Each rule is a named function of the facts of one case; it returns the list of findings that make it
fail (empty when it passes), each naming the data behind it. `elimination_check` evaluates every rule
and never stops at the first failure: the village and the county see everything that blocks
elimination. Eliminating too fast is a documented abuse ("片面追求风险消除率"), so the rules are strict.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from assistance.models import AssistancePlan, Effect, Measure, MeasureStatus, Visit
from fpr import clock
from fpr.periods import accounting_year, months_between
from households.models import HAS_LABOUR, Health, Household, IncomeKind, Member
from households.selectors import IncomeSummary, income_summaries, income_summary
from monitoring.models import NOTICE_DAYS, MonitoringCase

PROPOSAL = "proposal"  # 提出名单 (village)
APPROVAL = "approval"  # 县级审定 (county)
NO_LABOUR_ADVICE = "落实社会保障后持续跟踪监测"


@dataclass
class Facts:
    """Everything the rules read, loaded once per evaluation."""

    case: MonitoringCase
    household: Household
    members: list[Member]
    measures: list[Measure]
    has_plan: bool
    income: IncomeSummary
    today: dt.date
    moment: str
    procedure: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """`name`: the policy's wording, negative for the seven ("…的不消"); `condition`: what must hold, said
    positively, which the pages show with 符合/不符合; `source`: where the rule comes from."""

    code: str
    name: str
    check: Callable[[Facts], list[str]]
    condition: str = ""
    source: str = ""


@dataclass
class RuleResult:
    code: str
    name: str
    findings: list[str]
    condition: str = ""
    source: str = ""

    @property
    def passed(self) -> bool:
        return not self.findings


@dataclass
class EliminationCheck:
    results: list[RuleResult]
    whole_household_without_labour: bool

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed]

    @property
    def reasons(self) -> list[str]:
        return [f"【{r.name}】{finding}" for r in self.failures for finding in r.findings]


# --------------------------------------------------------------------------- the rules


def guarantees_secured(f: Facts) -> list[str]:
    unmet = f.household.guarantees_unmet
    if not unmet:
        return []
    detail = "、".join(unmet)
    if f.household.water_problems:
        detail += f"（饮水：{'、'.join(f.household.water_problems)}不达标）"
    return [f"“三保障”和饮水安全未稳定实现：{detail}。"]


def stable_income(f: Facts) -> list[str]:
    s = f.income
    findings = []
    if not s.has_items:
        return [f"尚未核算{s.year}年家庭收入，无法判断收入来源是否稳定。"]
    stable = s.wage + s.business_net + s.property_income + s.transfers.get(IncomeKind.PENSION, 0)
    if stable <= 0:
        findings.append(f"{s.year}年无工资性、生产经营性、财产性收入或养老金，没有稳定收入来源。")
    if s.rigid_expenditure_heavy:
        findings.append(
            f"刚性支出{s.expenditure_total}元，扣除后人均{s.per_capita_after_expenditure}元，"
            f"不高于监测范围{s.monitoring_line}元，大额刚性支出问题未稳定解决。"
        )
    return findings


def plan_carried_out(f: Facts) -> list[str]:
    if not f.has_plan:
        return ["没有制定“一户一策”帮扶计划。"]
    if not any(m.status in (MeasureStatus.ACTIVE, MeasureStatus.DONE) for m in f.measures):
        return ["“一户一策”帮扶计划中没有实施中或已完成的措施，计划尚未实施。"]
    return []


def effect_evident(f: Facts) -> list[str]:
    months = settings.FPR_MEASURE_EFFECT_MONTHS
    findings = []
    for m in f.measures:
        if m.status in (MeasureStatus.PLANNED, MeasureStatus.STOPPED):
            continue
        name = f"措施“{m.category.name}：{m.description[:16]}”"
        ran = months_between(m.starts_on, f.today)
        if ran < months:
            findings.append(
                f"{name}于{m.starts_on:%Y-%m-%d}开始，实施{max(ran, 0)}个月，不足{months}个月，效果尚未显现。"
            )
        elif not m.effect:
            findings.append(f"{name}尚未评估帮扶成效。")
        elif m.effect == Effect.UNCLEAR:
            findings.append(f"{name}帮扶成效不明显。")
    return findings


def household_has_labour(f: Facts) -> list[str]:
    if any(m.labour_capacity in HAS_LABOUR for m in f.members):
        return []
    return [f"整户不具备或丧失劳动能力，{NO_LABOUR_ADVICE}，暂不消除。"]


def no_special_hardship(f: Facts) -> list[str]:
    findings = []
    for m in f.members:
        if m.health == Health.SERIOUS:
            illness = f"（{m.illness}）" if m.illness else ""
            findings.append(f"成员 {m.name} 患大病{illness}，属于特殊困难人口，暂不消除。")
        elif m.health == Health.DISABLED and m.disability_grade in (1, 2):
            findings.append(
                f"成员 {m.name} 为重度残疾（{m.get_disability_grade_display()}），属于特殊困难人口，暂不消除。"
            )
        if m.is_disabled_elderly:
            findings.append(f"成员 {m.name} 为失能老年人，属于特殊困难人口，暂不消除。")
    return findings


def procedure_complete(f: Facts) -> list[str]:
    """一看二算三核四评议五公示. At the village's proposal only 看 (a visit this month) and 算 (the
    accounting year's accounting) can be done yet; at county approval all five must be on record for this round."""
    steps = f.procedure
    findings = []
    if not steps.get("look"):
        findings.append(f"“一看”：本月（{f.today:%Y年%m月}）没有走访记录。")
    if not f.income.has_items:
        findings.append(f"“二算”：尚未核算{f.income.year}年家庭收入。")
    if f.moment == APPROVAL:
        if not steps.get("verify"):
            findings.append("“三核”：风险消除入户核实（帮扶措施落实情况表）未完成。")
        if not steps.get("appraise"):
            findings.append("“四评议”：风险消除民主评议未通过或未记录。")
        if not steps.get("notice"):
            findings.append(f"“五公示”：风险消除公示未满{NOTICE_DAYS}天或未公示。")
    return findings


def measure_recorded(f: Facts) -> list[str]:
    return [] if f.measures else ["没有录入任何帮扶措施（已消除风险却无帮扶措施属于逻辑错误）。"]


def income_above_line(f: Facts) -> list[str]:
    s = f.income
    if s.monitoring_line is None:
        return [f"{s.year}年的监测范围（收入标准）尚未设置，请管理员先设置。"]
    if s.per_capita is None or not s.has_items:
        return [f"尚未核算{s.year}年家庭收入。"]
    if s.per_capita <= s.monitoring_line:
        return [f"{s.year}年人均纯收入{s.per_capita}元，未高于监测范围{s.monitoring_line}元。"]
    return []


SEVEN = "“七个不消”"
RULES = (
    Rule(
        "guarantees",
        "三保障和饮水安全未稳定实现的不消",
        guarantees_secured,
        "“三保障”和饮水安全已稳定实现",
        f"{SEVEN}之一",
    ),
    Rule(
        "stable_income",
        "没有稳定收入来源或大额刚性支出未稳定解决的不消",
        stable_income,
        "有稳定收入来源，大额刚性支出问题已稳定解决",
        f"{SEVEN}之二",
    ),
    Rule(
        "plan",
        "没有制定并实施“一户一策”帮扶计划的不消",
        plan_carried_out,
        "已制定并实施“一户一策”帮扶计划",
        f"{SEVEN}之三",
    ),
    Rule(
        "effect",
        "刚落实帮扶措施未见效果或效果不明显的不消",
        effect_evident,
        "帮扶措施已见到明显效果",
        f"{SEVEN}之四",
    ),
    Rule("labour", "整户不具备或丧失劳动能力的不消", household_has_labour, "家庭有劳动能力", f"{SEVEN}之五"),
    Rule(
        "hardship",
        "有大病重病患者等特殊困难人口的不消",
        no_special_hardship,
        "家中没有大病重病患者等特殊困难人口",
        f"{SEVEN}之六",
    ),
    Rule(
        "procedure",
        "没有完整履行“一看二算三核四评议五公示”程序的不消",
        procedure_complete,
        "已完整履行“一看二算三核四评议五公示”程序",
        f"{SEVEN}之七",
    ),
    Rule(
        "measures",
        "没有录入帮扶措施的不消",
        measure_recorded,
        "已录入帮扶措施",
        "数据逻辑校验（已消除风险却无帮扶措施属于逻辑错误）",
    ),
    Rule(
        "income_line",
        "人均纯收入未高于当年监测范围的不消",
        income_above_line,
        "人均纯收入高于当年监测范围",
        "风险消除标准（年人均纯收入稳定高于监测范围）",
    ),
)


def rule_wording(rule) -> dict:
    """(condition, source) of a rule result or of a stored snapshot dict (which may predate `condition`
    and carry only the rule's name), for the pages."""
    get = rule.get if isinstance(rule, dict) else lambda key, default=None: getattr(rule, key, default)
    name = get("name") or get("rule") or ""
    known = next((r for r in RULES if r.code == get("code") or r.name == name), None)
    return {
        "condition": get("condition") or (known.condition if known else name),
        "source": get("source") or (known.source if known else ""),
    }


def load_facts(case: MonitoringCase, *, moment: str, today: dt.date | None = None) -> Facts:
    today = today or clock.today()
    household = Household.objects.get(pk=case.household_id)  # fresh: the rules judge the data as it is now
    plan = AssistancePlan.objects.filter(case=case).first()
    measures = list(Measure.objects.filter(plan__case=case).select_related("category")) if plan else []
    return Facts(
        case=case,
        household=household,
        members=list(household.members.all()),
        measures=measures,
        has_plan=plan is not None,
        income=income_summary(household=household, year=accounting_year(today)),
        today=today,
        moment=moment,
        procedure=_procedure_steps(case, today=today, moment=moment),
    )


def _procedure_steps(case: MonitoringCase, *, today: dt.date, moment: str) -> dict:
    steps = {"look": case.visits.filter(visited_on__year=today.year, visited_on__month=today.month).exists()}
    if moment == APPROVAL:
        # The elimination round's records: made after the case was proposed for elimination.
        proposed = case.events.filter(transition="propose_elimination").order_by("-at").first()
        since = proposed.at if proposed else None
        if since is not None:
            verified = case.events.filter(transition="complete_elim_verification", at__gte=since).exists()
            notice = case.events.filter(transition="submit_elim_to_township", at__gte=since).exists()
            appraised = case.events.filter(transition="start_elim_notice", at__gte=since).exists()
            steps.update(verify=verified, appraise=appraised, notice=notice)
    return steps


def load_facts_many(cases: list[MonitoringCase], *, today: dt.date) -> dict[int, Facts]:
    """`load_facts` at the village's proposal for many cases in a fixed number of queries (the monthly
    review, monitoring.jobs), keyed by case id. Reads the same data as `load_facts`."""
    case_ids = [c.pk for c in cases]
    households = Household.objects.in_bulk([c.household_id for c in cases])
    members: dict[int, list[Member]] = defaultdict(list)
    for member in Member.objects.filter(household_id__in=households):
        members[member.household_id].append(member)
    with_plan = set(AssistancePlan.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True))
    measures: dict[int, list[Measure]] = defaultdict(list)
    for measure in Measure.objects.filter(plan__case_id__in=case_ids).select_related("category", "plan"):
        measures[measure.plan.case_id].append(measure)
    visited = set(
        Visit.objects.filter(case_id__in=case_ids, visited_on__year=today.year, visited_on__month=today.month)
        .values_list("case_id", flat=True)
        .distinct()
    )
    incomes = income_summaries(households=list(households.values()), year=accounting_year(today))
    return {
        case.pk: Facts(
            case=case,
            household=households[case.household_id],
            members=members[case.household_id],
            measures=measures[case.pk],
            has_plan=case.pk in with_plan,
            income=incomes[case.household_id],
            today=today,
            moment=PROPOSAL,
            procedure={"look": case.pk in visited},
        )
        for case in cases
    }


def evaluate(facts: Facts) -> EliminationCheck:
    results = [RuleResult(rule.code, rule.name, rule.check(facts), rule.condition, rule.source) for rule in RULES]
    no_labour = any(r.code == "labour" and not r.passed for r in results)
    return EliminationCheck(results=results, whole_household_without_labour=no_labour)


def elimination_check(case: MonitoringCase, *, moment: str, today: dt.date | None = None) -> EliminationCheck:
    return evaluate(load_facts(case, moment=moment, today=today))
