"""Department files as county offices make them (issue #12): title rows, two-row headers, blank and
footer rows, header and value aliases, GBK and UTF-8-BOM, IDs stored as numbers — each uploaded and
compared end to end through upload_create + comparison_run."""

import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fpr.roles import Department
from fpr.sensitive import Kind, mask
from monitoring.models import RejectedRow, RiskWarning, UploadStatus
from monitoring.screening import comparison, tables
from monitoring.screening.comparison import comparison_run, upload_create
from monitoring.screening.departments import source_for
from tests.builders import new_id_number

pytestmark = pytest.mark.django_db

CIVIL = Department.CIVIL_AFFAIRS
MEDICAL = Department.MEDICAL_INSURANCE


def head_of(household):
    return household.members.get(relationship="head")


def run(user, data: bytes, name: str, department: str):
    created = upload_create(user=user, department=department, period="2026-11", file=SimpleUploadedFile(name, data))
    return comparison_run(created.pk)


def rejected(upload) -> dict[int, tuple[str, str]]:
    return {
        r.row_number: (r.column_label, r.reason)
        for r in RejectedRow.objects.filter(upload=upload).exclude(reason=comparison.NOT_REGISTERED)
    }


def warned(upload) -> dict[int, tuple[int, str]]:
    """row number → (member id, grade) of every warning raised."""
    return {w.row_number: (w.member_id, w.grade) for w in RiskWarning.objects.filter(upload=upload)}


