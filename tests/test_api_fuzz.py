"""API fuzzing from the OpenAPI schema (schemathesis): every operation, called with generated data by
each role, once with an API token and once with a browser's session cookie and CSRF token, and by an
anonymous caller, never answers 5xx, answers only the status codes and content types the schema
documents, with a body that matches the documented schema, and every 4xx carries a JSON error body
with a Chinese `detail` — the shape fpr/api.py promises.

Each generated request runs in its own savepoint that is rolled back afterwards, so examples do not
pile data up, and a database error in one request cannot poison the next. Path parameters are drawn
half the time from objects that exist (the registry of two villages, an application, a monitoring
object with a plan, a measure and a visit, an objection, a department upload with a warning), so the
fuzzer reaches the code behind the 404s.
"""

import datetime as dt
import json
import os

import pytest
import schemathesis
import time_machine
from django.apps import apps
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fpr.api import CSRF_FAILED, FIELD_ERRORS, NO_ROUTE, server_error
from fpr.roles import Department
from households.api import DivisionViewSet
from households.models import Division, IncomeItem, Member
from monitoring.cases.services import objection_lodge
from monitoring.models import RiskWarning
from tests.builders import CaseWalker
from workflow.elimination import ELIMINATION
from workflow.identification import IDENTIFICATION

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing, a Monday

# Per operation, role and way of signing in: ~56 operations × 6 roles × 2 (token, session) + anonymous
# stay within a few minutes (12 examples per operation and role, as many as one way had before).
# FPR_FUZZ_EXAMPLES=30 digs deeper by hand.
EXAMPLES = int(os.environ.get("FPR_FUZZ_EXAMPLES", "6"))
ANONYMOUS_EXAMPLES = 3  # every answer is the same 401
ROLES = ["cadre_a", "cadre_b", "township_reviewer", "county_reviewer", "administrator", "department_officer"]
TRANSITIONS = sorted({t.name for wf in (IDENTIFICATION, ELIMINATION) for t in wf.transitions})


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    """The schema drf-spectacular serves at /api/schema/, generated in-process (no request needed)."""
    with django_db_blocker.unblock():
        document = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = WSGIHandler()
    return loaded


@pytest.fixture
def wsgi_in_test_transaction():
    """Like Django's test client: the WSGI handler must not close the test's connection per request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(
    divisions,
    cadre_a,
    cadre_b,
    township_reviewer,
    county_reviewer,
    administrator,
    department_officer,
    make_household,
    open_case,
    make_monitored,
    department_upload,
):
    """Objects for the path parameters to hit, built through the real services."""
    with time_machine.travel(NOW, tick=False):
        household_a = make_household(user=cadre_a, village=divisions["520521100001"])
        household_a2 = make_household(user=cadre_a, village=divisions["520521100001"], address="光明村三组7号")
        household_b = make_household(user=cadre_b, village=divisions["520521100002"], address="红岩村二组3号")
        application = open_case(user=cadre_a, household=household_a2)
        monitored = make_monitored(open_case(user=cadre_a, household=household_a))
        in_notice = open_case(user=cadre_b, household=household_b)
        CaseWalker(cadre_b, township_reviewer, county_reviewer).to_notice(in_notice, starts_on=dt.date(2026, 11, 20))
        objection = objection_lodge(user=cadre_b, case=in_notice, lodged_by="村民甲", content="家中有车")
        member = Member.objects.filter(household=household_a).first()
        upload = department_upload(
            [{"身份证号": member.id_number, "姓名": member.name, "个人自付金额": "30000"}],
            department=Department.MEDICAL_INSURANCE,
            period="2026-10",
        )
    users = {
        "cadre_a": cadre_a,
        "cadre_b": cadre_b,
        "township_reviewer": township_reviewer,
        "county_reviewer": county_reviewer,
        "administrator": administrator,
        "department_officer": department_officer,
    }
    known = {
        "households": [household_a.pk, household_a2.pk, household_b.pk],
        "members": list(Member.objects.values_list("pk", flat=True)),
        "income-items": list(IncomeItem.objects.values_list("pk", flat=True)),
        "cases": [application.pk, monitored.pk, in_notice.pk],
        "measures": [monitored.measure.pk],
        "visits": list(monitored.visits.values_list("pk", flat=True)),
        "warnings": list(RiskWarning.objects.values_list("pk", flat=True)),
        "uploads": [upload.pk],
        "divisions": list(Division.objects.values_list("code", flat=True)),
        "objection_id": [objection.pk],
        "transition": TRANSITIONS,
    }
    return {"users": users, "known": known}


def _token_header(user) -> dict:
    """An API client's credentials: a token from whichever token app is installed."""
    if apps.is_installed("knox"):
        from knox.models import AuthToken
        from knox.settings import knox_settings

        _, key = AuthToken.objects.create(user=user)
        return {"Authorization": f"{knox_settings.AUTH_HEADER_PREFIX} {key}"}
    from rest_framework.authtoken.models import Token

    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def _browser_credentials(user) -> tuple[dict, dict]:
    """A signed-in browser's credentials: the session cookie, the CSRF cookie and the CSRF header
    the pages' scripts send (DRF's SessionAuthentication enforces CSRF on every unsafe method)."""
    client = Client()
    client.force_login(user)
    request = RequestFactory().get("/")
    masked = get_token(request)
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        django_settings.CSRF_COOKIE_NAME: request.META["CSRF_COOKIE"],
    }
    return {"X-CSRFToken": masked}, cookies


