"""Demo data: `households.seeding.seed_county` and `manage.py seed_demo`, on PostgreSQL."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from fpr.errors import ApplicationError
from fpr.roles import Level, Role
from households.demo import DEMO_PASSWORD, DEMO_USERS
from households.id_numbers import make_id_number, parse_disability_certificate, parse_id_number
from households.models import (
    Division,
    Expenditure,
    ExpenditureKind,
    Health,
    Household,
    IncomeItem,
    IncomeKind,
    Member,
    MonitoringLine,
    Relationship,
    Schooling,
    User,
)
from households.seeding import DEMO_CHANGE_REASON, seed_county
from households.services import household_create

YEAR = 2026
N = 300


def seed(**options):
    options = {"households": N, "seed": 11, "current_year": YEAR, **options}
    return seed_county(**options)


def snapshot() -> dict[str, list[tuple]]:
    """Everything a person would see of the seeded data, without database ids or timestamps."""
    return {
        "divisions": list(Division.objects.order_by("code").values_list("code", "name", "level", "parent_id")),
        "households": list(
            Household.objects.order_by("number").values_list(
                "number", "village_id", "address", "phone", "poverty_status", "poverty_exit_year", "housing_safety"
            )
        ),
        "members": list(
            Member.objects.order_by("id_number").values_list(
                "household__number", "name", "id_number", "relationship", "health", "illness", "labour_capacity"
            )
        ),
        "incomes": list(
            IncomeItem.objects.order_by("household__number", "year", "kind").values_list(
                "household__number", "year", "kind", "amount", "note"
            )
        ),
        "expenditures": list(
            Expenditure.objects.order_by("household__number", "year", "kind").values_list(
                "household__number", "year", "kind", "amount"
            )
        ),
    }


@pytest.fixture
def seeded(db):
    return seed()


def test_seed_county_stores_the_counts_it_reports(seeded):
    assert seeded.households == N == Household.objects.count()
    assert seeded.members == Member.objects.count()
    assert seeded.income_items == IncomeItem.objects.count()
    assert seeded.expenditures == Expenditure.objects.count()
    assert N < seeded.members <= 6 * N
    assert seeded.income_items > 4 * N  # two years of several items each


def test_county_tree_has_townships_of_several_villages(seeded):
    county = Division.objects.get(code="520521000000")
    assert county.name == "大方县" and county.level == Level.COUNTY
    assert county.parent.parent.name == "贵州省"
    townships = Division.objects.filter(parent=county, level=Level.TOWNSHIP)
    assert townships.count() >= 2
    for township in townships:
        assert township.name[-1] in "镇乡"
        villages = township.children.filter(level=Level.VILLAGE)
        assert villages.count() >= 2
        assert all(v.name.endswith("村") and v.code.startswith(township.code[:9]) for v in villages)


def test_household_numbers_are_village_code_and_sequence(seeded):
    numbers = defaultdict(list)
    for number, village in Household.objects.values_list("number", "village_id"):
        numbers[village].append(number)
    for village, village_numbers in numbers.items():
        expected = [f"{village}{i:04d}" for i in range(1, len(village_numbers) + 1)]
        assert sorted(village_numbers) == expected


def test_every_household_has_one_head_and_one_to_six_members(seeded):
    sizes, heads = defaultdict(int), defaultdict(int)
    for household_id, relationship in Member.objects.values_list("household_id", "relationship"):
        sizes[household_id] += 1
        heads[household_id] += relationship == Relationship.HEAD
    assert len(sizes) == N
    assert set(heads.values()) == {1}
    assert set(sizes.values()) <= set(range(1, 7))
    assert len(set(sizes.values())) >= 5  # sizes vary


def test_every_id_number_is_valid_unique_and_issued_in_the_county(seeded):
    id_numbers = list(Member.objects.values_list("id_number", flat=True))
    assert len(id_numbers) == len(set(id_numbers))
    for number in id_numbers:
        info = parse_id_number(number)  # raises on a bad checksum, date or shape
        assert info.region_code == "520521"


def test_every_seeded_record_passes_model_validation(seeded):
    for household in Household.objects.all():
        household.full_clean(validate_unique=False)
    for member in Member.objects.all():
        member.full_clean(exclude=["household"], validate_unique=False)


def test_ages_follow_relationships(seeded):
    members = defaultdict(list)
    for m in Member.objects.all():
        members[m.household_id].append(m)
    year = dt.timedelta(days=365)
    for people in members.values():
        head = next(m for m in people if m.relationship == Relationship.HEAD)
        for m in people:
            if m.relationship in (Relationship.HEAD, Relationship.SPOUSE):
                assert m.birth_date <= dt.date(YEAR - 18, 1, 1)
            if m.relationship in (Relationship.SON, Relationship.DAUGHTER):
                assert m.birth_date >= head.birth_date + 15 * year
            if m.relationship == Relationship.PARENT:
                assert m.birth_date <= head.birth_date - 15 * year
            if m.relationship == Relationship.GRANDCHILD:
                assert m.birth_date > head.birth_date + 30 * year


def test_schooling_and_labour_fit_age(seeded):
    for m in Member.objects.all():
        age = YEAR - 1 - m.birth_date.year
        if age < 6:
            assert m.schooling == Schooling.PRESCHOOL
        if m.schooling == Schooling.COMPULSORY:
            assert 6 <= age <= 15
        if age < 16:
            assert not m.has_labour and m.employment_months == 0
        if m.health == Health.SERIOUS:
            assert m.illness
    healthy = Member.objects.filter(health=Health.HEALTHY).count()
    assert healthy > 0.8 * Member.objects.count()


def test_disability_certificates_are_valid_for_their_holder(seeded):
    disabled = list(Member.objects.filter(health=Health.DISABLED))
    assert disabled, "a county of this size has disabled members"
    for m in disabled:
        category, grade = parse_disability_certificate(m.disability_certificate, id_number=m.id_number)
        assert (category, grade) == (m.disability_category, m.disability_grade)
    assert not Member.objects.exclude(health=Health.DISABLED).exclude(disability_certificate="").exists()


def test_incomes_spread_around_the_monitoring_line(seeded):
    """The accounting year (`current_year`, fpr.periods.accounting_year) and the year before are seeded."""
    line = MonitoringLine.objects.get(province_id="520000000000", year=YEAR).amount
    sizes = defaultdict(int)
    for household_id in Member.objects.values_list("household_id", flat=True):
        sizes[household_id] += 1
    net = defaultdict(Decimal)
    for household_id, kind, amount in IncomeItem.objects.filter(year=YEAR).values_list(
        "household_id", "kind", "amount"
    ):
        net[household_id] += -amount if kind == IncomeKind.BUSINESS_COST else amount
    below = sum(1 for household_id, size in sizes.items() if net[household_id] / size < line)
    assert 0 < below < 0.2 * N
    kinds = set(IncomeItem.objects.values_list("kind", flat=True))
    assert {IncomeKind.WAGE, IncomeKind.FARMLAND_SUBSIDY, IncomeKind.ECO_COMPENSATION, IncomeKind.PENSION} <= kinds
    assert set(IncomeItem.objects.values_list("year", flat=True)) == {YEAR, YEAR - 1}


def test_seriously_ill_members_have_medical_expenditure(seeded):
    ill_households = set(Member.objects.filter(health=Health.SERIOUS).values_list("household_id", flat=True))
    assert ill_households
    with_medical = set(
        Expenditure.objects.filter(kind=ExpenditureKind.MEDICAL, year=YEAR).values_list("household_id", flat=True)
    )
    assert ill_households <= with_medical


def test_monitoring_lines_cover_2021_to_this_year(seeded):
    lines = dict(MonitoringLine.objects.filter(province_id="520000000000").values_list("year", "amount"))
    assert set(lines) == set(range(2021, YEAR + 1))
    assert lines[2021] == 6000
    assert [lines[year] for year in sorted(lines)] == sorted(lines.values())  # rising every year


def test_seeded_records_have_creation_history(seeded):
    for model in (Household, Member, IncomeItem, Expenditure):
        history = model.history.all()
        assert history.count() == model.objects.count()
        assert set(history.values_list("history_type", "history_change_reason", "history_user")) == {
            ("+", DEMO_CHANGE_REASON, None)
        }
    household = Household.objects.first()
    record = household.history.get()
    assert (record.number, record.address) == (household.number, household.address)
    member = household.members.first()
    assert member.history.get().id_number == member.id_number


def test_same_seed_gives_identical_data(db):
    seed(seed=5)
    first = snapshot()
    seed(seed=5, reset=True)
    assert snapshot() == first


def test_orm_writer_stores_the_same_data_as_copy(db):
    seed(seed=5, method="copy")
    by_copy = snapshot()
    seed(seed=5, method="orm", reset=True)
    assert snapshot() == by_copy
    assert Member.history.count() == Member.objects.count()


def test_different_seed_gives_different_people(db):
    seed(seed=5)
    first = snapshot()
    seed(seed=6, reset=True)
    second = snapshot()
    first_ids = {row[2] for row in first["members"]}
    second_ids = {row[2] for row in second["members"]}
    assert len(first_ids & second_ids) < 0.05 * len(first_ids)
    assert first["households"] != second["households"]


def test_demo_users_get_their_roles_and_divisions(db):
    result = seed(with_users=True)
    assert [login.username for login in result.demo_logins] == [u for u, _, _ in DEMO_USERS]
    levels = {"village": Level.VILLAGE, "township": Level.TOWNSHIP, "county": Level.COUNTY}
    for username, role, level in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.roles == {role}
        assert user.division.level == levels[level]
        assert user.division.code.startswith("520521")
        assert user.check_password(DEMO_PASSWORD)
        assert user.full_name and not user.full_name.isascii()
        assert not user.is_superuser
        assert user.is_staff == (role == Role.ADMINISTRATOR)
    cadre, reviewer = User.objects.get(username="cunganbu"), User.objects.get(username="zhenjie")
    assert cadre.division.parent == reviewer.division
    assert Household.objects.for_user(cadre).exists()
    assert Household.objects.for_user(cadre).count() < Household.objects.for_user(reviewer).count()


def test_no_demo_users_unless_asked(seeded):
    assert not User.objects.filter(username__in=[u for u, _, _ in DEMO_USERS]).exists()


def test_seed_refuses_a_county_that_has_households(seeded):
    with pytest.raises(ApplicationError, match="--reset"):
        seed(seed=99)
    assert Household.objects.count() == N


def test_seed_demo_refuses_second_seed_without_reset(db, capsys):
    call_command("seed_demo", households=N, seed=3, year=YEAR, with_users=False)
    assert "300 户" in capsys.readouterr().out
    with pytest.raises(CommandError, match="已有300户"):
        call_command("seed_demo", households=N, seed=3, year=YEAR, with_users=False)
    assert Household.objects.count() == N
    call_command("seed_demo", households=N, seed=4, year=YEAR, with_users=False, reset=True)
    assert Household.objects.count() == N
    assert Household.history.count() == N  # the old county's history went with it


def test_seed_demo_prints_the_demo_logins(db, capsys):
    call_command("seed_demo", households=50, seed=3, year=YEAR, with_users=True)
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out
    assert all(username in out for username, _, _ in DEMO_USERS)


def test_seed_demo_if_empty_leaves_existing_data_alone(seeded, capsys):
    before = snapshot()
    call_command("seed_demo", households=N, seed=42, if_empty=True)
    assert "跳过" in capsys.readouterr().out
    assert snapshot() == before


def test_seeding_another_county_keeps_existing_rows_and_id_sequences(household_a, cadre_a, village_a):
    members_before = set(household_a.members.values_list("id_number", flat=True))
    result = seed(county_code="520523", county_name="金沙县")
    assert result.households == Household.objects.filter(village__code__startswith="520523").count() == N
    assert set(household_a.members.values_list("id_number", flat=True)) == members_before
    # The sequences moved past the copied rows: the ordinary service still creates households.
    new_person = {"region_code": "520521", "birth_date": dt.date(1980, 1, 1), "sequence": 3}
    created = household_create(
        user=cadre_a,
        village=village_a,
        data={"address": "光明村三组1号", "poverty_status": "ordinary"},
        members=[{"name": "新户主", "id_number": make_id_number(**new_person), "relationship": "head"}],
    )
    assert created.pk > Household.objects.exclude(pk=created.pk).order_by("-pk").first().pk
    # Resetting 金沙县 leaves 大方县 alone; 大方县 itself is refused while it has households.
    seed(county_code="520523", county_name="金沙县", reset=True)
    assert Household.objects.filter(pk=household_a.pk).exists()
    with pytest.raises(ApplicationError):
        seed()
