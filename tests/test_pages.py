"""The browser pages of the registry, through Django's test client: jurisdiction, the create form and
its Chinese errors, history, income accounting, bounded queries and role checks."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fpr.roles import Role
from households.models import Division, Household, IncomeKind, Member, Relationship
from households.services import account_items_set, household_update
from tests.builders import PASSWORD, make_user, member_data, new_id_number

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def create_post(village, members, **household) -> dict:
    """The POST body of the registration page: household fields plus a member formset."""
    data = {
        "village": village.code,
        "address": "光明村三组8号",
        "phone": "",
        "poverty_status": "lifted",
        "poverty_exit_year": "2019",
        "food_secure": "on",
        "clothing_secure": "on",
        "education_secured": "on",
        "medical_secured": "on",
        "housing_safety": "safe",
        "water_quantity_ok": "on",
        "water_quality_ok": "on",
        "water_convenience_ok": "on",
        "water_assurance_ok": "on",
        "bank_name": "",
        "bank_account": "",
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "1",
        "members-MAX_NUM_FORMS": "30",
    }
    data.update(household)
    for index, member in enumerate(members):
        row = {
            "health": "healthy",
            "labour_capacity": "ordinary",
            "schooling": "none",
            "employment_months": "0",
            "has_medical_insurance": "on",
            **member,
        }
        data.update({f"members-{index}-{key}": value for key, value in row.items()})
    return data


# --------------------------------------------------------------------------- login and shell


def test_login_page_renders_in_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "防返贫动态监测和帮扶系统" in content
    assert "用户名" in content and "密码" in content
    assert "演示账号" not in content  # only in demo mode


def test_login_page_lists_demo_accounts_in_demo_mode(client, settings):
    settings.DEMO_MODE = True
    content = client.get(reverse("login")).content.decode()
    assert "演示账号" in content
    assert "cunganbu" in content and "村级干部" in content
    assert "demo-fpr-2026" in content


def test_wrong_password_shows_chinese_error(client, cadre_a):
    response = client.post(reverse("login"), {"username": "cadre_a", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_login_then_home_shows_counts_name_and_roles(client, cadre_a, household_a):
    response = client.post(reverse("login"), {"username": "cadre_a", "password": PASSWORD}, follow=True)
    content = response.content.decode()
    assert "王村干" in content and "光明村" in content and "村级干部" in content
    assert response.context["counts"]["total"] == 1
    assert response.context["persons"] == 2
    assert "登记新农户" in content
    assert 'action="/logout/"' in content


def test_logout_is_a_post(client, cadre_a):
    login(client, cadre_a)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302  # back to the login page


def test_pages_require_login(client, household_a):
    for url in (reverse("households:list"), reverse("households:detail", args=[household_a.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --------------------------------------------------------------------------- jurisdiction


def test_list_shows_only_the_users_jurisdiction(client, cadre_b, household_a, household_b):
    content = login(client, cadre_b).get(reverse("households:list")).content.decode()
    assert household_b.number in content
    assert household_a.number not in content


def test_township_reviewer_sees_both_villages_of_the_township(client, township_reviewer, household_a, household_b):
    content = login(client, township_reviewer).get(reverse("households:list")).content.decode()
    assert household_a.number in content and household_b.number in content
    assert "登记新农户" not in content  # reviewers do not keep the registry


def test_list_filters_by_village_and_search(client, township_reviewer, household_a, household_b, village_a):
    login(client, township_reviewer)
    content = client.get(reverse("households:list"), {"village": village_a.code}).content.decode()
    assert household_a.number in content and household_b.number not in content
    head_b = household_b.members.get(relationship=Relationship.HEAD)
    content = client.get(reverse("households:list"), {"q": head_b.id_number}).content.decode()
    assert household_b.number in content and household_a.number not in content


def test_list_masks_id_numbers(client, cadre_a, household_a):
    head = household_a.members.get(relationship=Relationship.HEAD)
    content = login(client, cadre_a).get(reverse("households:list")).content.decode()
    assert head.name in content
    assert head.masked_id_number in content
    assert head.id_number not in content


def test_detail_of_another_villages_household_is_404(client, cadre_b, household_a):
    response = login(client, cadre_b).get(reverse("households:detail", args=[household_a.pk]))
    assert response.status_code == 404
    assert "找不到" in response.content.decode()
    edit = client.get(reverse("households:edit", args=[household_a.pk]))
    assert edit.status_code == 404


def test_detail_shows_members_with_sex_birth_date_and_masked_id(client, cadre_a, household_a):
    head = household_a.members.get(relationship=Relationship.HEAD)
    content = login(client, cadre_a).get(reverse("households:detail", args=[household_a.pk])).content.decode()
    assert head.masked_id_number in content and head.id_number not in content
    assert f"{head.birth_date:%Y-%m-%d}" in content
    assert head.sex in content


def test_full_id_numbers_are_shown_on_request_and_logged(client, county_reviewer, cadre_a, household_a):
    from households.models import SensitiveAccess

    head = household_a.members.get(relationship=Relationship.HEAD)
    page = login(client, county_reviewer).get(reverse("households:detail", args=[household_a.pk])).content.decode()
    assert head.id_number not in page and "查看完整信息（将被记录）" in page
    reveal = reverse("households:reveal", args=[household_a.pk])
    shown = client.post(reveal, {"reason": "核对补贴发放账户"}).content.decode()
    assert head.id_number in shown and "本次查看已记录" in shown
    access = SensitiveAccess.objects.get()
    assert (access.user, access.household, access.via, access.reason) == (
        county_reviewer,
        household_a,
        "页面",
        "核对补贴发放账户",
    )
    # A village cadre has no such permission: no button, and the request is refused.
    page = login(client, cadre_a).get(reverse("households:detail", args=[household_a.pk])).content.decode()
    assert "查看完整信息" not in page
    assert client.post(reveal, {"reason": "x"}).status_code == 403
    assert SensitiveAccess.objects.count() == 1


def test_detail_highlights_unmet_guarantees(client, cadre_a, household_a):
    household_update(user=cadre_a, household=household_a, data={"housing_safety": "d", "water_quality_ok": False})
    content = login(client, cadre_a).get(reverse("households:detail", args=[household_a.pk])).content.decode()
    assert "未达标：住房安全有保障、饮水安全有保障" in content
    assert "D级危房" in content and "水质不达标" in content


# --------------------------------------------------------------------------- registration


def test_create_with_invalid_id_shows_checksum_error_and_saves_nothing(client, cadre_a, village_a):
    bad = new_id_number()
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    data = create_post(village_a, [{"name": "赵大", "id_number": bad, "relationship": "head"}])
    response = login(client, cadre_a).post(reverse("households:create"), data)
    assert response.status_code == 200
    assert "身份证号码校验位错误" in response.content.decode()
    assert not Household.objects.exists() and not Member.objects.exists()


def test_create_with_one_bad_member_saves_neither_household_nor_other_members(client, cadre_a, village_a):
    members = [
        {"name": "赵大", "id_number": new_id_number(), "relationship": "head"},
        {"name": "钱二", "id_number": "52052119", "relationship": "spouse"},
    ]
    response = login(client, cadre_a).post(reverse("households:create"), create_post(village_a, members))
    content = response.content.decode()
    assert "身份证号码应为18位" in content
    assert response.context["formset"].forms[1].errors["id_number"]  # under the second member's ID field
    assert not Household.objects.exists() and not Member.objects.exists()


def test_create_with_duplicate_id_names_the_other_household(client, cadre_a, village_a, household_a):
    taken = household_a.members.get(relationship=Relationship.HEAD)
    data = create_post(village_a, [{"name": "冒名", "id_number": taken.id_number, "relationship": "head"}])
    response = login(client, cadre_a).post(reverse("households:create"), data)
    content = response.content.decode()
    assert "身份证号已登记" in content
    assert household_a.number in content and taken.name in content
    assert Household.objects.count() == 1


def test_create_without_a_head_is_refused(client, cadre_a, village_a):
    data = create_post(village_a, [{"name": "孙三", "id_number": new_id_number(), "relationship": "son"}])
    response = login(client, cadre_a).post(reverse("households:create"), data)
    assert "每户必须有且只有一位户主" in response.content.decode()
    assert not Household.objects.exists()


def test_successful_create_redirects_to_detail(client, cadre_a, village_a):
    members = [
        {"name": "周大", "id_number": new_id_number(), "relationship": "head"},
        {"name": "吴二", "id_number": new_id_number(male=False), "relationship": "spouse"},
    ]
    response = login(client, cadre_a).post(reverse("households:create"), create_post(village_a, members))
    household = Household.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("households:detail", args=[household.pk])
    assert sorted(household.members.values_list("name", flat=True)) == ["吴二", "周大"]
    page = client.get(response["Location"]).content.decode()
    assert "周大" in page and "吴二" in page and household.number in page


def test_blank_extra_member_rows_are_ignored(client, cadre_a, village_a):
    data = create_post(village_a, [{"name": "郑大", "id_number": new_id_number(), "relationship": "head"}])
    blank = {"health": "healthy", "labour_capacity": "ordinary", "schooling": "none", "employment_months": "0"}
    data.update({f"members-1-{key}": value for key, value in blank.items()})
    data["members-1-has_medical_insurance"] = "on"
    data["members-TOTAL_FORMS"] = "2"
    response = login(client, cadre_a).post(reverse("households:create"), data)
    assert response.status_code == 302
    assert Member.objects.count() == 1


# --------------------------------------------------------------------------- edits, history, income


def test_history_section_shows_a_change_after_an_edit(client, cadre_a, household_a):
    login(client, cadre_a)
    data = {
        "address": "光明村五组1号",
        "poverty_status": "lifted",
        "poverty_exit_year": "2019",
        "food_secure": "on",
        "clothing_secure": "on",
        "education_secured": "on",
        "medical_secured": "on",
        "housing_safety": "c",
        "water_quantity_ok": "on",
        "water_quality_ok": "on",
        "water_convenience_ok": "on",
        "water_assurance_ok": "on",
    }
    response = client.post(reverse("households:edit", args=[household_a.pk]), data)
    assert response.status_code == 302
    content = client.get(reverse("households:detail", args=[household_a.pk])).content.decode()
    history = content[content.index("变更记录") :]
    assert "王村干" in history
    assert "住房安全等级" in history and "安全" in history and "C级危房" in history
    assert "光明村一组12号" in history and "光明村五组1号" in history


def test_member_edit_error_appears_next_to_the_field(client, cadre_a, household_a):
    spouse = household_a.members.get(relationship=Relationship.SPOUSE)
    data = {**member_data(spouse.name, Relationship.SPOUSE, id_number=spouse.id_number)}
    data.update({"health": "serious", "labour_capacity": "weak", "schooling": "none", "employment_months": "0"})
    response = login(client, cadre_a).post(reverse("households:member_edit", args=[household_a.pk, spouse.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["illness"] == ["患大病的成员须填写疾病名称。"]


def test_member_can_be_added_from_the_household_page(client, cadre_a, household_a):
    data = {
        "name": "张小",
        "id_number": new_id_number(),
        "relationship": "son",
        "health": "healthy",
        "labour_capacity": "none",
        "schooling": "compulsory",
        "employment_months": "0",
        "has_medical_insurance": "on",
    }
    response = login(client, cadre_a).post(reverse("households:member_create", args=[household_a.pk]), data)
    assert response.status_code == 302
    assert household_a.members.filter(name="张小").exists()


def test_member_delete_is_recorded_and_the_head_cannot_be_deleted(client, cadre_a, household_a):
    login(client, cadre_a)
    head = household_a.members.get(relationship=Relationship.HEAD)
    spouse = household_a.members.get(relationship=Relationship.SPOUSE)
    response = client.post(reverse("households:member_delete", args=[household_a.pk, head.pk]), follow=True)
    assert "不能删除户主" in response.content.decode()
    assert client.post(reverse("households:member_delete", args=[household_a.pk, spouse.pk])).status_code == 302
    assert not Member.objects.filter(pk=spouse.pk).exists()
    content = client.get(reverse("households:detail", args=[household_a.pk])).content.decode()
    assert f"成员 {spouse.name}" in content[content.index("变更记录") :] and "删除" in content


def test_income_form_lists_every_item_including_farmland_and_ecological_subsidies(client, cadre_a, household_a):
    content = login(client, cadre_a).get(reverse("households:income_edit", args=[household_a.pk, 2025])).content
    content = content.decode()
    for kind in IncomeKind:
        assert kind.label in content
    assert "耕地地力保护补贴" in content and "生态补偿金" in content
    assert "医疗自付支出" in content


def test_income_page_shows_per_capita_against_the_monitoring_line(client, cadre_a, household_a):
    login(client, cadre_a)
    post = {"income_wage": "9000", "income_farmland_subsidy": "600", "income_eco_compensation": "400"}
    response = client.post(reverse("households:income_edit", args=[household_a.pk, 2025]), post)
    assert response.status_code == 302
    content = client.get(reverse("households:detail", args=[household_a.pk]), {"year": 2025}).content.decode()
    # (9000 + 600 + 400) / 2 people = 5,000.00 per person, under the 2025 line of 7,000.00.
    assert "5,000.00" in content and "7,000.00" in content
    assert "低于或等于监测范围" in content and "2,000.00" in content

    account_items_set(user=cadre_a, household=household_a, year=2025, incomes={IncomeKind.WAGE: Decimal("16000")})
    content = client.get(reverse("households:detail", args=[household_a.pk]), {"year": 2025}).content.decode()
    assert "8,500.00" in content and "高于监测范围" in content


def test_negative_income_is_refused_next_to_its_item(client, cadre_a, household_a):
    response = login(client, cadre_a).post(
        reverse("households:income_edit", args=[household_a.pk, 2025]), {"income_pension": "-5"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["income_pension"] == ["养老金不能为负数。"]


# --------------------------------------------------------------------------- bounded queries


def _list_queries(client, user) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("households:list"))
    assert response.status_code == 200
    return len(queries), response


def test_list_page_query_count_does_not_grow_with_households(
    client, cadre_a, village_a, make_household, django_assert_max_num_queries
):
    login(client, cadre_a)
    for _ in range(10):
        make_household(user=cadre_a, village=village_a)
    few, response = _list_queries(client, cadre_a)
    assert len(response.context["households"]) == 10
    for _ in range(50):
        make_household(user=cadre_a, village=village_a)
    many, response = _list_queries(client, cadre_a)
    assert len(response.context["households"]) == 50  # one page of 60
    assert "下一页" in response.content.decode()
    assert many == few
    with django_assert_max_num_queries(8):
        client.get(reverse("households:list"))


def test_list_pages_forward_by_household_number(client, cadre_a, village_a, make_household):
    login(client, cadre_a)
    created = [make_household(user=cadre_a, village=village_a).number for _ in range(55)]
    first = client.get(reverse("households:list"))
    numbers = [h.number for h in first.context["households"]]
    assert numbers == sorted(created)[:50]
    second = client.get(reverse("households:list") + "?" + first.context["next_query"])
    assert [h.number for h in second.context["households"]] == sorted(created)[50:]
    assert second.context["next_query"] is None
    back = client.get(reverse("households:list") + "?" + second.context["previous_query"])
    assert [h.number for h in back.context["households"]] == sorted(created)[:50]


# --------------------------------------------------------------------------- roles


def test_role_without_edit_rights_gets_403_on_create(client, township_reviewer, village_a):
    login(client, township_reviewer)
    assert client.get(reverse("households:create")).status_code == 403
    data = create_post(village_a, [{"name": "赵大", "id_number": new_id_number(), "relationship": "head"}])
    response = client.post(reverse("households:create"), data)
    assert response.status_code == 403
    assert "您的角色不能修改农户信息" in response.content.decode()
    assert not Household.objects.exists()


def test_reviewer_sees_no_edit_buttons_and_cannot_edit(client, township_reviewer, household_a):
    login(client, township_reviewer)
    content = client.get(reverse("households:detail", args=[household_a.pk])).content.decode()
    assert reverse("households:edit", args=[household_a.pk]) not in content
    assert "添加成员" not in content
    assert client.get(reverse("households:edit", args=[household_a.pk])).status_code == 403
    assert client.get(reverse("households:income_edit", args=[household_a.pk, 2025])).status_code == 403


def test_cadre_sees_edit_buttons(client, cadre_a, household_a):
    content = login(client, cadre_a).get(reverse("households:detail", args=[household_a.pk])).content.decode()
    assert reverse("households:edit", args=[household_a.pk]) in content


# --------------------------------------------------------------------------- admin


@pytest.fixture
def admin_with_rights(administrator):
    """An operator (superuser; the Django admin is for operators only) who also holds the administrator
    role of the county, so the registry services let them edit."""
    administrator.is_superuser = True
    administrator.save()
    return administrator


def test_admin_lists_are_scoped_and_searchable(client, admin_with_rights, household_a, household_b):
    login(client, admin_with_rights)
    response = client.get(reverse("admin:households_household_changelist"), {"q": household_a.number})
    assert response.status_code == 200
    assert household_a.number in response.content.decode()
    assert client.get(reverse("admin:households_division_changelist"), {"q": "光明"}).status_code == 200
    users = client.get(reverse("admin:households_user_changelist")).content.decode()
    assert "系统管理员" in users  # the role column
    assert client.get(reverse("admin:households_user_change", args=[admin_with_rights.pk])).status_code == 200
    assert client.get(reverse("admin:households_household_change", args=[household_a.pk])).status_code == 200
    history = client.get(reverse("admin:households_household_history", args=[household_a.pk]))
    assert history.status_code == 200


def test_admin_of_another_county_sees_none_of_its_households(client, household_a, divisions):
    other_county = Division.objects.create(code="520522000000", name="黔西县", level=3, parent_id="520500000000")
    group = Group.objects.get(name=Role.ADMINISTRATOR.label)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="households"))
    outsider = make_user("other_admin", other_county, Role.ADMINISTRATOR, is_staff=True)
    login(client, outsider)
    content = client.get(reverse("admin:households_household_changelist")).content.decode()
    assert household_a.number not in content
    assert client.get(reverse("admin:households_household_change", args=[household_a.pk])).status_code == 302


def test_server_error_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "系统出现错误" in html


def test_admin_member_change_goes_through_the_service_rules(client, admin_with_rights, household_a):
    spouse = household_a.members.get(relationship=Relationship.SPOUSE)
    login(client, admin_with_rights)
    url = reverse("admin:households_member_change", args=[spouse.pk])
    assert client.get(url).status_code == 200
    data = {
        "name": spouse.name,
        "id_number": spouse.id_number,
        "relationship": "spouse",
        "health": "serious",
        "illness": "",
        "labour_capacity": "weak",
        "schooling": "none",
        "employment_location": "",
        "employment_months": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "患大病的成员须填写疾病名称" in response.content.decode()
    spouse.refresh_from_db()
    assert spouse.health == "healthy"
    data["illness"] = "尿毒症"
    assert client.post(url, data).status_code == 302
    spouse.refresh_from_db()
    assert (spouse.health, spouse.illness) == ("serious", "尿毒症")
