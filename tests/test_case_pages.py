"""The case pages through Django's test client: the case page's timeline and actions, firing and refusing
transitions, stale pages, jurisdiction, the work queue and bulk approval, uploads, the admin."""

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fpr.roles import Role
from monitoring.models import Appraisal, MonitoringCase, Objection, ObjectionStatus, Stage, Verification
from tests.builders import CaseWalker, make_user, pdf_scan
from workflow.models import BulkJob, BulkJobStatus, TransitionEvent
from workflow.services import bulk_job_run

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # 18:00 in Beijing


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def page(client, case):
    return client.get(reverse("cases:detail", args=[case.pk]))


def fire(client, case, transition, expected_stage=None, **inputs):
    data = {f"{transition}-{name}": value for name, value in inputs.items()}
    data["expected_stage"] = expected_stage or case.stage
    return client.post(reverse("cases:fire", args=[case.pk, transition]), data)


def fake_exe(name="扫描件.pdf"):
    return SimpleUploadedFile(name, b"MZ\x90\x00 this is a program, not a scan", content_type="application/pdf")


# --------------------------------------------------------------------------- the case page


def test_case_page_shows_timeline_and_actions_with_reasons(client, case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 19))
    client.force_login(cadre_a)
    response = page(client, case_a)
    assert response.status_code == 200
    content = response.content.decode()
    # Timeline: each step with who, unit, from → to, and the stage records.
    for text in ("提交申请", "入户核实完成", "评议通过，开始公示", "入户核实记录", "民主评议记录", "信息采集表"):
        assert text in content
    assert "王村干" in content and "光明村" in content
    assert "提交申请 → 入户核实" in content
    assert "陈驻村（驻村工作队）" in content  # the verification team
    assert "评议人0" in content and "村两委成员" in content and "评议通过" in content
    assert "2026-11-19 至 2026-11-25" in content and "2026-11-26" in content  # notice, 可报镇街审核日期
    # Actions: submitting to the township is not possible yet, and the page says why.
    blocked = {option.transition.name: option.reasons for option, _ in response.context["blocked"]}
    assert "还需等待3天" in "".join(blocked["submit_to_township"])
    assert "还需等待3天" in content
    steps = [step["state"] for step in response.context["steps"]]
    assert steps == ["done", "done", "done", "current", "todo", "todo"]


def test_reviewer_sees_no_village_forms_and_who_acts_now(client, case_a, township_reviewer):
    client.force_login(township_reviewer)
    content = page(client, case_a).content.decode()
    assert "本环节由村级干部办理" in content
    assert reverse("cases:application", args=[case_a.pk]) not in content


def test_firing_a_transition_through_the_page(client, case_a, cadre_a):
    client.force_login(cadre_a)
    response = fire(client, case_a, "submit_application")
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.stage == Stage.VERIFICATION
    event = TransitionEvent.objects.get(case=case_a)
    assert event.actor == cadre_a and event.actor_division == "光明村"
    content = client.get(response.url).content.decode()
    assert "已办理“提交申请”，案件进入“入户核实”环节。" in content
    assert reverse("cases:verification", args=[case_a.pk]) in content


def test_refused_transition_shows_the_reasons(client, open_case, household_a, cadre_a):
    case = open_case(user=cadre_a, household=household_a, signed=False)
    client.force_login(cadre_a)
    response = fire(client, case, "submit_application")
    assert response.status_code == 200
    content = response.content.decode()
    assert "不能办理" in content
    assert "缺少《防止返贫监测对象个人申请及承诺授权书》的签署日期和扫描件" in content
    case.refresh_from_db()
    assert case.stage == Stage.APPLICATION and not case.events.exists()


def test_missing_opinion_is_named(client, case_a, walker, township_reviewer):
    walker.to_township(case_a)
    client.force_login(township_reviewer)
    response = fire(client, case_a, "township_approve", opinion="  ")
    assert response.status_code == 200
    assert "请填写“复核意见”。" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.stage == Stage.TOWNSHIP_REVIEW


