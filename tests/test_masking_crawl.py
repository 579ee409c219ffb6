"""The crawl (issue #11 acceptance): every page route from the URL resolver and every API GET operation
from the OpenAPI schema, as a village cadre and as the reviewers and the administrator, plus every
export a user can write, never shows a full ID number, disability certificate or bank account; the
phone only to the village cadre (`fpr.sensitive`). Nobody here asked for a reveal.

The world is the access matrix's (a household of village A carried through identification, a
department warning and upload, an export, a bulk job), given a phone, a bank account and a member
with a certificate through the real services.
"""

import io
import re
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from households import services
from households.models import Health, Household, Member, Relationship
from tests.builders import member_data, new_id_number
from tests.test_access_matrix import API_OBJECTS, PAGES, api_url, schema_operations
from tests.test_access_matrix import world as matrix_world  # noqa: F401 — the fixture, used by name

pytestmark = pytest.mark.django_db

BANK = "6228480012345678901"
PHONE = "13812345678"


@pytest.fixture
def sensitive_world(request):
    users, objects = request.getfixturevalue("matrix_world")
    household = Household.objects.get(pk=objects["household"])
    services.household_update(
        user=users["cadre_a"], household=household, data={"phone": PHONE, "bank_account": BANK, "bank_name": "信用社"}
    )
    number = new_id_number()
    services.member_create(
        user=users["cadre_a"],
        household=household,
        data=member_data(
            "残疾成员",
            Relationship.SON,
            id_number=number,
            health=Health.DISABLED,
            disability_category=4,
            disability_grade=2,
            disability_certificate=number + "42",
        ),
    )
    # A change of each value, so the history has old → new of all of them.
    services.household_update(user=users["cadre_a"], household=household, data={"phone": "13900001111"})
    services.household_update(user=users["cadre_a"], household=household, data={"phone": PHONE})
    secrets = set(Member.objects.values_list("id_number", flat=True))
    secrets |= set(Member.objects.exclude(disability_certificate="").values_list("disability_certificate", flat=True))
    secrets.add(BANK)
    return users, objects, secrets


def xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


def text_of(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        return xlsx_text(content)
    return content.decode("utf-8", "replace")


def leaks(text: str, secrets: set[str], *, phone_allowed: bool) -> list[str]:
    found = [secret for secret in secrets if secret in text]
    if not phone_allowed and PHONE in text:
        found.append(PHONE)
    return found


def fill(kwargs: dict, objects: dict) -> dict:
    return {key: objects.get(value, value) for key, value in kwargs.items()}


@pytest.mark.parametrize("persona", ["cadre_a", "township_reviewer", "county_reviewer", "administrator"])
def test_no_page_or_api_response_shows_a_full_sensitive_value(sensitive_world, persona):
    users, objects, secrets = sensitive_world
    user = users[persona]
    phone_allowed = persona == "cadre_a"
    client = Client()
    client.force_login(user)
    found, crawled = [], 0
    for name, (kwargs, table) in PAGES.items():
        if table[persona] != 200:
            continue
        url = reverse(name, kwargs=fill(kwargs, objects))
        response = client.get(url)
        assert response.status_code == 200, url
        crawled += 1
        found += [f"{url}: {secret}" for secret in leaks(text_of(response), secrets, phone_allowed=phone_allowed)]
    # Pages reached with their usual parameters: a year of the accounting, the search and its results.
    household = objects["household"]
    for url in (f"/households/{household}/?year=2025", "/cases/?q=张"):
        found += [f"{url}: {s}" for s in leaks(text_of(client.get(url)), secrets, phone_allowed=phone_allowed)]
    head = Member.objects.filter(household_id=household, relationship=Relationship.HEAD).get()
    result = client.post(reverse("households:search"), {"q": head.id_number}, follow=True)
    assert Household.objects.get(pk=household).number in result.content.decode()
    found += [f"search: {s}" for s in leaks(text_of(result), secrets - {head.id_number}, phone_allowed=phone_allowed)]

    api = APIClient()
    api.force_authenticate(user)
    from assistance.models import Visit
    from households.models import IncomeItem

    api_objects = {
        **objects,
        "income_item": IncomeItem.objects.filter(household_id=household).first().pk,
        "visit": Visit.objects.filter(case_id=objects["case"]).first().pk,
    }
    for path, method in schema_operations():
        if method != "GET":
            continue
        target = API_OBJECTS.get(path.split("/")[3])
        url = api_url(path, {**api_objects, "_id": api_objects[target] if target else api_objects["missing"]})
        for params in ({}, {"reveal": "1", "reason": "爬取检查"} if persona == "cadre_a" else {}):
            response = api.get(url, params)
            assert response.status_code < 500, url
            crawled += 1
            found += [f"API {url}: {s}" for s in leaks(text_of(response), secrets, phone_allowed=phone_allowed)]
    assert crawled > 60
    assert found == []


@pytest.mark.parametrize("persona", ["cadre_a", "township_reviewer"])
def test_exports_are_masked_for_users_without_view_sensitive(sensitive_world, persona):
    """The standard forms of the case, the ledger and the quarterly table, as a user who may not see
    full values (asking for full IDs changes nothing for them)."""
    from reports.exports.runner import export_start
    from reports.models import ExportKind

    users, objects, secrets = sensitive_world
    user = users[persona]
    case_filters = {"case": objects["case"], "household": Household.objects.get(pk=objects["household"]).number}
    village = Household.objects.get(pk=objects["household"]).village
    exports = [
        (kind, village, case_filters)
        for kind in (
            ExportKind.COLLECTION_FORM,
            ExportKind.APPROVAL_FORM,
            ExportKind.MEASURES_FORM,
            ExportKind.ELIMINATION_FORM,
        )
    ]
    exports.append((ExportKind.LEDGER, user.division, {}))
    exports.append((ExportKind.QUARTERLY_RISK, village.parent, {"year": 2026, "quarter": 4}))
    found = []
    for kind, division, filters in exports:
        export = export_start(user=user, kind=kind, division=division, filters=filters, background=False, full_ids=True)
        assert not export.unmasked
        with export.file.open("rb") as handle:
            text = xlsx_text(handle.read())
        assert re.search(r"\d{4}\*{10}\d{3}[\dX]", text), kind  # the IDs are there, masked
        found += [f"{kind}: {s}" for s in leaks(text, secrets, phone_allowed=persona == "cadre_a")]
    assert found == []
