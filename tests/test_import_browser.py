"""Starting a county in the browser (#15's acceptance, the parts built so far): the county administrator,
on a phone, imports the division list and then the cadre list from 数据导入 — each checked first, then
confirmed — downloads the initial passwords once, and a village cadre created by the import logs in, is
made to change the password, and sees the village's households. (The registry import comes next.)"""

import io
import zipfile

import openpyxl
import pytest

from households.models import Division, User
from tests.browser import ARTIFACTS, DESKTOP, log_in, no_horizontal_scroll, open_page, open_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIVISIONS = (
    "2023年统计用区划代码\r\n统计用区划代码,城乡分类代码,名称\r\n520521102000,,猫场镇\r\n520521102001,220,新寨村\r\n"
)
CADRES = (
    "大方县村干部花名册\r\n姓名,联系电话,所属村,角色\r\n王  芳,１３９００００１００１,光明村村民委员会,村级干部\r\n"
)
NEW_PASSWORD = "Guangming-2026-xin"


def upload(page, base, kind, name, text, encoding):
    page.goto(f"{base}/imports/")
    page.select_option("#id_kind", kind)
    page.set_input_files("#id_file", {"name": name, "mimeType": "text/csv", "buffer": text.encode(encoding)})
    with page.expect_navigation():
        page.click("#import-form button[type=submit]")


def confirm(page):
    with page.expect_navigation():
        page.click("#import-check button:has-text('确认导入')")
    page.wait_for_selector("#import-result")


def test_the_administrator_imports_divisions_and_cadres_and_a_new_cadre_starts_work(
    browser, live_server, administrator, household_a, village_a, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    household = household_a
    base = live_server.url
    phone, errors = open_phone(browser)
    log_in(phone, base, administrator.username)
    phone.goto(f"{base}/accounts/users/")
    with phone.expect_navigation():
        phone.click("a:has-text('数据导入')")

    upload(phone, base, "divisions", "大方县区划代码.csv", DIVISIONS, "gbk")
    assert "待确认导入" in phone.inner_text("#import-status") and "试运行" in phone.inner_text("#import-check")
    assert not Division.objects.filter(code="520521102001").exists()
    phone.screenshot(path=str(ARTIFACTS / "import-phone-divisions-checked.png"), full_page=True)
    assert no_horizontal_scroll(phone)
    confirm(phone)
    assert "导入完成" in phone.inner_text("#import-status")
    assert Division.objects.get(code="520521102001").parent_id == "520521102000"

    upload(phone, base, "users", "干部名单.csv", CADRES, "gbk")
    assert "待确认导入" in phone.inner_text("#import-status"), phone.inner_text("#import-check")
    confirm(phone)
    cadre = User.objects.get(phone="13900001001")
    assert cadre.must_change_password and cadre.division_id == village_a.code
    phone.screenshot(path=str(ARTIFACTS / "import-phone-users-done.png"), full_page=True)
    with phone.expect_download() as download:
        phone.click("#import-result button:has-text('下载初始密码清单')")
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        sheet = openpyxl.load_workbook(io.BytesIO(archive.read(archive.namelist()[0]))).active
    row = next(r for r in sheet.iter_rows(values_only=True) if r and r[1] == "王芳")
    username, password = row[4], row[5]
    phone.reload()
    assert "初始密码清单已于" in phone.inner_text("#import-result")  # once only
    assert errors == []
    phone.context.close()

    desk, desk_errors = open_page(browser, DESKTOP)
    log_in(desk, base, administrator.username)
    desk.goto(f"{base}/imports/")
    desk.screenshot(path=str(ARTIFACTS / "import-desktop-list.png"), full_page=True)
    assert desk.locator("#import-table tbody tr").count() == 2
    assert desk_errors == []
    desk.context.close()

    # The new cadre: the initial password works once, then the password must be changed first.
    phone, errors = open_phone(browser)
    phone.goto(f"{base}/login/")
    phone.fill("#id_username", username)
    phone.fill("#id_password", password)
    with phone.expect_navigation():
        phone.click("button[type=submit]")
    phone.wait_for_url(f"{base}/accounts/password/")
    assert "首次登录请先修改初始密码" in phone.inner_text("main")
    phone.screenshot(path=str(ARTIFACTS / "import-phone-cadre-first-login.png"), full_page=True)
    phone.fill("#id_old_password", password)
    phone.fill("#id_new_password1", NEW_PASSWORD)
    phone.fill("#id_new_password2", NEW_PASSWORD)
    with phone.expect_navigation():
        phone.click("main button[type=submit]")
    phone.goto(f"{base}/households/")
    assert household.number in phone.inner_text("main")
    phone.screenshot(path=str(ARTIFACTS / "import-phone-cadre-households.png"), full_page=True)
    assert no_horizontal_scroll(phone) and errors == []