def test_stale_page_gets_already_handled(client, case_a, walker, township_reviewer):
    walker.to_township(case_a)
    shown = case_a.stage  # the reviewer opens the page …
    walker.fire(case_a, "township_approve", walker.township, opinion="同意")  # … a colleague acts first
    client.force_login(township_reviewer)
    response = fire(client, case_a, "township_return", expected_stage=shown, opinion="材料不全")
    assert response.status_code == 302
    content = client.get(response.url).content.decode()
    assert "已被他人处理" in content
    case_a.refresh_from_db()
    assert case_a.stage == Stage.COUNTY_APPROVAL
    assert not case_a.events.filter(transition="township_return").exists()


def test_outsider_gets_404_on_page_and_posts(client, case_a, cadre_b):
    client.force_login(cadre_b)
    assert page(client, case_a).status_code == 404
    assert fire(client, case_a, "submit_application").status_code == 404
    for name in ("application", "verification", "appraisal", "authorization_file"):
        assert client.get(reverse(f"cases:{name}", args=[case_a.pk])).status_code == 404
    case_a.refresh_from_db()
    assert case_a.stage == Stage.APPLICATION and not case_a.events.exists()


def test_case_history_lists_field_changes(client, case_a, walker, cadre_a):
    walker.to_verification(case_a)
    client.force_login(cadre_a)
    history = page(client, case_a).context["history"]
    changes = [change for entry in history for change in entry.changes]
    assert ("当前环节", "提交申请", "入户核实") in changes


def test_case_history_shows_risk_changes_in_a_fixed_number_of_queries(client, case_a, cadre_a):
    """Risk categories are a many-to-many: their history is read in one query, not two per change."""
    from monitoring.cases.selectors import case_history
    from monitoring.cases.services import case_update_application

    case_update_application(user=cadre_a, case=case_a, risk_categories=["illness", "disability"])
    with CaptureQueriesContext(connection) as few:
        case_history(case=case_a)
    for note in ("一", "二", "三", "四"):
        case_update_application(user=cadre_a, case=case_a, description=f"补充情况{note}")
    with CaptureQueriesContext(connection) as many:
        history = case_history(case=case_a)
    assert len(many.captured_queries) == len(few.captured_queries)
    changes = [change for entry in history for change in entry.changes]
    assert ("风险类型", "因病", "因病、因残") in changes


# --------------------------------------------------------------------------- application and records


def test_household_page_offers_the_application_to_its_cadre(client, household_a, cadre_a, township_reviewer):
    url = reverse("households:detail", args=[household_a.pk])
    client.force_login(township_reviewer)
    assert "申请纳入监测" not in client.get(url).content.decode()
    client.force_login(cadre_a)
    content = client.get(url).content.decode()
    assert "申请纳入监测" in content and reverse("cases:create", args=[household_a.pk]) in content


def test_household_page_links_its_open_case(client, case_a, cadre_a):
    client.force_login(cadre_a)
    content = client.get(reverse("households:detail", args=[case_a.household.pk])).content.decode()
    assert "监测申请办理中" in content and reverse("cases:detail", args=[case_a.pk]) in content
    assert reverse("cases:create", args=[case_a.household.pk]) not in content


def application_post(**extra) -> dict:
    data = {
        "case_type": "marginal",
        "risk_categories": ["illness", "schooling"],
        "channel": "self_report",
        "colour": "",
        "description": "户主患病，子女上学，支出大。",
        "authorization_signed_on": "2026-11-20",
        "authorization_scan": pdf_scan("承诺授权书.pdf"),
    }
    data.update(extra)
    return data


