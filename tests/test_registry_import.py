"""The registry import (农户和家庭成员导入, issue #15 point 2): a county's household ledger made here as a
county keeps it — a merged title row, a two-row header (所属区划 merged over 乡镇/村), its own column
names (公民身份号码, 与户主的关系, 户类型), columns fpr does not keep (民族, 文化程度), full-width digits and
spaces in ID numbers, a 合计 footer; and a GBK CSV with every kind of problem. The dry run lists every
problem (row, column, reason), a refused file writes nothing, the import creates households and members
with history "导入：<file>", a re-import changes nothing, a later file updates what changed."""

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from fpr.roles import Level, Role
from households.models import (
    Division,
    Health,
    Household,
    LabourCapacity,
    Member,
    PovertyStatus,
    Relationship,
    Schooling,
    SensitiveAccess,
)
from households.services import household_create
from tests.builders import household_data, make_user, member_data, new_id_number
from workflow.models import ImportJob, ImportStatus
from workflow.onboarding.registry import registry_import

pytestmark = pytest.mark.django_db

FILE = "大方县农户台账.xlsx"
TOP = ["序号", "户编号", "姓名", "公民身份号码", "与户主的关系", "性别", "民族", "所属区划", None]
TOP += ["健康状况", "劳动技能", "文化程度", "联系电话", "家庭住址", "户类型"]
SUB = [None] * 7 + ["乡镇", "村"] + [None] * 6
H1, H2 = "522426000101", "522426000202"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


@pytest.fixture
def ids():
    return {
        "head1": new_id_number(male=True),
        "wife1": new_id_number(male=False),
        "son1": new_id_number(male=True),
        "head2": new_id_number(male=True),
        "daughter2": new_id_number(male=False),
    }


@pytest.fixture
def qianxi(divisions):
    """A neighbouring county, outside the 大方县 administrator's subtree."""
    for code, name, level, parent in [
        ("520522000000", "黔西县", Level.COUNTY, "520500000000"),
        ("520522100000", "金碧镇", Level.TOWNSHIP, "520522000000"),
        ("520522100001", "核屯村", Level.VILLAGE, "520522100000"),
    ]:
        Division.objects.create(code=code, name=name, level=level, parent_id=parent)


def ledger_rows(ids, *, phone1="13800001111", health_son="健康"):
    son = ids["son1"]
    return [
        [1, H1, "张大山", ids["head1"], "户主", "男", "汉族", "羊场镇", "光明村", "健康", "普通劳动力", "初中"]
        + [phone1, "光明村一组12号", "脱贫户"],
        [2, H1, "李秀英", full_width(ids["wife1"]), "配偶", "女", "彝族", "羊场镇", "光明村", "长期慢性病"]
        + ["弱劳动力", "小学", None, None, None],
        [3, H1, "张  小明", f"{son[:6]} {son[6:14]} {son[14:]}", "之子", "男", "汉族", "羊场镇", "光明村"]
        + [health_son, "普通劳动力", "高中", None, None, None],
        [4, H2, "王五", ids["head2"], "户主", "男", "苗族", "黄泥塘镇", "520521101001", "健康", "无劳动力", "文盲"]
        + ["139 0000 2222", "新华村三组", "一般农户"],
        [5, H2, "王小花", ids["daughter2"], "长女", "女", "苗族", "黄泥塘镇", "新华村", "健康", "普通劳动力"]
        + ["大专", None, None, None],
        [None] * 15,
        ["合计", "2户5人"] + [None] * 13,
    ]


def write_xlsx(path, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["大方县防返贫监测农户台账（2026年12月）"] + [None] * 14)
    sheet.append(TOP)
    sheet.append(SUB)
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:O1")
    sheet.merge_cells("H2:I2")
    for column in "ABCDEFGJKLMNO":
        sheet.merge_cells(f"{column}2:{column}3")
    workbook.save(path)
    return str(path)


def good_ledger(tmp_path, ids, name=FILE, **changes):
    return write_xlsx(tmp_path / name, ledger_rows(ids, **changes))


def problems(report):
    return [(p.row, p.column, p.reason) for p in report.problems]


