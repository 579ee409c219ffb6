"""The plan page (帮扶计划), the elimination workflow and the risk classification on the case page, and the
visit duty page, through Django's test client. Data is built through the real services."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assistance.models import AssistancePlan, Effect, Measure, MeasureStatus, Visit, VisitPhoto
from assistance.services import measure_add, measure_update, plan_create, visit_record
from fpr.roles import Role
from households.models import Health, IncomeKind, LabourCapacity, Relationship
from households.services import account_items_set, member_update
from monitoring.models import Classification, Stage
from tests.builders import PNG_BYTES, make_user
from workflow.services import case_transition

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing

PNG = PNG_BYTES  # a whole PNG: attachments are checked by structure


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def monitoring_case(case_a, walker, cadre_a):
    """Under monitoring, income above the 2026 line, visited this month; the plan is up to each test."""
    case = walker.to_monitoring(case_a)
    account_items_set(
        user=cadre_a,
        household=case.household,
        year=2026,
        incomes={IncomeKind.WAGE: Decimal("18000"), IncomeKind.FARMLAND_SUBSIDY: Decimal("600")},
    )
    visit_record(user=cadre_a, case=case, visited_on=dt.date(2026, 11, 10), findings="务工稳定")
    return case


@pytest.fixture
def plan_without_measures(monitoring_case, cadre_a):
    return plan_create(
        user=cadre_a,
        case=monitoring_case,
        situation="两口之家，户主曾患病住院。",
        risk_analysis="因病支出大，收入不稳。",
        needs="稳定就业。",
        pairing_cadre=cadre_a,
    )


@pytest.fixture
def monitored(plan_without_measures, monitoring_case, cadre_a):
    """Meets the elimination standard: a measure carried out since June with a clear effect."""
    monitoring_case.measure = measure_add(
        user=cadre_a,
        plan=plan_without_measures,
        category="employment",
        risk_category="illness",
        description="推荐到县城工业园区务工",
        starts_on=dt.date(2026, 6, 1),
        status=MeasureStatus.ACTIVE,
        effect=Effect.CLEAR,
    )
    return monitoring_case


def plan_url(case, name="plan", *args):
    return reverse(f"assistance:{name}", args=[case.pk, *args])


def case_page(client, case):
    return client.get(reverse("cases:detail", args=[case.pk]))


def fire(case, transition, user, **inputs):
    case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)
    case.refresh_from_db()
    return case


def to_elimination_county(case, walker):
    fire(case, "propose_elimination", walker.cadre, opinion="收入稳定，措施见效")
    walker.record_verification(case, day=dt.date(2026, 11, 11))
    fire(case, "complete_elim_verification", walker.cadre)
    walker.record_appraisal(case, day=dt.date(2026, 11, 12))
    fire(case, "start_elim_notice", walker.cadre, starts_on=dt.date(2026, 11, 13), place="村务公开栏")
    fire(case, "submit_elim_to_township", walker.cadre)
    return fire(case, "township_approve_elim", walker.township, opinion="同意")


def seriously_ill(case, cadre, illness="尿毒症"):
    head = case.household.members.get(relationship=Relationship.HEAD)
    member_update(user=cadre, member=head, data={"health": Health.SERIOUS, "illness": illness})


def measure_post(**extra) -> dict:
    data = {
        "category": "employment",
        "risk_category": "illness",
        "description": "推荐到县城工业园区务工",
        "amount": "",
        "starts_on": "2026-06-01",
        "ends_on": "",
        "status": MeasureStatus.ACTIVE,
        "effect": Effect.CLEAR,
        "effect_note": "",
    }
    data.update(extra)
    return data


# --------------------------------------------------------------------------- the plan page


def test_plan_page_shows_advice_and_the_rule_check(client, plan_without_measures, cadre_a):
    client.force_login(cadre_a)
    response = client.get(plan_url(plan_without_measures.case))
    assert response.status_code == 200
    content = response.content.decode()
    advice = {item.code: item.title for item in response.context["advice"]}
    assert advice == {"gap": "缺什么补什么"}
    assert "风险类型“因病”还没有对应的帮扶措施。" in content
    results = {r.name: r.passed for r in response.context["check"].results}
    assert len(results) == 9
    assert results["没有录入帮扶措施的不消"] is False and results["三保障和饮水安全未稳定实现的不消"] is True
    assert "没有录入任何帮扶措施（已消除风险却无帮扶措施属于逻辑错误）。" in content
    assert "项条件不符合，暂不能提出风险消除" in content
    assert "第1版" in content and "王村干" in content  # version and pairing cadre
    # Issue #13: nine rules under an honest heading, each worded as what must hold, with 符合/不符合.
    assert "共9项：“七个不消”及风险消除标准、帮扶措施录入" in content
    assert '已录入帮扶措施：<strong class="rule-check__result">不符合</strong>' in content
    assert '“三保障”和饮水安全已稳定实现：<strong class="rule-check__result">符合</strong>' in content
    assert "“七个不消”之一" in content and "风险消除标准（年人均纯收入稳定高于监测范围）" in content
    assert "已满足" not in content and "不消：" not in content


def test_cadre_adds_a_measure_through_the_page(client, plan_without_measures, cadre_a):
    case = plan_without_measures.case
    client.force_login(cadre_a)
    response = client.post(plan_url(case, "measure_add"), measure_post(amount="1200.50"))
    assert response.status_code == 302 and response.url.endswith("#measures")
    measure = Measure.objects.get(plan=plan_without_measures)
    assert measure.category.name == "就业帮扶" and measure.amount == Decimal("1200.50")
    page = client.get(response.url.split("#")[0])
    content = page.content.decode()
    assert "已添加帮扶措施：就业帮扶（针对因病）。" in content
    assert "推荐到县城工业园区务工" in content and "1,200.50" in content
    assert "gap" not in [item.code for item in page.context["advice"]]
    assert all(r.passed for r in page.context["check"].results if r.code in ("measures", "plan"))


def test_measure_errors_come_back_on_the_form(client, plan_without_measures, cadre_a):
    client.force_login(cadre_a)
    data = measure_post(status=MeasureStatus.PLANNED, starts_on="2026-12-01", ends_on="2026-11-01")
    response = client.post(plan_url(plan_without_measures.case, "measure_add"), data)
    assert response.status_code == 200
    errors = response.context["measure_form"].errors
    assert errors["ends_on"] == ["结束日期不能早于开始日期。"]
    assert errors["effect"] == ["计划中的措施尚未实施，不能评估成效。"]
    assert not Measure.objects.exists()


def test_measure_is_edited_on_its_own_page(client, monitored, cadre_a):
    measure = monitored.measure
    client.force_login(cadre_a)
    url = plan_url(monitored, "measure_edit", measure.pk)
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["description"] == "推荐到县城工业园区务工"
    response = client.post(url, measure_post(effect=Effect.UNCLEAR, effect_note=""))
    assert response.status_code == 200
    assert "成效不明显时请说明原因和下一步打算。" in response.content.decode()
    response = client.post(url, measure_post(effect=Effect.UNCLEAR, effect_note="企业停工，改为公益性岗位"))
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.effect == Effect.UNCLEAR and measure.effect_note == "企业停工，改为公益性岗位"


def test_plan_is_created_through_the_page(client, monitoring_case, cadre_a):
    client.force_login(cadre_a)
    url = plan_url(monitoring_case, "plan_create")
    data = {
        "situation": "两口之家",
        "risk_analysis": "因病",
        "needs": "就业",
        "pairing_cadre": "",
        "pairing_cadre_name": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["plan_form"].errors["pairing_cadre"] == ["请指定结对帮扶干部。"]
    data["pairing_cadre_name"] = "刘帮扶（县农业农村局）"
    assert client.post(url, data).status_code == 302
    plan = AssistancePlan.objects.get(case=monitoring_case)
    assert plan.version == 1 and plan.cadre_display == "刘帮扶（县农业农村局）"


def test_the_pairing_cadre_list_offers_only_cadres_who_can_help_this_village(
    client,
    monitoring_case,
    cadre_a,
    cadre_b,
    township_reviewer,
    county_reviewer,
    administrator,
    department_officer,
    divisions,
):
    other_township = make_user("t2", divisions["520521101000"], Role.TOWNSHIP_REVIEWER, full_name="冯外镇")
    retired = make_user("old", divisions["520521100001"], Role.VILLAGE_CADRE, full_name="退休干部", is_active=False)
    client.force_login(cadre_a)
    page = client.get(plan_url(monitoring_case, "plan")).content.decode()
    select = page.split('name="pairing_cadre"', 1)[1].split("</select>", 1)[0]
    offered = {user.pk for user in (cadre_a, township_reviewer, county_reviewer) if f'value="{user.pk}"' in select}
    assert offered == {cadre_a.pk, township_reviewer.pk, county_reviewer.pk}
    for user in (cadre_b, administrator, department_officer, other_township, retired):
        assert f'value="{user.pk}"' not in select, user  # another village, no assistance role, elsewhere, inactive
    data = {"situation": "两口之家", "risk_analysis": "因病", "needs": "就业", "pairing_cadre_name": ""}
    response = client.post(plan_url(monitoring_case, "plan_create"), {**data, "pairing_cadre": administrator.pk})
    assert response.status_code == 200 and "pairing_cadre" in response.context["plan_form"].errors
    assert not AssistancePlan.objects.filter(case=monitoring_case).exists()


def test_the_plan_services_refuse_a_pairing_cadre_who_cannot_help_this_village(
    monitoring_case, cadre_a, cadre_b, township_reviewer, department_officer
):
    from django.core.exceptions import ValidationError

    from assistance.services import plan_adjust

    for wrong in (cadre_b, department_officer):
        with pytest.raises(ValidationError, match="不能担任该户的结对帮扶干部"):
            plan_create(
                user=cadre_a, case=monitoring_case, situation="x", risk_analysis="x", needs="x", pairing_cadre=wrong
            )
    plan = plan_create(
        user=cadre_a, case=monitoring_case, situation="x", risk_analysis="x", needs="x", pairing_cadre=township_reviewer
    )
    with pytest.raises(ValidationError, match="不能担任该户的结对帮扶干部"):
        plan_adjust(user=cadre_a, plan=plan, reason="换人", pairing_cadre=cadre_b)
    plan = plan_adjust(user=cadre_a, plan=plan, reason="补充需求", needs="就业和医疗")  # the cadre unchanged
    assert plan.pairing_cadre == township_reviewer and plan.version == 2


def test_adjusting_a_plan_needs_a_reason_and_bumps_the_version(client, plan_without_measures, cadre_a):
    case = plan_without_measures.case
    client.force_login(cadre_a)
    data = {
        "adjustment_reason": " ",
        "situation": "两口之家，户主曾患病住院。",
        "risk_analysis": "因病支出大，收入不稳。",
        "needs": "技能培训后到园区务工。",
        "pairing_cadre": str(cadre_a.pk),
        "pairing_cadre_name": "",
    }
    response = client.post(plan_url(case, "plan_adjust"), data)
    assert response.status_code == 200
    assert response.context["adjust_form"].errors["adjustment_reason"] == ["请填写调整原因。"]
    plan_without_measures.refresh_from_db()
    assert plan_without_measures.version == 1 and plan_without_measures.needs == "稳定就业。"

    data["adjustment_reason"] = "户主身体恢复，希望学技术"
    response = client.post(plan_url(case, "plan_adjust"), data)
    assert response.status_code == 302
    plan_without_measures.refresh_from_db()
    assert plan_without_measures.version == 2 and plan_without_measures.needs == "技能培训后到园区务工。"
    page = client.get(plan_url(case))
    content = page.content.decode()
    assert "帮扶计划已调整为第2版" in content and "第2版（现行）" in content
    latest, first = page.context["versions"]
    assert latest["changes"] == [("农户需求", "稳定就业。", "技能培训后到园区务工。")]
    assert latest["version"].adjustment_reason == "户主身体恢复，希望学技术"
    assert first["version"].version == 1 and first["version"].needs == "稳定就业。"


def test_visit_with_a_photo_and_a_refused_non_image_file(client, plan_without_measures, cadre_a):
    case = plan_without_measures.case
    client.force_login(cadre_a)
    url = plan_url(case, "visit_add")
    data = {"visited_on": "2026-11-22", "findings": "务工稳定，家中无新增困难。", "income_change": "月收入增加500元"}
    data["satisfaction"] = "satisfied"
    data["photos"] = [SimpleUploadedFile("走访.png", PNG, "image/png"), SimpleUploadedFile("b.png", PNG, "image/png")]
    response = client.post(url, data)
    assert response.status_code == 302
    visit = Visit.objects.get(visited_on=dt.date(2026, 11, 22))
    assert visit.visitor == cadre_a and visit.get_satisfaction_display() == "满意"
    photo = VisitPhoto.objects.filter(visit=visit).first()
    assert VisitPhoto.objects.filter(visit=visit).count() == 2
    download = client.get(plan_url(case, "visit_photo", photo.pk))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert plan_url(case, "visit_photo", photo.pk) in client.get(plan_url(case)).content.decode()

    data["photos"] = [SimpleUploadedFile("照片.png", b"MZ\x90\x00 a program", "image/png")]
    data["visited_on"] = "2026-11-21"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "不是图片（JPG/PNG）或PDF" in response.context["visit_form"].errors["photos"][0]
    assert not Visit.objects.filter(visited_on=dt.date(2026, 11, 21)).exists()


def test_outsider_gets_404_on_the_plan_page(client, monitored, cadre_b):
    visit = Visit.objects.get(case=monitored)
    photo = VisitPhoto.objects.create(visit=visit, file=SimpleUploadedFile("p.png", PNG))
    client.force_login(cadre_b)
    assert client.get(plan_url(monitored)).status_code == 404
    assert client.get(plan_url(monitored, "measure_edit", monitored.measure.pk)).status_code == 404
    assert client.get(plan_url(monitored, "visit_photo", photo.pk)).status_code == 404
    assert client.post(plan_url(monitored, "measure_add"), measure_post()).status_code == 404
    assert client.post(plan_url(monitored, "visit_add"), {"findings": "x"}).status_code == 404
    assert Measure.objects.count() == 1


def test_reviewers_read_the_plan_without_edit_forms(client, monitored, township_reviewer, county_reviewer):
    for reviewer in (township_reviewer, county_reviewer):
        client.force_login(reviewer)
        response = client.get(plan_url(monitored))
        assert response.status_code == 200
        content = response.content.decode()
        assert "推荐到县城工业园区务工" in content  # reads the measures
        for name in ("measure_add", "visit_add", "plan_adjust"):
            assert plan_url(monitored, name) not in content
        assert plan_url(monitored, "measure_edit", monitored.measure.pk) not in content
        assert not response.context["can_write"]
        refused = client.post(plan_url(monitored, "measure_add"), measure_post())
        assert refused.status_code == 403 and "只有村级干部可以办理村级环节" in refused.content.decode()
        assert client.get(plan_url(monitored, "measure_edit", monitored.measure.pk)).status_code == 403
    assert Measure.objects.count() == 1


def test_plan_page_waits_for_county_approval(client, case_a, cadre_a):
    client.force_login(cadre_a)
    response = client.get(plan_url(case_a))
    assert response.status_code == 200
    assert "县级审定纳入监测后才能制定帮扶计划" in response.content.decode()
    assert "plan_form" not in response.context and response.context["check"] is None


def _plan_queries(client, case) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(plan_url(case))
    assert response.status_code == 200
    return len(queries)


def test_plan_page_query_count_does_not_grow_with_measures_and_visits(client, monitored, cadre_a):
    client.force_login(cadre_a)
    few = _plan_queries(client, monitored)
    plan = AssistancePlan.objects.get(case=monitored)
    for n in range(6):
        measure_add(
            user=cadre_a,
            plan=plan,
            category="health",
            risk_category="illness",
            description=f"健康帮扶{n}",
            starts_on=dt.date(2026, 5, 1),
            status=MeasureStatus.ACTIVE,
            effect=Effect.FAIR,
        )
        visit = visit_record(user=cadre_a, case=monitored, visited_on=dt.date(2026, 10, n + 1), findings="正常")
        VisitPhoto.objects.create(visit=visit, file=SimpleUploadedFile(f"{n}.png", PNG))
    many = _plan_queries(client, monitored)
    assert many == few


# --------------------------------------------------------------------------- elimination on the case page


def test_case_page_lists_every_failing_rule_under_propose_elimination(client, monitored, cadre_a):
    seriously_ill(monitored, cadre_a)
    AssistancePlan.objects.get(case=monitored).measures.all().delete()
    client.force_login(cadre_a)
    response = case_page(client, monitored)
    blocked = {option.transition.name: option.reasons for option, _ in response.context["blocked"]}
    reasons = blocked["propose_elimination"]
    assert "【有大病重病患者等特殊困难人口的不消】成员 张三 患大病（尿毒症），属于特殊困难人口，暂不消除。" in reasons
    assert any(r.startswith("【没有录入帮扶措施的不消】") for r in reasons)
    assert any(r.startswith("【没有制定并实施“一户一策”帮扶计划的不消】") for r in reasons)
    content = response.content.decode()
    section = content[content.index('id="blocked-propose_elimination"') :]
    section = section[: section.index("</div>")]
    assert "提出风险消除" in section
    for reason in reasons:
        assert reason in section
    assert "缺什么补什么" in content  # the plan link counts the advice


def test_case_page_offers_elimination_when_the_standard_is_met(client, monitored, cadre_a, township_reviewer):
    client.force_login(cadre_a)
    response = case_page(client, monitored)
    assert [option.transition.name for option, _ in response.context["actions"]] == ["propose_elimination"]
    assert "提出拟消除风险名单" in response.content.decode()
    assert reverse("assistance:plan", args=[monitored.pk]) in response.content.decode()
    client.force_login(township_reviewer)
    content = case_page(client, monitored).content.decode()
    assert "提出拟消除风险名单" not in content and "已纳入监测" in content


def test_whole_household_without_labour_is_told_to_keep_monitoring(client, monitored, cadre_a):
    for member in monitored.household.members.all():
        member_update(user=cadre_a, member=member, data={"labour_capacity": LabourCapacity.LOST})
    client.force_login(cadre_a)
    response = case_page(client, monitored)
    assert response.context["keep_monitoring"] and not response.context["actions"]
    content = response.content.decode()
    assert 'id="keep-monitoring"' in content and "落实社会保障后持续跟踪监测" in content
    assert "提出拟消除风险名单" not in content


def test_elimination_stage_forms_and_progress(client, monitored, walker, cadre_a):
    fire(monitored, "propose_elimination", cadre_a, opinion="收入稳定")
    client.force_login(cadre_a)
    response = case_page(client, monitored)
    content = response.content.decode()
    assert reverse("cases:verification", args=[monitored.pk]) in content  # the village's record form
    bars = response.context["progress_bars"]
    assert [bar["title"] for bar in bars] == ["识别程序", "风险消除程序"]
    assert [s["state"] for s in bars[0]["steps"]] == ["done"] * 6
    assert [(s["label"], s["state"]) for s in bars[1]["steps"]][:3] == [
        ("提出名单", "done"),
        ("入户核实", "current"),
        ("民主评议", "todo"),
    ]
    assert "提出风险消除" in content and "监测中 → 风险消除·入户核实" in content and "收入稳定" in content
    verification = client.get(reverse("cases:verification", args=[monitored.pk]))
    assert verification.status_code == 200 and not verification.context["wrong_stage"]

    walker.record_verification(monitored, day=dt.date(2026, 11, 11))
    fire(monitored, "complete_elim_verification", cadre_a)
    content = case_page(client, monitored).content.decode()
    assert reverse("cases:appraisal", args=[monitored.pk]) in content
    assert "帮扶措施落实情况表（1 项措施）" in content


def test_objection_forms_are_offered_in_the_elimination_notice(client, monitored, walker, cadre_a):
    fire(monitored, "propose_elimination", cadre_a, opinion="收入稳定")
    walker.record_verification(monitored, day=dt.date(2026, 11, 11))
    fire(monitored, "complete_elim_verification", cadre_a)
    walker.record_appraisal(monitored, day=dt.date(2026, 11, 20))
    fire(monitored, "start_elim_notice", cadre_a, starts_on=dt.date(2026, 11, 21), place="村务公开栏")
    client.force_login(cadre_a)
    response = case_page(client, monitored)
    content = response.content.decode()
    assert response.context["notice"] is not None and "2026-11-28" in content
    lodge = {"lodged_by": "村民刘某", "lodged_on": "2026-11-22", "content": "该户新购小轿车"}
    assert client.post(reverse("cases:objection", args=[monitored.pk]), lodge).status_code == 302
    assert "公示期间有1条异议尚未处理" in case_page(client, monitored).content.decode()


def test_eliminated_case_shows_both_procedures_and_the_assessment(client, monitored, walker, county_reviewer):
    case = to_elimination_county(monitored, walker)
    client.force_login(county_reviewer)
    data = {
        "expected_stage": Stage.ELIM_COUNTY,
        "county_approve_elim-opinion": "同意消除",
        "county_approve_elim-comparison": "部门比对无新增风险",
    }
    response = client.post(reverse("cases:fire", args=[case.pk, "county_approve_elim"]), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.ELIMINATED
    page = case_page(client, case)
    content = page.content.decode()
    assert "案件进入“风险消除”环节" in content
    bars = page.context["progress_bars"]
    assert [s["state"] for s in bars[1]["steps"]] == ["done"] * 6 and bars[1]["ending"] == "done"
    for label in ("提出风险消除", "风险消除入户核实完成", "镇街审核同意消除", "县级审定，标注风险消除"):
        assert label in content
    assert "帮扶措施落实情况表" in content and "推荐到县城工业园区务工" in content
    assert "风险消除评估表（9 项条件）" in content and "已录入帮扶措施：" in content
    assert "部门比对无新增风险" in content and "风险消除日期" in content
    assert "[{" not in content  # the snapshots are tables, not raw data


def test_county_elimination_is_refused_on_the_page_with_all_reasons(client, monitored, walker, county_reviewer):
    case = to_elimination_county(monitored, walker)
    seriously_ill(case, walker.cadre, illness="白血病")
    measure_update(user=walker.cadre, measure=monitored.measure, effect=Effect.UNCLEAR, effect_note="企业停工")
    client.force_login(county_reviewer)
    data = {
        "expected_stage": Stage.ELIM_COUNTY,
        "county_approve_elim-opinion": "同意",
        "county_approve_elim-comparison": "无",
    }
    response = client.post(reverse("cases:fire", args=[case.pk, "county_approve_elim"]), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "成员 张三 患大病（白血病），属于特殊困难人口，暂不消除。" in content
    assert "帮扶成效不明显" in content
    posted = [option for option, was_posted in response.context["blocked"] if was_posted]
    assert [option.transition.name for option in posted] == ["county_approve_elim"]
    assert len(posted[0].reasons) == 2
    case.refresh_from_db()
    assert case.stage == Stage.ELIM_COUNTY
    # Refusing the elimination sends the case back to monitoring, and the page says why.
    data = {"expected_stage": Stage.ELIM_COUNTY, "county_refuse_elim-opinion": "新发大病，继续帮扶"}
    assert client.post(reverse("cases:fire", args=[case.pk, "county_refuse_elim"]), data).status_code == 302
    page = case_page(client, case)
    assert "新发大病，继续帮扶" in page.content.decode()
    assert [s["state"] for s in page.context["progress_bars"][1]["steps"]][-1] == "rejected"


def test_township_queue_offers_the_bulk_approvals_of_its_stages(
    client, monitored, walker, township_reviewer, open_case, make_household, cadre_a, village_a
):
    fire(monitored, "propose_elimination", walker.cadre, opinion="收入稳定")
    walker.record_verification(monitored, day=dt.date(2026, 11, 11))
    fire(monitored, "complete_elim_verification", walker.cadre)
    walker.record_appraisal(monitored, day=dt.date(2026, 11, 12))
    fire(monitored, "start_elim_notice", walker.cadre, starts_on=dt.date(2026, 11, 13), place="村务公开栏")
    fire(monitored, "submit_elim_to_township", walker.cadre)
    client.force_login(township_reviewer)
    content = client.get(reverse("cases:queue")).content.decode()
    # Only an elimination case waits: the bar offers its step alone (#13: no button that fits no case).
    assert "风险消除：审核同意，报县级审定" in content and "审核通过，报县级审定" not in content
    walker.to_township(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
    content = client.get(reverse("cases:queue")).content.decode()
    assert "审核通过，报县级审定" in content and "风险消除：审核同意，报县级审定" in content
    data = {"cases": [monitored.pk], "transition": "township_approve_elim", "opinion": "同意消除"}
    response = client.post(reverse("cases:bulk"), data)
    assert response.status_code == 302
    monitored.refresh_from_db()
    assert monitored.stage == Stage.ELIM_COUNTY


# --------------------------------------------------------------------------- classification (风险研判)


def classify_post(**extra) -> dict:
    data = {"case_type": "unstable_lifted", "risk_categories": ["other"], "colour": "blue", "reason": ""}
    data.update(extra)
    return data


def test_case_page_shows_the_suggestion_and_a_prefilled_form(client, case_a, cadre_a, township_reviewer):
    seriously_ill(case_a, cadre_a)
    client.force_login(cadre_a)
    response = case_page(client, case_a)
    suggestion = response.context["suggestion"]
    assert suggestion["case_type"] == "脱贫不稳定户" and suggestion["risks"] == ["因病"]
    assert any("尿毒症" in reason for reason in suggestion["reasons"])
    # The form starts from what the village entered with the application (its own choice, #13), not the
    # suggestion; the suggestion is one click away when it differs.
    form = response.context["classify_form"]
    applied = sorted(case_a.risk_categories.values_list("code", flat=True))
    assert form.initial["case_type"] == case_a.case_type and sorted(form.initial["risk_categories"]) == applied
    assert "已预选申请时填写的类型和风险" in response.content.decode()
    adopt = response.context["adopt"]
    if adopt is not None:
        assert adopt["case_type"] == "unstable_lifted" and adopt["risk_categories"] == ["illness"]
        assert "申请时填写的类型和风险与系统建议不同" in response.content.decode()
    client.force_login(township_reviewer)
    assert case_page(client, case_a).context["suggestion"] is None


def test_classification_override_without_reason_is_refused(client, case_a, cadre_a):
    seriously_ill(case_a, cadre_a)
    client.force_login(cadre_a)
    url = reverse("cases:classify", args=[case_a.pk])
    override = classify_post(case_type="sudden_hardship", risk_categories=["illness", "disaster"], colour="red")
    response = client.post(url, override)
    assert response.status_code == 200
    assert response.context["classify_form"].errors["reason"] == ["与系统建议不一致，请填写调整理由。"]
    assert not Classification.objects.exists()

    response = client.post(url, {**override, "reason": "冰雹灾害，房屋受损"})
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.case_type == "sudden_hardship" and case_a.colour == "red"
    content = case_page(client, case_a).content.decode()
    assert "风险研判：已按调整结果保存。" in content
    assert "调整系统建议" in content and "冰雹灾害，房屋受损" in content


def test_adopting_the_suggestion_needs_no_reason(client, case_a, cadre_a, township_reviewer):
    client.force_login(cadre_a)
    page = case_page(client, case_a).context
    suggested = page["adopt"] or page["classify_form"].initial  # 采纳系统建议, or the form when they agree
    response = client.post(reverse("cases:classify", args=[case_a.pk]), {**suggested, "reason": ""})
    assert response.status_code == 302
    record = Classification.objects.get()
    assert not record.overridden
    client.force_login(township_reviewer)  # reviewers read the record
    content = case_page(client, case_a).content.decode()
    assert "采纳系统建议" in content and 'id="classification"' in content


def test_the_form_keeps_the_cadres_saved_choice_beside_the_suggestion(client, case_a, cadre_a):
    """Issue #13: the form pre-selected the suggestion, so one click on 保存研判结果 overwrote the choice."""
    seriously_ill(case_a, cadre_a)
    client.force_login(cadre_a)
    url = reverse("cases:classify", args=[case_a.pk])
    choice = classify_post(
        case_type="sudden_hardship", risk_categories=["illness"], colour="orange", reason="大病自付费用高"
    )
    assert client.post(url, choice).status_code == 302
    response = case_page(client, case_a)
    form = response.context["classify_form"]
    assert form.initial == {**choice, "risk_categories": ["illness"]}
    assert response.context["suggestion"]["case_type"] == "脱贫不稳定户"  # still shown
    content = response.content.decode()
    assert "已预选上次研判结果（突发严重困难户 · 橙色）" in content
    assert re.search(r'<input[^>]*value="sudden_hardship"[^>]*checked', content)
    assert re.search(r'<input[^>]*value="orange"[^>]*selected|<option value="orange" selected', content)

    # Saving the form as it is keeps the cadre's choice (a new record with the same reason).
    assert client.post(url, form.initial).status_code == 302
    case_a.refresh_from_db()
    assert (case_a.case_type, case_a.colour) == ("sudden_hardship", "orange")
    latest = Classification.objects.first()
    assert latest.overridden and latest.reason == "大病自付费用高" and Classification.objects.count() == 2

    # 采纳系统建议 is one click beside it.
    adopt = response.context["adopt"]
    assert adopt["case_type"] == "unstable_lifted"
    assert client.post(url, adopt).status_code == 302
    case_a.refresh_from_db()
    assert case_a.case_type == "unstable_lifted" and not Classification.objects.first().overridden
    assert case_page(client, case_a).context["adopt"] is None


