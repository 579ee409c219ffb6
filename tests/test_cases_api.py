"""REST API of monitoring cases: queues per role, transitions with their reasons, stage records, conflicts,
bulk actions and their background jobs — status codes and error shapes, built through the real services."""

import datetime as dt
import json
import time

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from fpr.roles import Role
from households.models import IncomeKind
from monitoring.cases.services import objection_lodge
from monitoring.models import MonitoringCase, Stage
from tests.builders import CaseWalker, make_user, pdf_scan
from workflow.models import BulkJob, BulkJobStatus
from workflow.services import bulk_job_run

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
BULK = "/api/v1/cases/bulk/"
TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # 18:00 in Beijing


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


def fire_url(case, transition: str) -> str:
    return case_url(case, f"transitions/{transition}/")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def cadre_c(divisions):
    return make_user("cadre_c", divisions["520521101001"], Role.VILLAGE_CADRE, full_name="周村干")


@pytest.fixture
def township_c(divisions):
    return make_user("township_c", divisions["520521101000"], Role.TOWNSHIP_REVIEWER, full_name="吴审核")


@pytest.fixture
def new_case(make_household, open_case, cadre_a, village_a):
    """A fresh application in village A (each call a new household)."""

    def build(*, user=None, village=None, **extra):
        user, village = user or cadre_a, village or village_a
        return open_case(user=user, household=make_household(user=user, village=village), **extra)

    return build


def create_payload(household, **extra) -> dict:
    payload = {
        "household": household.pk,
        "case_type": "marginal",
        "risk_categories": ["illness", "schooling"],
        "channel": "self_report",
        "description": "户主患病住院，自付费用较高；子女在读高中。",
    }
    payload.update(extra)
    return payload


# --------------------------------------------------------------------------- application


def test_cadre_opens_a_case_with_the_signed_authorization(api, cadre_a, household_a):
    payload = create_payload(
        household_a, authorization_signed_on="2026-11-20", authorization_scan=pdf_scan("承诺授权书.pdf")
    )
    response = api(cadre_a).post(CASES, payload, format="multipart")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["stage"] == Stage.APPLICATION and body["stage_display"] == "提交申请"
    assert body["household_summary"]["number"] == household_a.number and body["head_name"] == "张三"
    assert [c["name"] for c in body["risk_categories"]] == ["因病", "因学"]
    assert body["authorization_signed_on"] == "2026-11-20" and body["authorization_scan"].endswith(".pdf")
    assert body["timeline"] == []
    case = MonitoringCase.objects.get()
    assert case.created_by == cadre_a and case.household == household_a
    assert ids(api(cadre_a).get(CASES, {"queue": 1})) == [case.pk]


def test_create_refuses_what_the_service_refuses_in_chinese(api, cadre_a, household_a):
    client = api(cadre_a)

    unknown_risk = client.post(CASES, create_payload(household_a, risk_categories=["no-such"]), format="json")
    assert unknown_risk.status_code == 400
    assert unknown_risk.json()["risk_categories"] == ["请至少选择一个有效的风险类型。"]

    assert client.post(CASES, create_payload(household_a), format="json").status_code == 201
    again = client.post(CASES, create_payload(household_a), format="json")
    assert again.status_code == 400
    assert "已有在办或监测中的案件" in json.dumps(again.json(), ensure_ascii=False)


def test_outsider_cannot_open_a_case_for_another_village(api, cadre_b, household_a):
    response = api(cadre_b).post(CASES, create_payload(household_a), format="json")

    assert response.status_code == 400
    assert "household" in response.json()
    assert not MonitoringCase.objects.exists()


