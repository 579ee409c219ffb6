"""Shared pieces of the headless-Chromium tests (Debian's /usr/bin/chromium driven by Playwright).

Loaded as a pytest plugin by the root conftest, so `browser` is a fixture everywhere."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.builders import PASSWORD

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed: scripts/test installs Debian's chromium package.")
    ARTIFACTS.mkdir(exist_ok=True)
    # Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls in a
    # thread with a running loop. Allowed while a browser module runs only (never in deployment).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def open_page(browser, viewport, **options):
    context = browser.new_context(viewport=viewport, locale="zh-CN", **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page, errors


def open_phone(browser):
    return open_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


def log_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def no_horizontal_scroll(page) -> bool:
    """Nothing wider than the viewport. A mobile context zooms out to fit a too-wide page, and then
    window.innerWidth grows with it: so the page's width is compared with the viewport's own too."""
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    viewport = page.viewport_size["width"] if page.viewport_size else inner
    return width <= inner + 1 and width <= viewport + 1
