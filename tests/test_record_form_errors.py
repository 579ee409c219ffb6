"""The record forms after a failed submission (#13 point 4): a valid attachment is kept for the next
post ("已上传：会议记录.pdf（重新提交时保留）"), and every problem is told in one round."""

import datetime as dt
import os
import re
import time

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fpr import pending
from fpr.roles import Role
from households.models import Household
from monitoring.models import Appraisal, MonitoringCase, Verification
from tests.builders import PDF_BYTES, make_user, new_id_number, pdf_scan
from tests.test_pages import create_post

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
ROLES = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
KEPT = re.compile(r'name="(?P<name>[\w-]+_kept)" value="(?P<token>[^"]+)"')


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def appraisal_post(*, votes_for="4", minutes=None, meeting_date="2026-11-22", **extra) -> dict:
    data = {
        "meeting_date": meeting_date,
        "votes_for": votes_for,
        "votes_against": "1",
        "votes_abstain": "0",
        "participants-TOTAL_FORMS": "5",
        "participants-INITIAL_FORMS": "0",
    }
    for index, role in enumerate(ROLES):
        data.update({f"participants-{index}-name": f"代表{index}", f"participants-{index}-role": role})
    if minutes is not None:
        data["minutes_scan"] = minutes
    data.update(extra)
    return data


def kept_token(content: str) -> tuple[str, str]:
    match = KEPT.search(content)
    assert match, "the page carries no kept file"
    return match["name"], match["token"]


def pending_files() -> list[str]:
    root = os.path.join(default_storage.location, "pending")
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


# --------------------------------------------------------------------------- keeping the file