def test_only_village_cadres_open_cases(api, township_reviewer, household_a):
    response = api(township_reviewer).post(CASES, create_payload(household_a), format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "只有村级干部可以办理村级环节。"


def test_missing_authorization_is_listed_then_uploaded(api, cadre_a, household_a):
    client = api(cadre_a)
    case_id = client.post(CASES, create_payload(household_a), format="json").json()["id"]

    options = client.get(f"{CASES}{case_id}/transitions/").json()
    submit = next(t for t in options["transitions"] if t["name"] == "submit_application")
    assert options["stage"] == Stage.APPLICATION
    assert submit["allowed"] is False
    assert "承诺授权书" in submit["reasons"][0] and "签署日期和扫描件" in submit["reasons"][0]

    refused = client.post(f"{CASES}{case_id}/transitions/submit_application/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["reasons"] == submit["reasons"]
    assert refused.json()["detail"] == submit["reasons"][0]

    patched = client.patch(
        f"{CASES}{case_id}/",
        {"authorization_signed_on": "2026-11-21", "authorization_scan": pdf_scan("授权书.pdf")},
        format="multipart",
    )
    assert patched.status_code == 200, patched.content
    options = client.get(f"{CASES}{case_id}/transitions/").json()
    assert next(t for t in options["transitions"] if t["name"] == "submit_application")["allowed"] is True


def test_attachment_that_is_not_a_scan_is_refused(api, cadre_a, household_a):
    fake = SimpleUploadedFile("授权书.pdf", b"MZ\x90\x00 an exe", content_type="application/pdf")

    response = api(cadre_a).post(CASES, create_payload(household_a, authorization_scan=fake), format="multipart")

    assert response.status_code == 400
    assert "不是图片（JPG/PNG）或PDF" in response.json()["authorization_scan"][0]
    assert not MonitoringCase.objects.exists()


# --------------------------------------------------------------------------- queues and scope


@pytest.fixture
def cases_in_every_stage(new_case, walker, cadre_c, township_c, county_reviewer, village_c):
    """Village A: a draft, a case in township review and one in county approval; village C (another
    township): a case in township review."""
    draft = new_case()
    at_township = walker.to_township(new_case())
    at_county = walker.to_county(new_case())
    elsewhere = CaseWalker(cadre_c, township_c, county_reviewer).to_township(new_case(user=cadre_c, village=village_c))
    return {"draft": draft, "township": at_township, "county": at_county, "elsewhere": elsewhere}


def test_each_role_sees_its_own_work_queue(
    api, cases_in_every_stage, cadre_a, cadre_b, township_reviewer, township_c, county_reviewer, administrator
):
    c = cases_in_every_stage

    def queue(user):
        return set(ids(api(user).get(CASES, {"queue": "1"})))

    assert queue(cadre_a) == {c["draft"].pk}
    assert queue(cadre_b) == set()
    assert queue(township_reviewer) == {c["township"].pk}
    assert queue(township_c) == {c["elsewhere"].pk}
    assert queue(county_reviewer) == {c["county"].pk}
    assert queue(administrator) == {case.pk for case in c.values()}
    # Without queue=1 the list is every case in the user's subtree.
    assert set(ids(api(township_reviewer).get(CASES))) == {c["draft"].pk, c["township"].pk, c["county"].pk}


def test_department_officer_sees_no_cases(api, cases_in_every_stage, department_officer):
    assert ids(api(department_officer).get(CASES)) == []
    assert api(department_officer).get(case_url(cases_in_every_stage["draft"])).status_code == 404


def test_list_filters(api, cases_in_every_stage, administrator, village_c):
    c = cases_in_every_stage
    client = api(administrator)

    assert set(ids(client.get(CASES, {"stage": Stage.TOWNSHIP_REVIEW}))) == {c["township"].pk, c["elsewhere"].pk}
    assert set(ids(client.get(CASES, {"village": village_c.code}))) == {c["elsewhere"].pk}
    assert set(ids(client.get(CASES, {"village": "520521100000", "queue": 1, "stage": "township_review"}))) == {
        c["township"].pk
    }
    assert ids(client.get(CASES, {"risk": "disability"})) == []
    assert len(ids(client.get(CASES, {"risk": "illness", "case_type": "marginal"}))) == 4
    assert client.get(CASES, {"stage": "nonsense"}).status_code == 400


def test_outsider_gets_404_everywhere(api, case_a, walker, cadre_b):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))
    objection = objection_lodge(user=walker.cadre, case=case_a, lodged_by="村民甲", content="有车")
    client = api(cadre_b)

    assert client.get(case_url(case_a)).status_code == 404
    assert client.get(case_url(case_a, "transitions/")).status_code == 404
    assert client.post(fire_url(case_a, "submit_to_township"), {}, format="json").status_code == 404
    assert client.post(case_url(case_a, "objections/"), {"lodged_by": "x", "content": "x"}).status_code == 404
    dismiss = case_url(case_a, f"objections/{objection.pk}/dismiss/")
    assert client.post(dismiss, {"resolution": "x"}, format="json").status_code == 404
    patched = client.patch(case_url(case_a), {"description": "被改了"}, format="json")
    assert patched.status_code == 404
    case_a.refresh_from_db()
    assert case_a.stage == Stage.NOTICE and case_a.description != "被改了"