def test_cadre_applies_from_the_household_page(client, household_a, cadre_a):
    client.force_login(cadre_a)
    response = client.post(reverse("cases:create", args=[household_a.pk]), application_post())
    case = MonitoringCase.objects.get(household=household_a)
    assert response.status_code == 302 and response.url == reverse("cases:detail", args=[case.pk])
    assert case.stage == Stage.APPLICATION and case.authorization_scan
    assert sorted(case.risk_categories.values_list("code", flat=True)) == ["illness", "schooling"]
    download = client.get(reverse("cases:authorization_file", args=[case.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_attachment_that_is_not_jpg_png_or_pdf_is_refused(client, household_a, cadre_a):
    client.force_login(cadre_a)
    response = client.post(
        reverse("cases:create", args=[household_a.pk]), application_post(authorization_scan=fake_exe())
    )
    assert response.status_code == 200
    assert "不是图片（JPG/PNG）或PDF" in response.context["form"].errors["authorization_scan"][0]
    assert not MonitoringCase.objects.exists()


def test_transition_attachment_must_be_a_scan(client, case_a, walker, township_reviewer):
    walker.to_township(case_a)
    client.force_login(township_reviewer)
    data = {"expected_stage": Stage.TOWNSHIP_REVIEW, "township_approve-opinion": "同意"}
    data["township_approve-attachments"] = [fake_exe("审批表.pdf")]
    response = client.post(reverse("cases:fire", args=[case_a.pk, "township_approve"]), data)
    assert response.status_code == 200
    assert "不是图片（JPG/PNG）或PDF" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.stage == Stage.TOWNSHIP_REVIEW
    data["township_approve-attachments"] = [pdf_scan("识别审批表.pdf")]
    assert client.post(reverse("cases:fire", args=[case_a.pk, "township_approve"]), data).status_code == 302
    content = page(client, case_a).content.decode()
    assert "识别审批表.pdf" in content


def test_verification_needs_two_verifiers(client, case_a, walker, cadre_a):
    walker.to_verification(case_a)
    client.force_login(cadre_a)
    url = reverse("cases:verification", args=[case_a.pk])
    data = {
        "visit_date": "2026-11-22",
        "team": [str(cadre_a.pk)],
        "findings": "情况属实",
        "risk_points": "医疗支出大",
        "year": "2026",
        "verifiers-TOTAL_FORMS": "2",
        "verifiers-INITIAL_FORMS": "0",
        "verifiers-0-name": "",
        "verifiers-1-name": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "入户核实组不少于2人" in response.content.decode()
    assert not Verification.objects.exists()
    data.update({"verifiers-0-name": "陈驻村", "verifiers-0-unit": "驻村工作队"})
    assert client.post(url, data).status_code == 302
    verification = Verification.objects.get(case=case_a)
    assert sorted(v.name for v in verification.verifiers.all()) == ["王村干", "陈驻村"]
    assert verification.collected["has_income_items"] is True


def test_appraisal_with_five_participants_and_minutes(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    roles = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
    data = {
        "meeting_date": "2026-11-22",
        "votes_for": "4",
        "votes_against": "1",
        "votes_abstain": "0",
        "minutes_scan": pdf_scan("会议记录.pdf"),
        "participants-TOTAL_FORMS": "5",
        "participants-INITIAL_FORMS": "0",
    }
    for index, role in enumerate(roles):
        data.update({f"participants-{index}-name": f"代表{index}", f"participants-{index}-role": role})
    response = client.post(reverse("cases:appraisal", args=[case_a.pk]), data)
    assert response.status_code == 302
    appraisal = Appraisal.objects.get(case=case_a)
    assert appraisal.passed and len(appraisal.participants) == 5
    content = page(client, case_a).content.decode()
    assert reverse("cases:minutes_file", args=[case_a.pk, appraisal.pk]) in content


def test_objection_lodged_then_substantiated_returns_to_verification(client, case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))
    client.force_login(cadre_a)
    lodge = {"lodged_by": "村民刘某", "lodged_on": "2026-11-21", "content": "该户有小轿车一辆"}
    assert client.post(reverse("cases:objection", args=[case_a.pk]), lodge).status_code == 302
    objection = Objection.objects.get()
    content = page(client, case_a).content.decode()
    assert "公示期间有1条异议尚未处理" in content and "该户有小轿车一辆" in content
    url = reverse("cases:objection_substantiate", args=[case_a.pk, objection.pk])
    assert client.post(url, {f"objection-{objection.pk}-resolution": "经核查属实"}).status_code == 302
    objection.refresh_from_db()
    case_a.refresh_from_db()
    assert objection.status == ObjectionStatus.SUBSTANTIATED and case_a.stage == Stage.VERIFICATION


def test_objection_dismissed_without_a_finding_is_refused(client, case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))
    objection = Objection.objects.create(
        notice=case_a.notices.get(), lodged_on=dt.date(2026, 11, 21), lodged_by="张某", content="不属实"
    )
    client.force_login(cadre_a)
    url = reverse("cases:objection_dismiss", args=[case_a.pk, objection.pk])
    response = client.post(url, {f"objection-{objection.pk}-resolution": ""})
    assert response.status_code == 200
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING


# --------------------------------------------------------------------------- queue and bulk


def walk_to_township(walker, case, *, on: dt.datetime):
    walker.to_notice(case)
    with time_machine.travel(on, tick=False):
        walker.fire(case, "submit_to_township", walker.cadre)
    return case


@pytest.fixture
def township_cases(open_case, make_household, cadre_a, village_a, walker):
    """Three cases of village A waiting for the township: 8, 3 and 5 days."""
    cases = []
    for day in (15, 20, 18):
        household = make_household(user=cadre_a, village=village_a)
        case = open_case(user=cadre_a, household=household)
        cases.append(walk_to_township(walker, case, on=dt.datetime(2026, 11, day, 2, tzinfo=dt.UTC)))
    return cases


def test_township_queue_lists_its_township_review_cases_by_waiting_time(
    client, township_cases, open_case, make_household, cadre_a, village_a, village_c, walker, township_reviewer
):
    in_notice = walker.to_notice(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
    cadre_c = make_user("cadre_c", village_c, Role.VILLAGE_CADRE, full_name="孙村干")
    other = open_case(user=cadre_c, household=make_household(user=cadre_c, village=village_c))
    CaseWalker(cadre_c, None, None).to_township(other)  # another township's case

    client.force_login(township_reviewer)
    response = client.get(reverse("cases:queue"))
    rows = response.context["page"]["rows"]
    assert [case.pk for case in rows] == [township_cases[0].pk, township_cases[2].pk, township_cases[1].pk]
    assert [case.waiting.days for case in rows] == [8, 5, 3]
    assert in_notice.pk not in [case.pk for case in rows] and other.pk not in [case.pk for case in rows]
    content = response.content.decode()
    assert "8 天" in content and "批量办理" in content and "审核通过，报县级审定" in content


def test_village_queue_marks_notices_and_returned_cases(client, case_a, walker, cadre_a, township_reviewer):
    walker.to_township(case_a)
    walker.fire(case_a, "township_return", township_reviewer, opinion="缺少算账材料")
    client.force_login(cadre_a)
    content = client.get(reverse("cases:queue")).content.decode()
    assert "被退回" in content
    assert "批量办理" not in content  # village steps are done one case at a time


def test_queue_shows_notice_deadline(client, case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))
    client.force_login(cadre_a)
    content = client.get(reverse("cases:queue")).content.decode()
    assert "公示至 2026-11-26" in content and "11-27 起可报" in content


def test_bulk_approve_lists_the_failing_case(client, township_cases, walker, township_reviewer, divisions):
    first, second, third = township_cases
    colleague = make_user("township2", divisions["520521100000"], Role.TOWNSHIP_REVIEWER, full_name="钱审核")
    walker.fire(second, "township_approve", colleague, opinion="已审")  # handled meanwhile
    client.force_login(township_reviewer)
    data = {"cases": [first.pk, second.pk, third.pk], "transition": "township_approve", "opinion": "经复核，同意。"}
    response = client.post(reverse("cases:bulk"), data)
    assert response.status_code == 302
    content = client.get(response.url).content.decode()
    assert "共 3 件，成功 2 件" in content and "1 件未办理" in content
    assert second.household.number in content and "已被他人处理：该案件已于 2026-11-23 18:00 由钱审核" in content
    for case in (first, third):
        case.refresh_from_db()
        assert case.stage == Stage.COUNTY_APPROVAL
        assert case.events.get(transition="township_approve").opinion == "经复核，同意。"


def test_bulk_without_opinion_fires_nothing(client, township_cases, township_reviewer):
    client.force_login(township_reviewer)
    data = {"cases": [case.pk for case in township_cases], "transition": "township_approve", "opinion": ""}
    response = client.post(reverse("cases:bulk"), data, follow=True)
    assert "未办理：请填写“复核意见”。" in response.content.decode()
    assert not TransitionEvent.objects.filter(transition="township_approve").exists()


def test_bulk_is_refused_to_village_cadres(client, case_a, cadre_a):
    client.force_login(cadre_a)
    response = client.post(reverse("cases:bulk"), {"cases": [case_a.pk], "transition": "submit_application"})
    assert response.status_code == 403


def test_large_bulk_runs_as_a_job_with_progress(client, settings, township_cases, walker, township_reviewer):
    settings.FPR_BULK_INLINE_LIMIT = 2
    walker.fire(township_cases[1], "township_approve", walker.township, opinion="已审")
    client.force_login(township_reviewer)
    data = {"cases": [case.pk for case in township_cases], "transition": "township_approve", "opinion": "同意"}
    response = client.post(reverse("cases:bulk"), data)
    job = BulkJob.objects.get()
    assert response.url == reverse("cases:bulk_job", args=[job.pk])
    waiting = client.get(response.url).content.decode()
    assert "data-poll=" in waiting and "排队中" in waiting and "http-equiv" in waiting  # (in <noscript> only)
    assert client.get(response.url + "?format=json").json() == {
        "done": False,
        "status": "排队中",
        "figures": {"processed": 0, "succeeded": 0, "failed": 0},
    }
    bulk_job_run(job_id=job.pk)  # what the Celery worker does
    done = client.get(response.url).content.decode()
    assert "http-equiv" not in done and "data-poll" not in done
    assert client.get(response.url + "?format=json").json()["done"] is True
    text = re.sub(r"<[^>]+>", "", done)
    assert "已完成" in done and "成功 2 件" in text and township_cases[1].household.number in done
    assert BulkJob.objects.get().status == BulkJobStatus.DONE


def test_bulk_job_is_visible_to_its_owner_only(client, township_cases, township_reviewer, county_reviewer):
    job = BulkJob.objects.create(user=township_reviewer, transition="township_approve", total=1)
    client.force_login(county_reviewer)
    assert client.get(reverse("cases:bulk_job", args=[job.pk])).status_code == 404


def _queue_queries(client) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cases:queue"))
    assert response.status_code == 200
    return len(queries), response


def test_queue_query_count_does_not_grow_with_cases(
    client, open_case, make_household, cadre_a, village_a, walker, township_reviewer
):
    def add(count):
        for _ in range(count):
            case = open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))
            walker.to_township(case)

    client.force_login(township_reviewer)
    add(3)
    few, response = _queue_queries(client)
    assert len(response.context["page"]["rows"]) == 3
    add(27)
    many, response = _queue_queries(client)
    assert len(response.context["page"]["rows"]) == 30
    assert many == few


def test_case_list_filters_by_stage(client, township_cases, case_a, cadre_a):
    client.force_login(cadre_a)
    rows = client.get(reverse("cases:list"), {"stage": Stage.APPLICATION}).context["page"]["rows"]
    assert [case.pk for case in rows] == [case_a.pk]
    everything = client.get(reverse("cases:list")).context["page"]["rows"]
    assert len(everything) == 4
    assert "不予纳入" in client.get(reverse("cases:list")).content.decode()  # a stage to filter on


def test_case_list_pages_by_keyset(client, open_case, make_household, cadre_a, village_a):
    created = []
    for day in range(52):
        with time_machine.travel(TODAY - dt.timedelta(hours=day), tick=False):
            created.append(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)).pk)
    client.force_login(cadre_a)
    first = client.get(reverse("cases:list"))
    assert [case.pk for case in first.context["page"]["rows"]] == created[:50]  # newest first
    second = client.get(reverse("cases:list") + "?" + first.context["page"]["next_query"])
    assert [case.pk for case in second.context["page"]["rows"]] == created[50:]
    assert second.context["page"]["next_query"] is None
    back = client.get(reverse("cases:list") + "?" + second.context["page"]["previous_query"])
    assert [case.pk for case in back.context["page"]["rows"]] == created[:50]


