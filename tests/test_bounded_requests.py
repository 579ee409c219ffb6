"""Bounded work for every request (issue #11, findings 10, 12, 13, 17): bulk actions take at most
FPR_BULK_MAX_CASES cases and write progress of a constant size; no query parameter, form field or cookie
ends in a 500 (a NUL byte, a year 9999); exports that write are POST only, their files are deleted after
FPR_EXPORT_KEEP_DAYS with the log row kept; signed-in pages are never cached; the health check works over
plain HTTP when HTTPS is on."""

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
import yaml
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from monitoring.models import MonitoringCase, Stage
from reports.exports.runner import export_start
from reports.models import Export, ExportKind
from tests import test_access_matrix
from workflow.models import BulkJob, BulkJobFailure, BulkJobStatus
from workflow.services import bulk_job_run, bulk_job_start

pytestmark = pytest.mark.django_db
world = test_access_matrix.world  # the access matrix's world (a fixture): an object for every route
PAGES, page_routes = test_access_matrix.PAGES, test_access_matrix.page_routes

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
BULK = "/api/v1/cases/bulk/"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --------------------------------------------------------------------------- 10. bulk actions


def progress_writes(sql: list[str]) -> list[str]:
    """The UPDATEs of the job's counters while it runs (the last one, setting it done, is not progress)."""
    return [
        q for q in sql if q.startswith('UPDATE "workflow_bulkjob"') and '"failed" = ("workflow_bulkjob"."failed" +' in q
    ]


def run_job_capturing(job) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        bulk_job_run(job_id=job.pk)
    return [q["sql"] for q in queries.captured_queries]