def test_queue_waits_longest_first_and_shows_the_notice_deadline(api, new_case, walker, cadre_a):
    with time_machine.travel(dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        old_draft = new_case()
    running = walker.to_notice(new_case(), starts_on=dt.date(2026, 11, 20))
    with time_machine.travel(dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC), tick=False):
        due = walker.to_notice(new_case(), starts_on=dt.date(2026, 11, 10))

    rows = api(cadre_a).get(CASES, {"queue": 1}).json()["results"]

    assert [row["id"] for row in rows] == [old_draft.pk, due.pk, running.pk]
    by_id = {row["id"]: row for row in rows}
    assert by_id[old_draft.pk]["days_waiting"] == 22 and by_id[running.pk]["days_waiting"] == 0
    assert by_id[old_draft.pk]["notice_starts_on"] is None and by_id[old_draft.pk]["notice_due"] is False
    assert by_id[running.pk]["notice_starts_on"] == "2026-11-20"
    assert by_id[running.pk]["notice_may_advance_on"] == "2026-11-27" and by_id[running.pk]["notice_due"] is False
    assert by_id[due.pk]["notice_may_advance_on"] == "2026-11-17" and by_id[due.pk]["notice_due"] is True
    assert by_id[due.pk]["household_number"] and by_id[due.pk]["head_name"] == "张三"
    assert by_id[due.pk]["village_name"] == "光明村"
    # Paging keeps the queue's order.
    first = api(cadre_a).get(CASES, {"queue": 1, "page_size": 2}).json()
    rest = api(cadre_a).get(first["next"]).json()
    assert [row["id"] for row in first["results"] + rest["results"]] == [old_draft.pk, due.pk, running.pk]


def test_queue_costs_the_same_queries_for_3_or_30_cases(api, new_case, cadre_a, django_assert_max_num_queries):
    client = api(cadre_a)
    client.get(CASES, {"queue": 1})  # the user's roles are read once, then cached on the user

    def page_queries(count: int) -> int:
        while MonitoringCase.objects.count() < count:
            new_case()
        with django_assert_max_num_queries(4), CaptureQueriesContext(connection) as queries:
            response = client.get(CASES, {"queue": 1})
        assert len(response.json()["results"]) == count
        return len(queries)

    assert page_queries(3) == page_queries(30)


# --------------------------------------------------------------------------- transitions


def test_transitions_explain_the_seven_day_notice(api, case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))

    body = api(cadre_a).get(case_url(case_a, "transitions/")).json()

    assert body["stage"] == Stage.NOTICE and body["stage_display"] == "公示"
    options = {t["name"]: t for t in body["transitions"]}
    assert set(options) == {"submit_to_township", "objection_return"}
    assert options["submit_to_township"]["allowed"] is False
    assert "还需等待4天" in options["submit_to_township"]["reasons"][0]
    assert options["objection_return"]["inputs"] == [
        {"name": "opinion", "label": "意见", "kind": "text", "required": True}
    ]


