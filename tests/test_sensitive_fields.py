"""Sensitive fields are one list (`fpr.sensitive`): ID number, disability certificate, bank account and
phone are masked by every door that reads the list — API, pages, edit forms, history, logs — and shown
in full only after a logged reveal with a reason (issue #11: findings 4, 5, 6, 16)."""

import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from fpr.log_masking import mask_text
from fpr.sensitive import SENSITIVE_FIELDS, Kind, fields_of, mask
from households import services
from households.models import Health, Household, Member, Relationship, SensitiveAccess
from tests.builders import member_data, new_id_number

pytestmark = pytest.mark.django_db

BANK = "6228480012345678901"
PHONE = "13812345678"


def disabled_member(name: str, relationship: str = Relationship.SPOUSE) -> dict:
    number = new_id_number()
    return member_data(
        name,
        relationship,
        id_number=number,
        health=Health.DISABLED,
        disability_category=4,
        disability_grade=2,
        disability_certificate=number + "42",
    )


@pytest.fixture
def household(make_household, cadre_a, village_a) -> Household:
    return make_household(
        user=cadre_a,
        village=village_a,
        members=[member_data("张三"), disabled_member("李四")],
        phone=PHONE,
        bank_name="农村信用社",
        bank_account=BANK,
    )


def holder_of_certificate(household) -> Member:
    return household.members.exclude(disability_certificate="").get()


def body(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


# --------------------------------------------------------------------------- the declaration


def test_one_declaration_lists_every_sensitive_field():
    assert {(f.model, f.name, f.kind) for f in SENSITIVE_FIELDS} >= {
        ("households.Member", "id_number", Kind.ID_NUMBER),
        ("households.Member", "disability_certificate", Kind.CERTIFICATE),
        ("households.Household", "bank_account", Kind.BANK_ACCOUNT),
        ("households.Household", "phone", Kind.PHONE),
    }
    assert fields_of("households.Member") == {"id_number": Kind.ID_NUMBER, "disability_certificate": Kind.CERTIFICATE}
    assert mask(Kind.PHONE, PHONE) == "138****5678"
    assert mask(Kind.CERTIFICATE, "52240119900101123442") == "5224************3442"


# --------------------------------------------------------------------------- the log mask (finding 16)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("证号 52240119900101123442 已登记", "52240119900101123442"),  # certificate: ID + category + grade
        ("证号 52240119900101123X42B1", "52240119900101123X42B1"),  # reissued (B + digit), ID ending in X
        ("老证 522401900101123 查无此人", "522401900101123"),  # first-generation 15-digit ID
        ("GET /households/?q=5224 0119 9001 0112 34 HTTP/1.1", "5224 0119 9001 0112 34"),  # spaced
        ("身份证 522401-19900101-1234", "522401-19900101-1234"),  # hyphens
        ('"GET /households/?q=5224+0119+9001+0112+34 HTTP/1.1" 200', "5224+0119+9001+0112+34"),  # a query string
        ('"GET /households/?q=5224%200119%209001%200112%2034 HTTP/1.1" 200', "5224%200119%209001%200112%2034"),
        ("联系电话 13812345678", "13812345678"),
        ("联系电话 138-1234-5678", "138-1234-5678"),
        ("卡号 6228480012345678901", "6228480012345678901"),
        ("身份证号 522401199001011234", "522401199001011234"),
    ],
)
def test_log_mask_covers_certificates_old_and_spaced_ids_and_phones(text, hidden):
    masked = mask_text(text)
    assert hidden not in masked
    digits = hidden.replace(" ", "").replace("-", "").replace("+", "").replace("%20", "")
    assert digits not in masked and "*" in masked
    assert masked.startswith(text[: text.index(hidden)])  # the rest of the line is left readable


def test_log_mask_leaves_household_numbers_dates_and_counts_readable():
    text = "农户 5205211000010001 于 20261124 处理 1200 行，耗时 35 秒"
    assert mask_text(text) == text


def test_request_log_masks_certificate_in_the_path(caplog, cadre_a, household):
    caplog.set_level(logging.DEBUG)
    certificate = holder_of_certificate(household).disability_certificate
    client = Client()
    client.force_login(cadre_a)
    client.get(f"/households/{certificate}/")  # 404: Django's request log writes the path
    client.get(f"/households/{certificate[:6]} {certificate[6:14]} {certificate[14:18]}/")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Not Found" in text and certificate not in text and certificate[:18] not in text


# --------------------------------------------------------------------------- reveals need a reason (6)