# --------------------------------------------------------------------------- visit duty (走访任务)


def test_visit_duty_lists_unvisited_households_per_cadre(
    client, monitored, plan_without_measures, make_household, open_case, walker, cadre_a, village_a, township_reviewer
):
    other = walker.to_monitoring(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
    plan_create(user=cadre_a, case=other, situation="x", risk_analysis="x", needs="x", pairing_cadre_name="刘帮扶")
    for user in (cadre_a, township_reviewer):
        client.force_login(user)
        response = client.get(reverse("assistance:visit_duty"))
        assert response.status_code == 200
        content = response.content.decode()
        assert "走访任务" in content and "2026年11月" in content
        assert "刘帮扶" in content and other.household.number in content
        assert monitored.household.number not in content  # visited on 2026-11-10
        assert f'href="{reverse("assistance:visit_duty")}" aria-current="page"' in content
    october = client.get(reverse("assistance:visit_duty"), {"month": "2026-10"}).content.decode()
    assert "2026年10月" in october and monitored.household.number in october


def test_visit_duty_is_not_in_the_county_menu(client, county_reviewer, cadre_b):
    client.force_login(county_reviewer)
    assert "走访任务" not in client.get(reverse("home")).content.decode()
    client.force_login(cadre_b)
    content = client.get(reverse("assistance:visit_duty")).content.decode()
    assert "走访任务" in content and "辖区内还没有制定帮扶计划的监测对象" in content


# --------------------------------------------------------------------------- admin


def test_admin_edits_categories_and_only_reads_plans(client, monitored, divisions):
    root = make_user("root", divisions["520521000000"], Role.ADMINISTRATOR, is_superuser=True, is_staff=True)
    client.force_login(root)
    categories = client.get(reverse("admin:assistance_measurecategory_changelist"))
    assert categories.status_code == 200 and "兜底保障类" in categories.content.decode()
    plan = AssistancePlan.objects.get(case=monitored)
    change = client.get(reverse("admin:assistance_assistanceplan_change", args=[plan.pk]))
    assert change.status_code == 200 and 'name="situation"' not in change.content.decode()
    assert client.get(reverse("admin:assistance_assistanceplan_history", args=[plan.pk])).status_code == 200
    assert client.get(reverse("admin:assistance_measure_add")).status_code == 403
    assert client.get(reverse("admin:assistance_visit_changelist")).status_code == 200
