"""One rule, every door: what a page enforces the service enforces, so the API (and any other caller)
gets the same answer — a measure's risk, retrying a failed upload, the inline-or-background bulk
decision and the application prefilled from a warning (#14)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from assistance.models import AssistancePlan, Measure, MeasureStatus
from assistance.services import measure_add, measure_update
from fpr.roles import Department
from households.models import Relationship
from monitoring.models import DepartmentUpload, RiskWarning, UploadStatus, WarningStatus
from monitoring.screening import comparison
from monitoring.screening.warning_selectors import application_prefill
from tests.builders import department_csv
from workflow import services as workflow_services
from workflow.models import BulkJob

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
MEASURES = "/api/v1/measures/"
NOT_ITS_RISK = "措施应针对本户的风险（因病），“因学”不是本户的风险。"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def measure_data(**extra) -> dict:
    data = {
        "category": "education",
        "risk_category": "schooling",
        "description": "申请教育资助",
        "starts_on": dt.date(2026, 11, 1),
        "status": MeasureStatus.ACTIVE,
    }
    data.update(extra)
    return data


# --------------------------------------------------------------------------- a measure answers the case's risks


def test_the_service_refuses_a_measure_for_a_risk_the_case_does_not_have(monitored, cadre_a):
    plan = AssistancePlan.objects.get(case=monitored)
    with pytest.raises(ValidationError) as refused:
        measure_add(user=cadre_a, plan=plan, **measure_data())
    assert refused.value.message_dict == {"risk_category": [NOT_ITS_RISK]}

    measure = measure_add(user=cadre_a, plan=plan, **measure_data(risk_category="illness"))
    with pytest.raises(ValidationError) as moved:
        measure_update(user=cadre_a, measure=measure, risk_category="schooling")
    assert moved.value.message_dict == {"risk_category": [NOT_ITS_RISK]}
    measure_update(user=cadre_a, measure=measure, effect="clear")  # its own risk: other changes go through


def test_a_measure_of_a_risk_no_longer_the_cases_may_still_be_updated(monitored, cadre_a):
    measure = monitored.measure  # 因病
    monitored.risk_categories.set(["schooling"])  # reclassified since
    measure_update(user=cadre_a, measure=measure, effect="fair")
    assert Measure.objects.get(pk=measure.pk).effect == "fair"


def test_the_api_and_the_page_refuse_a_measure_for_a_risk_the_case_does_not_have(monitored, cadre_a):
    payload = {**measure_data(), "case": monitored.pk, "starts_on": "2026-11-01"}
    refused = api_for(cadre_a).post(MEASURES, payload, format="json")
    assert refused.status_code == 400 and refused.json()["risk_category"] == [NOT_ITS_RISK]

    measure = monitored.measure
    moved = api_for(cadre_a).patch(f"{MEASURES}{measure.pk}/", {"risk_category": "schooling"}, format="json")
    assert moved.status_code == 400 and moved.json()["risk_category"] == [NOT_ITS_RISK]

    form = {**measure_data(), "starts_on": "2026-11-01"}
    page = page_for(cadre_a).post(reverse("assistance:measure_add", args=[monitored.pk]), form)
    assert page.status_code == 200  # the form again: its choices are the case's risks only
    assert not Measure.objects.filter(risk_category="schooling").exists()


# --------------------------------------------------------------------------- retrying a failed upload


@pytest.fixture
def failed_upload(administrator, household_a):
    head = household_a.members.get(relationship=Relationship.HEAD)
    rows = [{"身份证号": head.id_number, "姓名": head.name}]
    text = department_csv(rows, department=Department.MEDICAL_INSURANCE, header=["身份证号", "姓名"])
    upload = comparison.upload_create(
        user=administrator,
        department=Department.MEDICAL_INSURANCE,
        period="2026-11",
        file=SimpleUploadedFile("a.csv", text.encode()),
    )
    comparison.comparison_run(upload.pk)  # fails: the required column 个人自付金额 is missing
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED and upload.error
    return upload


def test_the_service_retries_a_failed_upload_once(failed_upload, administrator, monkeypatch):
    queued = []
    monkeypatch.setattr(comparison, "comparison_enqueue", queued.append)
    assert comparison.upload_retry(failed_upload, user=administrator) is True
    failed_upload.refresh_from_db()
    assert (failed_upload.status, failed_upload.error, queued) == (UploadStatus.QUEUED, "", [failed_upload.pk])
    assert comparison.upload_retry(failed_upload, user=administrator) is False  # not failed any more
    assert queued == [failed_upload.pk]


def test_only_the_departments_officers_may_retry_an_upload(failed_upload, cadre_a):
    with pytest.raises(PermissionDenied):
        comparison.upload_retry(failed_upload, user=cadre_a)
    assert DepartmentUpload.objects.get(pk=failed_upload.pk).status == UploadStatus.FAILED


def test_the_retry_page_goes_through_the_service(failed_upload, administrator, monkeypatch):
    called = []
    monkeypatch.setattr(comparison, "upload_retry", lambda upload, *, user: called.append((upload.pk, user.pk)))
    response = page_for(administrator).post(reverse("monitoring:upload_retry", args=[failed_upload.pk]))
    assert response.status_code == 302 and called == [(failed_upload.pk, administrator.pk)]


# --------------------------------------------------------------------------- inline or background bulk


def test_the_service_decides_inline_or_background(settings, new_case, walker, township_reviewer):
    settings.FPR_BULK_INLINE_LIMIT = 1
    cases = [walker.to_township(new_case()) for _ in range(2)]
    inputs = {"opinion": "同意"}
    done = workflow_services.case_bulk_action(
        user=township_reviewer, case_ids=[cases[0].pk], transition="township_approve", inputs=inputs
    )
    assert done == {"succeeded": 1, "failures": []}
    job = workflow_services.case_bulk_action(
        user=township_reviewer, case_ids=[c.pk for c in cases], transition="township_approve", inputs=inputs
    )
    assert isinstance(job, BulkJob) and job.total == 2


def test_the_api_and_the_page_follow_the_services_decision(settings, new_case, walker, township_reviewer):
    settings.FPR_BULK_INLINE_LIMIT = 1
    cases = [walker.to_township(new_case()) for _ in range(2)]
    ids = [c.pk for c in cases]
    body = {"case_ids": ids, "transition": "township_approve", "inputs": {"opinion": "同意"}}
    response = api_for(township_reviewer).post("/api/v1/cases/bulk/", body, format="json")
    assert response.status_code == 202 and BulkJob.objects.count() == 1

    page = page_for(township_reviewer).post(
        reverse("cases:bulk"), {"transition": "township_approve", "cases": ids, "opinion": "同意"}
    )
    assert page.status_code == 302 and BulkJob.objects.count() == 2
    assert page.url == reverse("cases:bulk_job", args=[BulkJob.objects.latest("pk").pk])


@pytest.fixture
def new_case(make_household, open_case, cadre_a, village_a):
    def build():
        return open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))

    return build


# --------------------------------------------------------------------------- the application prefilled from a warning


@pytest.fixture
def warning_a(department_upload, household_a):
    head = household_a.members.get(relationship=Relationship.HEAD)
    row = {"身份证号": head.id_number, "姓名": head.name, "个人自付金额": "60000", "就诊机构": "大方县人民医院"}
    upload = department_upload([row])
    return RiskWarning.objects.get(upload=upload)


def test_the_prefill_is_the_warnings_risk_grade_and_facts(warning_a, household_a):
    prefill = application_prefill(warning_a)
    assert prefill["case_type"] == "unstable_lifted"  # household A was lifted out of poverty (脱贫户)
    assert prefill["risk_categories"] == [warning_a.risk_category_id] == ["illness"]
    assert prefill["colour"] == warning_a.grade
    head = household_a.members.get(relationship=Relationship.HEAD)
    assert prefill["description"].startswith("部门筛查预警：医保 2026-11") and head.name in prefill["description"]


def test_the_api_offers_the_prefill_the_page_shows(warning_a, cadre_a):
    detail = api_for(cadre_a).get(f"/api/v1/warnings/{warning_a.pk}/")
    assert detail.status_code == 200, detail.content
    prefill = detail.json()["application_prefill"]
    assert prefill == application_prefill(warning_a)
    page = page_for(cadre_a).get(reverse("monitoring:warning", args=[warning_a.pk])).content.decode()
    assert escape(prefill["description"]) in page  # the page's form starts from the same
    included = api_for(cadre_a).post(f"/api/v1/warnings/{warning_a.pk}/include/", prefill, format="json")
    assert included.status_code == 200, included.content
    assert included.json()["status"] == WarningStatus.INCLUDED