def test_transitions_list_the_inputs_a_step_needs(api, case_a, walker, cadre_a, township_reviewer):
    walker.to_appraisal(case_a)
    walker.record_appraisal(case_a)
    village = {t["name"]: t for t in api(cadre_a).get(case_url(case_a, "transitions/")).json()["transitions"]}
    assert village["start_notice"]["allowed"] is True
    assert village["start_notice"]["inputs"] == [
        {"name": "starts_on", "label": "公示开始日期", "kind": "date", "required": True},
        {"name": "place", "label": "公示地点", "kind": "text", "required": True},
    ]
    assert "民主评议已通过" in village["appraisal_reject"]["reasons"][0]
    # A reviewer sees the case but has nothing to do in a village stage.
    assert api(township_reviewer).get(case_url(case_a, "transitions/")).json()["transitions"] == []


def test_refused_transition_is_400_with_every_reason(api, case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))
    objection_lodge(user=cadre_a, case=case_a, lodged_by="村民甲", content="其子在县城有商品房")

    response = api(cadre_a).post(fire_url(case_a, "submit_to_township"), {}, format="json")

    assert response.status_code == 400
    reasons = response.json()["reasons"]
    assert len(reasons) == 2
    assert "还需等待4天" in reasons[0] and reasons[1] == "公示期间有1条异议尚未处理。"
    assert response.json()["detail"] == "；".join(reasons)


def test_wrong_role_is_refused_with_403_and_its_reason(api, case_a, walker, county_reviewer, cadre_a):
    """The README's promise (issue #13, point 10): a role refusal is a 403, a state problem stays 400/409."""
    walker.to_township(case_a)
    events = case_a.events.count()

    response = api(county_reviewer).post(fire_url(case_a, "township_approve"), {"opinion": "同意"}, format="json")

    assert response.status_code == 403
    assert response.json()["reasons"] == ["您的角色不能办理“镇街审核通过”。"]
    assert response.json()["detail"] == "您的角色不能办理“镇街审核通过”。"
    # The village cadre may never approve at the township, whatever the stage: 403 too, not a 409.
    wrong_role_and_stage = api(cadre_a).post(fire_url(case_a, "county_approve"), {"opinion": "同意"}, format="json")
    assert wrong_role_and_stage.status_code == 403
    # The right role at the wrong stage is a state problem: 409, as before.
    wrong_stage = api(cadre_a).post(fire_url(case_a, "submit_application"), {}, format="json")
    assert wrong_stage.status_code == 409
    assert case_a.events.count() == events  # nothing recorded by the refusals


def test_stale_page_gets_409_already_handled(api, case_a, walker, township_reviewer):
    walker.to_township(case_a)
    client = api(township_reviewer)
    payload = {"opinion": "同意", "expected_stage": Stage.TOWNSHIP_REVIEW}

    first = client.post(fire_url(case_a, "township_approve"), payload, format="json")
    second = client.post(fire_url(case_a, "township_approve"), payload, format="json")

    assert first.status_code == 200 and first.json()["to_stage"] == Stage.COUNTY_APPROVAL
    assert second.status_code == 409
    assert "已被他人处理" in second.json()["detail"]
    assert case_a.events.filter(transition="township_approve").count() == 1


def test_unknown_transition_is_400(api, case_a, cadre_a):
    response = api(cadre_a).post(fire_url(case_a, "jump_to_monitoring"), {}, format="json")

    assert response.status_code == 400
    assert response.json()["reasons"] == ["未知的操作：jump_to_monitoring"]


# --------------------------------------------------------------------------- stage records