def test_dry_run_then_import_then_reimport_is_a_no_op(tmp_path, administrator, ids):
    rows = ledger_rows(ids)
    rows[3][9] = "患有大病"  # 王五: a 大病 needs its illness name — a column this ledger lacks
    path = write_xlsx(tmp_path / FILE, rows)
    report = registry_import(actor=administrator, path=path, dry_run=True)
    assert report.refused
    assert problems(report) == [(7, "疾病名称", "患大病的成员须填写疾病名称")]

    path = good_ledger(tmp_path, ids)
    report = registry_import(actor=administrator, path=path, dry_run=True)
    assert not report.refused, problems(report)
    lines = "\n".join(report.lines())
    assert "试运行，未写入任何数据" in lines and "列名在第2-3行" in lines and "标题行1行" in lines
    assert "未使用的列：序号、民族、文化程度" in lines
    assert "将新增 2 户" in lines and "将新增 5 人" in lines and report.skipped == 2
    assert not Household.objects.exists()  # the dry run writes nothing

    report = registry_import(actor=administrator, path=path)
    assert report.written and not report.refused
    one, two = Household.objects.get(number=H1), Household.objects.get(number=H2)
    assert (one.village_id, one.address, one.phone, one.poverty_status) == (
        "520521100001",
        "光明村一组12号",
        "13800001111",
        PovertyStatus.LIFTED,
    )
    assert (two.village_id, two.phone, two.poverty_status) == ("520521101001", "13900002222", PovertyStatus.ORDINARY)
    wife = Member.objects.get(id_number=ids["wife1"])  # typed in full-width digits
    assert (wife.household, wife.relationship, wife.health, wife.labour_capacity) == (
        one,
        Relationship.SPOUSE,
        Health.CHRONIC,
        LabourCapacity.WEAK,
    )
    son = Member.objects.get(id_number=ids["son1"])  # pasted with spaces
    assert (son.name, son.relationship) == ("张小明", Relationship.SON)
    assert Member.objects.get(id_number=ids["daughter2"]).relationship == Relationship.DAUGHTER
    assert Member.objects.count() == 5
    record = one.history.get()
    assert (record.history_type, record.history_change_reason, record.history_user) == (
        "+",
        f"导入：{FILE}",
        administrator,
    )
    assert set(Member.history.values_list("history_change_reason", flat=True)) == {f"导入：{FILE}"}

    again = registry_import(actor=administrator, path=path)
    assert not again.refused and not again.written and not again.changed
    assert "与系统一致，未作修改" in again.lines()[0] and "未变 2 户" in "\n".join(again.lines())
    assert again.counts()["households_unchanged"] == 2
    assert (again.households_unchanged, again.members_unchanged) == (2, 5)
    assert Household.history.count() == 2 and Member.history.count() == 5


def test_a_later_file_updates_what_changed_and_records_history(tmp_path, administrator, ids):
    registry_import(actor=administrator, path=good_ledger(tmp_path, ids))
    household = Household.objects.get(number=H1)
    later = "大方县农户台账（2027年1月）.xlsx"
    rows = ledger_rows(ids, phone1="13800009999", health_son="长期慢性病")
    del rows[1]  # 李秀英 is not in the later file: she stays (the import never deletes)
    rows[2][7:9] = [None, None]  # 王五's household: no village on this file's rows (fpr has it)
    rows[3][7:9] = [None, None]
    report = registry_import(actor=administrator, path=write_xlsx(tmp_path / later, rows))
    assert report.written and not report.refused, problems(report)
    assert report.households_updated == [(H1, ["联系电话"])]
    assert report.members_updated == [(5, H1, ["健康状况"])]
    household.refresh_from_db()
    assert household.phone == "13800009999" and household.version == 2
    record = household.history.order_by("-history_date", "-history_id").first()
    assert (record.history_type, record.history_change_reason, record.phone) == ("~", f"导入：{later}", "13800009999")
    assert record.history_user == administrator
    son = Member.objects.get(id_number=ids["son1"])
    assert son.health == Health.CHRONIC
    assert son.history.order_by("-history_id").first().history_change_reason == f"导入：{later}"
    assert Member.objects.filter(id_number=ids["wife1"], household=household).exists()
    assert Member.objects.count() == 5


GBK_HEADER = "户码,姓名,身份证号码,关系,村,家庭住址,户类型,性别\r\n"


