"""The Django admin is the operators' door only (issue #11, findings 1, 2, 3, 11, 13).

Every admin URL — enumerated from `admin.site._registry`: changelist, add, change, delete, history and
history revert (django-simple-history) of an object of each model, the user password page, the 立即运行
page, the app indexes, autocomplete, jsi18n, view-on-site — for every persona, GET and POST: anyone but a
superuser is sent to the admin's login and not one row is written (every table's row count, history
tables included, and the accounts' flags). A second county (黔西县) with its own administrator, township
reviewer and village cadre sits beside the demo county; its objects are the ones probed.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from knox.models import AuthToken

from fpr.roles import Level, Role
from households.models import Division, Household, Member, User
from tests.builders import PASSWORD, household_data, make_user, member_data
from tests.test_access_matrix import world  # noqa: F401  (the fixture: one monitored household of village A)

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "cadre_a",
    "township_reviewer",
    "county_reviewer",
    "administrator",
    "qx_admin",
    "department_officer",
    "superuser",
]


@pytest.fixture
def qianxi(divisions):
    from households.services import household_create

    tree = [
        ("520522000000", "黔西县", Level.COUNTY, "520500000000"),
        ("520522100000", "金碧镇", Level.TOWNSHIP, "520522000000"),
        ("520522100001", "核屯村", Level.VILLAGE, "520522100000"),
    ]
    made = {
        code: Division.objects.create(code=code, name=name, level=level, parent_id=parent)
        for code, name, level, parent in tree
    }
    people = {
        "qx_admin": make_user("qx_admin", made["520522000000"], Role.ADMINISTRATOR, is_staff=True),
        "qx_township": make_user("qx_township", made["520522100000"], Role.TOWNSHIP_REVIEWER),
        "qx_cadre": make_user("qx_cadre", made["520522100001"], Role.VILLAGE_CADRE),
    }
    household = household_create(
        user=people["qx_cadre"],
        village=made["520522100001"],
        members=[member_data("何超峰")],
        data=household_data(address="核屯村一组1号", bank_name="农商银行", bank_account="6217000000001234"),
    )
    return {**people, "village": made["520522100001"], "household": household}


@pytest.fixture
def door(world, qianxi, divisions, cadre_a):  # noqa: F811
    """Personas (signed in), and for each admin model the object to probe (another county's where it has one)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from monitoring.models import JobRun

    users, _ = world
    superuser = make_user("root", divisions["520000000000"], is_superuser=True, is_staff=True)
    AuthToken.objects.create(user=qianxi["qx_township"])
    every_day = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    PeriodicTask.objects.create(name="逾期扫描", task="monitoring.jobs.overdue_scan", interval=every_day)
    JobRun.objects.create(job="overdue_scan", status="succeeded", started_at="2026-11-24T02:00:00Z")
    people = {**users, "qx_admin": qianxi["qx_admin"], "superuser": superuser}
    clients = {}
    for persona in PERSONAS:
        client = Client()
        if persona != "anonymous":
            client.force_login(people[persona])
        clients[persona] = client
    household = qianxi["household"]
    chosen = {
        Household: household,
        Member: household.members.get(),
        Division: qianxi["village"],
        User: qianxi["qx_cadre"],
    }
    return clients, people, chosen


def admin_urls(chosen: dict) -> list[tuple[str, str]]:
    """(route name, url) of every admin page for one object of each registered model."""
    urls = [("admin:index", reverse("admin:index")), ("admin:password_change", reverse("admin:password_change"))]
    urls.append(("admin:password_change_done", reverse("admin:password_change_done")))
    urls.append(("admin:jsi18n", reverse("admin:jsi18n")))
    urls.append(
        (
            "admin:autocomplete",
            reverse("admin:autocomplete") + "?app_label=households&model_name=household&field_name=village&term=村",
        )
    )
    for app_label in {model._meta.app_label for model in admin.site._registry}:
        urls.append(("admin:app_list", reverse("admin:app_list", args=[app_label])))
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [(f"{info}_changelist", reverse(f"{info}_changelist")), (f"{info}_add", reverse(f"{info}_add"))]
        obj = chosen.get(model) or model._default_manager.order_by("-pk").first()
        pk = obj.pk if obj is not None else 999999  # a model without rows: the refusal must come first anyway
        for view in ("change", "delete", "history"):
            urls.append((f"{info}_{view}", reverse(f"{info}_{view}", args=[pk])))
        if hasattr(model_admin, "history_form_view"):
            record = model.history.filter(**{model._meta.pk.attname: pk}).order_by("history_id").first()
            version = record.pk if record is not None else 999999
            urls.append((f"{info}_simple_history", reverse(f"{info}_simple_history", args=[pk, version])))
        if model is User:
            urls.append(("admin:auth_user_password_change", reverse("admin:auth_user_password_change", args=[pk])))
        content_type = ContentType.objects.get_for_model(model)
        urls.append(("admin:view_on_site", reverse("admin:view_on_site", args=[content_type.pk, pk])))
    urls.append(("admin:monitoring_jobrun_run", reverse("admin:monitoring_jobrun_run")))
    return urls


def named_admin_routes() -> set[str]:
    names = set()

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"admin:{pattern.name}")

    walk(admin.site.get_urls())
    return names


