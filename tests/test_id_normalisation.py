"""One normal form for ID numbers at every door (#12 item 1): full-width digits, spaces of every
kind, dashes and a lower-case x are normalised by the page, the API, the services, the search and
the department comparison alike; a first-generation 15-digit number is refused with its own reason;
numbers stored before are normalised by a migration, and those that turn out to be one person
registered twice are listed by the data-quality job."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from fpr.roles import Department
from households.id_numbers import FIRST_GENERATION, normalize_id_number, parse_id_number
from households.models import Member, Relationship
from households.selectors import household_list
from households.services import member_create
from monitoring.jobs import runner as jobs
from monitoring.models import JobStatus, RejectedRow, RiskWarning, TodoItem, TodoKind, UploadStatus
from monitoring.screening.comparison import EXCEL_NUMBER_REASON
from tests.builders import member_data

pytestmark = pytest.mark.django_db

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def variants(number: str) -> dict[str, str]:
    """The ways people really type one number."""
    assert number.endswith("X")
    return {
        "full_width_parts": number[:6].translate(FULL_WIDTH) + number[6:14] + number[14:].translate(FULL_WIDTH),
        "all_full_width": number.translate(FULL_WIDTH),
        "spaced": f"{number[:6]} {number[6:14]}\u3000{number[14:17]}\u00a0{number[17]}",
        "tabbed_and_dashed": f"{number[:6]}\t{number[6:14]}-{number[14:]}",
        "lowercase_x": number[:17] + "x",
    }


# A real-looking number whose check character is X (the example).
NUMBER = "11010519491231002X"


def test_normalizer_accepts_every_way_of_typing_one_number():
    assert parse_id_number(NUMBER).number == NUMBER
    for typed in variants(NUMBER).values():
        assert normalize_id_number(typed) == NUMBER
        assert parse_id_number(typed).number == NUMBER  # fully full-width too: not a birth-date reason


def test_first_generation_15_digit_number_is_refused_saying_so():
    with pytest.raises(ValidationError) as exc:
        parse_id_number("110105491231002")
    assert exc.value.messages == [FIRST_GENERATION]
    assert "15位的第一代身份证号" in FIRST_GENERATION


def test_variants_of_one_registered_id_are_stored_once_in_normal_form(cadre_a, household_a, household_b):
    registered = member_create(
        user=cadre_a, household=household_a, data=member_data("陈志强", Relationship.SON, id_number=NUMBER)
    )
    assert registered.id_number == NUMBER
    for name, typed in variants(NUMBER).items():
        with pytest.raises(ValidationError) as exc:
            member_create(
                user=cadre_a, household=household_a, data=member_data("陈志强", Relationship.SON, id_number=typed)
            )
        assert "id_number" in exc.value.message_dict, name
    assert Member.objects.filter(id_number__contains="1231").count() == 1


@pytest.mark.parametrize("kind", list(variants(NUMBER)))
def test_a_variant_is_stored_in_normal_form(cadre_a, household_a, kind):
    member = member_create(
        user=cadre_a,
        household=household_a,
        data=member_data("陈志强", Relationship.SON, id_number=variants(NUMBER)[kind]),
    )
    member.refresh_from_db()
    assert member.id_number == NUMBER


def member_page_post(id_number: str) -> dict:
    return {
        "name": "张小",
        "id_number": id_number,
        "relationship": "son",
        "health": "healthy",
        "labour_capacity": "none",
        "schooling": "compulsory",
        "employment_months": "0",
        "has_medical_insurance": "on",
    }


def test_member_page_takes_a_pasted_spaced_number_without_cutting_it(client, cadre_a, household_a):
    client.force_login(cadre_a)
    url = reverse("households:member_create", args=[household_a.pk])
    page = client.get(url).content.decode()
    assert 'maxlength="18"' not in page  # the browser must not cut a pasted "110105 19491231 002X"
    typed = "110105 1949 1231 002 X"
    assert client.post(url, member_page_post(typed)).status_code == 302
    assert household_a.members.get(name="张小").id_number == NUMBER


def test_member_page_gives_the_real_reason_for_a_spaced_number_with_a_digit_missing(client, cadre_a, household_a):
    client.force_login(cadre_a)
    url = reverse("households:member_create", args=[household_a.pk])
    response = client.post(url, member_page_post("110105 1949 1231 02X  "))
    assert response.status_code == 200
    content = response.content.decode()
    assert "身份证号码应为18位，当前为17位" in content  # the digits counted, not the characters kept
    response = client.post(url, member_page_post(NUMBER.translate(FULL_WIDTH)))
    assert response.status_code == 302
    assert household_a.members.get(name="张小").id_number == NUMBER


@pytest.mark.parametrize("separator", [" ", "\u3000", "\u00a0", "\t"])
def test_api_normalises_every_kind_of_space(cadre_a, household_a, separator):
    client = APIClient()
    client.force_authenticate(cadre_a)
    typed = f"{NUMBER[:6]}{separator}{NUMBER[6:14]}{separator}{NUMBER[14:17]}x"
    payload = {"household": household_a.pk, **member_data("陈志强", Relationship.SON, id_number=typed)}
    response = client.post("/api/v1/members/", payload, format="json")
    assert response.status_code == 201, response.content
    assert Member.objects.get(name="陈志强").id_number == NUMBER


def test_api_refuses_a_15_digit_number_with_its_reason(cadre_a, household_a):
    client = APIClient()
    client.force_authenticate(cadre_a)
    payload = {"household": household_a.pk, **member_data("陈志强", Relationship.SON, id_number="110105491231002")}
    response = client.post("/api/v1/members/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["id_number"] == [FIRST_GENERATION]


def test_search_by_a_full_width_or_spaced_number_finds_the_household(county_reviewer, household_a, household_b):
    number = household_b.members.get(relationship="head").id_number
    for typed in (number.translate(FULL_WIDTH), f" {number[:6]} {number[6:]} ", number.lower()):
        assert list(household_list(user=county_reviewer, search=typed)) == [household_b]


def test_a_department_row_in_any_form_matches_the_person(cadre_a, household_a, department_upload):
    member_create(user=cadre_a, household=household_a, data=member_data("陈志强", Relationship.SON, id_number=NUMBER))
    for kind, typed in variants(NUMBER).items():
        RiskWarning.objects.all().delete()
        upload = department_upload(
            [{"身份证号": typed, "姓名": "陈志强", "个人自付金额": "62000"}], period=f"2026-{len(kind) % 9 + 1:02d}"
        )
        assert upload.status == UploadStatus.DONE, upload.error
        assert (upload.rows_matched, upload.rows_rejected) == (1, 0), kind
        assert RiskWarning.objects.get(upload=upload).member.id_number == NUMBER


def test_department_rows_get_the_real_reason(department_upload, household_a):
    upload = department_upload(
        [
            {"身份证号": "5.22422E+17", "姓名": "甲", "个人自付金额": "100"},  # a CSV saved by Excel
            {"身份证号": "110105491231002", "姓名": "乙", "个人自付金额": "100"},
            {"身份证号": f"{NUMBER[:6]}　{NUMBER[6:16]}", "姓名": "丙", "个人自付金额": "100"},
        ],
        department=Department.MEDICAL_INSURANCE,
    )
    assert upload.status == UploadStatus.DONE, upload.error
    reasons = dict(RejectedRow.objects.filter(upload=upload).values_list("row_number", "reason"))
    assert reasons == {
        2: EXCEL_NUMBER_REASON,
        3: "身份证号为15位的第一代号码（已停止使用），应为现用的18位号码",
        4: "身份证号应为18位，当前为16位",
    }


# --------------------------------------------------------------------------- numbers stored before


def _store_as_typed(member: Member, typed: str) -> None:
    # Data entered before every door normalised: the services would normalise it now.
    Member.objects.filter(pk=member.pk).update(id_number=typed)


def _migrate() -> None:
    migration = importlib.import_module("households.migrations.0009_normalise_id_numbers")
    migration.normalise_id_numbers(apps, None)


def test_migration_normalises_stored_numbers_and_leaves_revealed_duplicates(cadre_b, household_a, household_b):
    lone = household_a.members.get(relationship="spouse")
    registered = household_a.members.get(relationship="head")
    again = household_b.members.get(relationship="spouse")
    lone_number = lone.id_number
    _store_as_typed(lone, lone_number[:6].translate(FULL_WIDTH) + lone_number[6:])
    # household_b's spouse is household_a's head typed in full-width digits: one person twice.
    _store_as_typed(again, registered.id_number.translate(FULL_WIDTH))
    # And two stored spellings of a third, unregistered number: neither may take the normal form.
    third = household_b.members.get(relationship="head")
    _store_as_typed(third, NUMBER[:17] + "x")
    fourth = member_create(
        user=cadre_b,
        household=household_b,
        data=member_data("陈志强", Relationship.SON),
    )
    _store_as_typed(fourth, NUMBER.translate(FULL_WIDTH))

    _migrate()

    for member in (lone, again, third, fourth):
        member.refresh_from_db()
    assert lone.id_number == lone_number
    assert again.id_number == registered.id_number.translate(FULL_WIDTH)  # left for the county to merge
    assert (third.id_number, fourth.id_number) == (NUMBER[:17] + "x", NUMBER.translate(FULL_WIDTH))


def test_migration_normalises_a_lone_non_normal_number(household_a):
    member = household_a.members.get(relationship="spouse")
    number = member.id_number
    _store_as_typed(member, number[:6].translate(FULL_WIDTH) + number[6:])
    _migrate()
    member.refresh_from_db()
    assert member.id_number == number


def run_data_quality() -> None:
    result = jobs.job_run(job="data_quality", triggered_by="测试")
    assert result.status == JobStatus.SUCCEEDED, result.errors


def test_data_quality_lists_duplicates_that_normalisation_reveals(household_a, household_b):
    registered = household_a.members.get(relationship="head")
    again = household_b.members.get(relationship="spouse")
    _store_as_typed(again, registered.id_number.translate(FULL_WIDTH))
    _migrate()  # cannot fix it: the normal form is someone else's
    run_data_quality()
    item = TodoItem.objects.get(kind=TodoKind.INVALID_ID, key=f"member:{again.pk}", resolved_at__isnull=True)
    assert item.household_id == household_b.pk and item.division_id == household_b.village_id
    assert item.detail.startswith("身份证号不是标准格式")
    assert f"与 {household_a.number} 户成员 {registered.name} 相同" in item.detail
    assert "请县级核实后合并" in item.detail
    assert registered.id_number not in item.detail  # masked, like every page


def test_data_quality_says_how_to_fix_a_lone_non_normal_number(household_a):
    member = household_a.members.get(relationship="spouse")
    _store_as_typed(member, NUMBER[:17] + "x")  # e.g. written by an import that bypassed the services
    run_data_quality()
    item = TodoItem.objects.get(kind=TodoKind.INVALID_ID, key=f"member:{member.pk}", resolved_at__isnull=True)
    assert item.detail.startswith("身份证号不是标准格式")
    assert "请用“更正身份证号”改为标准写法" in item.detail
