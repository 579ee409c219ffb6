"""The division loader (区划代码导入, issue #15 point 1): realistic 统计用区划代码 files made here — a title
row, the 城乡分类代码 column, GBK bytes, a pasted tab-separated list with full-width digits and spaces,
an XLSX — loaded by a county administrator and by the operator; dry run, all-or-nothing, re-run = no-op,
renamings kept in the history."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from fpr.roles import Level
from households.models import Division
from workflow.onboarding.divisions import FileProblem, divisions_load

TITLE = "2023年统计用区划代码"
HEADER = ["统计用区划代码", "城乡分类代码", "名称"]
# The county's list as 国家统计局 publishes it: the rows above the county, the county, a new township
# with its villages, and a village fpr already has (conftest's tree: 大方县 520521, 羊场镇 520521100).
COUNTY_ROWS = [
    ("520000000000", "", "贵州省"),
    ("520500000000", "", "毕节市"),
    ("520521000000", "", "大方县"),
    ("520521100000", "", "羊场镇"),
    ("520521100001", "220", "光明村"),
    ("520521102000", "", "凤山乡"),
    ("520521102001", "220", "凤山村"),
    ("520521102002", "210", "凤山社区"),
]


def write_csv(path, rows, *, encoding="utf-8", sep=",", title=TITLE, header=HEADER):
    lines = ([title] if title else []) + ([sep.join(header)] if header else [])
    lines += [sep.join(row) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return str(path)


def load(path, actor=None, **kwargs):
    return divisions_load(actor=actor, path=path, **kwargs)


def history_reasons(code):
    return list(
        Division.history.filter(code=code).order_by("history_date").values_list("history_change_reason", flat=True)
    )


def test_dry_run_reports_and_writes_nothing_then_the_load_builds_the_tree(divisions, administrator, tmp_path):
    path = write_csv(tmp_path / "大方县.csv", COUNTY_ROWS)
    before = Division.objects.count()

    dry = load(path, administrator, dry_run=True)
    assert (dry.rows_read, len(dry.new), len(dry.renamed), dry.unchanged, dry.rejected) == (8, 3, 0, 5, [])
    assert [(p.row, p.code) for p in dry.new] == [(8, "520521102000"), (9, "520521102001"), (10, "520521102002")]
    assert dry.header_row == 2 and dry.title_rows == 1 and dry.columns_ignored == ["城乡分类代码"]
    assert dry.changed == 0 and not dry.written
    assert Division.objects.count() == before
    text = "\n".join(dry.lines())
    assert (
        "试运行，未写入任何数据" in text and "将新增 3 个（乡镇1、村2）" in text and "未使用的列：城乡分类代码" in text
    )

    real = load(path, administrator)
    assert real.written and real.changed == 3
    township = Division.objects.get(code="520521102000")
    assert (township.name, township.level, township.parent_id) == ("凤山乡", Level.TOWNSHIP, "520521000000")
    village = Division.objects.get(code="520521102002")
    assert (village.level, village.parent_id) == (Level.VILLAGE, "520521102000")
    record = Division.history.get(code="520521102001")
    assert record.history_change_reason == "区划代码导入：大方县.csv"
    assert record.history_user == administrator and record.history_type == "+"


def test_a_second_load_of_the_same_file_changes_nothing(divisions, administrator, tmp_path):
    path = write_csv(tmp_path / "codes.csv", COUNTY_ROWS)
    load(path, administrator)
    history = Division.history.count()

    again = load(path, administrator)
    assert (len(again.new), len(again.renamed), again.unchanged, again.changed) == (0, 0, 8, 0)
    assert "变更合计：0 个" in again.lines() and "（与系统一致，无需变更）" in again.lines()[0]
    assert Division.history.count() == history


def test_a_renamed_village_is_updated_and_its_history_says_which_file(divisions, administrator, tmp_path):
    Division.history.filter(code="520521100001").delete()
    path = write_csv(
        tmp_path / "2024年区划.csv", [("520521100001", "220", "光明社区"), ("520521100002", "220", "红岩村")]
    )
    report = load(path, administrator)
    assert [(p.code, p.old_name, p.name) for p in report.renamed] == [("520521100001", "光明村", "光明社区")]
    assert report.unchanged == 1 and report.changed == 1
    assert "  第3行 520521100001 光明村 → 光明社区" in report.lines()
    assert Division.objects.get(code="520521100001").name == "光明社区"
    record = Division.history.get(code="520521100001")
    assert (record.name, record.history_type, record.history_change_reason) == (
        "光明社区",
        "~",
        "区划代码导入：2024年区划.csv",
    )
    assert record.prev_record is None  # (the fixture's creation history was removed above)
    assert Division.history.filter(code="520521100002").count() == 1  # unchanged: no history row


def test_gbk_pasted_list_with_full_width_digits_and_spaces(divisions, tmp_path):
    """A list pasted from the statistics bureau's pages into a text file saved by Notepad as ANSI (GBK):
    a title line, no header, tab-separated, full-width digits and spaces inside the codes."""
    rows = [
        ("５２０５２１１０２０００", "凤山乡"),
        ("520521 102 001", "220", "凤山村"),
        ("5205-2110-2002", "210", "凤山社区"),
    ]
    path = write_csv(tmp_path / "gbk.txt", rows, encoding="gbk", sep="\t", header=None)
    report = load(path)
    assert report.encoding == "gbk" and report.header_row == 0 and report.title_rows == 1
    assert report.rejected == [] and [p.code for p in report.new] == ["520521102000", "520521102001", "520521102002"]
    assert Division.objects.get(code="520521102001").name == "凤山村"


def test_gbk_csv_with_header(divisions, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", COUNTY_ROWS, encoding="gb18030")
    report = load(path, dry_run=True)
    assert report.encoding in ("gbk", "gb18030") and len(report.new) == 3 and report.rejected == []


def test_xlsx_with_title_row_numeric_and_text_codes(divisions, administrator, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.merge_cells("A1:C1")
    sheet.append(HEADER)
    sheet.append([520521102000, None, "凤山乡"])  # a code Excel keeps as a number
    sheet.append(["520521102001", "220", "凤山村"])
    sheet.append(["５２０５２１１０２００２", 210, " 凤山社区 "])
    sheet.append([None, None, None])
    sheet.append(["合计", None, "3个"])
    path = tmp_path / "大方县.xlsx"
    book.save(path)

    report = load(str(path), administrator)
    assert report.file_format == "xlsx" and report.header_row == 2
    assert (report.rows_read, report.skipped, len(report.new), report.rejected) == (3, 2, 3, [])
    assert Division.objects.get(code="520521102002").name == "凤山社区"


def test_every_invalid_row_is_listed_with_a_chinese_reason_and_nothing_is_written(divisions, tmp_path):
    rows = [
        ("520521102000", "", "凤山乡"),  # row 3: valid, but the file is refused as a whole
        ("52052110200", "220", "少一位村"),  # 4
        ("52052110200A", "220", "字母村"),  # 5
        ("5.20521E+11", "220", "科学计数村"),  # 6
        ("520521103001", "220", "无上级村"),  # 7: 520521103000 neither in the file nor in fpr
        ("520500003000", "", "直管镇"),  # 8: township under a city without counties
        ("520521102001", "220", ""),  # 9
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    report = load(path)
    assert not report.written and Division.objects.filter(code="520521102000").count() == 0
    reasons = {r.row: r.reason for r in report.rejected}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9]
    assert reasons[4] == "区划代码应为12位数字，当前为11位（“52052110200”）"
    assert reasons[5] == "区划代码只能由数字组成（“52052110200A”）"
    assert "科学计数法" in reasons[6] and "文本" in reasons[6]
    assert reasons[7] == "上级区划520521103000既不在本文件中，也不在系统中"
    assert "第5-6位（县级）为0" in reasons[8]
    assert reasons[9] == "名称为空"
    text = "\n".join(report.lines())
    assert "已拒绝：6行未通过检查，未写入任何数据" in text and "第7行 520521103001 无上级村" in text


def test_a_child_of_a_refused_row_is_refused_too(divisions, tmp_path):
    path = write_csv(
        tmp_path / "f.csv",
        [("520521102000", "", "凤山乡"), ("520521102000", "", "凤山镇"), ("520521102001", "", "凤山村")],
    )
    reasons = {r.row: r.reason for r in load(path).rejected}
    assert reasons[5] == "上级区划520521102000（第3行）未通过检查"


def test_the_same_code_with_two_names_is_refused_naming_the_rows(divisions, tmp_path):
    rows = [("520521102000", "", "凤山乡"), ("520521102001", "220", "凤山村"), ("520521102001", "220", "凤凰村")]
    rows.append(("520521102000", "", "凤山乡"))  # the same row again: one division, reported, not refused
    report = load(write_csv(tmp_path / "dup.csv", rows))
    assert [(r.row, r.code) for r in report.rejected] == [(4, "520521102001"), (5, "520521102001")]
    assert report.rejected[0].reason == (
        "同一代码在文件中出现了2次且名称不同：第4行“凤山村”、第5行“凤凰村”；一个代码只能是一个地方"
    )
    assert report.repeated == [(6, 3, "520521102000")]
    assert not report.written and not Division.objects.filter(code="520521102000").exists()


def test_a_county_administrator_loads_only_inside_the_county(divisions, administrator, tmp_path):
    rows = [
        ("520500000000", "", "毕节地区"),  # 3: renaming the city above the county
        ("520521102000", "", "凤山乡"),  # 4: inside, fine on its own
        ("520522000000", "", "黔西县"),  # 5: the neighbouring county
        ("520522100000", "", "杜鹃街道"),  # 6
    ]
    path = write_csv(tmp_path / "outside.csv", rows)
    report = load(path, administrator)
    reasons = {r.row: r.reason for r in report.rejected}
    assert reasons[3] == "上级区划的名称由上级管理员维护：您只能导入大方县（520521000000）辖区内的区划"
    assert reasons[5] == "不在您的辖区内：您只能导入大方县（520521000000）辖区内的区划"
    assert reasons[6].startswith("不在您的辖区内")
    assert sorted(reasons) == [3, 5, 6]
    assert not report.written and not Division.objects.filter(code="520521102000").exists()
    assert Division.objects.get(code="520500000000").name == "毕节市"

    operator = load(path)  # the operator loads anything
    assert operator.written and operator.changed == 4
    assert Division.objects.get(code="520522100000").parent_id == "520522000000"


def test_only_administrators_and_operators_load_divisions(divisions, county_reviewer, tmp_path):
    path = write_csv(tmp_path / "f.csv", COUNTY_ROWS)
    with pytest.raises(PermissionDenied):
        load(path, county_reviewer)


def test_an_existing_code_is_never_moved_to_another_place(divisions, tmp_path):
    # A division fpr holds at a level its code does not give (entered by hand before the loader).
    Division.objects.create(code="520521109000", name="旧光明村", level=Level.VILLAGE, parent_id="520521100000")
    report = load(write_csv(tmp_path / "f.csv", [("520521109000", "", "新光明镇")]))
    assert len(report.rejected) == 1 and "区划代码不得改作他用" in report.rejected[0].reason
    assert Division.objects.get(code="520521109000").name == "旧光明村"


def test_a_file_that_is_not_a_code_list_is_refused_as_a_whole(divisions, tmp_path):
    path = write_csv(tmp_path / "f.csv", [("张三", "男"), ("李四", "女")], title="", header=["姓名", "性别"])
    with pytest.raises(FileProblem, match="没有找到区划代码和名称两列"):
        load(path)


def test_the_command_prints_the_report_in_chinese(divisions, administrator, tmp_path, capsys):
    path = write_csv(tmp_path / "大方县.csv", COUNTY_ROWS)
    call_command("load_divisions", path, "--dry-run", "--as", "admin_user")
    out = capsys.readouterr().out
    assert "区划代码导入：大方县.csv（试运行，未写入任何数据）" in out and "新增 3 个" in out
    assert not Division.objects.filter(code="520521102000").exists()

    call_command("load_divisions", path, "--as", "admin_user")
    assert "（已导入）" in capsys.readouterr().out and Division.objects.filter(code="520521102000").exists()

    bad = write_csv(tmp_path / "bad.csv", [("520522000000", "", "黔西县")])
    with pytest.raises(CommandError, match="有1行未通过检查"):
        call_command("load_divisions", bad, "--as", "admin_user")
    assert "不在您的辖区内" in capsys.readouterr().out
    with pytest.raises(CommandError, match="没有用户名"):
        call_command("load_divisions", path, "--as", "nobody")


def test_excel_csv_with_bom_short_header_and_text_marks(divisions, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeff代码,名称\n'520521102000,凤山乡\n520521102001.0,凤山村\n\n说明：据2023年统计用区划代码\n".encode()
    )
    report = load(str(path))
    assert (report.rows_read, report.skipped, report.rejected, report.changed) == (2, 2, [], 2)
    assert report.columns == {"code": "代码", "name": "名称"}
