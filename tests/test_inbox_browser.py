"""我的待办 on a phone (issue #13, point 12): from the home page's counts to the inbox, the overdue item
first, and on to the page where it is handled; the menu badge is visible; nothing scrolls sideways."""

import pytest
import time_machine

from tests.browser import ARTIFACTS, log_in, no_horizontal_scroll, open_page, open_phone
from tests.test_inbox import NOW, inbox_world  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}


def test_village_cadre_goes_from_the_home_counts_to_an_overdue_item(browser, live_server, inbox_world):  # noqa: F811
    base = live_server.url
    with time_machine.travel(NOW, tick=True):
        phone, errors = open_phone(browser)
        log_in(phone, base, "cadre_a")
        home = phone.inner_text("#home-inbox")
        assert "共 6 项" in home and "已超时 2 项" in home
        assert phone.inner_text('nav.main-nav a[href="/inbox/"] .nav-badge') == "6"
        phone.locator("#home-inbox").screenshot(path=str(ARTIFACTS / "inbox-phone-home.png"))
        # The menu on a phone: four entries and 更多, nothing hidden off the side (#13 point 21).
        bar = "nav.main-nav > ul"
        assert phone.evaluate(f"(b => b.scrollWidth <= b.clientWidth + 1)(document.querySelector('{bar}'))")
        menu = phone.locator("nav.main-nav .main-nav__menu")
        assert not menu.is_visible() and not phone.is_visible("nav.main-nav .main-nav__extra")
        phone.click("nav.main-nav summary:has-text('更多')")
        assert "农户信息" in menu.inner_text() and "走访任务" in menu.inner_text()
        phone.screenshot(path=str(ARTIFACTS / "menu-phone-more.png"))
        phone.click("nav.main-nav summary:has-text('更多')")

        with phone.expect_navigation():
            phone.click('#home-inbox a[href="/inbox/"]')
        assert no_horizontal_scroll(phone)
        phone.screenshot(path=str(ARTIFACTS / "inbox-phone.png"), full_page=True)
        first = phone.locator("#inbox-items li").first
        assert first.get_attribute("data-bucket") == "overdue"
        assert "已超时" in first.inner_text()
        with phone.expect_navigation():
            first.locator("a").click()
        assert phone.url.startswith(f"{base}/cases/") or phone.url.startswith(f"{base}/monitoring/warnings/")
        assert errors == []

        desk, desk_errors = open_page(browser, DESKTOP)
        log_in(desk, base, "cadre_a")
        desk.goto(f"{base}/inbox/")
        desk.screenshot(path=str(ARTIFACTS / "inbox-desktop.png"), full_page=True)
        assert desk.locator("#inbox-counts tbody tr").count() == 4
        assert desk_errors == []
