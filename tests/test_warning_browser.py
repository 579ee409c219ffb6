"""A department list from upload to the village's verification, in headless Chromium: the county
administrator uploads a medical-insurance CSV at the upload page and waits (the real Celery worker runs the
comparison) for 比对完成; the village cadre opens 预警线索, sees the 48-hour countdown with an older,
overdue warning first and marked, records 不纳入 with a reason on the overdue one (desktop) and 纳入 on the
new one (phone), which opens an application with the channel 部门筛查预警. Screenshots go to
test-artifacts/ (warning-*.png)."""

import datetime as dt
import re

import pytest
import time_machine

from fpr import clock
from fpr.roles import Department
from households.models import Relationship
from monitoring.models import Channel, MonitoringCase, RiskWarning, WarningStatus
from monitoring.screening import comparison
from tests.browser import ARTIFACTS, DESKTOP, log_in, no_horizontal_scroll, open_page, open_phone
from tests.builders import member_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def log_out(page, base_url):
    page.click("text=退出登录")
    page.wait_for_url(f"{base_url}/login/")


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def shot(page, name, *sections):
    page.screenshot(path=str(ARTIFACTS / f"warning-{name}.png"), full_page=True)
    for section in sections:
        page.locator(f"#{section}").screenshot(path=str(ARTIFACTS / f"warning-{name}-{section}.png"))


def head(household):
    return household.members.get(relationship=Relationship.HEAD)


