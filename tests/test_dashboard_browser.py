"""The county reviewer's journey through the numbers in headless Chromium: the dashboard draws its charts
(ECharts, served from our static files), the statistics page drills down county → township → village,
a number opens the list of the cases behind it, and the statistics table downloads and opens in
openpyxl with the page's totals. Screenshots go to test-artifacts/ (stats-*.png)."""

import datetime as dt

import openpyxl
import pytest
import time_machine

from tests.browser import ARTIFACTS, DESKTOP, log_in, no_horizontal_scroll, open_page, open_phone

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cases(cadre_a, cadre_b, village_a, village_b, make_household, open_case, walker, make_monitored, county_reviewer):
    """Village A: two monitoring objects (one 脱贫不稳定户) and an application; village B: an application."""
    with time_machine.travel(TODAY, tick=False):
        first = make_monitored(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
        second = make_monitored(
            open_case(
                user=cadre_a, household=make_household(user=cadre_a, village=village_a), case_type="unstable_lifted"
            )
        )
        pending = open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))
        open_case(user=cadre_b, household=make_household(user=cadre_b, village=village_b, address="红岩村一组"))
    return first, second, pending


def test_dashboard_drill_down_and_statistics_download(browser, live_server, cases, county_reviewer):
    base = live_server.url
    first, second, pending = cases
    with time_machine.travel(TODAY, tick=True):
        page, errors = open_page(browser, DESKTOP, accept_downloads=True)
        log_in(page, base, "county")

        # The dashboard: figures and charts drawn from the vendored ECharts.
        page.click("nav.main-nav >> text=数据看板")
        page.wait_for_url(f"{base}/reports/dashboard/")
        page.wait_for_selector("#chart-types svg")
        page.wait_for_selector("#chart-trend svg")
        page.wait_for_selector("#chart-risks svg")
        assert "2" in page.inner_text("[data-figure=objects] .stat__value")
        assert page.inner_text("[data-figure=new] .stat__value").startswith("2")
        page.wait_for_timeout(600)  # the charts' entry animation
        page.screenshot(path=str(ARTIFACTS / "stats-dashboard.png"), full_page=True)

        # The statistics page, county level: one row per township.
        page.click("nav.main-nav >> text=统计报表")
        page.wait_for_url(f"{base}/reports/")
        assert page.locator("#stats-table tbody tr").count() == 2
        total = page.locator("#stats-table tfoot td").nth(0).inner_text()
        assert total == "2"  # 监测对象合计 户
        page.screenshot(path=str(ARTIFACTS / "stats-county.png"), full_page=True)

        # Drill down: township, then village.
        with page.expect_navigation():
            page.click("#stats-table tbody >> text=羊场镇")
        assert page.locator("#stats-table tbody tr").count() == 2  # 光明村, 红岩村
        assert page.locator(".breadcrumbs").inner_text().startswith("大方县")
        with page.expect_navigation():
            page.click("#stats-table tbody >> text=光明村")
        assert "统计报表 · 光明村" in page.inner_text("h1")
        page.screenshot(path=str(ARTIFACTS / "stats-village.png"), full_page=True)

        # A number in the village row: 监测中 households → the list of those cases.
        cell = page.locator('#stats-table tbody tr[data-code="520521100001"] td[title="状态 监测中 户"] a')
        assert cell.inner_text() == "2"
        with page.expect_navigation():
            cell.click()
        assert "/cases/" in page.url and "status=monitoring" in page.url
        listed = page.inner_text("main")
        assert first.household.number in listed and second.household.number in listed
        assert pending.household.number not in listed
        page.screenshot(path=str(ARTIFACTS / "stats-cases.png"), full_page=True)

        # Back to the county and download the statistics table.
        page.goto(f"{base}/reports/")
        with page.expect_download() as info:
            page.click("#export-form button")
        download = info.value
        assert download.suggested_filename.startswith("统计表_大方县_") and download.suggested_filename.endswith(
            ".xlsx"
        )
        path = ARTIFACTS / "stats-download.xlsx"
        download.save_as(path)
        sheet = openpyxl.load_workbook(path).active
        assert sheet["A1"].value == "大方县防返贫动态监测统计表（2026年11月）"
        assert [sheet.cell(r, 1).value for r in (6, 7, 8)] == ["羊场镇", "黄泥塘镇", "合计"]
        assert sheet.cell(8, 2).value == int(total)
        assert not errors, errors

        # On a phone the dashboard and the wide table fit the screen (the table scrolls in its box).
        phone, phone_errors = open_phone(browser)
        log_in(phone, base, "county")
        phone.goto(f"{base}/reports/dashboard/")
        phone.wait_for_selector("#chart-types svg")
        phone.wait_for_timeout(600)
        assert no_horizontal_scroll(phone)
        phone.screenshot(path=str(ARTIFACTS / "stats-phone-dashboard.png"), full_page=True)
        phone.goto(f"{base}/reports/?division=520521100000")
        assert no_horizontal_scroll(phone)
        # Each village first as a card of its leading figures (#13 point 21), the whole table below.
        cards = phone.locator(".stats-card")
        assert cards.count() == phone.locator("#stats-table tbody tr").count() >= 1
        assert cards.first.is_visible() and "监测对象" in cards.first.inner_text()
        phone.screenshot(path=str(ARTIFACTS / "stats-phone-statistics.png"), full_page=True)
        assert not phone_errors, phone_errors
