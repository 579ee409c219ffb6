"""The household registry's rules: ID numbers, disability certificates, income accounting, scoping,
duplicate IDs, atomic creation and history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from households.id_numbers import (
    check_digit,
    make_id_number,
    mask_id_number,
    parse_disability_certificate,
    parse_id_number,
)
from households.models import Division, Health, Household, IncomeKind, Member, Relationship
from households.selectors import household_history, household_list, income_summary
from households.services import account_items_set, household_update, member_create, member_update
from tests.builders import member_data, new_id_number

VALID_ID = "11010519491231002X"  # the GB 11643 standard's own example


# --------------------------------------------------------------------------- ID numbers


def test_valid_id_number_derives_birth_date_and_sex():
    info = parse_id_number(VALID_ID)
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "女"  # 17th digit 2 is even
    assert info.region_code == "110105"


def test_lowercase_x_is_accepted_and_normalised():
    assert parse_id_number(VALID_ID.lower()).number == VALID_ID


def test_bad_checksum_is_refused_in_chinese():
    with pytest.raises(ValidationError) as exc:
        parse_id_number(VALID_ID[:17] + "1")
    assert "校验位错误" in exc.value.messages[0]


def test_impossible_birth_date_is_refused():
    first17 = "11010519490231002"  # 31 February
    with pytest.raises(ValidationError) as exc:
        parse_id_number(first17 + check_digit(first17))
    assert "不是有效日期" in exc.value.messages[0]


def test_future_birth_date_is_refused():
    number = make_id_number(region_code="520521", birth_date=dt.date(2031, 1, 1), sequence=11)
    with pytest.raises(ValidationError) as exc:
        parse_id_number(number, today=dt.date(2026, 11, 23))
    assert "不合理" in exc.value.messages[0]


@pytest.mark.parametrize("value", ["11010519491231002", "11010519491231002X1", ""])
def test_wrong_length_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        parse_id_number(value)
    assert "应为18位" in exc.value.messages[0]


def test_letters_inside_the_number_are_refused():
    with pytest.raises(ValidationError) as exc:
        parse_id_number("1101051949123100XX")
    assert "前17位必须是数字" in exc.value.messages[0]


def test_male_when_seventeenth_digit_is_odd():
    number = make_id_number(region_code="520521", birth_date=dt.date(1990, 1, 1), sequence=13)
    assert parse_id_number(number).sex == "男"


def test_mask_keeps_first_and_last_four():
    assert mask_id_number("522401199001011234") == "5224**********1234"


def test_disability_certificate_is_id_plus_category_and_grade():
    assert parse_disability_certificate(VALID_ID + "42", id_number=VALID_ID) == (4, 2)
    assert parse_disability_certificate(VALID_ID + "42B1", id_number=VALID_ID) == (4, 2)


@pytest.mark.parametrize(
    ("certificate", "message"),
    [
        (VALID_ID + "82", "格式错误"),  # category 8 does not exist
        (VALID_ID + "45", "格式错误"),  # grade 5 does not exist
        (VALID_ID + "42C1", "格式错误"),
        ("520521198005170011" + "42", "不一致"),  # someone else's ID
    ],
)
def test_bad_disability_certificate_is_refused(certificate, message):
    with pytest.raises(ValidationError) as exc:
        parse_disability_certificate(certificate, id_number=VALID_ID)
    assert message in exc.value.messages[0]


# --------------------------------------------------------------------------- creating households


def test_household_is_created_with_members_and_numbered_in_its_village(household_a, village_a):
    assert household_a.number == village_a.code + "0001"
    assert sorted(household_a.members.values_list("relationship", flat=True)) == ["head", "spouse"]


def test_duplicate_id_number_is_refused_naming_the_holding_household(make_household, cadre_a, village_a, household_a):
    taken = household_a.members.get(relationship=Relationship.HEAD).id_number
    with pytest.raises(ValidationError) as exc:
        make_household(user=cadre_a, village=village_a, members=[member_data("王五", id_number=taken)])
    message = str(exc.value)
    assert household_a.number in message and "光明村" in message and "张三" in message
    assert Household.objects.count() == 1  # nothing half-written


def test_one_invalid_member_saves_nothing(make_household, cadre_a, village_a):
    members = [member_data("张三"), member_data("李四", Relationship.SPOUSE, id_number=VALID_ID[:17] + "1")]
    with pytest.raises(ValidationError) as exc:
        make_household(user=cadre_a, village=village_a, members=members)
    assert "第2位成员" in str(exc.value) and "校验位错误" in str(exc.value)
    assert not Household.objects.exists() and not Member.objects.exists()


def test_same_id_twice_in_one_form_is_refused(make_household, cadre_a, village_a):
    same = new_id_number()
    members = [member_data("张三", id_number=same), member_data("李四", Relationship.SPOUSE, id_number=same)]
    with pytest.raises(ValidationError) as exc:
        make_household(user=cadre_a, village=village_a, members=members)
    assert "与第1位成员的身份证号重复" in str(exc.value)


def test_household_needs_exactly_one_head(make_household, cadre_a, village_a):
    with pytest.raises(ValidationError) as exc:
        make_household(user=cadre_a, village=village_a, members=[member_data("李四", Relationship.SPOUSE)])
    assert "有且只有一位户主" in str(exc.value)


def test_disabled_member_certificate_must_match_category_and_grade(household_a, cadre_a):
    id_number = new_id_number()
    with pytest.raises(ValidationError) as exc:
        member_create(
            user=cadre_a,
            household=household_a,
            data=member_data(
                "王小",
                Relationship.SON,
                id_number=id_number,
                health=Health.DISABLED,
                disability_category=4,
                disability_grade=1,
                disability_certificate=id_number + "42",
            ),
        )
    assert "残疾等级与所填等级不一致" in str(exc.value)


def test_cadre_cannot_register_in_another_village(make_household, cadre_a, village_b):
    with pytest.raises(PermissionDenied):
        make_household(user=cadre_a, village=village_b)


def test_reviewers_cannot_edit_the_registry(household_a, township_reviewer):
    with pytest.raises(PermissionDenied):
        household_update(user=township_reviewer, household=household_a, data={"address": "改"})


def test_household_can_only_sit_in_a_village(make_household, administrator, divisions):
    with pytest.raises(ValidationError) as exc:
        make_household(user=administrator, village=divisions["520521100000"])
    assert "村一级" in str(exc.value)


# --------------------------------------------------------------------------- income accounting


def test_per_capita_net_income_is_computed_from_items(household_a, cadre_a):
    account_items_set(
        user=cadre_a,
        household=household_a,
        year=2025,
        incomes={
            IncomeKind.WAGE: Decimal("12000"),
            IncomeKind.BUSINESS: Decimal("5000"),
            IncomeKind.BUSINESS_COST: Decimal("2000"),
            IncomeKind.PROPERTY: Decimal("300"),
            IncomeKind.FARMLAND_SUBSIDY: Decimal("450"),
            IncomeKind.ECO_COMPENSATION: Decimal("250"),
        },
        expenditures={"medical": Decimal("3000")},
    )
    summary = income_summary(household=household_a, year=2025)
    assert summary.net_total == Decimal("16000")  # 12000 + (5000-2000) + 300 + 450 + 250
    assert summary.per_capita == Decimal("8000.00")
    assert summary.transfer_total == Decimal("700")
    assert summary.monitoring_line == Decimal("7000.00")
    assert summary.above_line is True
    assert summary.per_capita_after_expenditure == Decimal("6500.00")


def test_income_below_the_line_is_reported(household_a, cadre_a):
    account_items_set(user=cadre_a, household=household_a, year=2026, incomes={IncomeKind.WAGE: Decimal("9000")})
    summary = income_summary(household=household_a, year=2026)
    assert summary.per_capita == Decimal("4500.00")
    assert summary.monitoring_line == Decimal("7300.00")
    assert summary.above_line is False


def test_per_capita_follows_household_size(household_a, cadre_a):
    account_items_set(user=cadre_a, household=household_a, year=2025, incomes={IncomeKind.WAGE: Decimal("9000")})
    member_create(user=cadre_a, household=household_a, data=member_data("张小", Relationship.SON))
    assert income_summary(household=household_a, year=2025).per_capita == Decimal("3000.00")


def test_negative_amount_is_refused(household_a, cadre_a):
    with pytest.raises(ValidationError) as exc:
        account_items_set(user=cadre_a, household=household_a, year=2025, incomes={IncomeKind.WAGE: Decimal("-1")})
    assert "不能为负数" in str(exc.value)


def test_no_monitoring_line_means_no_verdict(household_a, cadre_a):
    account_items_set(user=cadre_a, household=household_a, year=2019, incomes={IncomeKind.WAGE: Decimal("9000")})
    assert income_summary(household=household_a, year=2019).above_line is None


# --------------------------------------------------------------------------- jurisdiction


def test_outsider_never_sees_the_other_village(household_a, household_b, cadre_a, cadre_b):
    assert list(Household.objects.for_user(cadre_b)) == [household_b]
    assert list(household_list(user=cadre_a)) == [household_a]
    assert not Member.objects.for_user(cadre_b).filter(household=household_a).exists()


def test_township_sees_its_villages_only(make_household, household_a, household_b, township_reviewer, administrator):
    household_c = make_household(user=administrator, village=Division.objects.get(pk="520521101001"))
    visible = set(Household.objects.for_user(township_reviewer))
    assert visible == {household_a, household_b}
    assert household_c not in visible


def test_county_sees_every_village_of_the_county(household_a, household_b, county_reviewer):
    assert Household.objects.for_user(county_reviewer).count() == 2


def test_user_without_division_sees_nothing(household_a, django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", password="x")
    assert not Household.objects.for_user(nobody).exists()


def test_search_finds_by_name_and_full_id(household_a, household_b, county_reviewer):
    head = household_a.members.get(relationship=Relationship.HEAD)
    assert set(household_list(user=county_reviewer, search="张三")) == {household_a, household_b}  # both heads
    assert set(household_list(user=county_reviewer, search="李")) == {household_a, household_b}  # partial name
    assert list(household_list(user=county_reviewer, search=head.id_number)) == [household_a]


# --------------------------------------------------------------------------- history


def test_every_change_is_in_history_with_who_and_what(household_a, cadre_a):
    household_update(user=cadre_a, household=household_a, data={"housing_safety": "d"})
    head = household_a.members.get(relationship=Relationship.HEAD)
    member_update(user=cadre_a, member=head, data={"health": Health.SERIOUS, "illness": "尿毒症"})
    account_items_set(user=cadre_a, household=household_a, year=2025, incomes={IncomeKind.WAGE: Decimal("100")})
    entries = household_history(household=household_a)
    changed = {(entry.subject, field, old, new) for entry in entries for field, old, new in entry.changes}
    assert ("农户信息", "住房安全等级", "安全", "D级危房") in changed
    assert ("成员 张三", "健康状况", "健康", "大病") in changed
    assert any(e.subject.startswith("2025年 工资性收入") and e.action == "新增" for e in entries)
    assert {e.action for e in entries} >= {"新增", "修改"}


def test_department_officer_does_not_browse_the_registry(household_a, department_officer):
    assert not Household.objects.for_user(department_officer).exists()
    assert not Member.objects.for_user(department_officer).exists()
