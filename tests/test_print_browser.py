"""The print pages in Chromium (issue #13 point 16): printed (media print), the site's header, menu and
buttons are gone and the sheet fits A4; 「打印」 opens the print dialog through static/js/print.js (the CSP
refuses inline scripts, so a console error would show a blocked one). Artifacts: a screenshot at A4 width in
print media and the PDF Chromium makes of each page."""

import datetime as dt
import re

import pytest
import time_machine

from tests.browser import ARTIFACTS, log_in, open_page

TODAY = dt.datetime(2026, 11, 5, 2, 0, tzinfo=dt.UTC)
A4 = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 px per inch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_print_pages_print_on_a4_without_the_site_around_them(browser, live_server, case_a, walker, cadre_a):
    base = live_server.url
    with time_machine.travel(TODAY, tick=True):
        case = walker.to_notice(case_a)
        page, errors = open_page(browser, A4)
        log_in(page, base, "cadre_a")
        page.goto(f"{base}/cases/{case.pk}/")
        with page.expect_navigation():
            page.click("#print >> text=本村公示名单")
        assert "公示名单" in page.locator("h1").inner_text()

        # 「打印」 calls window.print() (stubbed here: headless Chromium has no dialog).
        page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
        page.click("button[data-print]")
        assert page.evaluate("window.__printed") == 1

        for name, url in [
            ("notices", page.url),
            ("authorization", f"{base}/cases/{case.pk}/print/authorization/"),
            ("signin", f"{base}/cases/{case.pk}/print/signin/"),
            ("collection", f"{base}/cases/{case.pk}/print/collection/"),
        ]:
            page.goto(url)
            assert page.locator("button[data-print]").is_visible()
            page.emulate_media(media="print")
            for selector in (".site-header", ".site-footer", ".breadcrumb", ".print-tools"):
                assert not page.locator(selector).is_visible(), (name, selector)
            assert page.locator(".print-sheet").is_visible()
            # Nothing wider than the A4 page.
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (name, overflow)
            page.screenshot(path=str(ARTIFACTS / f"print-{name}.png"), full_page=True)
            pdf = page.pdf(format="A4", print_background=True)
            (ARTIFACTS / f"print-{name}.pdf").write_bytes(pdf)
            boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
            assert boxes and all(abs(float(w) - 595.9) < 1 and abs(float(h) - 842.9) < 1 for w, h in boxes), boxes
            page.emulate_media(media="screen")
        assert errors == []