def test_stage_records_refuse_bad_input_in_chinese(api, case_a, walker, cadre_a, township_reviewer):
    walker.to_verification(case_a)
    client = api(cadre_a)
    one_verifier = {
        "visit_date": "2026-11-22",
        "verifiers": [{"user_id": cadre_a.pk, "name": "王村干"}],
        "findings": "属实",
        "risk_points": "大病",
    }
    response = client.post(case_url(case_a, "verification/"), one_verifier, format="json")
    assert response.status_code == 400
    assert response.json()["verifiers"] == ["入户核实组不少于2人，请填写至少两名不同的核实人员。"]

    reviewer = api(township_reviewer).post(
        case_url(case_a, "verification/"),
        {**one_verifier, "verifiers": [{"name": "甲"}, {"name": "乙"}]},
        format="json",
    )
    assert reviewer.status_code == 403
    assert reviewer.json()["detail"] == "只有村级干部可以办理村级环节。"

    wrong_stage = client.post(
        case_url(case_a, "appraisal/"),
        {
            "meeting_date": "2026-11-22",
            "participants": json.dumps([{"name": "甲", "role": "村两委成员"}]),
            "votes_for": 1,
            "votes_against": 0,
            "votes_abstain": 0,
            "minutes_scan": pdf_scan(),
        },
        format="multipart",
    )
    assert wrong_stage.status_code == 400
    assert "只能在“民主评议”环节填写此项" in wrong_stage.json()["detail"]


def test_objections_are_lodged_dismissed_and_substantiated(api, case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 18))
    client = api(cadre_a)

    lodged = client.post(case_url(case_a, "objections/"), {"lodged_by": "村民甲", "content": "有商品房"}, format="json")
    assert lodged.status_code == 201 and lodged.json()["status"] == "pending"
    objection_id = lodged.json()["id"]
    blank = client.post(case_url(case_a, f"objections/{objection_id}/dismiss/"), {"resolution": " "}, format="json")
    assert blank.status_code == 400 and blank.json()["resolution"] == ["请填写核查情况。"]
    dismissed = client.post(
        case_url(case_a, f"objections/{objection_id}/dismiss/"), {"resolution": "商品房系女婿所有"}, format="json"
    )
    assert dismissed.status_code == 200 and dismissed.json()["status_display"] == "经核查不属实"
    again = client.post(case_url(case_a, f"objections/{objection_id}/dismiss/"), {"resolution": "x"}, format="json")
    assert again.status_code == 400 and again.json()["detail"] == "该异议已处理。"

    second = client.post(case_url(case_a, "objections/"), {"lodged_by": "村民乙", "content": "有小汽车"}).json()
    substantiated = client.post(
        case_url(case_a, f"objections/{second['id']}/substantiate/"), {"resolution": "确有车辆"}, format="json"
    )
    assert substantiated.status_code == 200 and substantiated.json()["status"] == "substantiated"
    case_a.refresh_from_db()
    assert case_a.stage == Stage.VERIFICATION and case_a.returned

    late = client.post(case_url(case_a, "objections/"), {"lodged_by": "村民丙", "content": "x"}, format="json")
    assert late.status_code == 400


# --------------------------------------------------------------------------- the whole path


