"""API fuzzing from the OpenAPI schema (schemathesis): every operation, called with generated data by a
logged-in user of each role and by an anonymous caller, never answers 5xx, and every 4xx carries a
JSON error body (a Chinese `detail`, or field errors) — the shape fpr/api.py promises.

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
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from conftest import CaseWalker
from fpr.roles import Department
from households.models import Division, IncomeItem, Member
from monitoring.models import RiskWarning
from monitoring.services import objection_lodge
from workflow.elimination import ELIMINATION
from workflow.identification import IDENTIFICATION

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing, a Monday

# Per operation and role: ~56 operations × 7 callers stay within a few minutes. FPR_FUZZ_EXAMPLES=60
# digs deeper by hand (about 8 minutes).
EXAMPLES = int(os.environ.get("FPR_FUZZ_EXAMPLES", "12"))
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
    return {"users": users, "tokens": {k: Token.objects.create(user=u).key for k, u in users.items()}, "known": known}


def _known_value(operation, name: str, known: dict):
    if name in known:  # objection_id, transition
        return known[name]
    resource = operation.path.split("/")[3]  # /api/v1/<resource>/{id}/…
    if resource == "divisions" or name == "code":
        return known["divisions"]
    if resource == "bulk-jobs":
        return None
    return known.get(resource) or None


def _problem(case, response) -> str | None:
    """What is wrong with the answer, or None: no 5xx, and a 4xx is JSON with `detail` or field errors."""
    status = response.status_code
    where = f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
    if status >= 500:
        return f"{status} for {where}:\n{response.text[:3000]}"
    if 400 <= status < 500:
        if "json" not in " ".join(response.headers.get("content-type", [])):
            return f"{status} without a JSON body for {where}: {response.text[:300]}"
        try:
            body = json.loads(response.content)
        except ValueError:
            return f"{status} with unparsable JSON for {where}: {response.text[:300]}"
        if not isinstance(body, dict) or not body:
            return f"{status} with an error body that is not an object for {where}: {body!r}"[:800]
        if "detail" in body:
            detail = body["detail"]
            if not detail or (not isinstance(detail, str) and not isinstance(detail, list)):
                return f"{status} with an empty/odd detail for {where}: {body!r}"[:800]
        elif not all(isinstance(v, list | dict | str) for v in body.values()):
            return f"{status} with neither detail nor field errors for {where}: {body!r}"[:800]
    return None


def _fuzz_operation(operation, *, headers: dict, known: dict, examples: int, problems: list) -> None:
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
                response = case.call(headers=headers)
            finally:
                transaction.set_rollback(True)
        if found := _problem(case, response):
            problems.append(found)

    run()


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_operation_answers_without_5xx_and_4xx_are_json_errors(role, api_schema, world, wsgi_in_test_transaction):
    if role == "anonymous":
        headers, examples = {}, ANONYMOUS_EXAMPLES
    else:
        headers, examples = {"Authorization": f"Token {world['tokens'][role]}"}, EXAMPLES
    problems: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 50  # the whole API, not a schema that failed to load
    with time_machine.travel(NOW, tick=False):
        for operation in operations:
            _fuzz_operation(operation, headers=headers, known=world["known"], examples=examples, problems=problems)
    unique = list(dict.fromkeys(problems))
    assert not unique, f"{len(unique)} bad answers for {role}:\n\n" + "\n\n".join(unique[:15])