def rows_and_flags() -> dict:
    """Row counts of every table (history tables included) but the sessions, and every account's flags."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label not in ("sessions.Session", "axes.AccessLog")
    }
    counts["accounts"] = sorted(
        User.objects.values_list("username", "is_superuser", "is_staff", "is_active", "division_id", "password")
    )
    counts["roles"] = sorted(User.groups.through.objects.values_list("user_id", "group_id"))
    counts["divisions"] = sorted(Division.objects.values_list("code", "name", "parent_id"))
    counts["households"] = sorted(Household.objects.values_list("pk", "address", "bank_account"))
    return counts


ATTACK = {
    "name": "越权改名",
    "is_superuser": "on",
    "is_staff": "on",
    "division": "520000000000",
    "address": "越权",
    "amount": "1",
    "post": "yes",
    "action": "delete_selected",
    "password1": "Escalated-2026-pass",
    "password2": "Escalated-2026-pass",
    "job": "overdue_scan",
}


def test_every_named_admin_route_is_probed(door):
    _, _, chosen = door
    probed = {name for name, _ in admin_urls(chosen)}
    # login/logout are probed on their own below; everything else must be in the table.
    assert sorted(named_admin_routes() - probed - {"admin:login", "admin:logout"}) == []


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "superuser"])
def test_the_admin_refuses_everyone_but_the_operators_and_writes_nothing(door, persona):
    clients, people, chosen = door
    client = clients[persona]
    before = rows_and_flags()
    wrong = []
    for name, url in admin_urls(chosen):
        for method in ("get", "post"):
            data = {**ATTACK, "_selected_action": [url.rstrip("/").split("/")[-2]]} if method == "post" else {}
            response = getattr(client, method)(url, data)
            location = response.get("Location", "")
            if not (response.status_code == 302 and location.startswith(reverse("admin:login"))):
                wrong.append(f"{method.upper()} {name} {url}: {response.status_code} {location}")
    assert wrong == []
    assert rows_and_flags() == before


def test_the_operator_reads_every_admin_page_without_a_failure(door):
    clients, _, chosen = door
    client = clients["superuser"]
    wrong = []
    for name, url in admin_urls(chosen):
        response = client.get(url)
        if response.status_code not in (200, 302, 403, 404):
            wrong.append(f"{name} {url}: {response.status_code}")
    assert wrong == []


def test_the_admin_login_page_never_fails(door):
    """Finding 13: the anonymous login page (and /admin/ for anyone logged out) built the app list and asked
    a model admin about an AnonymousUser."""
    clients, _, _ = door
    anonymous = clients["anonymous"]
    assert anonymous.get(reverse("admin:login")).status_code == 200
    assert anonymous.get(reverse("admin:index")).status_code == 302
    # A signed-in non-operator sees the admin's login page (to sign in as an operator), no menu.
    page = clients["administrator"].get(reverse("admin:login"))
    assert page.status_code == 200 and "households" not in page.content.decode()


def test_a_county_administrator_reads_no_token_and_makes_none(door, qianxi):
    """Finding 1: the token pages listed every county's keys and made one for any user."""
    clients, people, _ = door
    client = clients["administrator"]
    listing = client.get(reverse("admin:knox_authtoken_changelist"))
    assert listing.status_code == 302 and listing["Location"].startswith(reverse("admin:login"))
    before = AuthToken.objects.count()
    client.post(reverse("admin:knox_authtoken_add"), {"user": qianxi["qx_township"].pk})
    assert AuthToken.objects.count() == before
    # Tokens are digests at rest: no page anywhere can list a usable token.
    token = AuthToken.objects.get(user=qianxi["qx_township"])
    assert len(token.digest) == 128 and len(token.token_key) == 15


def test_a_county_administrator_cannot_make_themselves_superuser_through_the_admin(door, divisions):
    """Finding 2: is_superuser ticked on their own account, moved to the province, accounts in another county."""
    clients, people, _ = door
    me = people["administrator"]
    client = clients["administrator"]
    client.post(
        reverse("admin:households_user_change", args=[me.pk]),
        {"username": me.username, "is_superuser": "on", "is_staff": "on", "division": "520000000000"},
    )
    client.post(
        reverse("admin:households_user_add"),
        {
            "username": "planted",
            "password1": "Planted-2026-pass",
            "password2": "Planted-2026-pass",
            "division": "520522100001",
        },
    )
    me.refresh_from_db()
    assert not me.is_superuser and me.division_id == "520521000000"
    assert not User.objects.filter(username="planted").exists()


def test_history_pages_show_and_revert_nothing_for_a_county_administrator(door, qianxi):
    """Finding 3: another county's member history showed the full ID; a POST to a division's history
    page renamed another county's village."""
    clients, _, _ = door
    client = clients["administrator"]
    member = qianxi["household"].members.get()
    record = member.history.first()
    page = client.get(reverse("admin:households_member_simple_history", args=[member.pk, record.pk]))
    assert page.status_code == 302 and member.id_number not in page.content.decode()
    village = qianxi["village"]
    village_record = village.history.first()
    client.post(
        reverse("admin:households_division_simple_history", args=[village.pk, village_record.pk]),
        {"code": village.pk, "name": "越权改名村", "level": Level.VILLAGE, "parent": "520522100000"},
    )
    village.refresh_from_db()
    assert village.name == "核屯村"


def test_shared_reference_data_is_the_operators_in_the_admin(door):
    """Finding 11: monitoring line, categories, schedules and divisions — an operator may edit them here; a
    county administrator is sent away (the province's administrators set the line on their own page)."""
    clients, _, _ = door
    for name in (
        "admin:households_monitoringline_changelist",
        "admin:monitoring_riskcategory_changelist",
        "admin:assistance_measurecategory_changelist",
        "admin:django_celery_beat_periodictask_changelist",
        "admin:households_division_changelist",
    ):
        assert clients["administrator"].get(reverse(name)).status_code == 302
        assert clients["superuser"].get(reverse(name)).status_code == 200


def test_signed_in_users_log_in_to_the_admin_only_as_operators(door, administrator):
    client = Client()
    response = client.post(reverse("admin:login"), {"username": administrator.username, "password": PASSWORD})
    assert response.status_code == 200 and "仅限系统运维人员登录" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302