def test_a_reveal_with_an_empty_reason_is_refused(county_reviewer, household):
    with pytest.raises(ValidationError, match="查看事由"):
        services.sensitive_access_record(user=county_reviewer, households=[household], via="页面", reason="  ")
    client = Client()
    client.force_login(county_reviewer)
    response = client.post(reverse("households:reveal", args=[household.pk]), {"reason": ""}, follow=True)
    page = response.content.decode()
    assert "请填写查看事由" in page and BANK not in page
    assert not SensitiveAccess.objects.exists()


def test_api_reveal_without_a_reason_is_a_400_in_chinese(county_reviewer, household):
    client = APIClient()
    client.force_authenticate(county_reviewer)
    url = f"/api/v1/households/{household.pk}/"
    refused = client.get(url, {"reveal": "1"})
    assert refused.status_code == 400 and "查看事由" in refused.content.decode()
    shown = client.get(url, {"reveal": "1", "reason": "核对残疾补贴"}).json()
    holder = holder_of_certificate(household)
    assert shown["bank_account"] == BANK and shown["phone"] == PHONE
    assert holder.disability_certificate in {m["disability_certificate"] for m in shown["members"]}
    assert SensitiveAccess.objects.get().reason == "核对残疾补贴"


# --------------------------------------------------------------------------- certificates masked (4)


def test_certificate_is_masked_in_the_api_page_and_history(cadre_a, administrator, household):
    holder = holder_of_certificate(household)
    certificate = holder.disability_certificate
    # A change the history shows (old → new) of the certificate and the phone.
    services.member_update(
        user=cadre_a, member=holder, data={"disability_grade": 1, "disability_certificate": holder.id_number + "41"}
    )
    services.household_update(user=cadre_a, household=household, data={"phone": "13987654321"})
    api = APIClient()
    api.force_authenticate(cadre_a)
    member = api.get(f"/api/v1/members/{holder.pk}/").json()
    assert member["disability_certificate"] == mask(Kind.CERTIFICATE, holder.id_number + "41")
    for user in (cadre_a, administrator):
        client = Client()
        client.force_login(user)
        page = body(client, reverse("households:detail", args=[household.pk]))
        assert certificate not in page and holder.id_number + "41" not in page
        assert certificate[:18] not in page and "变更记录" in page
        assert mask(Kind.CERTIFICATE, certificate) in page  # the history's old value, masked
    # The phone: the village cadre sees it (old and new), the administrator only masked.
    client = Client()
    client.force_login(administrator)
    page = body(client, reverse("households:detail", args=[household.pk]))
    assert PHONE not in page and "13987654321" not in page and "139****4321" in page


# --------------------------------------------------------------------------- phones (16)


def test_phone_is_shown_to_the_village_cadre_and_masked_for_reviewers(cadre_a, township_reviewer, household):
    for user, shown in ((cadre_a, True), (township_reviewer, False)):
        client = Client()
        client.force_login(user)
        page = body(client, reverse("households:detail", args=[household.pk]))
        api = APIClient()
        api.force_authenticate(user)
        detail = api.get(f"/api/v1/households/{household.pk}/").json()
        assert (PHONE in page) is shown
        assert (detail["phone"] == PHONE) is shown
        assert shown or detail["phone"] == "138****5678"


# --------------------------------------------------------------------------- edit forms (6)


def test_member_edit_form_carries_neither_the_id_nor_the_certificate(cadre_a, household):
    holder = holder_of_certificate(household)
    client = Client()
    client.force_login(cadre_a)
    url = reverse("households:member_edit", args=[household.pk, holder.pk])
    page = body(client, url)
    assert holder.id_number not in page and holder.disability_certificate not in page
    assert holder.masked_id_number in page and "联系县级管理员更正" in page
    # Saving the page leaves both numbers as they were (an empty certificate means "unchanged").
    response = client.post(
        url,
        {
            "name": "李四改",
            "relationship": holder.relationship,
            "health": Health.DISABLED,
            "disability_category": 4,
            "disability_grade": 2,
            "disability_certificate": "",
            "labour_capacity": holder.labour_capacity,
            "schooling": holder.schooling,
            "employment_months": 0,
            "has_medical_insurance": "on",
            "id_number": new_id_number(),  # not a field of the edit page: ignored
        },
    )
    assert response.status_code == 302, response.content.decode()
    fresh = Member.objects.get(pk=holder.pk)
    assert (fresh.name, fresh.id_number, fresh.disability_certificate) == (
        "李四改",
        holder.id_number,
        holder.disability_certificate,
    )