def test_menu_offers_queue_and_cases(client, cadre_a):
    client.force_login(cadre_a)
    content = client.get(reverse("cases:queue")).content.decode()
    assert f'href="{reverse("cases:queue")}" aria-current="page">待办' in content
    assert f'href="{reverse("cases:list")}" >监测对象' in content


# --------------------------------------------------------------------------- admin


@pytest.fixture
def superuser(divisions):
    return make_user("root", divisions["520521000000"], is_superuser=True, is_staff=True)


def test_admin_cannot_change_stage(client, case_a, superuser):
    client.force_login(superuser)
    url = reverse("admin:monitoring_monitoringcase_change", args=[case_a.pk])
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ("stage", "stage_round", "is_open", "identified_on", "last_transition"):
        assert name not in form.fields
    assert 'name="stage"' not in response.content.decode()
    assert "提交申请" in response.content.decode()  # shown, read-only
    data = {
        "case_type": "marginal",
        "risk_categories": ["illness"],
        "channel": "self_report",
        "description": "改",
        "stage": Stage.MONITORING,
        "is_open": "",
    }
    response = client.post(url, data)
    case_a.refresh_from_db()
    assert case_a.stage == Stage.APPLICATION and case_a.is_open and case_a.description != "改"
    assert "只有村级干部可以办理村级环节" in response.content.decode()


