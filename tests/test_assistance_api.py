"""REST API of assistance and risk elimination: plans and their versions, measures, visits with photos,
the "七个不消" check, elimination through the case transitions (single and bulk), reopening, the
classification helper and the monthly visit duty — status codes, error shapes, scope and query counts,
built through the real services."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from assistance.models import AssistancePlan, Measure, MeasureStatus, Visit
from assistance.services import measure_add, measure_update, plan_create, visit_record
from households.models import Health, LabourCapacity, Relationship
from households.services import member_update
from monitoring.models import Classification, Stage
from tests.builders import PNG_BYTES, CaseWalker, pdf_scan

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
MEASURES = "/api/v1/measures/"
VISITS = "/api/v1/visits/"
DUTY = "/api/v1/visit-duty/"
TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
PNG = PNG_BYTES  # a whole PNG: attachments are checked by structure


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def api():
    def client_for(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def case_url(case, suffix: str = "") -> str:
    return f"{CASES}{case.pk}/{suffix}"


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture
def new_case(make_household, open_case, cadre_a, village_a):
    """A fresh application (each call a new household), in village A unless told otherwise."""

    def build(*, user=None, village=None):
        user, village = user or cadre_a, village or village_a
        return open_case(user=user, household=make_household(user=user, village=village))

    return build


def make_ill(case, user, illness: str = "尿毒症") -> None:
    head = case.household.members.get(relationship=Relationship.HEAD)
    member_update(user=user, member=head, data={"health": Health.SERIOUS, "illness": illness})


def to_elim_township(case, walker: CaseWalker):
    """Through the village's part of the elimination procedure, the way the village does it."""
    walker.fire(case, "propose_elimination", walker.cadre, opinion="收入稳定，措施见效")
    walker.record_verification(case, day=dt.date(2026, 11, 11))
    walker.fire(case, "complete_elim_verification", walker.cadre)
    walker.record_appraisal(case, day=dt.date(2026, 11, 12))
    walker.fire(case, "start_elim_notice", walker.cadre, starts_on=dt.date(2026, 11, 13), place="村务公开栏")
    return walker.fire(case, "submit_elim_to_township", walker.cadre)


def plan_payload(**extra) -> dict:
    payload = {"situation": "两口之家。", "risk_analysis": "因病支出大。", "needs": "稳定就业。"}
    payload.update(extra)
    return payload


# --------------------------------------------------------------------------- plans