def test_household_edit_form_does_not_carry_the_bank_account_and_keeps_it(cadre_a, administrator, household):
    for user, phone_shown in ((cadre_a, True), (administrator, False)):
        client = Client()
        client.force_login(user)
        page = body(client, reverse("households:edit", args=[household.pk]))
        assert BANK not in page and mask(Kind.BANK_ACCOUNT, BANK) in page
        assert (PHONE in page) is phone_shown
    household.refresh_from_db()
    data = {
        "address": "光明村一组13号",
        "poverty_status": household.poverty_status,
        "poverty_exit_year": household.poverty_exit_year,
        "housing_safety": household.housing_safety,
        "bank_name": household.bank_name,
        "bank_account": "",
        "phone": "",
        "version": household.version,
    }
    response = client.post(reverse("households:edit", args=[household.pk]), data)  # the administrator
    assert response.status_code == 302, response.content.decode()
    household.refresh_from_db()
    assert (household.address, household.bank_account, household.phone) == ("光明村一组13号", BANK, PHONE)


def test_correcting_an_id_number_is_its_own_logged_action(cadre_a, administrator, household):
    member = household.members.get(relationship=Relationship.HEAD)
    corrected = new_id_number()
    with pytest.raises(PermissionDenied):
        services.member_id_correct(user=cadre_a, member=member, id_number=corrected, reason="录错")
    with pytest.raises(ValidationError, match="更正事由"):
        services.member_id_correct(user=administrator, member=member, id_number=corrected, reason="")
    client = Client()
    client.force_login(cadre_a)
    url = reverse("households:member_id_correct", args=[household.pk, member.pk])
    assert client.get(url).status_code == 403
    client.force_login(administrator)
    page = body(client, url)
    assert member.id_number not in page and member.masked_id_number in page
    response = client.post(url, {"id_number": corrected, "reason": "登记时录错一位，已核对户口簿"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.id_number == corrected
    access = SensitiveAccess.objects.get()
    assert (access.user, access.household, access.via) == (administrator, household, "更正身份证号")


# --------------------------------------------------------------------------- duplicate IDs (5)


def test_duplicate_id_outside_the_subtree_names_nobody_and_is_logged(cadre_a, cadre_b, household, household_b):
    holder = household_b.members.get(relationship=Relationship.HEAD)
    client = Client()
    client.force_login(cadre_a)
    response = client.post(
        reverse("households:member_create", args=[household.pk]),
        {
            "name": "王五",
            "id_number": holder.id_number,
            "relationship": Relationship.SON,
            "health": Health.HEALTHY,
            "labour_capacity": "ordinary",
            "schooling": "none",
            "employment_months": 0,
        },
    )
    page = response.content.decode()
    assert "该身份证号已在其他辖区登记，请联系县级管理员核实" in page
    assert holder.name not in page and household_b.number not in page and "红岩村" not in page
    attempt = SensitiveAccess.objects.get()
    assert (attempt.user, attempt.household, attempt.via) == (cadre_a, household_b, "重复身份证号")
    # Visible to the holder's county (scoped by the holder's household), not to the other village.
    assert SensitiveAccess.objects.for_user(cadre_a).count() == 0
    # Inside one's own subtree the holder is named, and nothing is logged.
    with pytest.raises(ValidationError, match="李四"):
        services.member_create(
            user=cadre_a,
            household=household,
            data=member_data("王五", Relationship.SON, id_number=holder_of_certificate(household).id_number),
        )
    assert SensitiveAccess.objects.count() == 1


# --------------------------------------------------------------------------- the search (16)


def test_search_keeps_the_id_number_out_of_the_url(cadre_a, household):
    head = household.members.get(relationship=Relationship.HEAD)
    client = Client()
    client.force_login(cadre_a)
    form = body(client, reverse("households:list"))
    assert 'method="post" action="/households/search/"' in form
    response = client.post(reverse("households:search"), {"q": head.id_number, "poverty_status": "lifted"})
    assert response.status_code == 302
    location = response["Location"]
    assert head.id_number not in location and head.id_number[:6] not in location
    assert "poverty_status=lifted" in location  # the normal filters stay in the URL
    page = body(client, location)
    assert household.number in page
    # Another session cannot read the words behind the token.
    other = Client()
    other.force_login(cadre_a)
    assert household.number in body(other, location)  # token unknown: the unfiltered list
    assert head.id_number not in body(other, location)


def test_a_department_row_shows_certificates_phones_and_accounts_masked():
    from monitoring.screening.warning_selectors import masked_value

    assert masked_value("残疾人证号", "52240119900101123442") == "5224************3442"
    assert masked_value("联系电话", "13812345678") == "138****5678"
    assert masked_value("银行卡号", BANK) == "6228***********8901"
    assert masked_value("个人自付金额", "60000") == "60000"
