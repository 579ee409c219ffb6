"""Print pages (issue #13 point 16): the village's 公示名单, a case's 承诺授权书, 民主评议签到表 and 信息采集表 —
what they show, that no full ID number is printed, and that they are scoped like the case pages."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from monitoring.models import Stage

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 5, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def full_ids(household) -> list[str]:
    return [m.id_number for m in household.members.all()]


def masked(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def assert_print_page(body: str) -> None:
    """A4 print CSS, the 「打印」 button wired by the static script, no inline script (CSP)."""
    assert "css/print.css" in body and "js/print.js" in body
    assert "data-print" in body and ">打印</button>" in body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "inline script"


@pytest.fixture
def notice_case(case_a, walker, cadre_a):
    cadre_a.phone = "0851-1234567"
    cadre_a.save()
    case = walker.to_notice(case_a)
    assert case.stage == Stage.NOTICE
    return case


def test_notice_list_names_masked_ids_dates_place_and_where_to_object(
    client, notice_case, township_reviewer, open_case, make_household, cadre_b, village_b, walker
):
    # A case of the neighbouring village, not in notice: never on village A's list.
    other = open_case(user=cadre_b, household=make_household(user=cadre_b, village=village_b, address="红岩村"))
    client.force_login(township_reviewer)
    response = client.get(reverse("cases:print_notices", args=[notice_case.village_id]))
    assert response.status_code == 200
    body = text(response)
    assert_print_page(body)
    household = notice_case.household
    head = household.members.get(relationship="head")
    assert head.name in body and masked(head.id_number) in body
    for number in full_ids(household) + full_ids(other.household):
        assert number not in body
    assert "2026年11月4日至2026年11月10日（7天）" in body and "村务公开栏" in body
    assert "拟纳入监测对象" in body and notice_case.get_case_type_display() in body
    # where to object: the village's committee and its cadre's work number, the township
    assert "异议受理" in body and "王村干 0851-1234567" in body
    assert notice_case.village.parent.name in body
    assert other.household.number not in body


def test_notice_list_is_scoped_to_the_users_area_and_role(client, notice_case, cadre_b, department_officer):
    url = reverse("cases:print_notices", args=[notice_case.village_id])
    client.force_login(cadre_b)
    assert client.get(url).status_code == 404
    client.force_login(department_officer)
    assert client.get(url).status_code == 403


def test_notice_list_of_a_village_without_notices_says_so(client, case_a, cadre_a):
    client.force_login(cadre_a)
    body = text(client.get(reverse("cases:print_notices", args=[case_a.village_id])))
    assert "本村目前没有处于公示环节的监测对象" in body
    assert case_a.household.number not in body


def test_case_page_links_the_print_pages(client, case_a, notice_case, cadre_a):
    client.force_login(cadre_a)
    body = text(client.get(reverse("cases:detail", args=[notice_case.pk])))
    for name in ("print_authorization", "print_signin", "print_collection"):
        assert reverse(f"cases:{name}", args=[notice_case.pk]) in body
    assert reverse("cases:print_notices", args=[notice_case.village_id]) in body


def test_case_page_outside_notice_has_no_notice_list_link(client, case_a, cadre_a):
    client.force_login(cadre_a)
    body = text(client.get(reverse("cases:detail", args=[case_a.pk])))
    assert reverse("cases:print_authorization", args=[case_a.pk]) in body
    assert reverse("cases:print_notices", args=[case_a.village_id]) not in body


def test_authorization_is_prefilled_for_the_household(client, case_a, cadre_a):
    client.force_login(cadre_a)
    response = client.get(reverse("cases:print_authorization", args=[case_a.pk]))
    assert response.status_code == 200
    body = text(response)
    assert_print_page(body)
    assert "防止返贫监测对象个人申请及承诺授权书" in body
    for member in case_a.household.members.all():
        assert member.name in body and masked(member.id_number) in body and member.id_number not in body
    assert case_a.household.address in body and case_a.description in body
    assert "承诺提供的家庭人口、收入、财产和困难情况真实可靠" in body
    assert "授权有关部门和单位依法查询" in body and "户主（签字按手印）" in body


def test_signin_sheet_has_the_meeting_the_case_and_blank_rows(client, case_a, walker, cadre_a):
    case = walker.to_appraisal(case_a)
    walker.record_appraisal(case, day=dt.date(2026, 11, 3))
    client.force_login(cadre_a)
    body = text(client.get(reverse("cases:print_signin", args=[case.pk])))
    assert_print_page(body)
    assert "防止返贫监测对象识别民主评议会签到表" in body
    assert "会议日期</th><td>2026年11月3日" in body.replace("> <", "><") and "会议地点" in body
    head = case.household.members.get(relationship="head")
    assert f"{head.name}户" in body and case.household.number in body and head.id_number not in body
    assert "驻村工作队员" in body  # 评议代表 (seeds/002)
    assert body.count('class="sign-row"') == 20


def test_signin_sheet_before_the_meeting_leaves_the_date_blank(client, case_a, cadre_a):
    client.force_login(cadre_a)
    body = text(client.get(reverse("cases:print_signin", args=[case_a.pk])))
    assert '会议日期</th><td><span class="sign-line">' in body.replace("> <", "><")


def test_collection_form_prints_members_income_and_the_visit(client, case_a, walker, cadre_a):
    client.force_login(cadre_a)
    before = text(client.get(reverse("cases:print_collection", args=[case_a.pk])))
    assert "尚未入户核实，以下为当前核算数据" in before
    case = walker.to_appraisal(case_a)
    response = client.get(reverse("cases:print_collection", args=[case.pk]))
    assert response.status_code == 200
    body = text(response)
    assert_print_page(body)
    assert "防止返贫监测对象信息采集表" in body and "入户核实日期：2026-11-02" in body
    for member in case.household.members.all():
        assert member.name in body and masked(member.id_number) in body and member.id_number not in body
    assert "大病自付费用高" in body and "王村干" in body and "陈驻村（驻村工作队）" in body
    assert "两不愁三保障" in body and "人均纯收入" in body


@pytest.mark.parametrize("name", ["print_authorization", "print_signin", "print_collection"])
def test_case_print_pages_are_scoped(client, case_a, cadre_b, department_officer, township_reviewer, name):
    url = reverse(f"cases:{name}", args=[case_a.pk])
    client.force_login(cadre_b)
    assert client.get(url).status_code == 404
    client.force_login(department_officer)
    assert client.get(url).status_code == 404
    client.force_login(township_reviewer)
    assert client.get(url).status_code == 200


def test_the_village_queue_links_the_villages_notice_list(client, case_a, walker, cadre_a, township_reviewer):
    url = reverse("cases:print_notices", args=[case_a.village_id])
    client.force_login(cadre_a)
    assert url not in text(client.get(reverse("cases:queue")))  # no case in 公示: nothing to print
    walker.to_notice(case_a)
    assert url in text(client.get(reverse("cases:queue")))
    client.force_login(township_reviewer)  # a township has many villages: from each case page instead
    assert "打印本村公示名单" not in text(client.get(reverse("cases:queue")))