def test_a_refused_csv_lists_every_problem_and_writes_nothing(tmp_path, administrator, village_a, qianxi):
    existing = household_create(
        user=administrator, village=village_a, data=household_data(), members=[member_data("老户主")]
    )
    held = existing.members.get()
    good_head, good_wife = new_id_number(), new_id_number(male=False)
    twice = new_id_number()
    lines = [
        "大方县农户台账（导出）,,,,,,,",
        GBK_HEADER.strip(),
        f"H001,刘一,{good_head},户主,光明村,光明村二组,脱贫户,男",  # 3: good
        f"H001,陈二,{good_wife},妻子,光明村,,,女",  # 4: good
        "H002,赵三,5.22422E+17,户主,光明村,光明村三组,脱贫户,男",  # 5: Excel-mangled ID
        f"H002,赵四,{twice},之子,光明村,,,男",  # 6
        f"H003,孙五,{twice},户主,光明村,光明村四组,脱贫户,男",  # 7: the same person in H002 too
        f"H004,周六,{new_id_number()},之子,红岩村,红岩村一组,脱贫户,男",  # 8: no head in H004
        f"H005,吴七,{new_id_number()},户主,核屯村,核屯村一组,脱贫户,男",  # 9: a village of another county
        f"H006,郑八,{new_id_number()},户主,光明村,,脱贫户,男",  # 10: a new household without address
        f"{existing.number},钱九,{new_id_number()},户主,红岩村,红岩村二组,脱贫户,男",  # 11: 户编号 of 光明村
        f"H007,冯十,{held.id_number},户主,光明村,光明村五组,脱贫户,男",  # 12: already in another household
        f"H008,褚一,{new_id_number()},户主,光明村,光明村六组,脱贫户,女",  # 13: 性别 against the ID
        f"H009,卫二,{new_id_number()},户主,光明村,光明村七组,脱贫户,男",  # 14
        f"H009,卫三,{new_id_number()},户主,光明村,,,男",  # 15: a second head
        "合计,,,,,,,",
    ]
    path = tmp_path / "台账.csv"
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    report = registry_import(actor=administrator, path=str(path), dry_run=True)
    assert report.refused and report.encoding.lower().startswith("gb")
    found = problems(report)
    assert (5, "身份证号码", "身份证号被保存为数字，末几位已丢失；请把该列设为“文本”格式后重新导出") in found
    assert any(r == 7 and c == "身份证号码" and "第6行属于户编号 H002" in m for r, c, m in found)
    assert (8, "关系", "户编号 H004 没有户主：每户必须有且只有一位户主") in found
    assert (9, "村", "“核屯村”不在您的辖区内") in found
    assert (10, "家庭住址", "新登记的农户（户编号 H006）须填写家庭住址") in found
    assert any(r == 11 and c == "户码" and "在系统中属于光明村" in m for r, c, m in found)
    assert any(r == 12 and c == "身份证号码" and f"户编号 {existing.number}" in m for r, c, m in found)
    assert any(r == 13 and c == "性别" and "与身份证号" in m for r, c, m in found)
    assert any(r == 14 and "有2位户主" in m for r, c, m in found)
    assert not [p for p in found if p[0] in (3, 4)]
    text = "\n".join(report.lines())
    assert "已拒绝" in text and "第5行 “身份证号码”" in text and "通过检查的行：" in text

    before = (Household.objects.count(), Member.objects.count(), Member.history.count())
    report = registry_import(actor=administrator, path=str(path))
    assert report.refused and not report.written
    assert (Household.objects.count(), Member.objects.count(), Member.history.count()) == before
    assert not Household.objects.filter(number="H001").exists()  # the good rows are not written either


def test_an_excel_number_in_an_xlsx_id_cell_is_refused_with_the_hint(tmp_path, administrator, ids):
    rows = ledger_rows(ids)
    rows[3][3] = 5.22422e17  # 王五's ID typed into a number cell
    report = registry_import(actor=administrator, path=write_xlsx(tmp_path / FILE, rows))
    assert report.refused and not Household.objects.exists()
    assert (7, "公民身份号码", "身份证号被保存为数字，末几位已丢失；请把该列设为“文本”格式后重新导出") in problems(
        report
    )


def test_only_an_administrator_imports(tmp_path, cadre_a, ids):
    with pytest.raises(PermissionDenied):
        registry_import(actor=cadre_a, path=good_ledger(tmp_path, ids), dry_run=True)


