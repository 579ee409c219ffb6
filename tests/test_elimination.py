"""风险消除: the "七个不消" rules one by one, the elimination path end to end, reopening, advice rules,
versioned plans and the classification helper — all through the real services."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from assistance.advice import plan_advice
from assistance.models import AssistancePlan, Effect, MeasureStatus
from assistance.rules import APPROVAL, PROPOSAL, RULES, elimination_check, rule_wording
from assistance.services import measure_add, measure_update, plan_adjust, plan_create
from households.models import ExpenditureKind, Health, IncomeKind, LabourCapacity, Relationship
from households.services import account_items_set, household_update, member_create, member_update
from monitoring.cases.classification import suggest_classification
from monitoring.cases.services import case_classify
from monitoring.models import Stage
from tests.builders import member_data
from workflow.services import TransitionRefused, case_transition

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def failing(case, code, moment=PROPOSAL):
    check = elimination_check(case, moment=moment)
    return next(r for r in check.results if r.code == code).findings


def test_a_case_meeting_the_standard_passes_every_rule_at_proposal(monitored):
    check = elimination_check(monitored, moment=PROPOSAL)
    assert check.passed, check.reasons
    assert len(check.results) == 9


# --------------------------------------------------------------------------- one test per rule


def test_rule_guarantees_fails_on_dangerous_housing_and_bad_water(monitored, cadre_a):
    household_update(
        user=cadre_a, household=monitored.household, data={"housing_safety": "d", "water_quality_ok": False}
    )
    findings = failing(monitored, "guarantees")
    assert findings == ["“三保障”和饮水安全未稳定实现：住房安全有保障、饮水安全有保障（饮水：水质不达标）。"]


def test_rule_stable_income_fails_without_a_stable_source(monitored, cadre_a):
    account_items_set(
        user=cadre_a,
        household=monitored.household,
        year=2026,
        incomes={IncomeKind.WAGE: None, IncomeKind.OTHER_TRANSFER: Decimal("20000")},
    )
    assert "没有稳定收入来源" in failing(monitored, "stable_income")[0]


def test_rule_stable_income_fails_on_unresolved_rigid_expenditure(monitored, cadre_a):
    account_items_set(
        user=cadre_a,
        household=monitored.household,
        year=2026,
        incomes={},
        expenditures={ExpenditureKind.MEDICAL: Decimal("8000")},
    )
    findings = failing(monitored, "stable_income")
    assert findings == ["刚性支出8000.00元，扣除后人均5300.00元，不高于监测范围7300.00元，大额刚性支出问题未稳定解决。"]


def test_rule_plan_fails_without_a_plan(case_a, walker):
    case = walker.to_monitoring(case_a)
    assert failing(case, "plan") == ["没有制定“一户一策”帮扶计划。"]


def test_rule_plan_fails_when_no_measure_is_carried_out(monitored, cadre_a):
    measure_update(user=cadre_a, measure=monitored.measure, status=MeasureStatus.PLANNED, effect="")
    assert "尚未实施" in failing(monitored, "plan")[0]


def test_rule_effect_fails_for_a_measure_just_started(monitored, cadre_a):
    measure_update(user=cadre_a, measure=monitored.measure, starts_on=dt.date(2026, 10, 1))
    assert failing(monitored, "effect") == [
        "措施“就业帮扶：推荐到县城工业园区务工”于2026-10-01开始，实施1个月，不足3个月，效果尚未显现。"
    ]


def test_rule_effect_months_are_configuration(monitored, cadre_a, settings):
    settings.FPR_MEASURE_EFFECT_MONTHS = 6
    assert "不足6个月" in failing(monitored, "effect")[0]  # started 2026-06-01: 5 full months


def test_rule_effect_fails_when_effect_is_unclear(monitored, cadre_a):
    measure_update(user=cadre_a, measure=monitored.measure, effect=Effect.UNCLEAR, effect_note="企业停工")
    assert "帮扶成效不明显" in failing(monitored, "effect")[0]


def test_rule_labour_fails_for_a_household_without_labour(monitored, cadre_a):
    for member in monitored.household.members.all():
        member_update(user=cadre_a, member=member, data={"labour_capacity": LabourCapacity.LOST})
    check = elimination_check(monitored, moment=PROPOSAL)
    assert check.whole_household_without_labour
    assert "落实社会保障后持续跟踪监测" in failing(monitored, "labour")[0]


def test_rule_hardship_names_the_seriously_ill_member(monitored, cadre_a):
    head = monitored.household.members.get(relationship=Relationship.HEAD)
    member_update(user=cadre_a, member=head, data={"health": Health.SERIOUS, "illness": "尿毒症"})
    assert failing(monitored, "hardship") == ["成员 张三 患大病（尿毒症），属于特殊困难人口，暂不消除。"]


def test_rule_hardship_counts_severe_disability(monitored, cadre_a):
    from tests.builders import new_id_number

    id_number = new_id_number()
    member_create(
        user=cadre_a,
        household=monitored.household,
        data=member_data(
            "张小",
            Relationship.SON,
            id_number=id_number,
            health=Health.DISABLED,
            disability_category=4,
            disability_grade=1,
            disability_certificate=id_number + "41",
        ),
    )
    assert failing(monitored, "hardship") == ["成员 张小 为重度残疾（一级），属于特殊困难人口，暂不消除。"]


def test_rule_procedure_needs_a_visit_this_month(monitored):
    monitored.visits.all().delete()
    assert failing(monitored, "procedure") == ["“一看”：本月（2026年11月）没有走访记录。"]


def test_rule_procedure_at_approval_needs_the_whole_elimination_procedure(monitored):
    findings = failing(monitored, "procedure", moment=APPROVAL)
    assert [f[:5] for f in findings] == ["“三核”：", "“四评议”", "“五公示”"]


def test_rule_measures_fails_without_any_measure(monitored):
    AssistancePlan.objects.get(case=monitored).measures.all().delete()
    assert failing(monitored, "measures") == ["没有录入任何帮扶措施（已消除风险却无帮扶措施属于逻辑错误）。"]


def test_rule_income_line_fails_below_the_monitoring_line(monitored, cadre_a):
    account_items_set(
        user=cadre_a, household=monitored.household, year=2026, incomes={IncomeKind.WAGE: Decimal("13000")}
    )
    assert failing(monitored, "income_line") == ["2026年人均纯收入6800.00元，未高于监测范围7300.00元。"]


# --------------------------------------------------------------------------- the procedure


def fire(case, transition, user, **inputs):
    case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)
    case.refresh_from_db()
    return case


def eliminate_until_county(case, walker):
    fire(case, "propose_elimination", walker.cadre, opinion="收入稳定，措施见效")
    walker.record_verification(case, day=dt.date(2026, 11, 11))
    fire(case, "complete_elim_verification", walker.cadre)
    walker.record_appraisal(case, day=dt.date(2026, 11, 12))
    fire(case, "start_elim_notice", walker.cadre, starts_on=dt.date(2026, 11, 13), place="村务公开栏")
    fire(case, "submit_elim_to_township", walker.cadre)
    fire(case, "township_approve_elim", walker.township, opinion="同意")
    return case


def test_refusal_lists_every_failing_rule(monitored, cadre_a):
    head = monitored.household.members.get(relationship=Relationship.HEAD)
    member_update(user=cadre_a, member=head, data={"health": Health.SERIOUS, "illness": "尿毒症"})
    AssistancePlan.objects.get(case=monitored).measures.all().delete()
    with pytest.raises(TransitionRefused) as exc:
        fire(monitored, "propose_elimination", cadre_a, opinion="拟消除")
    reasons = exc.value.reasons
    assert any("成员 张三 患大病（尿毒症）" in r for r in reasons)
    assert any("没有录入任何帮扶措施" in r for r in reasons)
    assert any("计划尚未实施" in r for r in reasons)
    assert monitored.stage == Stage.MONITORING


def test_a_case_meeting_the_standard_is_eliminated_end_to_end(monitored, walker):
    case = eliminate_until_county(monitored, walker)
    fire(case, "county_approve_elim", walker.county, opinion="同意消除", comparison="部门比对无新增风险")
    assert case.stage == Stage.ELIMINATED and case.eliminated_on == dt.date(2026, 11, 23) and case.is_open
    verification = case.events.get(transition="complete_elim_verification")
    assert verification.data["measures"][0]["description"] == "推荐到县城工业园区务工"
    assessment = case.events.get(transition="county_approve_elim").data["assessment"]
    assert len(assessment) == 9 and all(row["passed"] for row in assessment)


def test_county_approval_evaluates_the_rules_again(monitored, walker, cadre_a):
    case = eliminate_until_county(monitored, walker)
    head = case.household.members.get(relationship=Relationship.HEAD)
    member_update(user=cadre_a, member=head, data={"health": Health.SERIOUS, "illness": "白血病"})
    with pytest.raises(TransitionRefused) as exc:
        fire(case, "county_approve_elim", walker.county, opinion="同意", comparison="无")
    assert exc.value.reasons == [
        "【有大病重病患者等特殊困难人口的不消】成员 张三 患大病（白血病），属于特殊困难人口，暂不消除。"
    ]
    fire(case, "county_refuse_elim", walker.county, opinion="有新发大病")
    assert case.stage == Stage.MONITORING


def test_eliminated_case_can_be_reopened_through_the_same_chain(monitored, walker):
    case = eliminate_until_county(monitored, walker)
    fire(case, "county_approve_elim", walker.county, opinion="同意", comparison="无")
    fire(case, "reopen", walker.cadre, opinion="户主务工受伤，收入骤减")
    assert case.stage == Stage.VERIFICATION and case.eliminated_on is None
    walker.record_verification(case, day=dt.date(2026, 11, 23))
    fire(case, "complete_verification", walker.cadre)
    walker.record_appraisal(case, day=dt.date(2026, 11, 23))
    with time_machine.travel(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        fire(case, "start_notice", walker.cadre, starts_on=dt.date(2026, 11, 23), place="公开栏")
        fire(case, "submit_to_township", walker.cadre)
        fire(case, "township_approve", walker.township, opinion="同意")
        fire(case, "county_approve", walker.county, opinion="同意", comparison="无")
    assert case.stage == Stage.MONITORING


def test_whole_household_without_labour_is_told_to_keep_monitoring(monitored, cadre_a):
    for member in monitored.household.members.all():
        member_update(user=cadre_a, member=member, data={"labour_capacity": LabourCapacity.NONE})
    with pytest.raises(TransitionRefused) as exc:
        fire(monitored, "propose_elimination", cadre_a, opinion="拟消除")
    assert any("落实社会保障后持续跟踪监测" in r for r in exc.value.reasons)


# --------------------------------------------------------------------------- plans and advice


def test_plan_adjustment_keeps_the_earlier_version(monitored, cadre_a):
    plan = AssistancePlan.objects.get(case=monitored)
    plan_adjust(user=cadre_a, plan=plan, reason="户主转为稳定就业", needs="技能培训")
    plan.refresh_from_db()
    assert plan.version == 2
    versions = list(plan.history.order_by("history_date").values_list("version", "needs"))
    assert versions == [(1, "稳定就业。"), (2, "技能培训")]


def test_plan_adjustment_needs_a_reason(monitored, cadre_a):
    with pytest.raises(ValidationError) as exc:
        plan_adjust(user=cadre_a, plan=AssistancePlan.objects.get(case=monitored), reason=" ")
    assert "请填写调整原因" in str(exc.value)


def test_plan_only_after_county_approval(case_a, cadre_a):
    with pytest.raises(ValidationError) as exc:
        plan_create(user=cadre_a, case=case_a, situation="x", risk_analysis="x", needs="x", pairing_cadre=cadre_a)
    assert "县级审定纳入监测后" in str(exc.value)


def test_advice_flags_a_risk_without_a_measure(monitored, cadre_a):
    case_classify(
        user=cadre_a,
        case=monitored,
        case_type="marginal",
        risk_categories=["illness", "housing"],
        colour="",
        reason="危房",
    )
    advice = {a.code: a.detail for a in plan_advice(case=monitored)}
    assert advice == {"gap": "风险类型“住房安全”还没有对应的帮扶措施。"}


def test_advice_flags_safety_net_only_for_a_household_with_labour(monitored, cadre_a):
    measure_update(user=cadre_a, measure=monitored.measure, category="social_security")
    assert [a.title for a in plan_advice(case=monitored)] == ["一兜了之"]


def test_advice_flags_too_many_measures_for_one_risk(monitored, cadre_a, settings):
    settings.FPR_WELFARE_TRAP_MEASURES = 2
    plan = AssistancePlan.objects.get(case=monitored)
    for n in range(2):
        measure_add(
            user=cadre_a,
            plan=plan,
            category="health",
            risk_category="illness",
            description=f"健康帮扶{n}",
            starts_on=dt.date(2026, 6, 1),
        )
    assert [a.title for a in plan_advice(case=monitored)] == ["福利陷阱"]


def test_advice_flags_no_visit_this_month(monitored):
    monitored.visits.all().delete()
    assert [a.code for a in plan_advice(case=monitored)] == ["no_visit"]


def test_measure_effect_cannot_be_rated_before_it_starts(monitored, cadre_a):
    with pytest.raises(ValidationError) as exc:
        measure_add(
            user=cadre_a,
            plan=AssistancePlan.objects.get(case=monitored),
            category="industry",
            risk_category="illness",
            description="养牛",
            starts_on=dt.date(2026, 12, 1),
            status=MeasureStatus.PLANNED,
            effect=Effect.CLEAR,
        )
    assert "计划中的措施尚未实施" in str(exc.value)


def test_every_rule_is_worded_as_the_condition_that_must_hold():
    """Issue #13: "✓ 已满足" beside "…的不消" read as a double negative; the pages show the condition."""
    assert len(RULES) == 9 and sum(r.source.startswith("“七个不消”之") for r in RULES) == 7
    for rule in RULES:
        assert rule.condition and "不消" not in rule.condition
    # A snapshot stored before conditions existed (rule name only) is worded the same.
    old = {"rule": "整户不具备或丧失劳动能力的不消", "passed": False, "findings": ["整户无劳动能力"]}
    assert rule_wording(old) == {"condition": "家庭有劳动能力", "source": "“七个不消”之五"}