def test_admin_transition_events_are_read_only(client, case_a, walker, superuser):
    walker.to_verification(case_a)
    client.force_login(superuser)
    event = TransitionEvent.objects.get()
    response = client.get(reverse("admin:workflow_transitionevent_change", args=[event.pk]))
    assert response.status_code == 200 and 'name="opinion"' not in response.content.decode()
    assert client.get(reverse("admin:workflow_transitionevent_add")).status_code == 403
    assert client.get(reverse("admin:monitoring_riskcategory_changelist")).status_code == 200


def test_the_case_history_names_a_new_scan_not_its_storage_path(client, open_case, household_a, cadre_a):
    """#13 journeys: 变更记录 showed "authorizations/2026/11/承诺授权书.pdf"; it shows the file's name."""
    from monitoring.cases.services import case_update_application
    from tests.builders import pdf_scan

    case = open_case(user=cadre_a, household=household_a, signed=False)
    case_update_application(user=cadre_a, case=case, authorization_scan=pdf_scan("承诺授权书（签字）.pdf"))
    client.force_login(cadre_a)
    history = client.get(reverse("cases:detail", args=[case.pk])).context["history"]
    shown = [(label, after) for entry in history for label, _, after in entry.changes if "扫描件" in label]
    assert shown and shown[0][1].startswith("已上传：") and "/" not in shown[0][1]
