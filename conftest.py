"""Shared test fixtures: a small division tree and one persona per role, plus an outsider.

Households are built through the real services (never by setting fields the users cannot set).
"""

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import Group

from fpr.roles import Level, Role
from households.id_numbers import make_id_number
from households.models import Division, MonitoringLine, PovertyStatus, Relationship, User
from households.services import household_create

PASSWORD = "Fpr-test-pass-2026"

TREE = [
    ("520000000000", "贵州省", Level.PROVINCE, None),
    ("520500000000", "毕节市", Level.CITY, "520000000000"),
    ("520521000000", "大方县", Level.COUNTY, "520500000000"),
    ("520521100000", "羊场镇", Level.TOWNSHIP, "520521000000"),
    ("520521100001", "光明村", Level.VILLAGE, "520521100000"),
    ("520521100002", "红岩村", Level.VILLAGE, "520521100000"),
    ("520521101000", "黄泥塘镇", Level.TOWNSHIP, "520521000000"),
    ("520521101001", "新华村", Level.VILLAGE, "520521101000"),
]

_sequence = itertools.count(1)


def new_id_number(*, male: bool = True) -> str:
    """A fresh valid ID number: each call gets its own birth date, so numbers never collide."""
    n = next(_sequence)
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=n * 7)
    return make_id_number(region_code="520521", birth_date=birth, sequence=n * 2 % 1000 + (1 if male else 0))


@pytest.fixture
def divisions(db):
    created = {}
    for code, name, level, parent in TREE:
        created[code] = Division.objects.create(code=code, name=name, level=level, parent_id=parent)
    MonitoringLine.objects.create(province_id="520000000000", year=2025, amount="7000.00", poverty_line="4800")
    MonitoringLine.objects.create(province_id="520000000000", year=2026, amount="7300.00", poverty_line="4900")
    return created


@pytest.fixture
def village_a(divisions):
    return divisions["520521100001"]


@pytest.fixture
def village_b(divisions):
    return divisions["520521100002"]


@pytest.fixture
def village_c(divisions):
    return divisions["520521101001"]


def make_user(username: str, division: Division, *roles: str, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, division=division, **extra)
    for role in roles:
        user.groups.add(Group.objects.get(name=Role(role).label))
    return user


@pytest.fixture
def cadre_a(divisions):
    return make_user("cadre_a", divisions["520521100001"], Role.VILLAGE_CADRE, full_name="王村干")


@pytest.fixture
def cadre_b(divisions):
    """The outsider: a cadre of the neighbouring village, who must see nothing of village A."""
    return make_user("cadre_b", divisions["520521100002"], Role.VILLAGE_CADRE, full_name="李村干")


@pytest.fixture
def township_reviewer(divisions):
    return make_user("township", divisions["520521100000"], Role.TOWNSHIP_REVIEWER, full_name="赵审核")


@pytest.fixture
def county_reviewer(divisions):
    return make_user("county", divisions["520521000000"], Role.COUNTY_REVIEWER, full_name="钱审定")


@pytest.fixture
def administrator(divisions):
    return make_user("admin_user", divisions["520521000000"], Role.ADMINISTRATOR, full_name="孙管理", is_staff=True)


@pytest.fixture
def department_officer(divisions):
    return make_user("dept", divisions["520521000000"], Role.DEPARTMENT_OFFICER, full_name="周专员")


def member_data(name: str, relationship: str = Relationship.HEAD, **extra) -> dict:
    data = {"name": name, "id_number": new_id_number(), "relationship": relationship}
    data.update(extra)
    return data


def household_data(**extra) -> dict:
    data = {"address": "光明村一组12号", "poverty_status": PovertyStatus.LIFTED, "poverty_exit_year": 2019}
    data.update(extra)
    return data


@pytest.fixture
def make_household():
    def build(*, user, village, members=None, **data):
        members = members or [member_data("张三"), member_data("李四", Relationship.SPOUSE)]
        return household_create(user=user, village=village, data=household_data(**data), members=members)

    return build


@pytest.fixture
def household_a(make_household, cadre_a, village_a):
    return make_household(user=cadre_a, village=village_a)


@pytest.fixture
def household_b(make_household, cadre_b, village_b):
    return make_household(user=cadre_b, village=village_b, address="红岩村二组3号")
