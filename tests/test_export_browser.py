"""Exports in headless Chromium, the way an administrator makes them. Screenshots go to test-artifacts/
(export-*.png)."""

import pytest
from openpyxl import load_workbook

from tests.browser import ARTIFACTS, DESKTOP, PHONE, log_in, no_horizontal_scroll, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_administrator_exports_the_ledger_from_the_case_list_and_downloads_it_when_ready(
    browser, live_server, settings, celery_worker_process, administrator, cadre_a, village_a, make_household, open_case
):
    """/cases/ filtered → 导出台账 (the filters carried over) → the export runs on the real worker while
    the status page reloads itself → 下载 Excel 文件 → the file opens with its Chinese title and rows."""
    settings.MEDIA_ROOT = celery_worker_process.media_root  # the live server hands over the worker's file
    cases = [open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)) for _ in range(3)]
    open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a), case_type="sudden_hardship")
    base = live_server.url

    page, errors = open_page(browser, DESKTOP, accept_downloads=True)
    log_in(page, base, "admin_user")
    page.goto(f"{base}/cases/?case_type=marginal")
    with page.expect_navigation():
        page.click("#ledger-link")
    assert page.url == f"{base}/reports/ledger/?case_type=marginal"
    assert page.input_value("#id_case_type") == "marginal"
    page.fill("#id_year", "2026")
    page.screenshot(path=str(ARTIFACTS / "export-ledger-page.png"), full_page=True)
    with page.expect_navigation():
        page.click("#export-ledger")
    assert "/reports/exports/" in page.url
    page.wait_for_selector("#download", timeout=60_000)  # the page reloads every 2 s until the file is ready
    assert "已完成" in page.inner_text("#export-status")
    page.screenshot(path=str(ARTIFACTS / "export-ledger-ready.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename.startswith("监测对象台账_大方县_")
    with open(download.value.path(), "rb") as handle:  # saved without an extension
        sheet = load_workbook(handle).active
    assert sheet["A1"].value == "大方县防止返贫监测对象台账"
    assert "类型：边缘易致贫户" in sheet["A2"].value
    assert {sheet.cell(row=r, column=2).value for r in range(5, 8)} == {c.household.number for c in cases}
    assert sheet.cell(row=8, column=1).value == "合计" and sheet.cell(row=8, column=2).value == "共3户"
    assert errors == []

    phone, phone_errors = open_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    log_in(phone, base, "admin_user")
    phone.goto(f"{base}/reports/ledger/")
    phone.screenshot(path=str(ARTIFACTS / "export-ledger-phone.png"), full_page=True)
    assert no_horizontal_scroll(phone) and phone_errors == []
