"""The access-control matrix: every page route (from the URL resolver) and every API operation (from the
OpenAPI schema) × every role × an object of village A (inside or outside the user's jurisdiction) ×
anonymous, each with the status it must answer. A new route that is not in the tables fails the test,
so nothing can be added without deciding who may reach it.

World: one household of 光明村 (village A) with a monitoring object carried through identification
(plan, measure, visit, appraisal minutes, authorization scan), a department warning, a department
upload, an export and a bulk job. cadre_a works in village A; cadre_b in village B (the outsider: every
object here is outside her jurisdiction); township_reviewer, county_reviewer and administrator cover
village A; department_officer (医保) sees only uploads.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

PERSONAS = [
    "anonymous",
    "cadre_a",
    "cadre_b",
    "township_reviewer",
    "county_reviewer",
    "administrator",
    "department_officer",
]
STAFF = ["cadre_a", "township_reviewer", "county_reviewer", "administrator"]  # read village A's cases
LOGIN = "login"  # a redirect to the login page

pytestmark = pytest.mark.django_db


def expect(ok, *, readers=None, denied=404, outsider=404, department=None, anonymous=LOGIN) -> dict:
    """The status of a GET for each persona. `readers`: who may (default: the four case-reading roles);
    the others get `denied`, cadre_b (outside the jurisdiction) `outsider`, the department officer
    `department` (default `denied`)."""
    readers = STAFF if readers is None else readers
    table = {"anonymous": anonymous}
    for persona in PERSONAS[1:]:
        if persona in readers:
            table[persona] = ok[persona] if isinstance(ok, dict) else ok
        elif persona == "cadre_b":
            table[persona] = outsider
        elif persona == "department_officer":
            table[persona] = denied if department is None else department
        else:
            table[persona] = denied
    return table


EVERYONE = [p for p in PERSONAS if p != "anonymous"]
VILLAGE = ["cadre_a"]
UPLOADS = ["county_reviewer", "administrator", "department_officer"]

# route name → (keyword arguments from the world, the expected status per persona). Keys in the
# arguments are looked up in the world built below.
PAGES: dict[str, tuple[dict, dict]] = {}


def page(name: str, kwargs: dict | None = None, **table):
    PAGES[name] = (kwargs or {}, expect(**table))


def _village_cadre_else(status):
    return {p: (200 if p == "cadre_a" else status) for p in PERSONAS}


# POST-only routes: a GET is 405 for anyone signed in (before any lookup, so it tells nothing); what
# a POST does for each persona is POSTS below.
POSTS: dict[str, tuple[dict, dict, dict]] = {}


def post_only(name: str, kwargs: dict | None = None, *, data: dict | None = None, outsider=404, department=404):
    PAGES[name] = (kwargs or {}, {**dict.fromkeys(PERSONAS, 405), "anonymous": LOGIN})
    POSTS[name] = (
        kwargs or {},
        data or {},
        {"anonymous": LOGIN, "cadre_b": outsider, "department_officer": department},
    )


# Public and everyone's pages.
PAGES["healthz"] = ({}, dict.fromkeys(PERSONAS, 200))
PAGES["login"] = ({}, {**dict.fromkeys(PERSONAS, 302), "anonymous": 200})
PAGES["logout"] = ({}, dict.fromkeys(PERSONAS, 405))  # POST only
page("home", ok=200, readers=EVERYONE)
# 我的待办 (workflow.inbox): every case reader's own; a department officer has no inbox (403, said why).
page("inbox", ok=200, readers=STAFF + ["cadre_b"], denied=403)
page("api-docs", ok=200, readers=EVERYONE)
page("api-schema", ok=200, readers=EVERYONE, anonymous=401)
# The registry. A department officer reads no household: 404 before any role check.
REGISTRY_EDITORS = ["cadre_a", "administrator"]
# The lists refuse a department officer with a 403 that says why, not an empty "no household" list.
page("households:list", ok=200, readers=STAFF + ["cadre_b"], denied=403)
page("households:create", ok=200, readers=["cadre_a", "cadre_b", "administrator"], denied=403)
page("households:detail", {"pk": "household"}, ok=200)
page("households:edit", {"pk": "household"}, ok=200, readers=REGISTRY_EDITORS, denied=403, department=404)
post_only("households:reveal", {"pk": "household"}, data={"reason": "越权查看"})
page("households:member_create", {"pk": "household"}, ok=200, readers=REGISTRY_EDITORS, denied=403, department=404)
page(
    "households:member_edit",
    {"pk": "household", "member_pk": "member"},
    ok=200,
    readers=REGISTRY_EDITORS,
    denied=403,
    department=404,
)
post_only("households:member_delete", {"pk": "household", "member_pk": "member"})
# 更正身份证号: a registry editor who holds households.view_sensitive (the administrator).
page(
    "households:member_id_correct",
    {"pk": "household", "member_pk": "member"},
    ok=200,
    readers=["administrator"],
    denied=403,
    department=404,
)
# The list's search posts its words (an ID number) here and is sent back to the list with a token.
post_only("households:search", data={"q": "张三"}, outsider=302, department=302)
page(
    "households:income_edit",
    {"pk": "household", "year": "year"},
    ok=200,
    readers=REGISTRY_EDITORS,
    denied=403,
    department=404,
)
# Cases. The case of village A is under monitoring: the village's record pages show it read-only.
page("cases:list", ok=200, readers=STAFF + ["cadre_b"], denied=403)
page("cases:queue", ok=200, readers=STAFF + ["cadre_b"], denied=403)
# The lists' searches post their words (an ID number) and are sent back to the list with a token.
post_only("cases:search", data={"q": "张三"}, outsider=302, department=302)
post_only("cases:queue_search", data={"q": "1234"}, outsider=302, department=302)
# Bulk approval is for reviewers: a village cadre or department officer has no bulk transition at all.
post_only("cases:bulk", data={"transition": "township_approve", "cases": ["case"]}, outsider=403, department=403)
page("cases:bulk_job", {"job_id": "bulk_job"}, ok=200, readers=["township_reviewer"])
# The household already has a case under monitoring: the application page sends the cadre to it.
page("cases:create", {"household_pk": "household"}, ok=302, readers=VILLAGE, denied=403, department=404)
page("cases:detail", {"pk": "case"}, ok=200)
for _record in ("application", "verification", "appraisal"):
    page(f"cases:{_record}", {"pk": "case"}, ok={**dict.fromkeys(PERSONAS, 403), "cadre_a": 200})
post_only(
    "cases:fire",
    {"pk": "case", "name": "propose_elimination"},
    data={"expected_stage": "monitoring", "propose_elimination-opinion": "越权尝试"},
)
post_only("cases:classify", {"pk": "case"}, data={"case_type": "marginal", "reason": "越权"})
post_only("cases:objection", {"pk": "case"}, data={"lodged_by": "某人", "content": "越权", "lodged_on": "2026-11-20"})
post_only("cases:objection_dismiss", {"pk": "case", "objection_id": "missing"}, data={"resolution": "越权"})
post_only("cases:objection_substantiate", {"pk": "case", "objection_id": "missing"}, data={"resolution": "越权"})
page("cases:authorization_file", {"pk": "case"}, ok=200)
# Print pages (A4): a case's sheets like the case page; the village's 公示名单 refuses a department officer
# with a 403 that says why (cadre_b, outside the village: 404).
page("cases:print_notices", {"village_pk": "village_a"}, ok=200, department=403)
page("cases:print_authorization", {"pk": "case"}, ok=200)
page("cases:print_signin", {"pk": "case"}, ok=200)
page("cases:print_collection", {"pk": "case"}, ok=200)
page("cases:minutes_file", {"pk": "case", "item": "appraisal"}, ok=200)
page("cases:attachment_file", {"pk": "case", "item": "missing"}, ok=404)
# Assistance: the plan page is read by every case reader; only the village's cadres change it.
page("assistance:visit_duty", ok=200, readers=STAFF + ["cadre_b"], denied=403)
page("assistance:plan", {"pk": "case"}, ok=200)
post_only(
    "assistance:plan_create", {"pk": "case"}, data={"situation": "越权", "risk_analysis": "越权", "needs": "越权"}
)
post_only("assistance:plan_adjust", {"pk": "case"}, data={"situation": "越权", "adjustment_reason": "越权"})
post_only("assistance:measure_add", {"pk": "case"}, data={"category": "employment", "description": "越权"})
page(
    "assistance:measure_edit",
    {"pk": "case", "measure_id": "measure"},
    ok={**dict.fromkeys(PERSONAS, 403), "cadre_a": 200},
)
post_only("assistance:visit_add", {"pk": "case"}, data={"visited_on": "2026-11-20", "findings": "越权"})
page("assistance:visit_photo", {"pk": "case", "photo_id": "missing"}, ok=404)
# Departmental comparison: administrators, county reviewers and the department's own officers.
page("monitoring:uploads", ok=200, readers=UPLOADS, denied=403, outsider=403)
page("monitoring:upload_create", ok=200, readers=["administrator", "department_officer"], denied=403, outsider=403)
page("monitoring:upload", {"pk": "upload"}, ok=200, readers=UPLOADS)
page("monitoring:upload_report", {"pk": "upload"}, ok=200, readers=UPLOADS)
post_only("monitoring:upload_retry", {"pk": "upload"}, department=302)  # 医保: the officer's own upload
# 开始比对 / 放弃 on the preview: the officer's own department; the world's upload is compared already
# (refused with the reason, nothing written).
post_only("monitoring:upload_start", {"pk": "upload"}, department=302)
post_only("monitoring:upload_discard", {"pk": "upload"}, department=302)
page("monitoring:upload_template", {"department": "department"}, ok=200, readers=EVERYONE)
page("monitoring:upload_sample", {"name": "sample"}, ok=404, readers=EVERYONE)  # demo mode only
# Warnings: case readers of the village; the department officer is refused outright.
page("monitoring:warnings", ok=200, readers=STAFF + ["cadre_b"], denied=403)
page("monitoring:warning", {"pk": "warning"}, ok=200, department=403)
post_only(
    "monitoring:warning_include",
    {"pk": "warning"},
    data={"case_type": "marginal", "description": "越权"},
    department=403,
)
post_only("monitoring:warning_search", data={"q": "张三"}, outsider=302, department=302)
post_only("monitoring:warning_contact", {"pk": "warning"}, data={"outcome": "phoned"}, department=403)
post_only("monitoring:warning_exclude", {"pk": "warning"}, data={"reason": "越权核实"}, department=403)
post_only("monitoring:warning_attach", {"pk": "warning"}, data={"note": "越权"}, department=403)
page("monitoring:todos", ok=200, readers=STAFF + ["cadre_b"], denied=403)
# 未算账农户: the case readers, each over their own subtree (cadre_b sees her village's).
page("monitoring:accounting_missing", ok=200, readers=STAFF + ["cadre_b"], denied=403)
# Reports: case readers only; exports are their author's (and their administrator's).
CASE_READERS = STAFF + ["cadre_b"]
page("reports:statistics", ok=200, readers=CASE_READERS, denied=403)
post_only("reports:statistics_export", data={"division": "village_a", "period": "2026-11"}, department=403)
page("reports:dashboard", ok=200, readers=CASE_READERS, denied=403)
page("reports:exports", ok=200, readers=EVERYONE)
page("reports:export_download", {"pk": "export"}, ok=200, readers=["county_reviewer", "administrator"])
page("reports:export_status", {"pk": "export"}, ok=200, readers=["county_reviewer", "administrator"])
page("reports:ledger", ok=200, readers=CASE_READERS, denied=403)
# Exports that write a file and a log row are POST only (a link cannot export in someone's name). A
# township outside the user's area is not a choice: back to the ledger page with the reason.
post_only(
    "reports:quarterly",
    data={"township": "520521100000", "year": 2026, "quarter": 4},
    outsider=302,
    department=403,
)
post_only("reports:case_form", {"pk": "case", "form": "collection"}, data={"full": "1"}, department=403)
# Accounts (households.account_views): one's own password and API tokens for everyone signed in; the users
# of the subtree, their lockouts and the jobs for administrators; the monitoring line for the province's
# administrators only (the administrator here is the county's). Nothing of another user through a token.
page("accounts:password_change", ok=200, readers=EVERYONE)
page("accounts:password_change_done", ok=200, readers=EVERYONE)
page("accounts:tokens", ok=200, readers=EVERYONE)
post_only("accounts:token_revoke", data={"digest": "0" * 128}, outsider=302, department=302)
ADMINISTRATORS = ["administrator"]
page("accounts:users", ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
page("accounts:user_create", ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
page("accounts:user_detail", {"pk": "user_a"}, ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
page("accounts:user_edit", {"pk": "user_a"}, ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
_password = {"password1": "Escalated-2026-pass", "password2": "Escalated-2026-pass"}
post_only("accounts:user_password", {"pk": "user_a"}, data=_password, outsider=403, department=403)
post_only("accounts:user_deactivate", {"pk": "user_a"}, outsider=403, department=403)
post_only("accounts:user_tokens_revoke", {"pk": "user_a"}, outsider=403, department=403)
page("accounts:lockouts", ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
page("accounts:sensitive_accesses", ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
post_only("accounts:lockout_reset", data={"username": "cadre_a"}, outsider=403, department=403)
page("accounts:monitoring_lines", ok=403, readers=ADMINISTRATORS, denied=403, outsider=403)
page("monitoring:jobs", ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
# 数据导入 (workflow.onboarding): administrators only, each seeing the imports of their subtree.
page("imports:list", ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
page("imports:detail", {"pk": "import_job"}, ok=200, readers=ADMINISTRATORS, denied=403, outsider=403)
post_only("imports:confirm", {"pk": "import_job"}, outsider=403, department=403)
post_only("imports:passwords", {"pk": "import_job"}, outsider=403, department=403)


def page_routes() -> list[str]:
    """Every named page route of the URL resolver (the admin and the API are checked elsewhere)."""
    names = []

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) in ("admin/", "api/v1/"):
                    continue
                walk(pattern.url_patterns, namespace + (f"{pattern.namespace}:" if pattern.namespace else ""))
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.append(namespace + pattern.name)

    walk(get_resolver().url_patterns)
    return names


@pytest.fixture
def world(
    cadre_a,
    cadre_b,
    township_reviewer,
    county_reviewer,
    administrator,
    department_officer,
    case_a,
    make_monitored,
    department_upload,
):
    from reports.exports.runner import export_start
    from reports.models import ExportKind
    from workflow.models import BulkJob, ImportJob, ImportKind, ImportStatus

    with time_machine.travel(dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC), tick=False):
        case = make_monitored(case_a)
        household = case.household
        member = household.members.first()
        upload = department_upload(
            [{"身份证号": member.id_number, "姓名": member.name, "个人自付金额": "60000"}, {"身份证号": "bad"}],
            user=administrator,
        )
        warning = household.warnings.get()
        export = export_start(
            user=county_reviewer,
            kind=ExportKind.STATISTICS,
            division=county_reviewer.division,
            filters={"period": "2026-11"},
            background=False,
        )
        job = BulkJob.objects.create(user=township_reviewer, transition="township_approve", case_ids=[case.pk], total=1)
        import_job = ImportJob.objects.create(
            kind=ImportKind.DIVISIONS,
            file=SimpleUploadedFile("区划代码.csv", b"520521100000,\xe9\xbe\x99\xe5\xb1\xaf\xe9\x95\x87\r\n"),
            file_name="区划代码.csv",
            user=administrator,
            division_id=administrator.division_id,
            status=ImportStatus.CHECKED,
        )
    users = {
        "cadre_a": cadre_a,
        "cadre_b": cadre_b,
        "township_reviewer": township_reviewer,
        "county_reviewer": county_reviewer,
        "administrator": administrator,
        "department_officer": department_officer,
    }
    objects = {
        "household": household.pk,
        "member": member.pk,
        "year": 2026,
        "case": case.pk,
        "appraisal": case.appraisals.first().pk,
        "measure": case.measure.pk,
        "upload": upload.pk,
        "warning": warning.pk,
        "export": export.pk,
        "bulk_job": job.pk,
        "import_job": import_job.pk,
        "user_a": cadre_a.pk,
        "department": "housing",
        "sample": "civil_affairs_2026-11.csv",
        "missing": 999999,
        "village_a": household.village_id,
    }
    return users, objects


def status_of(response) -> object:
    if response.status_code == 302 and "/login/" in response.get("Location", ""):
        return LOGIN
    return response.status_code


def test_every_page_route_is_in_the_matrix():
    assert sorted(set(page_routes()) - set(PAGES)) == []
    assert sorted(set(PAGES) - set(page_routes())) == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_page_matrix(world, persona):
    users, objects = world
    client = Client()
    if persona != "anonymous":
        client.force_login(users[persona])
    wrong = []
    for name, (kwargs, table) in PAGES.items():
        url = reverse(name, kwargs={key: objects.get(value, value) for key, value in kwargs.items()})
        got = status_of(client.get(url))
        if got != table[persona]:
            wrong.append(f"{persona} {name} {url}: expected {table[persona]}, got {got}")
    assert wrong == []


def fingerprint() -> dict:
    """Counts that any write leaves a trace in: every history table, events, exports, jobs, uploads."""
    from django.apps import apps

    tables = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    for label in (
        "workflow.TransitionEvent",
        "workflow.BulkJob",
        "reports.Export",
        "monitoring.Objection",
        "households.SensitiveAccess",
    ):
        tables.append(apps.get_model(label))
    counts = {m.__name__: m.objects.count() for m in tables}
    from monitoring.models import DepartmentUpload, RiskWarning

    counts["uploads"] = list(DepartmentUpload.objects.values_list("status", flat=True))
    counts["warnings"] = list(RiskWarning.objects.values_list("status", flat=True))
    return counts


@pytest.mark.parametrize("persona", ["anonymous", "cadre_b", "department_officer"])
def test_actions_outside_the_jurisdiction_are_refused_and_change_nothing(world, persona):
    """Every POST action on village A's objects by someone who may not act there: refused, and not one
    row written anywhere (history tables included)."""
    users, objects = world
    client = Client()
    if persona != "anonymous":
        client.force_login(users[persona])
    wrong = []
    before = fingerprint()
    for name, (kwargs, data, table) in POSTS.items():
        url = reverse(name, kwargs={key: objects.get(value, value) for key, value in kwargs.items()})
        payload = {
            key: [objects.get(v, v) for v in value] if isinstance(value, list) else objects.get(value, value)
            for key, value in data.items()
        }
        got = status_of(client.post(url, payload))
        if got != table[persona]:
            wrong.append(f"POST {name} {url}: expected {table[persona]}, got {got}")
    assert wrong == []
    assert fingerprint() == before


# --------------------------------------------------------------------------- the API, from the schema


def schema_operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method.upper()) for path, item in schema["paths"].items() for method in item]


def api_url(path: str, objects: dict) -> str:
    def fill(match):
        name = match[1]
        return str(
            {
                "id": objects["_id"],
                "pk": objects["_id"],
                "code": "520521100001",
                "objection_id": objects["missing"],
                "transition": "propose_elimination",
                "format": "json",
            }.get(name, objects["missing"])
        )

    return re.sub(r"\{(\w+)\}", fill, path)


# Which object an API path's {id} is, by its first segment.
API_OBJECTS = {
    "households": "household",
    "members": "member",
    "income-items": "income_item",
    "cases": "case",
    "bulk-jobs": "bulk_job",
    "uploads": "upload",
    "measures": "measure",
    "visits": "visit",
    "warnings": "warning",
    "imports": "import_job",
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_objects_outside_the_jurisdiction_are_not_found(world, persona):
    """Every API operation on an object of village A: anonymous is 401, the outsider and the department
    officer (for case data) never succeed and never see it — whatever the method."""
    users, objects = world
    from assistance.models import Visit
    from households.models import IncomeItem

    objects = {
        **objects,
        "income_item": IncomeItem.objects.filter(household_id=objects["household"]).first().pk,
        "visit": Visit.objects.filter(case_id=objects["case"]).first().pk,
    }
    client = APIClient()
    if persona != "anonymous":
        client.force_authenticate(users[persona])
    wrong = []
    for path, method in schema_operations():
        segment = path.split("/")[3]
        target = API_OBJECTS.get(segment)
        url = api_url(path, {**objects, "_id": objects[target] if target else objects["missing"]})
        response = getattr(client, method.lower())(url, {}, format="json")
        code = response.status_code
        if code >= 500:
            wrong.append(f"{method} {url}: {code}")
        elif persona == "anonymous":
            if code != 401:
                wrong.append(f"{method} {url}: anonymous got {code}")
        elif (
            "{" in path
            and target
            and (persona == "cadre_b" or (persona == "department_officer" and target != "upload"))
            and code not in (403, 404)
        ):
            wrong.append(f"{method} {url}: {persona} got {code}")
    assert wrong == []


@pytest.mark.parametrize("persona", ["cadre_b", "department_officer"])
def test_api_lists_never_show_village_a(world, persona):
    users, objects = world
    from households.models import Household

    number = Household.objects.get(pk=objects["household"]).number
    client = APIClient()
    client.force_authenticate(users[persona])
    leaks = []
    for path, method in schema_operations():
        if method != "GET" or "{" in path:
            continue
        body = client.get(path).content.decode()
        if number in body:
            leaks.append(path)
    assert leaks == []


# --------------------------------------------------------------------------- the Django admin


def admin_changelists() -> list[str]:
    from django.contrib import admin

    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_is_for_operators_only_and_never_fails(world, persona):
    """Every model page of the admin: strangers and every non-superuser — the staff administrator too —
    are sent to the admin's login (the admin is the operators' door: fpr/admin_site.py; every admin URL,
    GET and POST, with nothing written, is tests/test_admin_door.py)."""
    users, objects = world
    client = Client()
    if persona != "anonymous":
        client.force_login(users[persona])
    wrong = []
    for url in [reverse("admin:index"), *admin_changelists()]:
        response = client.get(url)
        if not (response.status_code == 302 and "/admin/login/" in response["Location"]):
            wrong.append(f"{url}: {response.status_code}")
    assert wrong == []


def test_the_administrator_sees_only_their_subtree_on_the_user_pages(world, divisions, administrator):
    """A township administrator of 羊场镇 (villages A and B) manages the accounts there, not 新华村's, and
    the admin is closed to them."""
    from tests.builders import make_user

    users, objects = world
    other_cadre = make_user("c_cadre", divisions["520521101001"], "village_cadre")
    township_admin = make_user("t_admin", divisions["520521100000"], "administrator", is_staff=True)
    client = Client()
    client.force_login(township_admin)
    listing = client.get(reverse("accounts:users")).content.decode()
    assert users["cadre_a"].username in listing and other_cadre.username not in listing
    assert administrator.username not in listing  # above them
    assert client.get(reverse("accounts:user_detail", args=[other_cadre.pk])).status_code == 404
    assert client.get(reverse("admin:households_user_changelist")).status_code == 302