def test_happy_path_through_the_api_alone(api, cadre_a, township_reviewer, county_reviewer, household_a):
    cadre, township, county = api(cadre_a), api(township_reviewer), api(county_reviewer)

    income = cadre.post(
        "/api/v1/income-items/",
        {"household": household_a.pk, "year": 2026, "kind": IncomeKind.WAGE, "amount": "9000"},
        format="json",
    )
    assert income.status_code == 201, income.content
    created = cadre.post(CASES, create_payload(household_a), format="json")
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]

    def fire(client, transition, data=None, format="json"):
        response = client.post(f"{CASES}{case_id}/transitions/{transition}/", data or {}, format=format)
        assert response.status_code == 200, response.content
        return response.json()

    scan = cadre.patch(
        f"{CASES}{case_id}/",
        {"authorization_signed_on": "2026-11-20", "authorization_scan": pdf_scan("承诺授权书.pdf")},
        format="multipart",
    )
    assert scan.status_code == 200, scan.content
    assert fire(cadre, "submit_application")["to_stage"] == Stage.VERIFICATION

    verification = cadre.post(
        f"{CASES}{case_id}/verification/",
        {
            "visit_date": "2026-11-21",
            "verifiers": [{"user_id": cadre_a.pk, "name": "王村干"}, {"name": "陈驻村", "unit": "驻村工作队"}],
            "findings": "情况属实",
            "risk_points": "大病自付费用高",
        },
        format="json",
    )
    assert verification.status_code == 201, verification.content
    assert verification.json()["collected"]["year"] == 2026 and verification.json()["collected"]["has_income_items"]
    assert fire(cadre, "complete_verification")["to_stage"] == Stage.APPRAISAL

    roles = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
    appraisal = cadre.post(
        f"{CASES}{case_id}/appraisal/",
        {
            "meeting_date": "2026-11-22",
            "participants": json.dumps([{"name": f"评议人{i}", "role": role} for i, role in enumerate(roles)]),
            "votes_for": 5,
            "votes_against": 0,
            "votes_abstain": 0,
            "minutes_scan": pdf_scan("会议记录.pdf"),
        },
        format="multipart",
    )
    assert appraisal.status_code == 201, appraisal.content
    assert appraisal.json()["passed"] is True and appraisal.json()["minutes_scan"].endswith(".pdf")
    fire(cadre, "start_notice", {"starts_on": "2026-11-23", "place": "村务公开栏"})

    early = cadre.post(f"{CASES}{case_id}/transitions/submit_to_township/", {}, format="json")
    assert early.status_code == 400 and "还需等待7天" in early.json()["reasons"][0]

    with time_machine.travel(dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC), tick=False):
        fire(cadre, "submit_to_township", {"expected_stage": Stage.NOTICE})
        assert ids(township.get(CASES, {"queue": 1})) == [case_id]
        approved = fire(
            township,
            "township_approve",
            {
                "opinion": "经复核，情况属实，同意纳入。",
                "expected_stage": Stage.TOWNSHIP_REVIEW,
                "attachments": [pdf_scan("识别审批表.pdf")],
            },
            format="multipart",
        )
        assert approved["attachments"][0]["name"] == "识别审批表.pdf"
        assert ids(township.get(CASES, {"queue": 1})) == []
        assert ids(county.get(CASES, {"queue": 1})) == [case_id]
        done = fire(county, "county_approve", {"inputs": {"opinion": "同意", "comparison": "部门比对无异常"}})

    assert done["to_stage"] == Stage.MONITORING and done["data"] == {"comparison": "部门比对无异常"}
    detail = cadre.get(f"{CASES}{case_id}/").json()
    assert detail["stage"] == Stage.MONITORING and detail["identified_on"] == "2026-11-30"
    assert [(e["kind"], e["title"]) for e in detail["timeline"]] == [
        ("transition", "提交申请"),
        ("verification", "入户核实记录"),
        ("transition", "入户核实完成"),
        ("appraisal", "民主评议记录"),
        ("transition", "评议通过，开始公示"),
        ("notice", "公示"),
        ("transition", "公示期满，报镇街审核"),
        ("transition", "镇街审核通过"),
        ("transition", "县级审定，确定为监测对象"),
    ]
    township_event = detail["timeline"][7]
    assert township_event["actor"] == "赵审核" and township_event["text"] == "经复核，情况属实，同意纳入。"
    assert township_event["attachments"][0]["name"] == "识别审批表.pdf"
    assert detail["timeline"][5]["details"]["may_advance_on"] == "2026-11-30"
    assert ids(cadre.get(CASES, {"queue": 1})) == []


# --------------------------------------------------------------------------- bulk