def test_an_upload_reaches_the_village_which_verifies_its_warnings(
    browser,
    live_server,
    celery_worker_process,
    settings,
    monkeypatch,
    tmp_path,
    department_upload,
    administrator,
    cadre_a,
    household_a,
    make_household,
    village_a,
):
    base = live_server.url
    settings.MEDIA_ROOT = celery_worker_process.media_root  # the worker reads the uploaded file
    older_household = make_household(
        user=cadre_a,
        village=village_a,
        address="光明村三组7号",
        members=[member_data("刘桂英"), member_data("杨国强", Relationship.SPOUSE)],
    )
    older_member = head(older_household)

    # Last month's list came in 50 hours ago and nobody has verified its warning: 2 hours overdue.
    # (Compared in this process so its clock can be moved; the worker's clock cannot.)
    with monkeypatch.context() as patch, time_machine.travel(clock.now() - dt.timedelta(hours=50), tick=False):
        patch.setattr(comparison, "comparison_enqueue", lambda upload_id: None)
        department_upload(
            [{"身份证号": older_member.id_number, "姓名": older_member.name, "个人自付金额": "30000"}],
            period="2026-10",
        )
    older = RiskWarning.objects.get(member=older_member)
    assert older.is_overdue

    member = head(household_a)
    csv_file = tmp_path / "医保大额自付2026-11.csv"
    csv_file.write_text(
        "身份证号,姓名,个人自付金额,费用期间,就诊机构\r\n"
        f"{member.id_number},{member.name},60000,2026-11,大方县人民医院\r\n"
        "52052119900101123X,查无此人,25000,2026-11,大方县人民医院\r\n",
        encoding="gbk",
    )

    # ------------------------------------------------------------------ the administrator uploads
    desk, desk_errors = open_page(browser, DESKTOP)
    log_in(desk, base, administrator.username)
    desk.goto(f"{base}/monitoring/uploads/new/")
    desk.select_option("#id_department", "medical_insurance")
    desk.fill("#id_period", "2026-11")
    desk.set_input_files("#id_file", str(csv_file))
    submit(desk, "button:has-text('上传并预览')")
    assert "GBK" in desk.inner_text("#preview") and "必需列都已识别" in desk.inner_text("#preview")
    submit(desk, "#start-button")
    desk.wait_for_selector("text=比对完成", timeout=60_000)  # the page reloads itself while the worker runs
    progress = desk.inner_text("#progress")
    assert "新增预警线索 1 条" in progress and "拒收 1 行" in progress
    shot(desk, "desktop-1-upload-done")
    log_out(desk, base)

    warning = RiskWarning.objects.get(member=member)
    assert warning.status == WarningStatus.OPEN and warning.grade == "red"

    # ------------------------------------------------------------------ the village cadre, desktop
    log_in(desk, base, "cadre_a")
    submit(desk, "nav.main-nav >> text=预警线索")
    rows = desk.locator("table.warnings-table tbody tr")
    assert rows.count() == 2
    first, second = rows.nth(0), rows.nth(1)
    assert older_member.name in first.inner_text() and "已超时 2小时" in first.inner_text()
    assert "is-overdue" in (first.get_attribute("class") or "")
    assert member.name in second.inner_text() and re.search(r"剩余 4[78]小时", second.inner_text())
    assert member.id_number not in desk.content() and member.id_number[-4:] in second.inner_text()
    assert "已超时" in desk.inner_text(".warning-stats")
    shot(desk, "desktop-2-queue")
    assert desk_errors == []

    submit(desk, f"table.warnings-table >> text={older_member.name}")
    assert "已超时 2小时" in desk.inner_text("#deadline")
    assert "个人自付金额" in desk.inner_text("#source") and "30000" in desk.inner_text("#source")
    desk.click("#exclude summary")
    desk.fill("#id_exclude-reason", "电话联系并入户了解：费用已由大病保险和医疗救助报销，家庭收入稳定，无返贫风险。")
    shot(desk, "desktop-3-exclude-form", "actions")
    submit(desk, "button:has-text('不纳入，保存原因')")
    assert "已记录：不纳入" in desk.inner_text(".messages")
    assert "核实结果：待核实 → 不纳入" in desk.inner_text("#history")
    shot(desk, "desktop-4-excluded", "history")
    older.refresh_from_db()
    assert older.status == WarningStatus.EXCLUDED and older.handled_by == cadre_a
    log_out(desk, base)
    assert desk_errors == []

    # ------------------------------------------------------------------ the village cadre, phone
    phone, phone_errors = open_phone(browser)
    log_in(phone, base, "cadre_a")
    submit(phone, "nav.main-nav >> text=预警线索")
    assert phone.locator("table.warnings-table tbody tr").count() == 1  # the excluded one left the queue
    shot(phone, "phone-1-queue")
    assert no_horizontal_scroll(phone)

    submit(phone, f"table.warnings-table >> text={member.name}")
    assert re.search(r"剩余 4[78]小时", phone.inner_text("#deadline"))
    # The application is prefilled from the warning.
    assert phone.is_checked("input[name=include-risk_categories][value=illness]")
    assert phone.input_value("#id_include-colour") == "red"
    assert "个人自付金额 60000" in phone.input_value("#id_include-description")
    shot(phone, "phone-2-warning", "actions", "source")
    assert no_horizontal_scroll(phone)
    submit(phone, "button:has-text('纳入，登记监测申请')")

    case = MonitoringCase.objects.get(household=household_a, is_open=True)
    assert phone.url == f"{base}/cases/{case.pk}/"
    assert "已纳入" in phone.inner_text(".messages")
    assert case.channel == Channel.DEPARTMENT_WARNING and "部门筛查预警" in phone.inner_text(".case-tags")
    assert "大额医疗费用个人自付" in phone.inner_text("#warnings")
    shot(phone, "phone-3-case", "warnings")
    assert no_horizontal_scroll(phone)
    warning.refresh_from_db()
    assert warning.status == WarningStatus.INCLUDED and warning.case == case

    # The vehicle registry finds a car: the case (and the household) is flagged for the property check.
    with monkeypatch.context() as patch:
        patch.setattr(comparison, "comparison_enqueue", lambda upload_id: None)
        department_upload(
            [{"身份证号": member.id_number, "姓名": member.name, "号牌号码": "贵F·12345", "车辆类型": "小型轿车"}],
            department=Department.VEHICLES,
        )
    phone.reload()
    notice = phone.inner_text("#property-check")
    assert "资产比对命中：车辆（车管 2026-11）— 需核查家庭财产，防止“富人戴穷帽”" in notice
    shot(phone, "phone-4-case-property-check", "property-check")
    assert no_horizontal_scroll(phone)
    assert phone_errors == []