def _known_value(operation, name: str, known: dict):
    if name in known:  # objection_id, transition
        return known[name]
    resource = operation.path.split("/")[3]  # /api/v1/<resource>/{id}/…
    if resource == "divisions" or name == "code":
        return known["divisions"]
    if resource == "bulk-jobs":
        return None
    return known.get(resource) or None


# The schema's promises, checked on every answer: no 5xx, only documented status codes and content
# types, and a body that validates against the documented schema of its status.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _problem(case, response, *, signed_in: bool) -> str | None:
    """What is wrong with the answer, or None: the schema's checks, a 4xx is JSON with a `detail`, the
    credentials are accepted (no 401, no CSRF refusal), and a stranger gets nothing but 401."""
    status = response.status_code
    where = f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
    if status >= 500:
        return f"{status} for {where}:\n{response.text[:3000]}"
    # (an address no route matches, say a negative id, is the resolver's 404 before any view)
    if not signed_in and status != 401 and not (status == 404 and NO_ROUTE in response.text):
        return f"{status} (not 401) for an anonymous {where}"[:800]
    if signed_in and (status == 401 or CSRF_FAILED in response.text):
        return f"{status}: the credentials were not accepted for {where}: {response.text[:300]}"
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        found = "; ".join(f"{f.title}: {f.message}" for f in group.exceptions)
        return f"{status} for {case.method} {case.formatted_path}: {found[:1500]}\n    ({where[:500]})"
    if 400 <= status < 500:
        if "json" not in " ".join(response.headers.get("content-type", [])):
            return f"{status} without a JSON body for {where}: {response.text[:300]}"
        try:
            body = json.loads(response.content)
        except ValueError:
            return f"{status} with unparsable JSON for {where}: {response.text[:300]}"
        if not isinstance(body, dict) or not isinstance(body.get("detail"), str) or not body["detail"]:
            return f"{status} without a Chinese detail for {where}: {body!r}"[:800]
    return None


def _fuzz_operation(operation, *, credentials: dict, known: dict, examples: int, problems: list) -> None:
    signed_in = bool(credentials)
    overrides = {p.name: _known_value(operation, p.name, known) for p in operation.path_parameters}
    overrides = {k: v for k, v in overrides.items() if v}

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # report every problem as found, no shrinking
        suppress_health_check=list(HealthCheck),
    )
    def run(case, data):
        for name, values in overrides.items():
            if data.draw(st.booleans(), label=f"known {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
        with transaction.atomic():
            try:
                response = case.call(**credentials)
            finally:
                transaction.set_rollback(True)
        if found := _problem(case, response, signed_in=signed_in):
            problems.append(found)

    run()


def _fuzz_every_operation(api_schema, world, ways: dict[str, dict], examples: int, label: str) -> None:
    """Every operation, once per way of signing in (`ways`: name → credentials for `case.call`)."""
    problems: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 50  # the whole API, not a schema that failed to load
    with time_machine.travel(NOW, tick=False):
        for operation in operations:
            for way, credentials in ways.items():
                found: list[str] = []
                _fuzz_operation(
                    operation, credentials=credentials, known=world["known"], examples=examples, problems=found
                )
                problems += [f"[{way}] {problem}" for problem in found]
    unique = list(dict.fromkeys(problems))
    assert not unique, f"{len(unique)} bad answers for {label}:\n\n" + "\n\n".join(unique[:15])


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_with_a_token_or_a_session_answers_as_the_schema_says(
    role, api_schema, world, wsgi_in_test_transaction
):
    """Each role twice: as an API client (token) and as the browser pages call the API (session
    cookie + CSRF header); one world serves both."""
    user = world["users"][role]
    headers, cookies = _browser_credentials(user)
    ways = {"token": {"headers": _token_header(user)}, "session": {"headers": headers, "cookies": cookies}}
    _fuzz_every_operation(api_schema, world, ways, EXAMPLES, role)


def test_every_operation_anonymous_answers_401_as_the_schema_says(api_schema, world, wsgi_in_test_transaction):
    _fuzz_every_operation(api_schema, world, {"anonymous": {}}, ANONYMOUS_EXAMPLES, "anonymous")


# --------------------------------------------------------------------------- the error shape itself


def test_a_session_without_the_csrf_token_is_refused_in_the_error_shape(cadre_a, divisions):
    """The session runs above go through DRF's CSRF check: without the header a write is refused."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(cadre_a)
    response = client.post("/api/v1/households/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": CSRF_FAILED}


def test_an_unhandled_error_in_an_api_view_answers_json_500_without_its_text(cadre_a, divisions, monkeypatch):
    def crash(self):
        raise RuntimeError("boom 520521199001011234")

    monkeypatch.setattr(DivisionViewSet, "get_queryset", crash)
    client = Client(raise_request_exception=False)
    client.force_login(cadre_a)
    response = client.get("/api/v1/divisions/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "服务器内部错误，请稍后重试；如仍有问题，请联系系统管理员。"}
    assert b"boom" not in response.content and b"Traceback" not in response.content


def test_a_page_error_still_answers_the_html_500_page(rf):
    response = server_error(rf.get("/households/"))
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


def test_field_errors_carry_a_chinese_detail_beside_the_fields(cadre_a, divisions):
    client = Client()
    client.force_login(cadre_a)
    response = client.post("/api/v1/households/", {}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == FIELD_ERRORS and isinstance(body["address"], list)


def test_an_unreadable_cursor_is_a_400_not_a_404(cadre_a, divisions):
    client = Client()
    client.force_login(cadre_a)
    response = client.get("/api/v1/households/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json() == {"detail": "翻页参数 cursor 无效，请从第一页重新查看。"}