# --------------------------------------------------------------------------- classification


def test_classification_suggests_type_risks_and_colour_with_reasons(household_a, cadre_a):
    head = household_a.members.get(relationship=Relationship.HEAD)
    member_update(user=cadre_a, member=head, data={"health": Health.SERIOUS, "illness": "尿毒症"})
    account_items_set(user=cadre_a, household=household_a, year=2026, incomes={IncomeKind.WAGE: Decimal("12000")})
    suggestion = suggest_classification(household=household_a, year=2026)
    assert suggestion.case_type == "unstable_lifted"  # a 脱贫户
    assert suggestion.risk_categories == ["illness"]
    assert suggestion.colour == "orange"  # 6000 per person: below the 7300 line, above the 4900 poverty line
    assert any("尿毒症" in r for r in suggestion.reasons)


def test_classification_is_red_when_guarantees_fail(household_a, cadre_a):
    household = household_update(user=cadre_a, household=household_a, data={"housing_safety": "d"})
    suggestion = suggest_classification(household=household, year=2026)
    assert suggestion.colour == "red" and suggestion.risk_categories == ["housing"]
    assert "住房安全有保障 → 红色（已返贫致贫，需即刻帮扶）" in suggestion.reasons


def test_override_of_the_suggestion_needs_and_records_a_reason(case_a, cadre_a):
    with pytest.raises(ValidationError) as exc:
        case_classify(
            user=cadre_a, case=case_a, case_type="sudden_hardship", risk_categories=["disaster"], colour="red"
        )
    assert "请填写调整理由" in str(exc.value)
    record = case_classify(
        user=cadre_a,
        case=case_a,
        case_type="sudden_hardship",
        risk_categories=["disaster"],
        colour="red",
        reason="冰雹灾害，房屋受损",
    )
    case_a.refresh_from_db()
    assert record.overridden and record.reason == "冰雹灾害，房屋受损"
    assert case_a.case_type == "sudden_hardship" and list(case_a.risk_categories.values_list("code", flat=True)) == [
        "disaster"
    ]
