"""A village cadre's journey in headless Chromium: log in, register a household with two members, find it
in the list and open it — at desktop and phone widths. Screenshots go to test-artifacts/."""

import pytest

from households.models import Household
from tests.browser import ARTIFACTS, DESKTOP, PHONE, log_in, no_horizontal_scroll, open_page
from tests.builders import new_id_number

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_cadre_registers_a_household_and_finds_it(browser, live_server, cadre_a, township_reviewer):
    base = live_server.url
    page, errors = open_page(browser, DESKTOP)

    page.goto(f"{base}/login/")
    shot(page, "desktop-login")
    page.fill("#id_username", "cadre_a")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text(".alert--error")
    log_in(page, base, "cadre_a")
    assert "王村干" in page.inner_text(".account")
    assert "村级干部" in page.inner_text(".account")
    shot(page, "desktop-home")

    # Register: head in the first row, spouse in the second; a third row added by "添加成员" stays blank.
    page.click("text=登记新农户 >> nth=0")
    page.wait_for_url(f"{base}/households/new/")
    head_id, spouse_id = new_id_number(), new_id_number(male=False)
    page.fill("#id_address", "光明村四组6号")
    page.select_option("#id_poverty_status", "lifted")
    page.fill("#id_poverty_exit_year", "2018")
    page.uncheck("#id_water_quality_ok")
    page.fill("#id_members-0-name", "陈大山")
    page.fill("#id_members-0-id_number", head_id)
    assert page.input_value("#id_members-0-relationship") == "head"
    page.fill("#id_members-1-name", "林小梅")
    page.fill("#id_members-1-id_number", spouse_id)
    page.select_option("#id_members-1-relationship", "spouse")
    page.click("[data-add-member]")
    assert page.locator("[data-member]").count() == 3
    assert page.input_value("#id_members-TOTAL_FORMS") == "3"
    assert page.is_visible("#id_members-2-name")
    shot(page, "desktop-create")
    page.click("button:has-text('保存登记')")

    household = Household.objects.get(address="光明村四组6号")
    page.wait_for_url(f"{base}/households/{household.pk}/")
    assert "已登记农户" in page.inner_text(".messages")
    members = page.inner_text("#members")
    assert "陈大山" in members and "林小梅" in members and "配偶" in members
    assert head_id not in members  # masked for a village cadre
    assert "未达标：饮水安全有保障" in page.inner_text("main")
    shot(page, "desktop-detail")

    # 算账 for last year: every transfer item is on the form, 地力补贴 and 生态补偿金 included.
    year = page.locator(".tabs a[aria-current=page]").inner_text().rstrip("年")
    page.click(f"text={year}年算账")
    page.wait_for_url(f"{base}/households/{household.pk}/income/{year}/edit/")
    page.fill("#id_income_wage", "12000")
    page.fill("#id_income_farmland_subsidy", "520.50")
    page.fill("#id_income_eco_compensation", "300")
    page.fill("#id_expenditure_medical", "4000")
    shot(page, "desktop-income-form")
    page.click(f"button:has-text('保存 {year} 年收支')")
    page.wait_for_url(f"{base}/households/{household.pk}/?year={year}#income")
    verdict = page.inner_text(".verdict")
    assert "6,410.25" in verdict  # (12000 + 520.50 + 300) / 2
    page.locator("#income").screenshot(path=str(ARTIFACTS / "desktop-detail-income.png"))

    page.click("nav.main-nav >> text=农户信息")
    page.wait_for_url(f"{base}/households/")
    row = page.locator("tr", has_text=household.number)
    assert "陈大山" in row.inner_text() and "2 人" in row.inner_text()
    shot(page, "desktop-list")

    page.fill("#id_q", "林小梅")
    page.click("button:has-text('查询')")
    assert page.locator("tbody tr").count() == 1

    # Logout is a POST form.
    page.click("text=退出登录")
    page.wait_for_url(f"{base}/login/")
    assert errors == []

    # The same household on a phone, seen by the township reviewer (no edit buttons).
    phone, phone_errors = open_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    phone.goto(f"{base}/login/")
    shot(phone, "phone-login")
    log_in(phone, base, "township")
    shot(phone, "phone-home")
    phone.goto(f"{base}/households/")
    assert household.number in phone.inner_text("main")
    shot(phone, "phone-list")
    phone.goto(f"{base}/households/{household.pk}/")
    assert phone.locator("text=修改农户信息").count() == 0
    shot(phone, "phone-detail")
    for section in ("members", "income", "history"):  # a full phone page is too tall to review at once
        phone.locator(f"#{section}").screenshot(path=str(ARTIFACTS / f"phone-detail-{section}.png"))
    assert no_horizontal_scroll(phone)
    assert phone_errors == []


def test_demo_login_page_lists_the_demo_accounts(browser, live_server, settings):
    settings.DEMO_MODE = True
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page, errors = open_page(browser, viewport)
        page.goto(f"{live_server.url}/login/")
        demo = page.inner_text(".login__demo")
        assert "cunganbu" in demo and "镇街审核员" in demo and "demo-fpr-2026" in demo
        shot(page, f"{name}-login-demo")
        assert no_horizontal_scroll(page)
        assert errors == []


def test_registration_form_fits_a_phone(browser, live_server, cadre_a):
    phone, errors = open_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    log_in(phone, live_server.url, "cadre_a")
    phone.goto(f"{live_server.url}/households/new/")
    phone.fill("#id_members-0-id_number", "52052119800101001")  # 17 digits: refused, nothing saved
    phone.fill("#id_members-0-name", "错号")
    phone.fill("#id_address", "光明村一组1号")
    phone.select_option("#id_poverty_status", "ordinary")
    phone.click("button:has-text('保存登记')")
    assert "身份证号码应为18位" in phone.inner_text("main")
    assert not Household.objects.exists()
    shot(phone, "phone-create-error")
    phone.locator(".field--error").first.scroll_into_view_if_needed()
    phone.screenshot(path=str(ARTIFACTS / "phone-create-error-viewport.png"))
    assert no_horizontal_scroll(phone)
    assert errors == []