def gbk_civil_affairs_list(person_a, person_b) -> bytes:
    """民政 as the county's system exports it: a title line, its own headers, its own category names,
    an ID Excel turned into 5.22422E+17, a blank line, a totals line and a signature line."""
    lines = [
        "大方县2026年10月新增低保特困对象名单",
        "序号,姓名,公民身份号码,保障类别,月保障金额（元）,批准时间",
        f"1,{person_a.name},{person_a.id_number},农村低保,650,2026-10-08",
        f"2,{person_b.name},{person_b.id_number},分散特困,1100,2026/10/12",
        f"3,外县人员,{new_id_number()},城市低保,720,2026-10-15",
        "4,王某,5.22422E+17,农村低保,650,2026-10-20",
        f"5,赵某,{new_id_number()},五保户,650,2026-10-21",
        ",,,,,",
        "合计,,,,3770,",
        "制表人：张三,,审核人：李四,,,",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def test_a_gbk_list_with_a_title_line_aliases_and_footer_is_compared(administrator, household_a, household_b):
    person_a, person_b = head_of(household_a), head_of(household_b)
    upload = run(administrator, gbk_civil_affairs_list(person_a, person_b), "民政10月.csv", CIVIL)
    assert upload.status == UploadStatus.DONE, upload.error
    assert upload.detected_encoding == "gbk"
    assert upload.columns == ["序号", "姓名", "公民身份号码", "保障类别", "月保障金额（元）", "批准时间"]
    # 5 data rows: 2 matched, 1 not registered, 2 wrong; title, blank, totals and signature are no data.
    assert (upload.rows_total, upload.rows_matched, upload.rows_unmatched, upload.rows_rejected) == (5, 2, 1, 2)
    assert upload.table_layout["header_row"] == 2
    assert (upload.table_layout["title_rows"], upload.table_layout["blank_rows"]) == (1, 1)
    assert upload.table_layout["footer_rows"] == 2
    assert upload.skipped_summary == "已跳过标题行 1 行、合计/说明行 2 行、空行 1 行"
    # 农村低保 → 低保 (orange), 分散特困 → 特困 (red); row numbers as the spreadsheet shows them.
    assert warned(upload) == {3: (person_a.pk, "orange"), 4: (person_b.pk, "red")}
    assert rejected(upload) == {
        6: ("身份证号", comparison.EXCEL_NUMBER_REASON),
        7: ("救助类型", "救助类型“五保户”无效，应为：低保、特困、临时救助"),
    }


def medical_workbook(person_a, person_b) -> bytes:
    """医保 as an XLSX: a merged title row, a two-row header (费用情况 merged over 总费用/个人自付,
    the other headers merged down both rows), an ID typed as a number, blank rows, a totals row and
    a note."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["大方县2026年10月大额医疗费用个人自付人员名单"])
    sheet.merge_cells("A1:F1")
    sheet.append(["序号", "姓名", "身份证号码", "就诊医院", "费用情况", None])
    sheet.append([None, None, None, None, "总费用（元）", "个人自付（元）"])
    for column in "ABCD":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("E2:F2")
    sheet.append([1, person_a.name, person_a.id_number, "大方县人民医院", 98000, 62000])
    sheet.append([2, person_b.name, int(person_b.id_number[:17] + "0"), "大方县中医院", 40000, 21000])
    sheet.append([3, "外县人员", new_id_number(), "毕节市第一人民医院", 9000, 3000])
    sheet.append([4, "钱某", new_id_number(), "大方县人民医院", 9000, "待核"])
    sheet.append([None] * 6)
    sheet.append([None] * 6)
    sheet.append(["合计", None, None, None, 156000, 86000])
    sheet.append(["说明：个人自付为医保结算后个人负担部分。"])
    sheet.merge_cells("A11:F11")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_xlsx_with_a_merged_title_and_a_two_row_header_is_compared(administrator, household_a, household_b):
    person_a, person_b = head_of(household_a), head_of(household_b)
    upload = run(administrator, medical_workbook(person_a, person_b), "医保10月.xlsx", MEDICAL)
    assert upload.status == UploadStatus.DONE, upload.error
    assert upload.columns == [
        "序号",
        "姓名",
        "身份证号码",
        "就诊医院",
        "费用情况/总费用（元）",
        "费用情况/个人自付（元）",
    ]
    assert upload.table_layout["header_row"] == 3 and upload.table_layout["header_rows"] == 2
    assert upload.table_layout["mapping"] == {"name": 1, "id_number": 2, "hospital": 3, "out_of_pocket": 5}
    assert upload.table_layout["unmapped"] == ["序号", "费用情况/总费用（元）"]
    assert (upload.rows_total, upload.rows_matched, upload.rows_unmatched, upload.rows_rejected) == (4, 1, 1, 2)
    assert upload.skipped_summary == "已跳过标题行 1 行、合计/说明行 2 行、空行 2 行"
    # Only person A is matched (62000 → red); person B's ID, stored as a number, matches nobody.
    assert warned(upload) == {4: (person_a.pk, "red")}
    assert json.loads(RiskWarning.objects.get(upload=upload).source_values)[5] == 62000
    assert rejected(upload) == {
        5: ("身份证号", comparison.EXCEL_NUMBER_REASON),
        7: ("个人自付金额", "个人自付金额应为数字，当前为“待核”"),
    }


def test_a_utf8_bom_list_with_a_merged_title_saved_as_csv_and_alias_headers(administrator, household_a):
    """Excel's "CSV UTF-8" of a sheet with a merged title: the title line is one cell and commas."""
    person = head_of(household_a)
    text = (
        "大方县医疗保障局 大额自付人员（2026年10月）,,,\r\n"
        "填报单位：大方县医疗保障局,,,\r\n"
        ",,,\r\n"
        "证件号码,人员姓名,个人自付,结算期间\r\n"
        f"{person.id_number.lower()},{person.name},25000,2026-10\r\n"
        f"{new_id_number()},外县人员,8000,2026-10\r\n"
        "总计,,33000,\r\n"
    )
    upload = run(administrator, "\ufeff".encode() + text.encode("utf-8"), "医保.csv", MEDICAL)
    assert upload.status == UploadStatus.DONE, upload.error
    assert upload.detected_encoding == "utf-8"
    assert upload.table_layout["header_row"] == 4
    assert (upload.rows_total, upload.rows_matched, upload.rows_unmatched, upload.rows_rejected) == (2, 1, 1, 0)
    assert upload.skipped_summary == "已跳过标题行 2 行、合计/说明行 1 行、空行 1 行"
    assert warned(upload) == {5: (person.pk, "orange")}


def test_value_aliases_in_full_width_or_with_spaces_map_to_the_canonical_value(administrator, household_a):
    person = head_of(household_a)
    text = f"身份证号,救助类别\r\n{person.id_number},集中 特困\r\n"
    upload = run(administrator, text.encode(), "民政.csv", CIVIL)
    assert upload.status == UploadStatus.DONE, upload.error
    assert warned(upload) == {2: (person.pk, "red")}


def test_a_header_not_among_the_first_rows_fails_the_upload_naming_the_missing_columns(administrator):
    lines = ["说明文字"] * tables.HEADER_SCAN_ROWS + ["身份证号,个人自付金额", f"{new_id_number()},100"]
    upload = run(administrator, "\r\n".join(lines).encode(), "长标题.csv", MEDICAL)
    assert upload.status == UploadStatus.FAILED
    assert "缺少必需列：身份证号、个人自付金额" in upload.error


def test_a_data_row_is_never_taken_for_a_second_header_row():
    """A header followed by data: the data row must not be joined to the header."""
    source = source_for(MEDICAL)
    id_number = new_id_number()
    layout = tables.detect_header([["身份证号", "姓名", "个人自付金额"], [id_number, "张三", "100"]], source)
    assert (layout.found, layout.header_index, layout.header_rows) == (True, 0, 1)
    assert layout.names == ["身份证号", "姓名", "个人自付金额"] and layout.first_data_row == 2


def test_detect_header_gives_what_a_preview_shows_from_a_bounded_number_of_rows():
    source = source_for(CIVIL)
    head = [["XX县2024年10月新增低保对象名单"], [], ["序号", "户主", "身份证号码", "保障类别", "备注"]]
    head += [["1", "张三", new_id_number(), "农村低保", ""]] * 100
    layout = tables.detect_header(head, source)
    assert layout.as_json() == {
        "header_row": 3,
        "header_rows": 1,
        "mapping": {"id_number": 2, "assistance_type": 3},
        "unmapped": ["序号", "户主", "备注"],
        "title_rows": 1,
        "blank_rows": 1,
    }
    # Not recognised: the row giving the most columns, for the message (and a mapping form).
    missing = tables.detect_header([["标题"], ["证号", "保障类别"]], source)
    assert not missing.found and missing.header_index == 1 and missing.mapping == {"assistance_type": 1}


def test_the_rejected_rows_report_masks_id_numbers(administrator, household_a):
    wrong = new_id_number()[:17] + "0"  # a wrong check digit (or, rarely, right: then it is not registered)
    other = new_id_number()
    text = f"身份证号,姓名,个人自付金额,联系人身份证号\r\n{wrong},张某,abc,{other}\r\n"
    upload = run(administrator, text.encode(), "医保.csv", MEDICAL)
    assert upload.status == UploadStatus.DONE, upload.error
    built = comparison.rejected_report_build(upload.pk)
    cells = [c.value for row in openpyxl.load_workbook(built.rejected_report.path).active.iter_rows() for c in row]
    assert mask(Kind.ID_NUMBER, wrong) in cells and mask(Kind.ID_NUMBER, other) in cells
    assert not any(isinstance(v, str) and (wrong in v or other in v) for v in cells)


def test_the_template_is_an_xlsx_with_the_id_column_as_text_and_a_filled_one_is_compared(
    client, administrator, household_a
):
    client.force_login(administrator)
    response = client.get(reverse("monitoring:upload_template", args=[MEDICAL]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == ["身份证号*", "姓名", "个人自付金额*", "费用期间", "就诊机构"]
    assert sheet.column_dimensions["A"].number_format == "@"
    person = head_of(household_a)
    sheet.append([person.id_number, person.name, 30000])
    out = io.BytesIO()
    workbook.save(out)
    upload = run(administrator, out.getvalue(), "模板.xlsx", MEDICAL)
    assert upload.status == UploadStatus.DONE, upload.error
    assert warned(upload) == {2: (person.pk, "orange")}
    csv_response = client.get(reverse("monitoring:upload_template", args=[MEDICAL]) + "?format=csv")
    assert csv_response.content.decode("utf-8-sig").strip() == "身份证号,姓名,个人自付金额,费用期间,就诊机构"


def test_the_upload_page_reports_the_skipped_rows(client, administrator, household_a, household_b):
    upload = run(administrator, gbk_civil_affairs_list(head_of(household_a), head_of(household_b)), "民政.csv", CIVIL)
    client.force_login(administrator)
    page = client.get(reverse("monitoring:upload", args=[upload.pk])).content.decode()
    assert "已跳过标题行 1 行、合计/说明行 2 行、空行 1 行" in page
    assert "列名在第 2 行" in page
