"""Finding a person everywhere a cadre looks (issue #13 point 13): the household list, the case list, the
work queue and the warnings — by name, 户编号, the full ID number (as typed: spaced, full-width) or its last
4–6 digits. One rule (households.selectors.household_search); the words never in a URL; the ID numbers
shown masked; the lists keep their keyset paging and their query counts."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from households.models import Household, Relationship
from households.selectors import household_search
from tests.builders import member_data

pytestmark = pytest.mark.django_db


def head(household):
    return household.members.get(relationship=Relationship.HEAD)


def found(words, **options) -> set[int]:
    matching = household_search(words, **options)
    return set() if matching is None else set(Household.objects.filter(pk__in=matching).values_list("pk", flat=True))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def wang(make_household, cadre_a, village_a):
    """A second household of village A whose head is not 张三."""
    return make_household(user=cadre_a, village=village_a, members=[member_data("王小明")])


# --------------------------------------------------------------------------- the one rule


def test_search_matches_name_number_full_id_and_its_last_digits(household_a, household_b, wang):
    number = head(wang).id_number
    assert found("王小") == {wang.pk}
    assert found("张三") == {household_a.pk, household_b.pk}
    assert found(wang.number) == {wang.pk}
    assert found(number) == {wang.pk}
    spaced = f"{number[:6]} {number[6:14]} {number[14:].lower()}"
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert found(spaced) == found(full_width) == {wang.pk}  # the one normaliser
    assert found(number[-4:]) == found(number[-5:]) == found(number[-6:]) == {wang.pk}
    assert found(number[-4:].lower()) == {wang.pk}


def test_search_does_not_match_a_part_of_the_number_that_is_not_its_end(household_a, wang):
    number = head(wang).id_number
    assert found(number[:6]) == set()  # the region code is every resident's
    assert found(number[-7:-1]) == set()
    assert found(number[-3:]) == set()  # too few digits to tell people apart
    assert found(number[:17]) == set()  # a full number is matched exactly, never as a part
    assert household_search("") is None and household_search("   ") is None  # no filter at all


def test_search_in_a_village_reads_only_that_villages_members(household_a, household_b, village_a):
    number = head(household_b).id_number
    assert found(number[-4:], area=village_a.code) == set()
    assert found(number[-4:]) == {household_b.pk}


# --------------------------------------------------------------------------- the case list and the queue


@pytest.fixture
def two_cases(open_case, household_a, wang, cadre_a):
    return open_case(user=cadre_a, household=household_a), open_case(user=cadre_a, household=wang)


@pytest.mark.parametrize(("door", "page"), [("cases:search", "cases:list"), ("cases:queue_search", "cases:queue")])
def test_case_lists_find_a_case_by_the_last_digits_without_the_digits_in_the_url(
    cadre_a, household_a, wang, two_cases, door, page
):
    number = head(wang).id_number
    client = client_for(cadre_a)
    form = client.get(reverse(page)).content.decode()
    assert f'method="post" action="{reverse(door)}"' in form
    response = client.post(reverse(door), {"q": number[-6:], "case_type": "marginal"})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(reverse(page)) and number[-6:] not in location
    assert "case_type=marginal" in location  # the other filters stay in the URL
    content = client.get(location).content.decode()
    assert wang.number in content and household_a.number not in content
    assert number not in content  # display stays masked
    assert f'value="{number[-6:]}"' in content  # the box shows what was searched


def test_case_list_search_by_name_and_number_in_the_api(cadre_a, household_a, wang, two_cases):
    api = APIClient()
    api.force_authenticate(cadre_a)
    by_name = api.get("/api/v1/cases/", {"search": "王小明"}).json()["results"]
    assert [row["household_number"] for row in by_name] == [wang.number]
    by_digits = api.get("/api/v1/cases/", {"search": head(household_a).id_number[-4:], "queue": "true"})
    assert [row["household_number"] for row in by_digits.json()["results"]] == [household_a.number]


def test_the_outsider_finds_nothing_of_another_village(cadre_b, household_a, two_cases):
    client = client_for(cadre_b)
    location = client.post(reverse("cases:search"), {"q": head(household_a).id_number})["Location"]
    assert household_a.number not in client.get(location).content.decode()


def test_searching_the_case_list_keeps_its_paging_and_query_count(cadre_a, make_household, village_a, open_case):
    for n in range(3):
        household = make_household(user=cadre_a, village=village_a, members=[member_data(f"赵家{n}")])
        open_case(user=cadre_a, household=household)
    client = client_for(cadre_a)
    location = client.post(reverse("cases:search"), {"q": "赵家"})["Location"]
    client.get(location)  # warm the session and the caches
    with CaptureQueriesContext(connection) as plain:
        client.get(reverse("cases:list"))
    with CaptureQueriesContext(connection) as searched:
        content = client.get(location).content.decode()
    assert len(searched) == len(plain)  # the search is part of the list's one query
    assert len(set(re.findall(r"赵家\d", content))) == 3
    from workflow import views

    original = views.keyset_page

    def two_a_page(request, queryset, **options):
        return original(request, queryset, **{**options, "size": 2})

    views.keyset_page = two_a_page
    try:
        first = client.get(location).content.decode()
        assert len(set(re.findall(r"赵家\d", first))) == 2
        next_link = first.split('href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert "s=" in next_link  # the next page is still the search
        second = client.get(reverse("cases:list") + "?" + next_link).content.decode()
        assert len(set(re.findall(r"赵家\d", second))) == 1
    finally:
        views.keyset_page = original


# --------------------------------------------------------------------------- the warnings


RAISED = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def medical_row(member):
    return {"身份证号": member.id_number, "姓名": member.name, "个人自付金额": "60000", "就诊机构": "大方县人民医院"}


def test_warnings_are_found_by_the_last_digits_in_the_page_and_the_api(cadre_a, household_a, wang, department_upload):
    with time_machine.travel(RAISED, tick=False):
        department_upload([medical_row(head(household_a)), medical_row(head(wang))])
        number = head(wang).id_number
        client = client_for(cadre_a)
        form = client.get(reverse("monitoring:warnings")).content.decode()
        assert f'method="post" action="{reverse("monitoring:warning_search")}"' in form
        location = client.post(reverse("monitoring:warning_search"), {"q": number[-4:], "status": "all"})["Location"]
        assert number[-4:] not in location and "status=all" in location
        content = client.get(location).content.decode()
        assert wang.number in content and household_a.number not in content
        assert number not in content
        api = APIClient()
        api.force_authenticate(cadre_a)
        rows = api.get("/api/v1/warnings/", {"search": head(household_a).name}).json()["results"]
        assert [row["household_number"] for row in rows] == [household_a.number]