def test_bulk_inline_reports_each_failure_and_does_the_rest(api, new_case, walker, township_reviewer):
    ready = [walker.to_township(new_case()) for _ in range(3)]
    draft = new_case()

    response = api(township_reviewer).post(
        BULK,
        {
            "case_ids": [c.pk for c in ready] + [draft.pk],
            "transition": "township_approve",
            "inputs": {"opinion": "同意"},
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 4 and body["succeeded"] == 3
    assert [f["case"] for f in body["failures"]] == [draft.pk]
    assert body["failures"][0]["household"] == draft.household.number
    assert body["failures"][0]["reasons"] == [
        "该案件处于“提交申请”环节，不能办理“镇街审核通过”（须在“镇街审核”环节办理）。"
    ]
    assert MonitoringCase.objects.filter(stage=Stage.COUNTY_APPROVAL).count() == 3


def test_bulk_refuses_a_step_that_must_be_done_case_by_case(api, new_case, walker, cadre_a):
    case = walker.to_notice(new_case())

    response = api(cadre_a).post(BULK, {"case_ids": [case.pk], "transition": "submit_to_township"}, format="json")

    assert response.status_code == 400
    assert response.json()["transition"] == ["“公示期满，报镇街审核”须逐件办理，不能批量办理。"]
    case.refresh_from_db()
    assert case.stage == Stage.NOTICE


def test_bulk_over_the_limit_becomes_a_job_of_a_few_hundred_cases(
    api, settings, new_case, walker, township_reviewer, county_reviewer
):
    settings.FPR_BULK_INLINE_LIMIT = 10
    cases = [walker.to_township(new_case()) for _ in range(200)]
    returned = cases[7]
    walker.fire(returned, "township_return", walker.township, opinion="缺少收入测算")
    client = api(township_reviewer)

    response = client.post(
        BULK,
        {"case_ids": [c.pk for c in cases], "transition": "township_approve", "inputs": {"opinion": "同意"}},
        format="json",
    )

    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == BulkJobStatus.QUEUED and job["total"] == 200 and job["processed"] == 0
    assert response["Location"].endswith(f"/api/v1/bulk-jobs/{job['id']}/")
    # In a test transaction the job's on-commit dispatch never fires: run it here, as the worker would.
    bulk_job_run(job_id=job["id"])
    progress = client.get(f"/api/v1/bulk-jobs/{job['id']}/").json()
    assert progress["status"] == BulkJobStatus.DONE and progress["status_display"] == "已完成"
    assert (progress["processed"], progress["succeeded"]) == (200, 199)
    assert [f["case"] for f in progress["failures"]] == [returned.pk]
    assert MonitoringCase.objects.filter(stage=Stage.COUNTY_APPROVAL).count() == 199
    # Another user, even the county reviewer of the same cases, does not see someone else's job.
    assert api(county_reviewer).get(f"/api/v1/bulk-jobs/{job['id']}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_bulk_job_runs_on_a_real_worker(api, settings, celery_worker_process, new_case, walker, township_reviewer):
    settings.FPR_BULK_INLINE_LIMIT = 2
    cases = [walker.to_township(new_case()) for _ in range(4)]
    client = api(township_reviewer)

    response = client.post(
        BULK,
        {"case_ids": [c.pk for c in cases], "transition": "township_approve", "inputs": {"opinion": "同意"}},
        format="json",
    )
    assert response.status_code == 202, response.content
    url = f"/api/v1/bulk-jobs/{response.json()['id']}/"

    deadline = time.monotonic() + 60  # the worker runs in real time; time-machine does not move monotonic
    while (progress := client.get(url).json())["status"] in (BulkJobStatus.QUEUED, BulkJobStatus.RUNNING):
        assert time.monotonic() < deadline, f"bulk job did not finish: {progress}"
        time.sleep(0.2)

    assert progress["status"] == BulkJobStatus.DONE, progress
    assert (progress["total"], progress["processed"], progress["succeeded"], progress["failures"]) == (4, 4, 4, [])
    assert MonitoringCase.objects.filter(stage=Stage.COUNTY_APPROVAL).count() == 4
    assert BulkJob.objects.get().finished_at is not None
