"""Reviewing through the pages and the API: the township chooses what a return asks to redo and the
village sees it (case page, queue, API); bulk failures give their real reasons; 下一件 after an approval;
县级审定 shows the department evidence and pre-fills the comparison result (issue #13, points 5, 6, 15, 18)."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from fpr.roles import Department
from households.models import Relationship
from monitoring.models import MonitoringCase, Stage
from tests.builders import pdf_scan

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # 18:00 in Beijing


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def fire(client, case, transition, **inputs):
    data = {f"{transition}-{name}": value for name, value in inputs.items()}
    data["expected_stage"] = case.stage
    return client.post(reverse("cases:fire", args=[case.pk, transition]), data)


@pytest.fixture
def township_cases(open_case, make_household, cadre_a, village_a, walker):
    """Three cases waiting for the township, entered on the 15th, 20th and 18th (queue: 0, 2, 1)."""
    cases = []
    for day in (15, 20, 18):
        case = walker.to_notice(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
        with time_machine.travel(dt.datetime(2026, 11, day, 2, tzinfo=dt.UTC), tick=False):
            walker.fire(case, "submit_to_township", cadre_a)
        cases.append(case)
    return cases


# --------------------------------------------------------------------------- 5. what a return asks for


def test_the_reviewer_chooses_the_return_and_the_village_sees_what_was_asked(
    client, case_a, walker, township_reviewer, cadre_a
):
    walker.to_township(case_a)
    client.force_login(township_reviewer)
    page = text(client.get(reverse("cases:detail", args=[case_a.pk])))
    for button in ("退回补充材料", "退回重新入户核实", "退回重新评议公示"):
        assert button in page
    response = fire(client, case_a, "township_return", opinion="请补充户主残疾证复印件")
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.stage == Stage.SUPPLEMENT

    client.force_login(cadre_a)
    page = text(client.get(reverse("cases:detail", args=[case_a.pk])))
    assert 'id="return-request"' in page and "镇街退回补充材料" in page
    assert "须补充：请补充户主残疾证复印件" in page and "无需重新入户核实、评议和公示" in page
    assert "镇街审核（补充材料）" in page  # the progress bar keeps the case on township review
    assert reverse("cases:application", args=[case_a.pk]) in page  # the application may be corrected
    queue = text(client.get(reverse("cases:queue")))
    assert "镇街退回补充材料：请补充户主残疾证复印件" in queue

    scan = pdf_scan("残疾证.pdf")
    response = client.post(
        reverse("cases:fire", args=[case_a.pk, "submit_supplement"]),
        {
            "expected_stage": Stage.SUPPLEMENT,
            "submit_supplement-opinion": "已补充残疾证复印件",
            "submit_supplement-attachments": scan,
        },
    )
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.stage == Stage.TOWNSHIP_REVIEW and case_a.notices.count() == 1
    event = case_a.events.get(transition="submit_supplement")
    assert event.opinion == "已补充残疾证复印件" and event.attachments.count() == 1


def test_a_return_for_verification_is_shown_with_what_to_redo(client, case_a, walker, township_reviewer, cadre_a):
    walker.to_township(case_a)
    client.force_login(township_reviewer)
    fire(client, case_a, "township_verification_return", opinion="收入测算缺少生态补偿金")
    client.force_login(cadre_a)
    page = text(client.get(reverse("cases:detail", args=[case_a.pk])))
    assert "镇街退回重新入户核实" in page and "原因：收入测算缺少生态补偿金" in page
    assert "重新入户核实并填写信息采集表" in page


def test_the_api_offers_the_returns_and_tells_what_was_asked(case_a, walker, township_reviewer, cadre_a):
    walker.to_township(case_a)
    reviewer = APIClient()
    reviewer.force_authenticate(township_reviewer)
    offered = reviewer.get(f"/api/v1/cases/{case_a.pk}/transitions/").json()["transitions"]
    names = {t["name"] for t in offered}
    assert {"township_return", "township_verification_return", "township_appraisal_return"} <= names
    response = reviewer.post(
        f"/api/v1/cases/{case_a.pk}/transitions/township_appraisal_return/",
        {"inputs": {"opinion": "评议代表未包含村民小组长"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    village = APIClient()
    village.force_authenticate(cadre_a)
    detail = village.get(f"/api/v1/cases/{case_a.pk}/").json()
    assert detail["stage"] == Stage.APPRAISAL and detail["returned"]
    asked = detail["return_request"]
    assert asked["transition"] == "township_appraisal_return" and asked["label"] == "镇街退回重新评议公示"
    assert asked["opinion"] == "评议代表未包含村民小组长" and "重新召开民主评议会" in asked["asks"]
    assert asked["actor"] == "赵审核"


def test_an_unreturned_case_has_no_return_request_in_the_api(case_a, cadre_a):
    village = APIClient()
    village.force_authenticate(cadre_a)
    assert village.get(f"/api/v1/cases/{case_a.pk}/").json()["return_request"] is None


# --------------------------------------------------------------------------- 6. real reasons in bulk


def test_bulk_gives_each_failure_its_real_reason(client, township_cases, case_a, township_reviewer):
    first, second, third = township_cases
    client.force_login(township_reviewer)
    data = {"cases": [first.pk, case_a.pk], "transition": "township_approve", "opinion": "经复核，同意。"}
    response = client.post(reverse("cases:bulk"), data)
    page = text(client.get(response.url))
    assert "共 2 件，成功 1 件" in page
    assert "该案件处于“提交申请”环节，不能办理“镇街审核通过”（须在“镇街审核”环节办理）。" in page
    assert "已被他人处理" not in page


def test_the_api_refuses_a_step_the_case_never_reached_with_400(case_a, township_reviewer):
    reviewer = APIClient()
    reviewer.force_authenticate(township_reviewer)
    response = reviewer.post(
        f"/api/v1/cases/{case_a.pk}/transitions/township_approve/", {"inputs": {"opinion": "同意"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["reasons"] == [
        "该案件处于“提交申请”环节，不能办理“镇街审核通过”（须在“镇街审核”环节办理）。"
    ]


# --------------------------------------------------------------------------- 18. 下一件


def test_approving_opens_the_next_case_of_the_same_queue(client, township_cases, township_reviewer):
    first, second, third = township_cases  # queue order: first, third, second
    client.force_login(township_reviewer)
    client.get(reverse("cases:queue"))
    page = client.get(reverse("cases:detail", args=[first.pk]))
    assert page.context["next_case"].pk == third.pk
    response = fire(client, first, "township_approve", opinion="同意")
    assert response.status_code == 302
    assert response.url == reverse("cases:detail", args=[third.pk]) + f"?previous={first.pk}"
    page = client.get(response.url)
    content = text(page)
    assert f"户 {first.household.number}：已办理“镇街审核通过”" in content and "已为您打开待办中的下一件" in content
    assert reverse("cases:detail", args=[first.pk]) in content  # 上一件
    assert page.context["next_case"].pk == second.pk
    first.refresh_from_db()
    assert first.stage == Stage.COUNTY_APPROVAL


def test_next_stays_in_the_filtered_queue(
    client, township_cases, township_reviewer, walker, open_case, make_household, cadre_b, village_b
):
    from tests.builders import CaseWalker

    first, second, third = township_cases  # village A: first (15th), third (18th), second (20th)
    in_b = CaseWalker(cadre_b, walker.township, walker.county).to_notice(
        open_case(user=cadre_b, household=make_household(user=cadre_b, village=village_b))
    )
    with time_machine.travel(dt.datetime(2026, 11, 19, 2, tzinfo=dt.UTC), tick=False):
        walker.fire(in_b, "submit_to_township", cadre_b)  # between third and second
    client.force_login(township_reviewer)
    client.get(reverse("cases:queue"))
    assert client.get(reverse("cases:detail", args=[third.pk])).context["next_case"].pk == in_b.pk
    client.get(reverse("cases:queue"), {"village": first.village_id})
    response = fire(client, third, "township_approve", opinion="同意")
    assert response.url == reverse("cases:detail", args=[second.pk]) + f"?previous={third.pk}"
    response = fire(client, second, "township_approve", opinion="同意")  # the last one: wraps round
    assert response.url == reverse("cases:detail", args=[first.pk]) + f"?previous={second.pk}"


def test_a_return_stays_on_the_case_and_offers_the_next(client, township_cases, township_reviewer):
    first, second, third = township_cases
    client.force_login(township_reviewer)
    client.get(reverse("cases:queue"))
    response = fire(client, first, "township_return", opinion="请补充材料")
    assert response.url == reverse("cases:detail", args=[first.pk])
    page = client.get(response.url)
    assert page.context["next_case"].pk == third.pk
    assert 'id="next-case"' in text(page)


# --------------------------------------------------------------------------- 15. department evidence


def test_county_approval_shows_the_department_lists_and_prefills_the_comparison(
    client, case_a, walker, county_reviewer, household_a, department_upload
):
    head = household_a.members.get(relationship=Relationship.HEAD)
    medical = {"身份证号": head.id_number, "姓名": head.name, "个人自付金额": "60000", "就诊机构": "大方县人民医院"}
    vehicle = {"身份证号": head.id_number, "姓名": head.name, "号牌号码": "贵F·12345", "车辆类型": "小型轿车"}
    assert department_upload([medical], period="2026-10").status == "done"
    assert department_upload([vehicle], department=Department.VEHICLES, period="2026-10").status == "done"
    assert department_upload([], department=Department.HOUSING, period="2026-09").status == "done"
    walker.to_county(case_a)
    client.force_login(county_reviewer)
    response = client.get(reverse("cases:detail", args=[case_a.pk]))
    page = text(response)
    assert 'id="department-evidence"' in page
    evidence = response.context["evidence"]
    assert [c.department for c in evidence.comparisons][:2] in (["医保", "车管"], ["车管", "医保"])
    assert {c.department: c.hits for c in evidence.comparisons} == {"医保": 1, "车管": 1, "住建": 0}
    assert "资产信息：" in page and "车辆（张三" in page
    forms = {option.transition.name: form for option, form in response.context["actions"]}
    prefilled = forms["county_approve"]["comparison"].value()
    assert "已与" in prefilled and "医保（2026-10）" in prefilled and "住建（2026-09）" in prefilled
    assert "本户风险预警1条：2026-10 医保·大额医疗费用个人自付（张三，红色，" in prefilled
    assert "资产信息1条：2026-10 车管·" in prefilled and "会商研判：" in prefilled
    assert prefilled in response.content.decode()  # in the textarea the reviewer sees

    response = fire(
        client, case_a, "county_approve", opinion="同意纳入监测", comparison=prefilled + "经会商，同意纳入。"
    )
    case_a.refresh_from_db()
    assert case_a.stage == Stage.MONITORING
    assert case_a.events.get(transition="county_approve").data["comparison"].endswith("经会商，同意纳入。")


def test_county_approval_without_any_comparison_says_so(client, case_a, walker, county_reviewer):
    walker.to_county(case_a)
    client.force_login(county_reviewer)
    response = client.get(reverse("cases:detail", args=[case_a.pk]))
    assert "本户所在村尚无已完成的部门名单比对" in text(response)
    forms = {option.transition.name: form for option, form in response.context["actions"]}
    assert forms["county_approve"]["comparison"].value().startswith("暂无部门比对数据")


def test_the_township_sees_no_county_evidence(client, case_a, walker, township_reviewer):
    walker.to_township(case_a)
    client.force_login(township_reviewer)
    response = client.get(reverse("cases:detail", args=[case_a.pk]))
    assert response.context["evidence"] is None and not MonitoringCase.objects.filter(stage=Stage.MONITORING).exists()
