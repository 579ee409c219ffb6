"""REST API of the household registry: status codes, error shapes, jurisdiction and masking."""

from decimal import Decimal

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from fpr.periods import accounting_year
from households.id_numbers import mask_id_number
from households.models import Health, Household, IncomeItem, IncomeKind, Member, PovertyStatus, Relationship
from households.services import account_items_set
from tests.builders import household_data, member_data, new_id_number

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"
MEMBERS = "/api/v1/members/"
INCOME_ITEMS = "/api/v1/income-items/"
DIVISIONS = "/api/v1/divisions/"


@pytest.fixture
def api():
    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def household_c(make_household, administrator, village_c):
    return make_household(user=administrator, village=village_c, address="新华村三组8号")


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["results"]}


def head_of(household: Household) -> Member:
    return household.members.get(relationship=Relationship.HEAD)


def create_payload(village, **extra) -> dict:
    payload = {
        "village": village.code,
        **household_data(address="光明村四组5号"),
        "members": [member_data("陈大明"), member_data("陈小红", Relationship.DAUGHTER)],
    }
    payload.update(extra)
    return payload


# --------------------------------------------------------------------------- authentication


def test_anonymous_request_is_refused(api, household_a):
    response = api().get(HOUSEHOLDS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert "results" not in response.json()


def test_token_header_authenticates(api, cadre_a, household_a):
    _, token = AuthToken.objects.create(user=cadre_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get(HOUSEHOLDS)

    assert numbers(response) == {household_a.number}


def test_unknown_token_is_refused(household_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 64)

    response = client.get(HOUSEHOLDS)

    assert response.status_code == 401
    assert "令牌" in response.json()["detail"]


def test_schema_and_docs_are_served_to_signed_in_users(api, client, cadre_a):
    schema = api(cadre_a).get("/api/schema/")
    client.force_login(cadre_a)
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/households/" in schema.content
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_schema_and_docs_are_not_served_to_strangers(api, client):
    assert api().get("/api/schema/").status_code == 401
    assert client.get("/api/docs/").status_code == 302


# --------------------------------------------------------------------------- jurisdiction


def test_cadre_lists_only_own_village(api, cadre_a, household_a, household_b):
    assert numbers(api(cadre_a).get(HOUSEHOLDS)) == {household_a.number}


def test_outsider_gets_404_on_retrieve_and_update(api, cadre_b, household_a):
    client = api(cadre_b)
    url = f"{HOUSEHOLDS}{household_a.pk}/"

    assert client.get(url).status_code == 404
    assert client.patch(url, {"address": "被改的地址"}, format="json").status_code == 404
    put = client.put(url, household_data(address="被改的地址"), format="json")
    assert put.status_code == 404
    assert "被改的地址" not in put.content.decode()
    household_a.refresh_from_db()
    assert household_a.address == "光明村一组12号"


def test_township_reviewer_sees_its_villages_but_not_another_township(
    api, township_reviewer, household_a, household_b, household_c
):
    assert numbers(api(township_reviewer).get(HOUSEHOLDS)) == {household_a.number, household_b.number}
    assert api(township_reviewer).get(f"{HOUSEHOLDS}{household_c.pk}/").status_code == 404


def test_county_reviewer_sees_every_household(api, county_reviewer, household_a, household_b, household_c):
    assert numbers(api(county_reviewer).get(HOUSEHOLDS)) == {household_a.number, household_b.number, household_c.number}


def test_outsider_cannot_see_members_or_income_items(api, cadre_a, cadre_b, household_a):
    account_items_set(user=cadre_a, household=household_a, year=2025, incomes={IncomeKind.WAGE: Decimal("9000")})
    member = head_of(household_a)
    item = IncomeItem.objects.get(household=household_a)
    client = api(cadre_b)

    assert client.get(MEMBERS).json()["results"] == []
    assert client.get(INCOME_ITEMS).json()["results"] == []
    assert client.get(f"{MEMBERS}{member.pk}/").status_code == 404
    assert client.patch(f"{MEMBERS}{member.pk}/", {"name": "改名"}, format="json").status_code == 404
    assert client.get(f"{INCOME_ITEMS}{item.pk}/").status_code == 404
    assert client.patch(f"{INCOME_ITEMS}{item.pk}/", {"amount": "1"}, format="json").status_code == 404
    item.refresh_from_db()
    assert item.amount == Decimal("9000")


def test_divisions_are_limited_to_the_subtree(api, cadre_a, township_reviewer, county_reviewer, village_a, village_b):
    own = api(cadre_a).get(DIVISIONS).json()["results"]
    assert [d["code"] for d in own] == [village_a.code]
    assert api(cadre_a).get(f"{DIVISIONS}{village_b.code}/").status_code == 404

    township = api(township_reviewer).get(DIVISIONS).json()["results"]
    assert {d["name"] for d in township} == {"羊场镇", "光明村", "红岩村"}

    villages = api(county_reviewer).get(DIVISIONS, {"level": 5}).json()["results"]
    assert {d["name"] for d in villages} == {"光明村", "红岩村", "新华村"}
    children = api(county_reviewer).get(DIVISIONS, {"parent": "520521100000"}).json()["results"]
    assert {d["code"] for d in children} == {village_a.code, village_b.code}
    detail = api(county_reviewer).get(f"{DIVISIONS}{village_a.code}/").json()
    assert detail["level_display"] == "村"
    assert detail["parent"] == "520521100000"


# --------------------------------------------------------------------------- households


def test_retrieve_includes_members_and_income_summary(api, cadre_a, household_a):
    account_items_set(
        user=cadre_a,
        household=household_a,
        year=2025,
        incomes={IncomeKind.WAGE: Decimal("10000"), IncomeKind.FARMLAND_SUBSIDY: Decimal("400")},
    )

    body = api(cadre_a).get(f"{HOUSEHOLDS}{household_a.pk}/", {"year": 2025}).json()

    assert body["number"] == household_a.number
    assert body["head_name"] == "张三"
    assert body["member_count"] == 2
    assert {m["name"] for m in body["members"]} == {"张三", "李四"}
    summary = body["income_summary"]
    assert summary["year"] == 2025
    assert summary["transfers"] == {"farmland_subsidy": "400.00"}
    assert summary["per_capita"] == "5200.00"
    assert summary["monitoring_line"] == "7000.00"
    assert summary["above_line"] is False


def test_income_summary_defaults_to_the_accounting_year(api, cadre_a, household_a):
    body = api(cadre_a).get(f"{HOUSEHOLDS}{household_a.pk}/").json()

    assert body["income_summary"]["year"] == accounting_year()  # fpr.periods: the one rule (issue #13)


def test_invalid_year_parameter_is_400(api, cadre_a, household_a):
    response = api(cadre_a).get(f"{HOUSEHOLDS}{household_a.pk}/", {"year": "去年"})

    assert response.status_code == 400
    assert "year" in response.json()


def test_cadre_registers_household_with_members(api, cadre_a, village_a):
    response = api(cadre_a).post(HOUSEHOLDS, create_payload(village_a), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith(village_a.code)
    assert body["head_name"] == "陈大明"
    assert [m["relationship"] for m in body["members"]] == ["head", "daughter"]
    household = Household.objects.get(pk=body["id"])
    assert household.members.count() == 2
    assert household.address == "光明村四组5号"


def test_create_in_village_outside_subtree_is_refused(api, cadre_b, village_a):
    response = api(cadre_b).post(HOUSEHOLDS, create_payload(village_a), format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "该村不在您的管辖范围内。"
    assert not Household.objects.filter(village=village_a).exists()


@pytest.mark.parametrize("persona", ["township_reviewer", "county_reviewer", "department_officer"])
def test_reviewers_and_departments_cannot_register_households(api, request, persona, village_a):
    user = request.getfixturevalue(persona)

    response = api(user).post(HOUSEHOLDS, create_payload(village_a), format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "您的角色不能修改农户信息。"
    assert not Household.objects.exists()


def test_township_reviewer_cannot_edit_household(api, township_reviewer, household_a):
    response = api(township_reviewer).patch(f"{HOUSEHOLDS}{household_a.pk}/", {"phone": "13800000000"}, format="json")

    assert response.status_code == 403
    assert "不能修改" in response.json()["detail"]
    household_a.refresh_from_db()
    assert household_a.phone == ""


def test_bad_id_checksum_is_400_with_chinese_message(api, cadre_a, village_a):
    bad = new_id_number()
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    payload = create_payload(village_a, members=[member_data("陈大明", id_number=bad)])

    response = api(cadre_a).post(HOUSEHOLDS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["members"] == ["第1位成员：身份证号码校验位错误，请核对后重新输入。"]
    assert not Household.objects.exists()


def test_duplicate_id_number_names_the_household_that_holds_it(api, cadre_a, village_a, household_a):
    taken = head_of(household_a).id_number
    payload = create_payload(village_a, members=[member_data("冒名者", id_number=taken)])

    response = api(cadre_a).post(HOUSEHOLDS, payload, format="json")

    assert response.status_code == 400
    [message] = response.json()["members"]
    assert message.startswith("第1位成员：身份证号已登记")
    assert household_a.number in message
    assert Household.objects.count() == 1


def test_nested_member_type_errors_are_one_readable_line_per_member(api, cadre_a, village_a):
    payload = create_payload(
        village_a,
        members=[member_data("陈大明"), member_data("陈小红", relationship="cousin", employment_months="很多")],
    )

    response = api(cadre_a).post(HOUSEHOLDS, payload, format="json")

    assert response.status_code == 400
    [line] = response.json()["members"]
    assert line.startswith("第2位成员：")
    assert "与户主关系：" in line
    assert "cousin" in line
    assert "务工时间（月）：" in line


def test_household_without_head_is_refused(api, cadre_a, village_a):
    payload = create_payload(village_a, members=[member_data("陈小红", Relationship.DAUGHTER)])

    response = api(cadre_a).post(HOUSEHOLDS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["relationship"] == ["每户必须有且只有一位户主，当前为0位。"]


def test_cadre_updates_household_with_patch_and_put(api, cadre_a, household_a):
    url = f"{HOUSEHOLDS}{household_a.pk}/"
    client = api(cadre_a)

    patched = client.patch(url, {"housing_safety": "c"}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["guarantees_unmet"] == ["住房安全有保障"]

    put = client.put(
        url, household_data(address="光明村一组13号", poverty_status=PovertyStatus.ORDINARY), format="json"
    )
    assert put.status_code == 200, put.content
    household_a.refresh_from_db()
    assert household_a.address == "光明村一组13号"
    assert household_a.poverty_status == PovertyStatus.ORDINARY
    assert household_a.housing_safety == "c"  # PUT leaves fields it does not name


def test_invalid_bank_account_is_400(api, cadre_a, household_a):
    response = api(cadre_a).patch(f"{HOUSEHOLDS}{household_a.pk}/", {"bank_account": "12ab"}, format="json")

    assert response.status_code == 400
    assert response.json()["bank_account"] == ["银行账号应为10到30位数字。"]


# --------------------------------------------------------------------------- filters and search


@pytest.fixture
def varied_households(make_household, cadre_a, cadre_b, administrator, village_a, village_b, village_c):
    sick = make_household(
        user=cadre_a,
        village=village_a,
        members=[member_data("刘病", health=Health.SERIOUS, illness="尿毒症")],
        poverty_status=PovertyStatus.ORDINARY,
        poverty_exit_year=None,
    )
    single_parent = make_household(user=cadre_b, village=village_b, members=[member_data("吴单亲")], single_parent=True)
    other_township = make_household(user=administrator, village=village_c, members=[member_data("郑远")])
    return {"sick": sick, "single_parent": single_parent, "other_township": other_township}


def test_filters_by_poverty_status_and_special_group(api, county_reviewer, varied_households):
    client = api(county_reviewer)
    sick, single_parent = varied_households["sick"], varied_households["single_parent"]

    assert numbers(client.get(HOUSEHOLDS, {"poverty_status": "ordinary"})) == {sick.number}
    assert numbers(client.get(HOUSEHOLDS, {"special_group": "serious_illness"})) == {sick.number}
    assert numbers(client.get(HOUSEHOLDS, {"special_group": "single_parent"})) == {single_parent.number}


def test_unknown_filter_choice_is_400(api, county_reviewer, varied_households):
    response = api(county_reviewer).get(HOUSEHOLDS, {"special_group": "rich"})

    assert response.status_code == 400
    assert "special_group" in response.json()


def test_filters_by_division_subtree_and_village(api, county_reviewer, varied_households, village_b):
    client = api(county_reviewer)
    sick, single_parent = varied_households["sick"], varied_households["single_parent"]

    assert numbers(client.get(HOUSEHOLDS, {"division": "520521100000"})) == {sick.number, single_parent.number}
    assert numbers(client.get(HOUSEHOLDS, {"village": village_b.code})) == {single_parent.number}


def test_division_filter_cannot_widen_the_subtree(api, cadre_a, varied_households):
    response = api(cadre_a).get(HOUSEHOLDS, {"division": "520521000000"})

    assert numbers(response) == {varied_households["sick"].number}


def test_search_by_member_name_id_number_or_household_number(api, county_reviewer, varied_households):
    client = api(county_reviewer)
    sick = varied_households["sick"]
    other = varied_households["other_township"]

    assert numbers(client.get(HOUSEHOLDS, {"search": "刘"})) == {sick.number}
    assert numbers(client.get(HOUSEHOLDS, {"search": head_of(other).id_number.lower()})) == {other.number}
    assert numbers(client.get(HOUSEHOLDS, {"search": other.number})) == {other.number}
    assert numbers(client.get(HOUSEHOLDS, {"search": "无此人"})) == set()


def test_list_query_count_does_not_grow_with_households(
    api, cadre_a, village_a, make_household, django_assert_max_num_queries
):
    # A session login, as the browser uses it: session, user, roles, division and permissions are read
    # on every request; the bound holds however many households there are.
    client = APIClient()
    client.force_login(cadre_a)
    make_household(user=cadre_a, village=village_a)
    with django_assert_max_num_queries(7):
        assert len(client.get(HOUSEHOLDS).json()["results"]) == 1

    for _ in range(12):
        make_household(user=cadre_a, village=village_a)
    with django_assert_max_num_queries(7):
        rows = client.get(HOUSEHOLDS).json()["results"]
    assert len(rows) == 13
    assert all(row["member_count"] == 2 and row["head_name"] == "张三" for row in rows)
    assert all(row["township_name"] == "羊场镇" for row in rows)


def test_detail_query_count_does_not_grow_with_members(api, cadre_a, household_a, django_assert_max_num_queries):
    client = api(cadre_a)
    client.get(f"{HOUSEHOLDS}{household_a.pk}/")  # permissions are cached on the user after this
    for index in range(5):
        client.post(MEMBERS, {"household": household_a.pk, **member_data(f"孙{index}", "grandchild")}, format="json")

    # household, members, income items, expenditures, monitoring line
    with django_assert_max_num_queries(5):
        body = client.get(f"{HOUSEHOLDS}{household_a.pk}/").json()
    assert len(body["members"]) == 7
    assert body["income_summary"]["size"] == 7


def test_list_is_paginated_with_a_cursor(api, cadre_a, village_a, make_household):
    for _ in range(3):
        make_household(user=cadre_a, village=village_a)
    client = api(cadre_a)

    first = client.get(HOUSEHOLDS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = {row["id"] for row in first["results"] + second["results"]}
    assert seen == set(Household.objects.values_list("pk", flat=True))


# --------------------------------------------------------------------------- masking


def test_cadre_sees_masked_id_numbers_and_bank_account(api, cadre_a, household_a):
    household_a.bank_account = "6228480012345678901"
    household_a.save()
    head = head_of(household_a)
    client = api(cadre_a)

    row = client.get(HOUSEHOLDS).json()["results"][0]
    detail = client.get(f"{HOUSEHOLDS}{household_a.pk}/").json()
    member = client.get(f"{MEMBERS}{head.pk}/").json()

    assert row["head_id_number"] == mask_id_number(head.id_number)
    assert row["bank_account"] == "6228***********8901"
    assert head.id_number not in str(detail)
    assert "6228480012345678901" not in str(detail)
    assert member["id_number"] == mask_id_number(head.id_number)


def test_county_reviewer_sees_full_id_numbers_only_when_asked_and_logged(api, county_reviewer, household_a):
    from households.models import SensitiveAccess

    household_a.bank_account = "6228480012345678901"
    household_a.save()
    head = head_of(household_a)
    client = api(county_reviewer)

    masked = client.get(HOUSEHOLDS).json()["results"][0]
    assert masked["head_id_number"] != head.id_number and "*" in masked["bank_account"]
    assert not SensitiveAccess.objects.exists()

    # A reveal needs a reason (400 in Chinese without one, nothing logged).
    refused = client.get(HOUSEHOLDS, {"reveal": "1"})
    assert refused.status_code == 400 and "查看事由" in str(refused.json())
    assert not SensitiveAccess.objects.exists()

    row = client.get(HOUSEHOLDS, {"reveal": "1", "reason": "核对补贴发放账户"}).json()["results"][0]
    member = client.get(f"{MEMBERS}{head.pk}/", {"reveal": "1", "reason": "核对补贴发放账户"}).json()

    assert row["head_id_number"] == head.id_number
    assert row["bank_account"] == "6228480012345678901"
    assert member["id_number"] == head.id_number
    assert member["sex"] in ("男", "女")
    log = SensitiveAccess.objects.order_by("pk")
    assert [(a.user, a.household, a.via, a.reason) for a in log] == [
        (county_reviewer, household_a, "接口", "核对补贴发放账户")
    ] * 2


def test_reveal_is_refused_without_the_permission(api, cadre_a, household_a):
    from households.models import SensitiveAccess

    head = head_of(household_a)
    member = api(cadre_a).get(f"{MEMBERS}{head.pk}/", {"reveal": "1"}).json()
    assert member["id_number"] != head.id_number and not SensitiveAccess.objects.exists()
    assert member["birth_date"] == head.birth_date.isoformat()


# --------------------------------------------------------------------------- members


def test_member_list_filters_by_household(api, county_reviewer, household_a, household_b):
    response = api(county_reviewer).get(MEMBERS, {"household": household_a.pk})

    assert response.status_code == 200
    assert {m["name"] for m in response.json()["results"]} == {"张三", "李四"}
    assert {m["household"] for m in response.json()["results"]} == {household_a.pk}


def test_cadre_adds_member(api, cadre_a, household_a):
    payload = {"household": household_a.pk, **member_data("张小宝", Relationship.SON, schooling="compulsory")}

    response = api(cadre_a).post(MEMBERS, payload, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["schooling_display"] == "义务教育在校"
    assert household_a.members.count() == 3


def test_second_head_is_refused(api, cadre_a, household_a):
    payload = {"household": household_a.pk, **member_data("第二户主")}

    response = api(cadre_a).post(MEMBERS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["relationship"] == ["该户已有户主，请先修改原户主的与户主关系。"]
    assert household_a.members.count() == 2


def test_member_with_bad_checksum_is_400(api, cadre_a, household_a):
    bad = new_id_number()
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    payload = {"household": household_a.pk, **member_data("张错号", Relationship.SON, id_number=bad)}

    response = api(cadre_a).post(MEMBERS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["id_number"] == ["身份证号码校验位错误，请核对后重新输入。"]


def test_outsider_cannot_add_member_to_household_it_cannot_see(api, cadre_b, household_a):
    payload = {"household": household_a.pk, **member_data("外人", Relationship.SON)}

    response = api(cadre_b).post(MEMBERS, payload, format="json")

    assert response.status_code == 400
    assert "household" in response.json()
    assert household_a.members.count() == 2


def test_department_officer_cannot_add_member(api, department_officer, household_a):
    payload = {"household": household_a.pk, **member_data("张小宝", Relationship.SON)}

    response = api(department_officer).post(MEMBERS, payload, format="json")

    # Department officers do not see the registry at all, so the household is unknown to them.
    assert response.status_code == 400
    assert "household" in response.json()
    assert household_a.members.count() == 2


def test_cadre_updates_member_but_not_the_id_number(api, cadre_a, household_a):
    spouse = household_a.members.get(relationship=Relationship.SPOUSE)
    original = spouse.id_number

    # The ID number is corrected only by 更正身份证号 (permission, reason, logged): refused here.
    refused = api(cadre_a).patch(
        f"{MEMBERS}{spouse.pk}/", {"id_number": new_id_number(male=False), "health": "chronic"}, format="json"
    )
    assert refused.status_code == 400 and "更正身份证号" in refused.json()["id_number"][0]

    response = api(cadre_a).patch(f"{MEMBERS}{spouse.pk}/", {"id_number": original, "health": "chronic"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["special_groups"] == ["负担较重的慢性病"]
    spouse.refresh_from_db()
    assert spouse.id_number == original


def test_a_taken_id_names_the_household_inside_the_subtree(api, administrator, household_a, household_b):
    payload = {"household": household_a.pk, **member_data("王五", Relationship.SON)}
    payload["id_number"] = head_of(household_b).id_number

    response = api(administrator).post(MEMBERS, payload, format="json")

    assert response.status_code == 400
    [message] = response.json()["id_number"]
    assert household_b.number in message


def test_an_id_taken_elsewhere_names_nobody_and_is_logged(api, cadre_a, household_a, household_b):
    from households.models import SensitiveAccess

    holder = head_of(household_b)
    payload = {"household": household_a.pk, **member_data("王五", Relationship.SON), "id_number": holder.id_number}

    response = api(cadre_a).post(MEMBERS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["id_number"] == ["该身份证号已在其他辖区登记，请联系县级管理员核实。"]
    assert household_b.number not in response.content.decode() and holder.name not in response.content.decode()
    attempt = SensitiveAccess.objects.get()
    assert (attempt.user, attempt.household, attempt.via) == (cadre_a, household_b, "重复身份证号")


def test_member_put_requires_the_core_fields(api, cadre_a, household_a):
    spouse = household_a.members.get(relationship=Relationship.SPOUSE)

    response = api(cadre_a).put(f"{MEMBERS}{spouse.pk}/", {"name": "李四"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "id_number", "relationship"}  # detail: fpr.api.FIELD_ERRORS


# --------------------------------------------------------------------------- income items


def test_cadre_records_income_item_and_posting_again_sets_the_amount(api, cadre_a, household_a):
    client = api(cadre_a)
    payload = {"household": household_a.pk, "year": 2025, "kind": "eco_compensation", "amount": "300.50"}

    created = client.post(INCOME_ITEMS, payload, format="json")
    replaced = client.post(INCOME_ITEMS, {**payload, "amount": "320"}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["kind_display"] == "生态补偿金"
    assert replaced.status_code == 200
    assert replaced.json()["id"] == created.json()["id"]
    item = IncomeItem.objects.get(household=household_a)
    assert item.amount == Decimal("320")


def test_income_items_list_filters_by_household_and_year(api, cadre_a, county_reviewer, household_a, household_b):
    account_items_set(user=cadre_a, household=household_a, year=2024, incomes={IncomeKind.WAGE: Decimal("100")})
    account_items_set(user=cadre_a, household=household_a, year=2025, incomes={IncomeKind.WAGE: Decimal("200")})
    client = api(county_reviewer)

    rows = client.get(INCOME_ITEMS, {"household": household_a.pk, "year": 2025}).json()["results"]
    other = client.get(INCOME_ITEMS, {"household": household_b.pk}).json()["results"]

    assert [(r["year"], r["amount"]) for r in rows] == [(2025, "200.00")]
    assert other == []


def test_cadre_updates_income_amount(api, cadre_a, household_a):
    account_items_set(user=cadre_a, household=household_a, year=2025, incomes={IncomeKind.PENSION: Decimal("1200")})
    item = IncomeItem.objects.get(household=household_a)

    response = api(cadre_a).patch(f"{INCOME_ITEMS}{item.pk}/", {"amount": "1500"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "1500.00"
    item.refresh_from_db()
    assert item.amount == Decimal("1500")


def test_negative_amount_and_bad_year_are_400(api, cadre_a, household_a):
    client = api(cadre_a)
    base = {"household": household_a.pk, "year": 2025, "kind": "wage", "amount": "100"}

    negative = client.post(INCOME_ITEMS, {**base, "amount": "-5"}, format="json")
    bad_year = client.post(INCOME_ITEMS, {**base, "year": 1990}, format="json")

    assert negative.status_code == 400
    assert "amount" in negative.json()
    assert bad_year.status_code == 400
    assert bad_year.json()["year"] == ["年度不正确。"]
    assert not IncomeItem.objects.exists()


def test_township_reviewer_cannot_record_income(api, township_reviewer, household_a):
    payload = {"household": household_a.pk, "year": 2025, "kind": "wage", "amount": "100"}

    response = api(township_reviewer).post(INCOME_ITEMS, payload, format="json")

    assert response.status_code == 403
    assert not IncomeItem.objects.exists()
