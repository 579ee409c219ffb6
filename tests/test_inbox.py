"""我的待办 (issue #13, point 12) and the pages around it (points 9, 10, 20): one inbox of the case queue,
warnings, to-do items and this month's visits, counted by kind and deadline (overdue first) in one query,
scoped to the user's subtree and role; badges in the menu and counts on the home page; a department
officer's own home and a 403 that says why on the lists that are not theirs; the 403 page worded by
role; the demo logins from one list; the notice's start date pre-filled; the API docs link only for
administrators and the integrators' token page."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from households.demo import DEMO_USERS, SECOND_CADRE, demo_accounts
from households.models import Relationship
from monitoring.models import RiskWarning, TodoItem, TodoKind
from tests.builders import member_data
from workflow.inbox import inbox_counts, inbox_items

pytestmark = pytest.mark.django_db

# 10:00 in Beijing on Tuesday 24 November 2026.
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 24)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def medical_row(household, amount="60000"):
    member = household.members.get(relationship=Relationship.HEAD)
    return {"身份证号": member.id_number, "姓名": member.name, "个人自付金额": amount, "就诊机构": "大方县人民医院"}


@pytest.fixture
def inbox_world(make_household, open_case, walker, cadre_a, village_a, department_upload, make_monitored):
    """Village A: a draft application (no deadline), a notice due to go to the township today, one a day
    past that (overdue), a warning past its 48 hours, one due tonight, a monitoring object not visited
    this month, and two to-do items (one repeating the overdue warning)."""

    def household(name):
        return make_household(user=cadre_a, village=village_a, members=[member_data(name)])

    def application(name):
        return open_case(user=cadre_a, household=household(name))

    with time_machine.travel(NOW, tick=False):
        draft = application("草稿户")
        due_today = walker.to_notice(application("今天户"), starts_on=TODAY - dt.timedelta(days=7))
        overdue = walker.to_notice(application("超时户"), starts_on=TODAY - dt.timedelta(days=8))
        unvisited = make_monitored(application("走访户"))
    # The monitoring object was visited on 11-10 (make_monitored): it is December's visits that wait.
    late_household, tonight_household = household("预警超时户"), household("预警今天户")
    with time_machine.travel(NOW - dt.timedelta(hours=60), tick=False):
        department_upload([medical_row(late_household)], period="2026-10")
    with time_machine.travel(NOW - dt.timedelta(hours=40), tick=False):
        department_upload([medical_row(tonight_household)], period="2026-11")
    late = RiskWarning.objects.get(household=late_household)
    tonight = RiskWarning.objects.get(household=tonight_household)
    repeat = TodoItem.objects.create(
        kind=TodoKind.WARNING_OVERDUE,
        key=f"warning:{late.pk}",
        division=village_a,
        household=late_household,
        detail="预警线索超过48小时未核实",
        opened_at=NOW,
    )
    income = TodoItem.objects.create(
        kind=TodoKind.INCOME_MISSING,
        key="member:1",
        division=village_a,
        household=draft.household,
        detail="缺少收入信息",
        opened_at=NOW - dt.timedelta(days=1),
    )
    return {
        "draft": draft,
        "due_today": due_today,
        "overdue": overdue,
        "unvisited": unvisited,
        "late": late,
        "tonight": tonight,
        "repeat": repeat,
        "income": income,
    }


def counts_of(user) -> dict:
    counts = inbox_counts(user=user)
    return {k.key: (k.total, k.overdue, k.today) for k in counts.kinds}


# --------------------------------------------------------------------------- service


def test_counts_by_kind_and_deadline_for_the_village_cadre(inbox_world, cadre_a):
    with time_machine.travel(dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC), tick=False):
        december = counts_of(cadre_a)
    with time_machine.travel(NOW, tick=False):
        counts = counts_of(cadre_a)

    # Queue: the draft (no deadline) and the two notices, one may go to the township today, one since yesterday.
    assert counts["cases"] == (3, 1, 1)
    assert counts["warnings"] == (2, 1, 1)  # 60 hours old: overdue; 40 hours old: due before midnight
    # The overdue-warning to-do repeats a warning already listed: only the income item is counted.
    assert counts["todos"] == (1, 0, 0)
    assert counts["visits"] == (0, 0, 0)  # visited on 11-10, this month
    # In December the notices are both overdue, both warnings too, and the monitoring object waits for its visit.
    assert december["cases"][1] == 2 and december["warnings"] == (2, 2, 0) and december["visits"] == (1, 0, 0)


def test_reviewers_see_their_own_kinds_of_their_subtree_and_outsiders_nothing(
    inbox_world, township_reviewer, county_reviewer, cadre_b
):
    with time_machine.travel(NOW, tick=False):
        township, county, outsider = counts_of(township_reviewer), counts_of(county_reviewer), counts_of(cadre_b)

    # Nothing waits at the township yet; the village's warnings are the village's to verify, so the township
    # follows them through the overdue to-do item (not repeated here), and follows the visits.
    assert township == {"cases": (0, 0, 0), "todos": (2, 1, 0), "visits": (0, 0, 0)}
    assert county == {"cases": (0, 0, 0), "todos": (2, 1, 0)}
    assert outsider == {"cases": (0, 0, 0), "warnings": (0, 0, 0), "todos": (0, 0, 0), "visits": (0, 0, 0)}


def test_a_department_officer_has_no_inbox(department_officer):
    assert inbox_counts(user=department_officer) is None


def test_the_counts_are_one_query_however_many_items(inbox_world, cadre_a, make_household, open_case, village_a):
    cadre_a.roles  # noqa: B018 - the roles are read once per request, before the inbox
    with time_machine.travel(NOW, tick=False):
        with CaptureQueriesContext(connection) as few:
            inbox_counts(user=cadre_a)
        for i in range(4):
            household = make_household(user=cadre_a, village=village_a, members=[member_data(f"新{i}")])
            open_case(user=cadre_a, household=household)
        with CaptureQueriesContext(connection) as many:
            counts = inbox_counts(user=cadre_a)
    assert len(few.captured_queries) == len(many.captured_queries) == 1
    assert counts.get("cases").total == 7


def test_items_come_overdue_first_then_due_today_each_with_its_page(inbox_world, cadre_a):
    world = inbox_world
    with time_machine.travel(NOW, tick=False):
        items = inbox_items(user=cadre_a, counts=inbox_counts(user=cadre_a))

    buckets = [item.bucket for item in items]
    assert buckets == sorted(buckets, key=["overdue", "today", "later", "none"].index)
    assert buckets.count("overdue") == 2 and buckets.count("today") == 2
    urls = {item.url for item in items}
    assert reverse("cases:detail", args=[world["overdue"].pk]) == items[0].url or (
        reverse("monitoring:warning", args=[world["late"].pk]) == items[0].url
    )
    assert {
        reverse("cases:detail", args=[world["draft"].pk]),
        reverse("cases:detail", args=[world["due_today"].pk]),
        reverse("monitoring:warning", args=[world["tonight"].pk]),
        reverse("households:detail", args=[world["income"].household_id]),
    } <= urls
    assert reverse("households:detail", args=[world["repeat"].household_id]) not in urls


# --------------------------------------------------------------------------- pages


def test_inbox_page_lists_counts_and_items_with_bounded_queries(
    inbox_world, cadre_a, make_household, open_case, village_a
):
    client = client_for(cadre_a)
    with time_machine.travel(NOW, tick=False):
        client.get(reverse("inbox"))  # warm the session
        with CaptureQueriesContext(connection) as few:
            page = client.get(reverse("inbox")).content.decode()
        for i in range(5):
            household = make_household(user=cadre_a, village=village_a, members=[member_data(f"新{i}")])
            open_case(user=cadre_a, household=household)
        with CaptureQueriesContext(connection) as many:
            more = client.get(reverse("inbox")).content.decode()

    assert len(few.captured_queries) == len(many.captured_queries)
    assert "共 6 项，" in page and "已超时 2 项" in page and "今天到期 2 项" in page
    assert 'data-kind="cases"' in page and "待办案件" in page and "超时户" in page
    first = re.search(r'<li data-kind="(\w+)" data-bucket="(\w+)"', page)
    assert first.group(2) == "overdue"
    assert f'href="{reverse("cases:detail", args=[inbox_world["overdue"].pk])}"' in page
    assert f'href="{reverse("monitoring:warning", args=[inbox_world["late"].pk])}"' in page
    assert "共 11 项" in more


def test_menu_badges_and_home_counts(inbox_world, cadre_a):
    with time_machine.travel(NOW, tick=False):
        page = client_for(cadre_a).get(reverse("home")).content.decode()

    nav = page[page.index('class="main-nav"') : page.index("</nav>")]

    def badge(url, label, count):
        shown = f'<span class="nav-badge" aria-label="{count} 项">{count}</span>'
        return re.search(rf'href="{url}"[^>]*>{label}{shown}', nav)

    assert badge("/inbox/", "我的待办", 6) and badge("/cases/queue/", "待办", 3)
    assert badge("/monitoring/warnings/", "预警线索", 2)
    # The to-do page lists both items (the repeat too): its badge counts what it shows.
    assert badge("/monitoring/todos/", "待办事项", 2)
    assert "走访任务<span" not in nav  # nothing waits there: no badge
    home = page[page.index('id="home-inbox"') :]
    assert "我的待办</a>：共 6 项" in home and "已超时 2 项" in home and "预警线索 2（超时 1）" in home


def test_badges_cost_one_query_per_page(inbox_world, cadre_a, settings):
    client = client_for(cadre_a)
    url = reverse("households:list")
    with time_machine.travel(NOW, tick=False):
        client.get(url)
        with CaptureQueriesContext(connection) as with_badges:
            client.get(url)
        settings.TEMPLATES = [
            {
                **settings.TEMPLATES[0],
                "OPTIONS": {
                    **settings.TEMPLATES[0]["OPTIONS"],
                    "context_processors": [
                        p
                        for p in settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
                        if p != "workflow.context_processors.inbox"
                    ],
                },
            }
        ]
        with CaptureQueriesContext(connection) as without:
            client.get(url)
    assert len(with_badges.captured_queries) == len(without.captured_queries) + 1


# --------------------------------------------------------------------------- the department officer (point 9)


def test_department_officer_home_shows_their_uploads_not_the_registry(
    department_officer, department_upload, household_a, administrator
):
    with time_machine.travel(NOW, tick=False):
        own = department_upload([medical_row(household_a)], user=department_officer, name="医保11月.csv")
        department_upload([{"身份证号": "bad"}], department="civil_affairs", name="民政.csv")
        page = client_for(department_officer).get(reverse("home")).content.decode()

    assert '<span class="stat__label">辖区农户</span>' not in page and "重点人群" not in page
    assert "我的待办" not in page
    assert "医保部门数据专员" in page
    assert f'href="{reverse("monitoring:upload_create")}"' in page  # the upload link
    assert "医保11月.csv" in page and f'href="{reverse("monitoring:upload", args=[own.pk])}"' in page
    assert "民政.csv" not in page  # another department's upload
    nav = page[page.index('class="main-nav"') : page.index("</nav>")]
    assert "农户信息" not in nav and "部门数据" in nav


@pytest.mark.parametrize("name", ["households:list", "cases:list", "cases:queue", "inbox"])
def test_department_officer_gets_a_403_that_says_why(department_officer, name):
    response = client_for(department_officer).get(reverse(name))

    assert response.status_code == 403
    page = response.content.decode()
    assert "部门数据专员" in page and "辖区内还没有登记农户" not in page
    assert "部门数据专员只办理本部门名单的上传和比对" in page


# --------------------------------------------------------------------------- point 10


def test_the_403_page_does_not_send_an_administrator_to_the_administrator(administrator, cadre_a):
    # accounts:monitoring_lines is the province's administrators' page; this one is the county's.
    page = client_for(administrator).get(reverse("accounts:monitoring_lines"))
    assert page.status_code == 403
    text = page.content.decode()
    assert "请联系上级或系统管理员" not in text and "可在“用户管理”中调整" in text

    cadre_page = client_for(cadre_a).get(reverse("accounts:users")).content.decode()
    assert "请联系上级或系统管理员调整角色与区划" in cadre_page


def test_the_login_page_lists_every_demo_login_from_the_one_list(client, settings):
    settings.DEMO_MODE = True
    page = client.get(reverse("login")).content.decode()

    usernames = re.findall(r'<tr><td><code class="mono">([\w]+)</code>', page)
    assert usernames == [username for username, _, _ in demo_accounts()]
    assert usernames == [username for username, _, _ in DEMO_USERS] + [SECOND_CADRE[0]]
    assert "cunganbu2" in usernames


# --------------------------------------------------------------------------- point 20


def test_the_notice_start_date_is_today_by_default(case_a, walker, cadre_a):
    with time_machine.travel(NOW, tick=False):
        walker.to_appraisal(case_a)
        walker.record_appraisal(case_a)
        page = client_for(cadre_a).get(reverse("cases:detail", args=[case_a.pk])).content.decode()

    field = re.search(r'<input type="date" name="start_notice-starts_on"[^>]*>', page)
    assert field and 'value="2026-11-24"' in field.group(0)


def test_the_api_docs_link_is_for_administrators_and_on_the_token_page(cadre_a, administrator):
    docs = f'href="{reverse("api-docs")}"'
    cadre_home = client_for(cadre_a).get(reverse("home")).content.decode()
    admin_home = client_for(administrator).get(reverse("home")).content.decode()
    tokens = client_for(cadre_a).get(reverse("accounts:tokens")).content.decode()

    assert docs not in cadre_home
    assert docs in admin_home
    assert docs in tokens  # an integrator (any user with an API token) finds the docs beside the tokens