def test_appraisal_minutes_survive_a_wrong_vote_count_and_are_used_next_time(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    url = reverse("cases:appraisal", args=[case_a.pk])
    response = client.post(url, appraisal_post(votes_for="5", minutes=pdf_scan("会议记录.pdf")))
    content = response.content.decode()
    assert response.status_code == 200 and not Appraisal.objects.exists()
    assert "与参会人数5人不一致" in content
    assert "已上传：会议记录.pdf（重新提交时保留）" in content and "移除" in content
    name, token = kept_token(content)
    assert name == "minutes_scan_kept" and len(pending_files()) == 1

    response = client.post(url, appraisal_post(**{name: token}))  # no file chosen this time
    assert response.status_code == 302
    appraisal = Appraisal.objects.get(case=case_a)
    assert appraisal.minutes_scan.name.endswith(".pdf")
    with appraisal.minutes_scan.open("rb") as stored:
        assert stored.read() == PDF_BYTES
    assert pending_files() == []  # the kept copy is gone once the record is saved


def test_appraisal_minutes_survive_a_form_error_too(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    url = reverse("cases:appraisal", args=[case_a.pk])
    response = client.post(url, appraisal_post(meeting_date="", minutes=pdf_scan("会议记录.pdf")))
    content = response.content.decode()
    assert response.context["form"].errors["meeting_date"]
    name, token = kept_token(content)
    assert "已上传：会议记录.pdf" in content
    assert client.post(url, appraisal_post(**{name: token})).status_code == 302
    assert Appraisal.objects.get(case=case_a).minutes_scan


def test_a_kept_file_can_be_removed(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    url = reverse("cases:appraisal", args=[case_a.pk])
    name, token = kept_token(client.post(url, appraisal_post(votes_for="5", minutes=pdf_scan())).content.decode())
    response = client.post(url, appraisal_post(**{name: token, f"{name}_remove": "1"}))
    content = response.content.decode()
    assert response.status_code == 200 and not Appraisal.objects.exists()
    assert "请上传参会人员签字的会议记录扫描件" in content and "重新提交时保留" not in content


def test_a_new_file_replaces_the_kept_one(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    url = reverse("cases:appraisal", args=[case_a.pk])
    name, token = kept_token(
        client.post(url, appraisal_post(votes_for="5", minutes=pdf_scan("旧.pdf"))).content.decode()
    )
    assert client.post(url, appraisal_post(minutes=pdf_scan("新.pdf"), **{name: token})).status_code == 302
    assert "新" in Appraisal.objects.get(case=case_a).minutes_scan.name


def test_an_invalid_file_is_not_kept(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    fake = SimpleUploadedFile("会议记录.pdf", b"<html>not a scan</html>", content_type="application/pdf")
    response = client.post(reverse("cases:appraisal", args=[case_a.pk]), appraisal_post(minutes=fake))
    content = response.content.decode()
    assert "不是图片（JPG/PNG）或PDF" in content
    assert "重新提交时保留" not in content and pending_files() == []


def test_a_kept_file_works_only_for_its_user_and_case(client, case_a, walker, cadre_a, village_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    url = reverse("cases:appraisal", args=[case_a.pk])
    name, token = kept_token(client.post(url, appraisal_post(votes_for="5", minutes=pdf_scan())).content.decode())
    other = make_user("cadre_a2", village_a, Role.VILLAGE_CADRE)
    client.force_login(other)
    response = client.post(url, appraisal_post(**{name: token}))
    assert response.status_code == 200 and not Appraisal.objects.exists()
    assert "请上传参会人员签字的会议记录扫描件" in response.content.decode()
    # The same user on another record (the application form of the case) cannot use it either.
    assert pending.load(token, user=cadre_a, scope=f"case:{case_a.pk}:application") is None
    assert pending.load(token, user=cadre_a, scope=f"case:{case_a.pk}:appraisal") is not None


def test_a_kept_file_expires_after_a_day(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    url = reverse("cases:appraisal", args=[case_a.pk])
    name, token = kept_token(client.post(url, appraisal_post(votes_for="5", minutes=pdf_scan())).content.decode())
    with time_machine.travel(TODAY + dt.timedelta(hours=25), tick=False):
        assert pending.load(token, user=cadre_a, scope=f"case:{case_a.pk}:appraisal") is None
    assert pending.purge(now=time.time() + 10 * 365 * 86400) == 1 and pending_files() == []


def test_application_scan_survives_a_missing_description(client, household_a, cadre_a):
    client.force_login(cadre_a)
    url = reverse("cases:create", args=[household_a.pk])
    data = {"case_type": "marginal", "risk_categories": ["illness"], "channel": "self_report", "description": ""}
    response = client.post(url, {**data, "authorization_scan": pdf_scan("承诺授权书.pdf")})
    content = response.content.decode()
    assert response.context["form"].errors["description"] and not MonitoringCase.objects.exists()
    assert "已上传：承诺授权书.pdf（重新提交时保留）" in content
    name, token = kept_token(content)
    response = client.post(url, {**data, "description": "户主患病住院。", name: token})
    assert response.status_code == 302
    case = MonitoringCase.objects.get(household=household_a)
    with case.authorization_scan.open("rb") as stored:
        assert stored.read() == PDF_BYTES


# --------------------------------------------------------------------------- every problem at once


def test_appraisal_tells_the_vote_count_and_the_bad_scan_together(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    client.force_login(cadre_a)
    fake = SimpleUploadedFile("会议记录.pdf", b"<html>not a scan</html>", content_type="application/pdf")
    data = appraisal_post(votes_for="5", minutes=fake, meeting_date="2026-11-30")
    response = client.post(reverse("cases:appraisal", args=[case_a.pk]), data)
    errors = response.context["form"].errors
    assert "与参会人数5人不一致" in errors["votes_for"][0]
    assert "不是图片（JPG/PNG）或PDF" in errors["minutes_scan"][0]
    assert errors["meeting_date"] == ["评议日期不能晚于今天。"]


def test_application_tells_the_bad_scan_and_the_missing_risk_type_together(client, household_a, cadre_a):
    client.force_login(cadre_a)
    fake = SimpleUploadedFile("承诺授权书.pdf", b"MZ\x90\x00 a program", content_type="application/pdf")
    data = {"case_type": "marginal", "channel": "self_report", "description": "户主患病。", "authorization_scan": fake}
    response = client.post(reverse("cases:create", args=[household_a.pk]), data)
    errors = response.context["form"].errors
    assert "不是图片（JPG/PNG）或PDF" in errors["authorization_scan"][0]
    assert errors["risk_categories"] == ["请至少选择一个有效的风险类型。"]
    assert not MonitoringCase.objects.exists()


def test_verification_tells_the_team_and_the_date_together(client, case_a, walker, cadre_a):
    walker.to_verification(case_a)
    client.force_login(cadre_a)
    data = {
        "visit_date": "2026-11-30",
        "team": [str(cadre_a.pk)],
        "findings": "情况属实",
        "risk_points": "医疗支出大",
        "year": "2026",
        "verifiers-TOTAL_FORMS": "1",
        "verifiers-INITIAL_FORMS": "0",
        "verifiers-0-name": "",
    }
    response = client.post(reverse("cases:verification", args=[case_a.pk]), data)
    content = response.content.decode()
    assert "入户核实组不少于2人" in content
    assert response.context["form"].errors["visit_date"] == ["入户日期不能晚于今天。"]
    assert not Verification.objects.exists()


def test_household_registration_tells_the_id_and_the_illness_name_together(client, cadre_a, village_a):
    bad = new_id_number()
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    members = [
        {"name": "赵大", "id_number": bad, "relationship": "head"},
        {"name": "钱二", "id_number": new_id_number(male=False), "relationship": "spouse", "health": "serious"},
    ]
    client.force_login(cadre_a)
    response = client.post(reverse("households:create"), create_post(village_a, members))
    content = response.content.decode()
    assert "身份证号码校验位错误" in content
    assert "患大病的成员须填写疾病名称。" in content
    rows = response.context["formset"].forms
    assert rows[0].errors["id_number"] and rows[1].errors["illness"] == ["患大病的成员须填写疾病名称。"]
    assert not Household.objects.exists()


def test_a_transition_form_tells_a_bad_date_and_a_missing_input_together(client, case_a, walker, cadre_a):
    walker.to_appraisal(case_a)
    walker.record_appraisal(case_a)
    client.force_login(cadre_a)
    data = {"start_notice-starts_on": "2026-13-40", "start_notice-place": "", "expected_stage": case_a.stage}
    response = client.post(reverse("cases:fire", args=[case_a.pk, "start_notice"]), data)
    assert response.status_code == 200
    form = next(form for option, form in response.context["actions"] if option.transition.name == "start_notice")
    assert form.errors["starts_on"]  # the date the form could not read
    assert form.non_field_errors() == ["请填写“公示地点”。"]  # told in the same round, not the next
    content = response.content.decode()
    assert "请填写“公示地点”。" in content
    case_a.refresh_from_db()
    assert case_a.stage == "appraisal"
