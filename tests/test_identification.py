"""识别程序: the identification workflow's rules, through the real services."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from monitoring.cases.services import case_create, objection_dismiss, objection_lodge, verification_record
from monitoring.models import MonitoringCase, ObjectionStatus, Stage
from tests.builders import pdf_scan
from workflow.selectors import return_request
from workflow.services import (
    TransitionConflict,
    TransitionRefused,
    case_available_transitions,
    case_bulk_transition,
    case_transition,
    objection_substantiate,
)

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    # Every test here runs on 2026-11-23 (Beijing time 18:00) unless it moves the clock itself.
    with time_machine.travel(TODAY, tick=False):
        yield


def fire(case, transition, user, **inputs):
    return case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)


def reasons_of(excinfo) -> str:
    return "；".join(excinfo.value.reasons)


# --------------------------------------------------------------------------- the whole path


def test_happy_path_through_all_six_stages(case_a, walker):
    case = walker.to_monitoring(case_a)
    assert case.stage == Stage.MONITORING
    assert case.identified_on == dt.date(2026, 11, 23)
    assert case.is_open
    events = list(case.events.order_by("at", "id"))
    assert [e.transition for e in events] == [
        "submit_application",
        "complete_verification",
        "start_notice",
        "submit_to_township",
        "township_approve",
        "county_approve",
    ]
    assert [e.actor.username for e in events] == ["cadre_a"] * 4 + ["township", "county"]
    assert events[4].opinion == "经复核，情况属实，同意纳入。"
    assert events[5].data == {"comparison": "部门比对无异常"}
    assert events[2].from_stage == Stage.APPRAISAL and events[2].to_stage == Stage.NOTICE


def test_history_keeps_every_stage_change(case_a, walker):
    case = walker.to_monitoring(case_a)
    stages = list(case.history.order_by("history_date", "history_id").values_list("stage", flat=True))
    for stage in (Stage.APPLICATION, Stage.VERIFICATION, Stage.NOTICE, Stage.COUNTY_APPROVAL, Stage.MONITORING):
        assert stage in stages
    assert case.history.first().history_user is None or case.history.count() >= 7


# --------------------------------------------------------------------------- application


def test_no_authorization_no_next_step(open_case, household_a, cadre_a):
    case = open_case(user=cadre_a, household=household_a, signed=False)
    with pytest.raises(TransitionRefused) as exc:
        fire(case, "submit_application", cadre_a)
    assert "承诺授权书" in reasons_of(exc) and "签署日期和扫描件" in reasons_of(exc)
    case.refresh_from_db()
    assert case.stage == Stage.APPLICATION and not case.events.exists()


def test_household_has_at_most_one_open_case(case_a, open_case, household_a, cadre_a):
    with pytest.raises(ValidationError) as exc:
        open_case(user=cadre_a, household=household_a)
    assert "已有在办或监测中的案件" in str(exc.value)


def test_authorization_scan_must_be_an_image_or_pdf(household_a, cadre_a):
    fake = SimpleUploadedFile("授权书.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        case_create(
            user=cadre_a,
            household=household_a,
            case_type="marginal",
            risk_categories=["illness"],
            channel="self_report",
            description="x",
            authorization_signed_on=dt.date(2026, 11, 1),
            authorization_scan=fake,
        )
    assert "不是图片（JPG/PNG）或PDF" in str(exc.value)
    assert not MonitoringCase.objects.exists()


def test_oversized_attachment_is_refused(settings, household_a, cadre_a):
    settings.FPR_MAX_ATTACHMENT_MB = 1
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (1024 * 1024 + 1), content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        case_create(
            user=cadre_a,
            household=household_a,
            case_type="marginal",
            risk_categories=["illness"],
            channel="self_report",
            description="x",
            authorization_scan=big,
        )
    assert "超过1MB的上限" in str(exc.value)


# --------------------------------------------------------------------------- verification


def test_verification_needs_two_distinct_verifiers(case_a, walker, cadre_a):
    walker.to_verification(case_a)
    for team in (
        [{"user_id": cadre_a.pk, "name": "王村干"}],
        [{"user_id": cadre_a.pk, "name": "王村干"}, {"user_id": cadre_a.pk, "name": "王村干"}],
        [{"name": "陈驻村"}, {"name": " 陈驻村 "}],
    ):
        with pytest.raises(ValidationError) as exc:
            verification_record(
                user=cadre_a,
                case=case_a,
                visit_date=dt.date(2026, 11, 2),
                verifiers=team,
                findings="x",
                risk_points="x",
                year=2026,
            )
        assert "不少于2人" in str(exc.value)


def test_verification_cannot_complete_without_a_record(case_a, walker, cadre_a):
    walker.to_verification(case_a)
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "complete_verification", cadre_a)
    assert "尚未填写本次入户核实记录" in reasons_of(exc)


def test_verification_form_snapshots_income_and_guarantees(case_a, walker):
    walker.to_verification(case_a)
    walker.record_verification(case_a)
    collected = case_a.verifications.get().collected
    assert collected["year"] == 2026 and collected["size"] == 2
    assert collected["per_capita"] == "4500.00" and collected["monitoring_line"] == "7300.00"
    assert collected["guarantees_unmet"] == []


# --------------------------------------------------------------------------- appraisal


def test_appraisal_below_majority_fails_and_can_only_be_rejected(case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    walker.record_appraisal(case_a, votes_for=2, votes_against=3)
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "start_notice", cadre_a, starts_on=dt.date(2026, 11, 4), place="公开栏")
    assert "民主评议未通过" in reasons_of(exc)
    fire(case_a, "appraisal_reject", cadre_a, opinion="评议未通过")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.REJECTED and not case_a.is_open and case_a.close_reason == "评议未通过"


def test_appraisal_without_quorum_fails(settings, case_a, walker):
    settings.FPR_APPRAISAL_QUORUM = 7
    walker.to_appraisal(case_a)
    walker.record_appraisal(case_a, votes_for=5)
    assert case_a.appraisals.get().passed is False


def test_appraisal_votes_must_add_up_to_participants(case_a, walker, cadre_a):
    from monitoring.cases.services import appraisal_record

    walker.to_appraisal(case_a)
    with pytest.raises(ValidationError) as exc:
        appraisal_record(
            user=cadre_a,
            case=case_a,
            meeting_date=dt.date(2026, 11, 3),
            participants=[{"name": "甲", "role": "村两委成员"}, {"name": "乙", "role": "党员代表"}],
            votes_for=3,
            votes_against=0,
            votes_abstain=0,
            minutes_scan=pdf_scan(),
        )
    assert "与参会人数2人不一致" in str(exc.value)


# --------------------------------------------------------------------------- the 7-day notice


def test_notice_cannot_end_before_seven_days(case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 17))  # day 6 today (11-23)
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "submit_to_township", cadre_a)
    assert "还需等待1天" in reasons_of(exc) and "2026-11-24 起可报镇街审核" in reasons_of(exc)


def test_notice_may_end_on_day_seven(case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 17))
    with time_machine.travel(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC), tick=False):
        fire(case_a, "submit_to_township", cadre_a)
    case_a.refresh_from_db()
    assert case_a.stage == Stage.TOWNSHIP_REVIEW


def test_notice_cannot_start_in_the_future(case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    walker.record_appraisal(case_a)
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "start_notice", cadre_a, starts_on=dt.date(2026, 11, 30), place="公开栏")
    assert "不能晚于今天" in reasons_of(exc)


def test_pending_objection_blocks_and_dismissed_one_does_not(case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 10))
    objection = objection_lodge(
        user=cadre_a, case=case_a, lodged_by="村民甲", content="其子在县城有商品房", lodged_on=dt.date(2026, 11, 12)
    )
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "submit_to_township", cadre_a)
    assert "有1条异议尚未处理" in reasons_of(exc)
    objection_dismiss(user=cadre_a, objection=objection, resolution="经核查，商品房系女婿所有")
    fire(case_a, "submit_to_township", cadre_a)
    case_a.refresh_from_db()
    assert case_a.stage == Stage.TOWNSHIP_REVIEW


def test_substantiated_objection_returns_case_to_verification(case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))
    objection = objection_lodge(user=cadre_a, case=case_a, lodged_by="村民乙", content="家中有小汽车")
    objection_substantiate(user=cadre_a, objection=objection, resolution="确有车辆一辆")
    case_a.refresh_from_db()
    objection.refresh_from_db()
    assert case_a.stage == Stage.VERIFICATION and case_a.returned
    assert objection.status == ObjectionStatus.SUBSTANTIATED
    # A new verification is needed: the old record does not count for the new round.
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "complete_verification", cadre_a)
    assert "尚未填写本次入户核实记录" in reasons_of(exc)


def test_objection_only_during_the_notice(case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 4))
    with pytest.raises(ValidationError) as exc:
        objection_lodge(user=cadre_a, case=case_a, lodged_by="甲", content="x", lodged_on=dt.date(2026, 11, 20))
    assert "公示期内" in str(exc.value)


# --------------------------------------------------------------------------- township and county


def test_township_return_for_materials_comes_back_to_township_review(case_a, walker, township_reviewer, cadre_a):
    """补充材料: the village supplies what was asked and the case returns to the township without a new
    verification, appraisal or 7-day notice."""
    walker.to_township(case_a)
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "township_return", township_reviewer)
    assert "请填写“须补充的材料及原因”" in reasons_of(exc)
    fire(case_a, "township_return", township_reviewer, opinion="请补充残疾证复印件")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.SUPPLEMENT and case_a.returned
    request = return_request(case=case_a)
    assert request.label == "镇街退回补充材料" and request.opinion == "请补充残疾证复印件"
    assert "直接报镇街审核" in request.asks
    offered = [a.transition.name for a in case_available_transitions(user=cadre_a, case=case_a)]
    assert offered == ["submit_supplement"]
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "submit_supplement", cadre_a)
    assert "请填写“补充情况说明”" in reasons_of(exc)
    notices = case_a.notices.count()
    fire(case_a, "submit_supplement", cadre_a, opinion="已上传残疾证复印件")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.TOWNSHIP_REVIEW and not case_a.returned
    assert case_a.notices.count() == notices  # no new notice
    events = list(case_a.events.values_list("transition", "from_stage", "to_stage"))
    assert events[-2:] == [
        ("township_return", Stage.TOWNSHIP_REVIEW, Stage.SUPPLEMENT),
        ("submit_supplement", Stage.SUPPLEMENT, Stage.TOWNSHIP_REVIEW),
    ]
    fire(case_a, "township_approve", township_reviewer, opinion="材料已补齐，同意")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.COUNTY_APPROVAL


def test_township_return_for_verification_needs_a_new_visit(case_a, walker, township_reviewer, cadre_a):
    walker.to_township(case_a)
    fire(case_a, "township_verification_return", township_reviewer, opinion="收入测算缺少生态补偿金")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.VERIFICATION and case_a.returned
    assert "重新入户核实" in return_request(case=case_a).asks
    with pytest.raises(TransitionRefused) as exc:  # the old visit belongs to an earlier round
        fire(case_a, "complete_verification", cadre_a)
    assert "尚未填写本次入户核实记录" in reasons_of(exc)
    walker.record_verification(case_a)
    fire(case_a, "complete_verification", cadre_a)
    case_a.refresh_from_db()
    assert case_a.stage == Stage.APPRAISAL


def test_township_return_for_appraisal_keeps_the_visit_but_needs_a_new_meeting_and_notice(
    case_a, walker, township_reviewer, cadre_a
):
    walker.to_township(case_a)
    fire(case_a, "township_appraisal_return", township_reviewer, opinion="评议代表未包含村民小组长")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.APPRAISAL and case_a.returned
    with pytest.raises(TransitionRefused) as exc:  # the earlier meeting does not count for this round
        fire(case_a, "start_notice", cadre_a, starts_on=dt.date(2026, 11, 23), place="村务公开栏")
    assert "尚未填写民主评议记录" in reasons_of(exc)
    walker.record_appraisal(case_a, day=dt.date(2026, 11, 23))
    fire(case_a, "start_notice", cadre_a, starts_on=dt.date(2026, 11, 23), place="村务公开栏")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.NOTICE
    with pytest.raises(TransitionRefused) as exc:  # a new 7-day notice
        fire(case_a, "submit_to_township", cadre_a)
    assert "还需等待7天" in reasons_of(exc)


def test_reviewer_chooses_among_the_three_returns(case_a, walker, township_reviewer):
    walker.to_township(case_a)
    names = [a.transition.name for a in case_available_transitions(user=township_reviewer, case=case_a)]
    assert {"township_return", "township_verification_return", "township_appraisal_return"} <= set(names)
    assert "submit_supplement" not in names


def test_township_reject_closes_the_case(case_a, walker, township_reviewer, open_case, household_a, cadre_a):
    walker.to_township(case_a)
    fire(case_a, "township_reject", township_reviewer, opinion="家庭收入高于监测范围")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.REJECTED and not case_a.is_open
    assert case_a.closed_on == dt.date(2026, 11, 23)
    # Closed, so the household may apply again later.
    assert open_case(user=cadre_a, household=household_a).stage == Stage.APPLICATION


def test_county_return_goes_back_to_township(case_a, walker, county_reviewer):
    walker.to_county(case_a)
    fire(case_a, "county_return", county_reviewer, opinion="请补充会商材料")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.TOWNSHIP_REVIEW


def test_county_reject_closes_the_case(case_a, walker, county_reviewer):
    walker.to_county(case_a)
    fire(case_a, "county_reject", county_reviewer, opinion="部门比对发现有车辆")
    case_a.refresh_from_db()
    assert case_a.stage == Stage.REJECTED and not case_a.is_open


def test_county_approval_needs_the_comparison_result(case_a, walker, county_reviewer):
    walker.to_county(case_a)
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "county_approve", county_reviewer, opinion="同意")
    assert "部门信息比对及会商研判结果" in reasons_of(exc)


# --------------------------------------------------------------------------- who may act


# The whole table × every role: tests/test_transition_matrix.py (both tables).


def test_outsider_cannot_record_village_steps(case_a, walker, cadre_b):
    walker.to_verification(case_a)
    with pytest.raises(PermissionDenied):
        verification_record(
            user=cadre_b,
            case=case_a,
            visit_date=dt.date(2026, 11, 2),
            verifiers=[{"name": "甲"}, {"name": "乙"}],
            findings="x",
            risk_points="x",
            year=2026,
        )


def test_available_transitions_explain_what_is_missing(case_a, walker, cadre_a):
    walker.to_notice(case_a, starts_on=dt.date(2026, 11, 20))
    options = {a.transition.name: a for a in case_available_transitions(user=cadre_a, case=case_a)}
    assert set(options) == {"submit_to_township", "objection_return"}
    assert not options["submit_to_township"].allowed
    assert "还需等待4天" in options["submit_to_township"].reasons[0]


def test_reviewer_sees_no_village_actions(case_a, township_reviewer):
    assert case_available_transitions(user=township_reviewer, case=case_a) == []


# --------------------------------------------------------------------------- races and bulk


def test_stale_page_gets_already_handled(case_a, walker, township_reviewer):
    walker.to_township(case_a)
    fire(case_a, "township_approve", township_reviewer, opinion="同意")
    with pytest.raises(TransitionConflict) as exc:
        case_transition(
            user=township_reviewer,
            case_id=case_a.pk,
            transition="township_approve",
            inputs={"opinion": "同意"},
            expected_stage=Stage.TOWNSHIP_REVIEW,
        )
    assert "已被他人处理" in exc.value.message


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_yield_one_transition(case_a, walker, township_reviewer, divisions):
    """Two database connections approve the same case at the same moment: exactly one wins."""
    from fpr.roles import Role
    from tests.builders import make_user

    second_reviewer = make_user("township2", divisions["520521100000"], Role.TOWNSHIP_REVIEWER)
    walker.to_township(case_a)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait(timeout=10)
            case_transition(
                user=user,
                case_id=case_a.pk,
                transition="township_approve",
                inputs={"opinion": f"{user.username} 同意"},
                expected_stage=Stage.TOWNSHIP_REVIEW,
            )
            outcomes.append("ok")
        except TransitionConflict as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    with time_machine.travel(TODAY, tick=True):
        threads = [threading.Thread(target=approve, args=(u,)) for u in (township_reviewer, second_reviewer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert len(outcomes) == 2 and outcomes.count("ok") == 1
    assert any("已被他人处理" in o for o in outcomes)
    assert case_a.events.filter(transition="township_approve").count() == 1


def test_bulk_approve_reports_each_failure_and_does_the_rest(
    case_a, walker, township_reviewer, make_household, cadre_a, village_a, open_case
):
    walker.to_township(case_a)
    other = open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))
    result = case_bulk_transition(
        user=township_reviewer,
        case_ids=[other.pk, case_a.pk, 999999],
        transition="township_approve",
        inputs={"opinion": "同意"},
    )
    assert result["succeeded"] == 1
    failed = {f["case"]: f["reasons"] for f in result["failures"]}
    assert set(failed) == {other.pk, 999999}
    # Not eligible, not handled by anyone: the real reason, not "已被他人处理".
    assert failed[other.pk] == ["该案件处于“提交申请”环节，不能办理“镇街审核通过”（须在“镇街审核”环节办理）。"]
    assert "不在您的管辖范围内" in failed[999999][0]
    case_a.refresh_from_db()
    assert case_a.stage == Stage.COUNTY_APPROVAL


def test_bulk_says_already_handled_only_when_someone_did(
    walker, township_reviewer, divisions, open_case, make_household, cadre_a, village_a
):
    from fpr.roles import Role
    from tests.builders import make_user

    def new_case_factory():
        return open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))

    colleague = make_user("township2", divisions["520521100000"], Role.TOWNSHIP_REVIEWER, full_name="钱审核")
    by_colleague, by_me, returned, fine = (walker.to_township(new_case_factory()) for _ in range(4))
    fire(by_colleague, "township_approve", colleague, opinion="同意")
    fire(by_me, "township_approve", township_reviewer, opinion="同意")
    fire(returned, "township_return", colleague, opinion="请补充残疾证")
    result = case_bulk_transition(
        user=township_reviewer,
        case_ids=[by_colleague.pk, by_me.pk, returned.pk, fine.pk],
        transition="township_approve",
        inputs={"opinion": "同意"},
    )
    assert result["succeeded"] == 1
    failed = {f["case"]: f["reasons"] for f in result["failures"]}
    assert failed[by_colleague.pk] == [
        "已被他人处理：该案件已于 2026-11-23 18:00 由钱审核（羊场镇）办理“镇街审核通过”，"
        "现处于“县级审定”环节，请刷新后查看。"
    ]
    assert failed[by_me.pk][0].startswith("您已办理过：该案件已于 2026-11-23 18:00 办理“镇街审核通过”")
    assert failed[returned.pk][0].startswith("已被他人处理：") and "“镇街退回补充材料”" in failed[returned.pk][0]


def test_a_step_the_case_never_reached_is_refused_not_a_conflict(case_a, township_reviewer):
    with pytest.raises(TransitionRefused) as exc:
        fire(case_a, "township_approve", township_reviewer, opinion="同意")
    assert reasons_of(exc) == "该案件处于“提交申请”环节，不能办理“镇街审核通过”（须在“镇街审核”环节办理）。"