def test_the_command(tmp_path, administrator, ids, capsys):
    path = good_ledger(tmp_path, ids)
    call_command("import_registry", path, "--as", administrator.username, "--dry-run")
    assert "试运行" in capsys.readouterr().out and not Household.objects.exists()
    call_command("import_registry", path, "--as", administrator.username)
    assert "已导入" in capsys.readouterr().out and Household.objects.count() == 2
    bad = ledger_rows(ids)
    bad[0][4] = "配偶"  # H1 without its head
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_registry", write_xlsx(tmp_path / "bad.xlsx", bad), "--as", administrator.username)


def test_through_the_import_page(client, administrator, ids, tmp_path, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client.force_login(administrator)
    text = GBK_HEADER + f"H100,刘一,{ids['head1']},户主,光明村,光明村二组,脱贫户,男\r\n"
    text += f"H100,陈二,{ids['wife1']},配偶,光明村,,,女\r\n"
    file = SimpleUploadedFile("农户台账.csv", text.encode("gbk"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:list"), {"kind": "registry", "file": file})
    job = ImportJob.objects.get()
    assert job.kind == "registry" and job.status == ImportStatus.CHECKED, job.check_report
    assert not Household.objects.exists()
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "将新增 1 户" in page and "确认导入" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error
    household = Household.objects.get(number="H100")
    assert household.members.count() == 2
    assert household.history.get().history_change_reason == "导入：农户台账.csv"


def test_the_ledgers_wordings_and_a_person_of_another_county(tmp_path, administrator, qianxi):

    outsider = make_user("qianxi_admin", Division.objects.get(code="520522000000"), Role.ADMINISTRATOR)
    theirs = household_create(
        user=outsider,
        village=Division.objects.get(code="520522100001"),
        data=household_data(),
        members=[member_data("黔西人")],
    )
    their_number = theirs.members.get().id_number
    head, son, daughter = new_id_number(), new_id_number(), new_id_number(male=False)
    header = "户编号,姓名,证件号码,与户主关系,乡镇,村,健康状况,疾病名称,残疾类别,残疾等级,劳动能力,在校生情况"
    header += ",家庭住址,户属性,脱贫年份"
    rows = [
        f"J1,甲,{head.lower()},户主本人,羊场镇,光明村,患有大病,尿毒症,,,弱劳动力或半劳动力,否,光明村八组,已脱贫户,2019年",
        f"J1,乙,{son},长子,羊场镇,光明村,残疾,,肢体,二级,丧失劳动力,初中,,,",
        f"J1,丙,{daughter},之女,羊场镇,光明村,健康,,,,普通劳动力,学龄前儿童,,,",
    ]
    path = tmp_path / "台账.csv"
    path.write_text("\n".join([header, *rows]), encoding="utf-8-sig")
    report = registry_import(actor=administrator, path=str(path))
    assert report.written, problems(report)
    household = Household.objects.get(number="J1")
    assert (household.poverty_status, household.poverty_exit_year) == (PovertyStatus.LIFTED, 2019)
    first = Member.objects.get(id_number=head)
    assert (first.health, first.illness, first.labour_capacity, first.schooling) == (
        Health.SERIOUS,
        "尿毒症",
        LabourCapacity.WEAK,
        Schooling.NONE,
    )
    second = Member.objects.get(id_number=son)
    assert (second.relationship, second.health, second.disability_category, second.disability_grade) == (
        Relationship.SON,
        Health.DISABLED,
        4,
        2,
    )
    assert second.schooling == Schooling.COMPULSORY and second.labour_capacity == LabourCapacity.LOST
    third = Member.objects.get(id_number=daughter)
    assert (third.relationship, third.schooling) == (Relationship.DAUGHTER, Schooling.PRESCHOOL)

    # A person registered in another county: refused without naming the household, and recorded for it.
    path.write_text("\n".join([header, f"J2,丁,{their_number},户主,羊场镇,光明村,,,,,,,光明村九组,一般户,"]))
    report = registry_import(actor=administrator, path=str(path), dry_run=True)
    assert problems(report) == [(2, "证件号码", "该身份证号已在其他辖区登记，请联系县级管理员核实")]
    record = SensitiveAccess.objects.get(user=administrator)
    assert record.household == theirs and record.via == "重复身份证号"