def test_a_bulk_jobs_progress_writes_stay_the_same_size_however_many_cases_failed(
    clock, township_reviewer, walker, open_case, make_household, cadre_a, village_a
):
    waiting = walker.to_township(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
    missing = list(range(10**9, 10**9 + 299))  # no such cases: each one a failure with its reason
    job = bulk_job_start(
        user=township_reviewer,
        case_ids=[*missing[:120], waiting.pk, *missing[120:]],
        transition="township_approve",
        inputs={"opinion": "同意"},
    )

    sql = run_job_capturing(job)

    writes = progress_writes(sql)
    assert len(writes) == 6  # every 50 cases and at the end
    # The first write follows 50 failures, the last 299: the same statement, only the counters differ.
    assert max(map(len, writes)) - min(map(len, writes)) <= 6, writes
    assert all("案件不存在" not in q for q in writes)
    # The failures go in as rows, each batch only the failures since the previous write.
    inserts = [q for q in sql if q.startswith('INSERT INTO "workflow_bulkjobfailure"')]
    assert len(inserts) == 6 and all(q.count("案件不存在") <= 50 for q in inserts)

    job.refresh_from_db()
    assert (job.status, job.total, job.processed, job.succeeded, job.failed) == (BulkJobStatus.DONE, 300, 300, 1, 299)
    rows = list(BulkJobFailure.objects.filter(job=job))
    assert [r.case for r in rows] == missing and rows[0].reasons == ["案件不存在或不在您的管辖范围内。"]
    assert rows[119].position == 120 and rows[120].position == 122  # the case that succeeded was 121st
    assert MonitoringCase.objects.get(pk=waiting.pk).stage == Stage.COUNTY_APPROVAL


def test_a_bulk_jobs_failures_show_on_its_page_and_in_the_api(clock, client, township_reviewer):
    job = bulk_job_start(
        user=township_reviewer, case_ids=[10**9, 10**9 + 1], transition="township_approve", inputs={"opinion": "同意"}
    )
    bulk_job_run(job_id=job.pk)
    client.force_login(township_reviewer)
    page = client.get(reverse("cases:bulk_job", args=[job.pk])).content.decode()
    assert "未办理 2 件" in page and page.count("案件不存在或不在您的管辖范围内。") == 2
    body = api_client(township_reviewer).get(f"/api/v1/bulk-jobs/{job.pk}/").json()
    assert body["failed"] == 2 and [f["case"] for f in body["failures"]] == [10**9, 10**9 + 1]
    assert body["failures"][0] == {"case": 10**9, "household": "", "reasons": ["案件不存在或不在您的管辖范围内。"]}


def test_the_api_refuses_more_cases_than_the_limit_in_one_request(clock, township_reviewer):
    assert django_settings.FPR_BULK_MAX_CASES == 5000
    ids = list(range(1, 5002))
    response = api_client(township_reviewer).post(
        BULK, {"case_ids": ids, "transition": "township_approve", "inputs": {"opinion": "同意"}}, format="json"
    )
    assert response.status_code == 400
    assert "一次最多批量办理 5000 件" in response.json()["case_ids"][0]
    assert not BulkJob.objects.exists()


def test_the_limit_is_the_live_setting_for_the_api_too(clock, settings, township_reviewer):
    settings.FPR_BULK_MAX_CASES = 3
    response = api_client(township_reviewer).post(
        BULK, {"case_ids": [1, 2, 3, 4], "transition": "township_approve", "inputs": {"opinion": "同意"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "一次最多批量办理 3 件（本次 4 件），请分批办理。"
    assert not BulkJob.objects.exists()


def test_the_queue_page_refuses_more_cases_than_the_limit_with_a_400(clock, settings, client, township_reviewer):
    settings.FPR_BULK_MAX_CASES = 2
    settings.FPR_BULK_INLINE_LIMIT = 1  # three cases would otherwise become a background job
    client.force_login(township_reviewer)
    response = client.post(
        reverse("cases:bulk"), {"transition": "township_approve", "cases": [1, 2, 3], "opinion": "同意"}
    )
    assert response.status_code == 400
    assert "一次最多批量办理 2 件（本次 3 件），请分批办理。" in response.content.decode()
    assert not BulkJob.objects.exists()


# --------------------------------------------------------------------------- 13. parameters that were 500s


@pytest.mark.parametrize("url", ["/reports/?period=9999", "/reports/dashboard/?period=9999"])
def test_a_far_year_on_the_statistics_pages_is_a_400_with_the_reason(clock, client, county_reviewer, url):
    client.force_login(county_reviewer)
    response = client.get(url)
    assert response.status_code == 400
    assert "统计期间的年份须在2000年至2100年之间。" in response.content.decode()


def test_a_far_year_in_the_statistics_api_is_a_400_with_detail(clock, county_reviewer):
    response = api_client(county_reviewer).get("/api/v1/statistics/", {"period": "9999"})
    assert response.status_code == 400
    assert response.json()["detail"] == "统计期间的年份须在2000年至2100年之间。"


def test_the_first_months_periods_still_work(clock, client, county_reviewer):
    """The dashboard's twelve-month trend of January 2000 reaches into 1999 without parsing it."""
    client.force_login(county_reviewer)
    assert client.get("/reports/dashboard/?period=2000-01").status_code == 200
    assert client.get("/reports/?period=2100-Q4").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/households/?after=%00",
        "/households/?before=%00",
        "/households/?division=%00",
        "/households/?q=%E5%BC%A0%00",
        "/reports/?division=52%00",
        "/cases/?after=2026-01-01T00:00:00%2B08:00|1%00",
    ],
)
def test_a_nul_byte_in_a_query_parameter_is_a_400_page(clock, client, administrator, url):
    client.force_login(administrator)
    response = client.get(url)
    assert response.status_code == 400
    assert "请求中含有不允许的字符" in response.content.decode()


def test_a_nul_byte_in_an_api_parameter_is_a_400_with_detail(clock, county_reviewer):
    client = APIClient()
    client.force_login(county_reviewer)  # a session, as the browser's; a token header counts the same
    response = client.get("/api/v1/statistics/", {"division": "5205\x00"})
    assert response.status_code == 400
    assert response.json() == {"detail": "请求中含有不允许的字符（空字符 \\0），请检查链接或填写的内容。"}
    # Without credentials the API's answer stays 401, whatever the parameters.
    assert APIClient().get("/api/v1/statistics/", {"division": "5205\x00"}).status_code == 401


def test_a_nul_byte_in_a_form_field_or_a_cookie_is_a_400(clock, client, county_reviewer):
    client.force_login(county_reviewer)
    response = client.post("/reports/export/", {"division": "520521\x00", "period": "2026-11"})
    assert response.status_code == 400 and not Export.objects.exists()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ijkl"
    assert client.get("/households/").status_code == 400


def test_cursors_out_of_range_give_the_first_page(clock, client, administrator):
    client.force_login(administrator)
    for cursor in ("2026-01-01T00:00:00+08:00|99999999999999999999", "9999-12-31T23:59:59|1", "x|0"):
        assert client.get("/cases/", {"after": cursor}).status_code == 200
        assert client.get("/reports/exports/", {"before": cursor}).status_code == 200


def route_parameters(name: str) -> list[str]:
    namespace, _, short = name.rpartition(":")
    resolver = get_resolver()
    if namespace:
        resolver = resolver.namespace_dict[namespace][1]
    entries = resolver.reverse_dict.getlist(short)  # [(possibilities, pattern, defaults, converters)]
    return [param for possibilities, *_ in entries for _, params in possibilities for param in params]


def test_every_page_route_answers_a_nul_byte_with_a_400(world, client):
    users, objects = world
    client.force_login(users["administrator"])
    routes = page_routes()
    assert len(routes) > 50
    wrong = []
    for name in routes:
        if name in PAGES:
            kwargs = {key: objects.get(value, value) for key, value in PAGES[name][0].items()}
        else:  # not in the matrix yet (test_access_matrix fails for it): any value its converters take
            kwargs = {key: 1 for key in route_parameters(name)}
        url = reverse(name, kwargs=kwargs)
        status = client.get(url + "?x=%00").status_code
        # The schema and its docs page live under /api/, which authenticates first and refuses a NUL
        # only where one reaches a query (fpr.api.exception_handler); they read no parameter.
        if status != 400 and not (url.startswith("/api/") and status < 500):
            wrong.append(f"{name} {url}: {status}")
    assert wrong == []


def test_ordinary_requests_pass_the_nul_guard(clock, client, cadre_a, household_a):
    client.force_login(cadre_a)
    assert client.get("/households/", {"q": "张"}).status_code == 200


# --------------------------------------------------------------------------- 17. exports and caching


@pytest.fixture
def monitored_case(clock, monitored):
    return monitored


def test_standard_forms_are_never_written_by_a_get(monitored_case, client, county_reviewer):
    client.force_login(county_reviewer)
    url = reverse("reports:case_form", args=[monitored_case.pk, "collection"])
    assert client.get(url + "?full=1").status_code == 405
    quarterly = reverse("reports:quarterly") + "?township=520521100000&year=2026&quarter=4"
    assert client.get(quarterly).status_code == 405
    assert not Export.objects.exists()


def test_a_standard_form_needs_the_csrf_token(monitored_case, county_reviewer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(county_reviewer)
    url = reverse("reports:case_form", args=[monitored_case.pk, "collection"])
    assert client.post(url, {"full": "1"}).status_code == 403
    assert not Export.objects.exists()
    page = client.get(reverse("cases:detail", args=[monitored_case.pk])).content.decode()
    form = re.search(rf'<form method="post" action="{url}".*?</form>', page, re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert 'name="full" value="1"' in form  # the county reviewer may ask for full ID numbers
    response = client.post(url, {"full": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert Export.objects.get().unmasked is True


def test_the_ledger_page_posts_the_quarterly_form(clock, client, township_reviewer):
    client.force_login(township_reviewer)
    page = client.get(reverse("reports:ledger")).content.decode()
    assert re.search(
        r'<form method="post" action="/reports/quarterly/" class="filters" id="quarterly-form">\s*'
        r'<input type="hidden" name="csrfmiddlewaretoken"',
        page,
    )


def statistics_export(user) -> Export:
    return export_start(
        user=user, kind=ExportKind.STATISTICS, division=user.division, filters={"period": "2026-11"}, background=False
    )


def test_export_files_are_deleted_after_the_keep_days_and_the_log_row_stays(clock, client, county_reviewer):
    from reports.tasks import prune_export_files

    assert django_settings.FPR_EXPORT_KEEP_DAYS == 7
    old = statistics_export(county_reviewer)
    old_path = Path(old.file.path)
    with time_machine.travel(TODAY + dt.timedelta(days=2), tick=False):
        recent = statistics_export(county_reviewer)
    with time_machine.travel(TODAY + dt.timedelta(days=8), tick=False):
        assert prune_export_files() == 1
        assert prune_export_files() == 0  # idempotent

    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old_path.exists() and old.file.name == "" and old.file_removed_at is not None
    assert Path(recent.file.path).exists() and recent.file_removed_at is None
    client.force_login(county_reviewer)
    assert client.get(reverse("reports:export_download", args=[old.pk])).status_code == 404
    assert client.get(reverse("reports:export_download", args=[recent.pk])).status_code == 200
    log = client.get(reverse("reports:exports")).content.decode()
    assert "已过保留期删除" in log and log.count('<td data-label="导出内容">统计表</td>') == 2
    status = client.get(reverse("reports:export_status", args=[old.pk])).content.decode()
    assert "文件已超过保留期限" in status


def test_the_export_cleanup_is_scheduled_daily():
    from django_celery_beat.models import PeriodicTask

    from fpr.celery import app

    task = PeriodicTask.objects.get(task="reports.tasks.prune_export_files")
    assert task.enabled and (task.crontab.hour, task.crontab.minute, task.crontab.day_of_month) == ("3", "30", "*")
    app.loader.import_default_modules()
    assert "reports.tasks.prune_export_files" in app.tasks


def test_signed_in_responses_are_not_stored_by_browsers_or_proxies(clock, client, cadre_a, county_reviewer):
    anonymous = client.get("/healthz/")
    assert "no-store" not in anonymous.get("Cache-Control", "")
    assert "no-store" not in client.get("/static/css/app.css").get("Cache-Control", "")
    client.force_login(cadre_a)
    for url in ("/", "/households/", "/cases/", "/api/v1/households/"):
        assert "no-store" in client.get(url)["Cache-Control"], url
    client.force_login(county_reviewer)
    download = client.post("/reports/export/", {"division": county_reviewer.division_id, "period": "2026-11"})
    assert download.status_code == 200 and "no-store" in download["Cache-Control"]


# --------------------------------------------------------------------------- 12. deployment


def test_with_https_on_the_health_check_answers_over_plain_http_and_pages_redirect(db):
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        assert client.get("/healthz/").status_code == 200
        response = client.get("/login/")
        assert response.status_code == 301 and response["Location"] == "https://testserver/login/"
        # Behind the TLS proxy (X-Forwarded-Proto: https) the page is served.
        with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
            assert Client().get("/login/", headers={"x-forwarded-proto": "https"}).status_code == 200


def test_compose_defaults_to_https_and_its_health_check_calls_the_exempt_url():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["x-app"]["environment"]
    assert environment["HTTPS"] == "${HTTPS:-1}"
    assert environment["ALLOWED_HOSTS"].endswith(",127.0.0.1")  # the health check's Host
    check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    url = re.search(r"http://127\.0\.0\.1:8000/(\S+?)'", check).group(1)
    assert any(re.search(pattern, url) for pattern in django_settings.SECURE_REDIRECT_EXEMPT)
    assert url == "healthz/"