def test_plan_is_created_adjusted_and_versioned(api, case_a, walker, cadre_a, township_reviewer):
    walker.to_monitoring(case_a)
    client = api(cadre_a)

    missing = client.get(case_url(case_a, "plan/"))
    assert missing.status_code == 404 and missing.json()["detail"] == "该监测对象尚未制定帮扶计划。"
    no_cadre = client.post(case_url(case_a, "plan/"), plan_payload(), format="json")
    assert no_cadre.status_code == 400 and no_cadre.json()["pairing_cadre"] == ["请指定结对帮扶干部。"]

    created = client.post(case_url(case_a, "plan/"), plan_payload(pairing_cadre=cadre_a.pk), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["version"] == 1 and body["pairing_cadre_display"] == "王村干" and body["measures"] == []
    assert {a["code"] for a in body["advice"]} == {"gap", "no_visit"}
    check = body["elimination_check"]
    assert check["moment"] == "proposal" and check["passed"] is False and len(check["results"]) == 9
    assert next(r for r in check["results"] if r["code"] == "plan")["findings"] == [
        "“一户一策”帮扶计划中没有实施中或已完成的措施，计划尚未实施。"
    ]
    again = client.post(case_url(case_a, "plan/"), plan_payload(pairing_cadre=cadre_a.pk), format="json")
    assert again.status_code == 400 and again.json()["detail"] == "该监测对象已有帮扶计划，请调整现有计划。"

    no_reason = client.patch(case_url(case_a, "plan/"), {"needs": "技能培训"}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["adjustment_reason"] == ["请填写调整原因。"]
    reviewer = api(township_reviewer).patch(
        case_url(case_a, "plan/"), {"needs": "x", "adjustment_reason": "x"}, format="json"
    )
    assert reviewer.status_code == 403 and reviewer.json()["detail"] == "只有村级干部可以办理村级环节。"
    adjusted = client.patch(
        case_url(case_a, "plan/"),
        {
            "needs": "技能培训",
            "pairing_cadre": None,
            "pairing_cadre_name": "陈驻村",
            "adjustment_reason": "户主转为稳定就业",
        },
        format="json",
    )
    assert adjusted.status_code == 200, adjusted.content
    assert adjusted.json()["version"] == 2 and adjusted.json()["pairing_cadre_display"] == "陈驻村"

    versions = client.get(case_url(case_a, "plan/versions/"))
    assert versions.status_code == 200
    assert [(v["version"], v["needs"], v["pairing_cadre"], v["adjustment_reason"]) for v in versions.json()] == [
        (1, "稳定就业。", "王村干", ""),
        (2, "技能培训", "陈驻村", "户主转为稳定就业"),
    ]
    assert versions.json()[1]["changed_by"] == "王村干"
    # Reviewers read the plan.
    assert api(township_reviewer).get(case_url(case_a, "plan/")).json()["version"] == 2


def test_the_api_refuses_a_pairing_cadre_who_cannot_help_this_village(api, case_a, walker, cadre_a, administrator):
    walker.to_monitoring(case_a)
    refused = api(cadre_a).post(case_url(case_a, "plan/"), plan_payload(pairing_cadre=administrator.pk), format="json")
    assert refused.status_code == 400 and "pairing_cadre" in refused.json()


def test_plan_waits_for_county_approval(api, case_a, cadre_a):
    response = api(cadre_a).post(case_url(case_a, "plan/"), plan_payload(pairing_cadre=cadre_a.pk), format="json")

    assert response.status_code == 400
    assert "县级审定纳入监测后才能制定帮扶计划" in response.json()["detail"]


def test_plan_costs_the_same_queries_for_one_or_six_measures(api, monitored, cadre_a, django_assert_max_num_queries):
    client = api(cadre_a)
    client.get(case_url(monitored, "plan/"))  # the user's roles are read once, then cached on the user
    plan = AssistancePlan.objects.get(case=monitored)

    def plan_queries(count: int) -> int:
        for n in range(count - plan.measures.count()):
            measure_add(
                user=cadre_a,
                plan=plan,
                category="health",
                risk_category="illness",
                description=f"家庭医生签约{n}",
                starts_on=dt.date(2026, 6, 1),
            )
        with django_assert_max_num_queries(30), CaptureQueriesContext(connection) as queries:
            response = client.get(case_url(monitored, "plan/"))
        assert len(response.json()["measures"]) == count
        return len(queries)

    assert plan_queries(1) == plan_queries(6)


# --------------------------------------------------------------------------- measures


def test_measures_are_added_and_updated(api, monitored, new_case, cadre_a, township_reviewer):
    client = api(cadre_a)
    payload = {
        "case": monitored.pk,
        "category": "health",
        "risk_category": "illness",
        "description": "家庭医生签约服务",
        "starts_on": "2026-11-01",
        "status": MeasureStatus.ACTIVE,
    }

    added = client.post(MEASURES, payload, format="json")
    assert added.status_code == 201, added.content
    body = added.json()
    assert body["case"] == monitored.pk and body["category_name"] == "健康帮扶" and body["risk_category_name"] == "因病"
    assert body["amount"] == "0.00" and body["status_display"] == "实施中"

    unknown = client.post(MEASURES, {**payload, "category": "magic"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["category"] == ["措施类别不正确。"]
    no_plan = client.post(MEASURES, {**payload, "case": new_case().pk}, format="json")
    assert no_plan.status_code == 400 and no_plan.json()["case"] == ["该监测对象尚未制定帮扶计划，请先制定帮扶计划。"]
    reviewer = api(township_reviewer).post(MEASURES, payload, format="json")
    assert reviewer.status_code == 403

    url = f"{MEASURES}{body['id']}/"
    unclear = client.patch(url, {"effect": "unclear"}, format="json")
    assert unclear.status_code == 400 and unclear.json()["effect_note"] == ["成效不明显时请说明原因和下一步打算。"]
    rated = client.patch(url, {"effect": "clear", "amount": "1200.50"}, format="json")
    assert rated.status_code == 200, rated.content
    assert rated.json()["effect_display"] == "明显" and rated.json()["amount"] == "1200.50"

    listed = results(client.get(MEASURES, {"case": monitored.pk}))
    assert [m["description"] for m in listed] == ["推荐到县城工业园区务工", "家庭医生签约服务"]
    assert len(results(api(township_reviewer).get(MEASURES))) == 2


# --------------------------------------------------------------------------- visits


def test_visit_is_recorded_with_a_photo_and_a_non_image_is_refused(api, monitored, cadre_a):
    client = api(cadre_a)
    form = {"case": monitored.pk, "visited_on": "2026-11-20", "findings": "务工收入稳定", "satisfaction": "satisfied"}

    recorded = client.post(
        VISITS, {**form, "photos": [SimpleUploadedFile("走访.png", PNG, "image/png")]}, format="multipart"
    )
    assert recorded.status_code == 201, recorded.content
    body = recorded.json()
    assert body["visitor_name"] == "王村干" and body["satisfaction_display"] == "满意"
    assert len(body["photos"]) == 1 and body["photos"][0]["url"].endswith(".png")

    fake = SimpleUploadedFile("走访2.png", b"just some text, not a picture", "image/png")
    refused = client.post(VISITS, {**form, "photos": [fake]}, format="multipart")
    assert refused.status_code == 400
    assert "不是图片（JPG/PNG）或PDF" in refused.json()["photos"][0]
    future = client.post(VISITS, {**form, "visited_on": "2026-11-24"}, format="multipart")
    assert future.status_code == 400 and future.json()["visited_on"] == ["走访日期不能晚于今天。"]
    assert Visit.objects.count() == 2  # the fixture's visit and the one above

    november = results(client.get(VISITS, {"case": monitored.pk, "month": "2026-11"}))
    assert [v["visited_on"] for v in november] == ["2026-11-20", "2026-11-10"]
    assert results(client.get(VISITS, {"month": "2026-10"})) == []
    bad = client.get(VISITS, {"month": "11/2026"})
    assert bad.status_code == 400 and bad.json()["month"] == ["月份格式应为 YYYY-MM，如 2026-11。"]


# --------------------------------------------------------------------------- the elimination check


def test_elimination_check_lists_every_rule_with_its_findings(api, monitored, cadre_a):
    client = api(cadre_a)
    passed = client.get(case_url(monitored, "elimination-check/")).json()
    assert passed["passed"] is True and passed["reasons"] == [] and passed["advice"] == ""

    make_ill(monitored, cadre_a)
    body = client.get(case_url(monitored, "elimination-check/"), {"moment": "proposal"}).json()

    assert body["passed"] is False and body["whole_household_without_labour"] is False
    assert [r["code"] for r in body["results"]] == [
        "guarantees",
        "stable_income",
        "plan",
        "effect",
        "labour",
        "hardship",
        "procedure",
        "measures",
        "income_line",
    ]
    hardship = next(r for r in body["results"] if r["code"] == "hardship")
    assert hardship["name"] == "有大病重病患者等特殊困难人口的不消" and hardship["passed"] is False
    assert hardship["findings"] == ["成员 张三 患大病（尿毒症），属于特殊困难人口，暂不消除。"]
    assert [r["code"] for r in body["results"] if not r["passed"]] == ["hardship"]

    approval = client.get(case_url(monitored, "elimination-check/"), {"moment": "approval"}).json()
    procedure = next(r for r in approval["results"] if r["code"] == "procedure")
    assert [f[:5] for f in procedure["findings"]] == ["“三核”：", "“四评议”", "“五公示”"]
    assert client.get(case_url(monitored, "elimination-check/"), {"moment": "later"}).status_code == 400


def test_whole_household_without_labour_is_advised_to_keep_monitoring(api, monitored, cadre_a):
    for member in monitored.household.members.all():
        member_update(user=cadre_a, member=member, data={"labour_capacity": LabourCapacity.LOST})

    body = api(cadre_a).get(case_url(monitored, "elimination-check/")).json()

    assert body["whole_household_without_labour"] is True
    assert body["advice"] == "落实社会保障后持续跟踪监测"


def test_proposing_a_failing_case_is_refused_with_every_reason(api, monitored, cadre_a):
    make_ill(monitored, cadre_a)
    measure_update(user=cadre_a, measure=monitored.measure, status=MeasureStatus.PLANNED, effect="")
    client = api(cadre_a)
    expected = client.get(case_url(monitored, "elimination-check/")).json()["reasons"]
    assert len(expected) == 2

    options = {t["name"]: t for t in client.get(case_url(monitored, "transitions/")).json()["transitions"]}
    assert options["propose_elimination"]["allowed"] is False
    assert options["propose_elimination"]["reasons"] == expected
    response = client.post(
        case_url(monitored, "transitions/propose_elimination/"), {"opinion": "拟消除"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["reasons"] == expected
    assert "成员 张三 患大病（尿毒症），属于特殊困难人口，暂不消除。" in expected[1]
    assert "计划尚未实施" in expected[0]
    monitored.refresh_from_db()
    assert monitored.stage == Stage.MONITORING


# --------------------------------------------------------------------------- elimination through the API


def test_a_case_is_eliminated_end_to_end_by_the_three_users_and_reopened(
    api, monitored, cadre_a, township_reviewer, county_reviewer
):
    cadre, township, county = api(cadre_a), api(township_reviewer), api(county_reviewer)

    def fire(client, transition, data=None, format="json"):
        response = client.post(case_url(monitored, f"transitions/{transition}/"), data or {}, format=format)
        assert response.status_code == 200, response.content
        return response.json()

    def queue(client, **params):
        return [row["id"] for row in results(client.get(CASES, {"queue": 1, **params}))]

    options = {t["name"]: t for t in cadre.get(case_url(monitored, "transitions/")).json()["transitions"]}
    assert options["propose_elimination"]["allowed"] is True
    assert fire(cadre, "propose_elimination", {"opinion": "收入稳定，措施见效"})["to_stage"] == Stage.ELIM_VERIFICATION
    assert queue(cadre) == [monitored.pk]

    verification = cadre.post(
        case_url(monitored, "verification/"),
        {
            "visit_date": "2026-11-23",
            "verifiers": [{"user_id": cadre_a.pk, "name": "王村干"}, {"name": "陈驻村", "unit": "驻村工作队"}],
            "findings": "帮扶措施均已落实",
            "risk_points": "无",
        },
        format="json",
    )
    assert verification.status_code == 201, verification.content
    verified = fire(cadre, "complete_elim_verification")
    assert verified["data"]["measures"][0]["description"] == "推荐到县城工业园区务工"  # 帮扶措施落实情况表

    roles = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
    appraisal = cadre.post(
        case_url(monitored, "appraisal/"),
        {
            "meeting_date": "2026-11-23",
            "participants": json.dumps([{"name": f"评议人{i}", "role": role} for i, role in enumerate(roles)]),
            "votes_for": 5,
            "votes_against": 0,
            "votes_abstain": 0,
            "minutes_scan": pdf_scan("会议记录.pdf"),
        },
        format="multipart",
    )
    assert appraisal.status_code == 201, appraisal.content
    fire(cadre, "start_elim_notice", {"starts_on": "2026-11-23", "place": "村务公开栏"})
    early = cadre.post(case_url(monitored, "transitions/submit_elim_to_township/"), {}, format="json")
    assert early.status_code == 400 and "还需等待7天" in early.json()["reasons"][0]
    row = results(cadre.get(CASES, {"queue": 1}))[0]
    assert row["stage"] == Stage.ELIM_NOTICE and row["notice_starts_on"] == "2026-11-23"
    assert row["notice_may_advance_on"] == "2026-11-30" and row["notice_due"] is False

    with time_machine.travel(dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC), tick=False):
        fire(cadre, "submit_elim_to_township", {"expected_stage": Stage.ELIM_NOTICE})
        assert queue(cadre) == [] and queue(county) == []
        assert queue(township) == [monitored.pk]
        assert queue(township, stage=Stage.ELIM_TOWNSHIP) == [monitored.pk]
        assert queue(township, stage=Stage.TOWNSHIP_REVIEW) == []
        fire(township, "township_approve_elim", {"opinion": "同意消除", "expected_stage": Stage.ELIM_TOWNSHIP})
        assert queue(township) == [] and queue(county) == [monitored.pk]
        done = fire(county, "county_approve_elim", {"inputs": {"opinion": "同意", "comparison": "部门比对无新增风险"}})

    assert done["to_stage"] == Stage.ELIMINATED and done["to_stage_display"] == "风险消除"
    detail = cadre.get(case_url(monitored)).json()
    assert detail["stage"] == Stage.ELIMINATED and detail["eliminated_on"] == "2026-11-30"
    titles = [entry["title"] for entry in detail["timeline"]]
    assert titles[-9:] == [
        "提出风险消除",
        "风险消除·入户核实记录",
        "风险消除入户核实完成",
        "风险消除·民主评议记录",
        "评议通过，开始风险消除公示",
        "风险消除·公示",
        "公示期满，报镇街审核",
        "镇街审核同意消除",
        "县级审定，标注风险消除",
    ]
    assert "入户核实记录" in titles and "公示" in titles  # the identification round keeps its own names
    assert [row["id"] for row in results(cadre.get(CASES, {"stage": Stage.ELIMINATED}))] == [monitored.pk]

    reopened = fire(cadre, "reopen", {"opinion": "户主务工受伤，收入骤减"})
    assert reopened["from_stage"] == Stage.ELIMINATED and reopened["to_stage"] == Stage.VERIFICATION
    monitored.refresh_from_db()
    assert monitored.stage == Stage.VERIFICATION and monitored.eliminated_on is None
    assert queue(cadre) == [monitored.pk]


def test_bulk_elimination_approval_lists_the_failing_case(
    api, monitored, make_monitored, new_case, walker, cadre_a, township_reviewer, county_reviewer
):
    second = make_monitored(new_case())
    for case in (monitored, second):
        to_elim_township(case, walker)

    township = api(township_reviewer).post(
        f"{CASES}bulk/",
        {"case_ids": [monitored.pk, second.pk], "transition": "township_approve_elim", "inputs": {"opinion": "同意"}},
        format="json",
    )
    assert township.status_code == 200, township.content
    assert township.json()["succeeded"] == 2 and township.json()["failures"] == []

    make_ill(second, cadre_a, illness="白血病")
    county = api(county_reviewer).post(
        f"{CASES}bulk/",
        {
            "case_ids": [monitored.pk, second.pk],
            "transition": "county_approve_elim",
            "inputs": {"opinion": "同意", "comparison": "部门比对无新增风险"},
        },
        format="json",
    )

    assert county.status_code == 200, county.content
    body = county.json()
    assert body["total"] == 2 and body["succeeded"] == 1
    assert body["failures"] == [
        {
            "case": second.pk,
            "household": second.household.number,
            "reasons": [
                "【有大病重病患者等特殊困难人口的不消】成员 张三 患大病（白血病），属于特殊困难人口，暂不消除。"
            ],
        }
    ]
    monitored.refresh_from_db()
    second.refresh_from_db()
    assert (monitored.stage, second.stage) == (Stage.ELIMINATED, Stage.ELIM_COUNTY)


def test_village_steps_of_elimination_cannot_be_done_in_bulk(api, monitored, cadre_a):
    response = api(cadre_a).post(
        f"{CASES}bulk/", {"case_ids": [monitored.pk], "transition": "propose_elimination"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["transition"] == ["“提出风险消除”须逐件办理，不能批量办理。"]


# --------------------------------------------------------------------------- classification


def test_classification_is_confirmed_or_overridden_with_a_reason(api, case_a, cadre_a, township_reviewer):
    client = api(cadre_a)
    shown = client.get(case_url(case_a, "classification/"))
    assert shown.status_code == 200
    suggestion = shown.json()["suggestion"]
    assert suggestion["reasons"] and suggestion["case_type_display"] == "脱贫不稳定户"
    assert shown.json()["current"] == {"case_type": "marginal", "risk_categories": ["illness"], "colour": ""}

    chosen = {k: suggestion[k] for k in ("case_type", "risk_categories", "colour")}
    confirmed = client.post(case_url(case_a, "classification/"), chosen, format="json")
    assert confirmed.status_code == 201, confirmed.content
    assert confirmed.json()["overridden"] is False and confirmed.json()["decided_by_name"] == "王村干"

    override = {"case_type": "sudden_hardship", "risk_categories": ["disaster"], "colour": "red"}
    no_reason = client.post(case_url(case_a, "classification/"), override, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["reason"] == ["与系统建议不一致，请填写调整理由。"]
    overridden = client.post(case_url(case_a, "classification/"), {**override, "reason": "冰雹灾害"}, format="json")
    assert overridden.status_code == 201
    assert overridden.json()["overridden"] is True and overridden.json()["reason"] == "冰雹灾害"
    assert overridden.json()["suggested"]["case_type"] == suggestion["case_type"]

    after = client.get(case_url(case_a, "classification/")).json()
    assert after["current"] == {"case_type": "sudden_hardship", "risk_categories": ["disaster"], "colour": "red"}
    assert [r["overridden"] for r in after["records"]] == [True, False]
    reviewer = api(township_reviewer).post(case_url(case_a, "classification/"), chosen, format="json")
    assert reviewer.status_code == 403


# --------------------------------------------------------------------------- visit duty


def paired_case(new_case, walker, *, user, **cadre):
    """A monitoring object with a plan paired to `cadre` and no visit yet."""
    case = walker.to_monitoring(new_case(user=user, village=user.division))
    plan_create(user=user, case=case, situation="x", risk_analysis="x", needs="x", **cadre)
    return case


def test_visit_duty_lists_the_unvisited_households_of_each_cadre(
    api, monitored, new_case, walker, cadre_a, cadre_b, township_reviewer, county_reviewer, department_officer
):
    late = paired_case(new_case, walker, user=cadre_a, pairing_cadre=cadre_a)
    visit_record(user=cadre_a, case=late, visited_on=dt.date(2026, 10, 15), findings="十月走访")
    named = paired_case(new_case, walker, user=cadre_a, pairing_cadre_name="陈驻村 ")
    walker_b = CaseWalker(cadre_b, township_reviewer, county_reviewer)
    paired_case(new_case, walker_b, user=cadre_b, pairing_cadre=cadre_b)
    new_case()  # an application: nobody's visit duty yet

    body = api(cadre_a).get(DUTY, {"month": "2026-11"}).json()

    assert body["month"] == "2026-11"
    by_name = {duty["cadre_name"]: duty for duty in body["cadres"]}
    assert set(by_name) == {"王村干", "陈驻村"}
    wang, chen = by_name["王村干"], by_name["陈驻村"]
    assert (wang["cadre_id"], wang["households"], wang["visited"], wang["unvisited_count"]) == (cadre_a.pk, 2, 1, 1)
    assert wang["unvisited"] == [
        {
            "case_id": late.pk,
            "household_id": late.household_id,
            "household_number": late.household.number,
            "head_name": "张三",
            "village_name": "光明村",
            "stage": Stage.MONITORING,
            "stage_display": "监测中",
            "last_visited_on": "2026-10-15",
        }
    ]
    assert (chen["cadre_id"], chen["households"], chen["visited"]) == (None, 1, 0)
    assert [h["case_id"] for h in chen["unvisited"]] == [named.pk]

    october = {d["cadre_name"]: d for d in api(cadre_a).get(DUTY, {"month": "2026-10"}).json()["cadres"]}
    assert october["王村干"]["visited"] == 1
    assert [h["case_id"] for h in october["王村干"]["unvisited"]] == [monitored.pk]
    assert october["王村干"]["unvisited"][0]["last_visited_on"] is None  # its visit came in November

    assert {d["cadre_name"] for d in api(township_reviewer).get(DUTY).json()["cadres"]} == {
        "王村干",
        "陈驻村",
        "李村干",
    }
    assert [d["cadre_name"] for d in api(cadre_b).get(DUTY).json()["cadres"]] == ["李村干"]
    assert api(department_officer).get(DUTY).json()["cadres"] == []
    bad = api(cadre_a).get(DUTY, {"month": "2026-13"})
    assert bad.status_code == 400 and bad.json()["month"] == ["月份格式应为 YYYY-MM，如 2026-11。"]


def test_visit_duty_costs_the_same_queries_for_one_or_three_cadres(
    api, new_case, walker, cadre_a, django_assert_max_num_queries
):
    client = api(cadre_a)
    client.get(DUTY)  # the user's roles are read once, then cached on the user

    def duty_queries(count: int) -> int:
        while AssistancePlan.objects.count() < count:
            paired_case(new_case, walker, user=cadre_a, pairing_cadre_name=f"干部{AssistancePlan.objects.count()}")
        with django_assert_max_num_queries(3), CaptureQueriesContext(connection) as queries:
            response = client.get(DUTY, {"month": "2026-11"})
        assert len(response.json()["cadres"]) == count
        return len(queries)

    assert duty_queries(1) == duty_queries(3)


# --------------------------------------------------------------------------- scope


def test_outsider_gets_404_for_everything_of_the_case(api, monitored, cadre_a, cadre_b):
    client = api(cadre_b)
    measure = Measure.objects.get(plan__case=monitored)
    visit = Visit.objects.get(case=monitored)

    for url in ("plan/", "plan/versions/", "elimination-check/", "classification/", "transitions/", ""):
        assert client.get(case_url(monitored, url)).status_code == 404, url
    assert (
        client.post(case_url(monitored, "plan/"), plan_payload(pairing_cadre_name="x"), format="json").status_code
        == 404
    )
    adjust = client.patch(case_url(monitored, "plan/"), {"needs": "被改了", "adjustment_reason": "x"}, format="json")
    assert adjust.status_code == 404
    classify = {"case_type": "marginal", "risk_categories": ["illness"], "reason": "x"}
    assert client.post(case_url(monitored, "classification/"), classify, format="json").status_code == 404
    propose = client.post(case_url(monitored, "transitions/propose_elimination/"), {"opinion": "x"}, format="json")
    assert propose.status_code == 404
    assert client.get(f"{MEASURES}{measure.pk}/").status_code == 404
    assert client.patch(f"{MEASURES}{measure.pk}/", {"description": "被改了"}, format="json").status_code == 404
    assert client.get(f"{VISITS}{visit.pk}/").status_code == 404
    assert results(client.get(MEASURES, {"case": monitored.pk})) == []
    assert results(client.get(VISITS, {"case": monitored.pk})) == []
    # A body naming the case reads as a nonexistent case, as for households.
    add = client.post(
        MEASURES,
        {
            "case": monitored.pk,
            "category": "health",
            "risk_category": "illness",
            "description": "x",
            "starts_on": "2026-11-01",
        },
        format="json",
    )
    assert add.status_code == 400 and "case" in add.json()
    visit_form = {"case": monitored.pk, "visited_on": "2026-11-20", "findings": "x"}
    assert client.post(VISITS, visit_form, format="multipart").status_code == 400

    monitored.refresh_from_db()
    assert monitored.stage == Stage.MONITORING and not Classification.objects.exists()
    assert AssistancePlan.objects.get(case=monitored).version == 1
    assert Measure.objects.get(pk=measure.pk).description == "推荐到县城工业园区务工"
    assert Visit.objects.count() == 1


def test_department_officer_sees_nothing(api, monitored, department_officer):
    client = api(department_officer)

    assert results(client.get(MEASURES)) == []
    assert results(client.get(VISITS)) == []
    for url in ("plan/", "elimination-check/", "classification/"):
        assert client.get(case_url(monitored, url)).status_code == 404, url
    assert client.get(DUTY).json()["cadres"] == []
