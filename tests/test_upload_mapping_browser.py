"""A county office's own file in headless Chromium: the 医保 officer uploads a list whose columns fpr
does not know (a title row, 受益人证件, 本期自负部分 …), sees on the preview that nothing can be compared
yet, maps the two required columns, and starts the comparison (the real Celery worker runs it). Next
month's file with the same columns is recognised with the saved mapping: its preview asks for nothing
and it runs. Screenshots at 1280 and 390 px go to test-artifacts/ (mapping-*.png)."""

import pytest

from monitoring.models import ColumnMapping, DepartmentUpload, RiskWarning
from tests.browser import ARTIFACTS, DESKTOP, log_in, no_horizontal_scroll, open_page, open_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "序号,参保人,受益人证件,医院,本期自负部分,联系方式"


def own_file(path, title, rows):
    lines = [title, HEADER]
    lines += [
        f"{n},{name},{id_number},县人民医院,{amount},13912345678" for n, (name, id_number, amount) in enumerate(rows, 1)
    ]
    lines.append("合计,,,,,")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="gbk")
    return str(path)


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def upload(page, base, period, path):
    page.goto(f"{base}/monitoring/uploads/new/")
    page.fill("#id_period", period)
    page.set_input_files("#id_file", path)
    submit(page, "button:has-text('上传并预览')")


def test_unknown_columns_are_mapped_once_and_next_month_runs_without_asking(
    browser, live_server, celery_worker_process, settings, tmp_path, department_officer, household_a
):
    settings.MEDIA_ROOT = celery_worker_process.media_root
    base = live_server.url
    head = household_a.members.get(relationship="head")
    desk, errors = open_page(browser, DESKTOP)
    log_in(desk, base, department_officer.username)

    upload(
        desk,
        base,
        "2026-10",
        own_file(tmp_path / "10月.csv", "大方县医保局2026年10月高额费用人员", [(head.name, head.id_number, "56000")]),
    )
    preview = desk.inner_text("#preview")
    assert "还不能比对" in preview and "身份证号" in preview and "个人自付金额" in preview
    assert "GBK" in preview and "列名在第 2 行" in preview
    assert head.id_number not in desk.content() and "13912345678" not in desk.content()
    assert desk.get_attribute("#map_id_number", "aria-invalid") == "true"
    desk.screenshot(path=str(ARTIFACTS / "mapping-desktop-1-preview.png"), full_page=True)
    # 开始比对 without the mapping: refused, nothing compared.
    submit(desk, "#start-button")
    assert "还有必需列没有对应到文件中的列" in desk.inner_text("#start-error")
    desk.select_option("#map_id_number", label=f"受益人证件（如：{head.id_number[:4]}**********{head.id_number[-4:]}）")
    desk.select_option("#map_out_of_pocket", index=5)  # 本期自负部分 (options: 请选择 + five named columns)
    assert "本期自负部分" in desk.inner_text("#map_out_of_pocket option:checked")
    submit(desk, "#start-button")
    desk.wait_for_selector("text=比对完成", timeout=60_000)
    assert "新增预警线索 1 条" in desk.inner_text("#progress") and "合计/说明行 1 行" in desk.inner_text("#progress")
    desk.screenshot(path=str(ARTIFACTS / "mapping-desktop-2-done.png"), full_page=True)
    assert RiskWarning.objects.get().member == head
    assert ColumnMapping.objects.get().mapping["id_number"] == "受益人证件"

    # November, on a phone: the same office's columns are recognised; nothing to map.
    phone, phone_errors = open_phone(browser)
    log_in(phone, base, department_officer.username)
    upload(
        phone,
        base,
        "2026-11",
        own_file(
            tmp_path / "11月.csv",
            "11月清单",
            [("王五", "52052119900101123X", "3"), (head.name, head.id_number, "42000")],
        ),
    )
    preview = phone.inner_text("#preview")
    assert "必需列都已识别" in preview and "还不能比对" not in preview
    assert "受益人证件" in phone.inner_text("#map_id_number option:checked")
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(ARTIFACTS / "mapping-phone-1-recognised.png"), full_page=True)
    submit(phone, "#start-button")
    phone.wait_for_selector("text=比对完成", timeout=60_000)
    phone.screenshot(path=str(ARTIFACTS / "mapping-phone-2-done.png"), full_page=True)
    latest = DepartmentUpload.objects.get(period="2026-11")
    assert (latest.rows_total, latest.rows_matched) == (2, 1)
    assert errors == [] and phone_errors == []
