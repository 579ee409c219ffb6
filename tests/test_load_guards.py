"""Guards for what the load benchmark (bench/load.py) found: the list pages cost a fixed number of
queries whatever their number of rows, the queue and case list read the page's rows without joining
the registry (that join hashed every household of a county before sorting), and a village cadre's
household search reads the village's members, not the county's."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from households.models import Relationship
from tests.builders import member_data

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def login(client, user):
    client.force_login(user)


def page_queries(client, url: str) -> list[str]:
    client.get(url)  # once before counting: the session and caches are warm in both runs
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in queries.captured_queries]


def households(make_household, cadre, village, count: int, start: int = 0) -> list:
    return [
        make_household(
            user=cadre,
            village=village,
            address=f"光明村{i}组",
            members=[member_data(f"张{i}"), member_data(f"李{i}", Relationship.SPOUSE)],
        )
        for i in range(start, start + count)
    ]


def rows_query(sql: list[str], table: str) -> str:
    """The page's main query: the one reading `table` with the page size + 1 limit."""
    matches = [q for q in sql if f'FROM "{table}"' in q and "LIMIT 51" in q]
    assert len(matches) == 1, matches
    return matches[0]


@pytest.mark.parametrize("url", ["/cases/queue/", "/cases/"])
def test_case_pages_cost_the_same_queries_for_one_case_or_many_without_joining_households(
    client, url, make_household, open_case, cadre_a, village_a
):
    login(client, cadre_a)
    first = households(make_household, cadre_a, village_a, 1)
    open_case(user=cadre_a, household=first[0])
    few = page_queries(client, url)

    for household in households(make_household, cadre_a, village_a, 6, start=1):
        open_case(user=cadre_a, household=household)
    many = page_queries(client, url)

    assert len(many) == len(few)
    assert client.get(url).content.decode().count('href="/cases/') >= 7
    main = rows_query(many, "monitoring_monitoringcase")
    assert 'JOIN "households_household"' not in main and 'JOIN "households_division"' not in main


def test_household_list_and_search_cost_the_same_queries_for_few_or_many_households(
    client, make_household, cadre_a, village_a
):
    login(client, cadre_a)
    households(make_household, cadre_a, village_a, 1)
    few = [len(page_queries(client, url)) for url in ("/households/", "/households/?q=张")]
    households(make_household, cadre_a, village_a, 8, start=1)
    many = [len(page_queries(client, url)) for url in ("/households/", "/households/?q=张")]
    assert many == few


def test_village_cadre_search_reads_only_the_villages_members(
    client, make_household, cadre_a, cadre_b, village_a, village_b
):
    mine = households(make_household, cadre_a, village_a, 2)
    theirs = make_household(user=cadre_b, village=village_b, members=[member_data("张0")])
    login(client, cadre_a)

    sql = page_queries(client, "/households/?q=张0")

    main = rows_query(sql, "households_household")
    member_scan = main[main.index('FROM "households_member"') :]
    assert f"\"village_id\" = '{village_a.code}'" in member_scan
    page = client.get("/households/?q=张0").content.decode()
    assert mine[0].number in page and mine[1].number not in page and theirs.number not in page
    head = mine[1].members.get(relationship=Relationship.HEAD)
    assert mine[1].number in client.get(f"/households/?q={head.id_number}").content.decode()


def test_township_search_still_finds_households_of_every_village(
    client, make_household, cadre_a, cadre_b, village_a, village_b, township_reviewer
):
    a = make_household(user=cadre_a, village=village_a, members=[member_data("王五")])
    b = make_household(user=cadre_b, village=village_b, members=[member_data("王六")])
    login(client, township_reviewer)
    page = client.get("/households/?q=王").content.decode()
    assert a.number in page and b.number in page
