"""Users in bulk (用户批量导入, issue #15 point 4): a county office's cadre list made here as it keeps it — a
merged title row, a two-row header (所属区划 merged over 乡镇/村, 姓名 merged down), its own column names
(联系电话, 部门), full-width digits and pasted spaces, a 部门数据专员 row, a 合计 footer — imported by the
county administrator through households.accounts' rules: the dry run lists every problem (row, column,
reason), a refused file writes nothing, the import creates the accounts with a printable list of initial
passwords per division and the must-change flag, re-importing creates nothing; a created cadre logs in,
is sent to change the password, and then reaches the home page."""

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from fpr.roles import Department, Level, Role
from households.models import Division, User
from tests.builders import make_user
from workflow.onboarding.users import users_import

pytestmark = pytest.mark.django_db

FILE = "大方县帮扶干部花名册.xlsx"
NEW_PASSWORD = "Guangming-2026-own"
HEADER_TOP = ["序号", "姓名", "所属区划", None, "联系电话", "角色", "部门", "备注"]
HEADER_SUB = [None, None, "乡镇", "村", None, None, None, None]
# The county's list, good: village cadres (one name padded with spaces, one phone in full-width
# digits, one pasted with spaces), a township reviewer (乡镇 only), a 医保 data officer at the county,
# a cadre of the other township, and a 合计 footer.
GOOD_ROWS = [
    [1, "张  三", "羊场镇", "光明村", "１３８００００１００１", "村级干部", None, "村支书"],
    [2, "李四", "羊场镇", "红岩村", " 138 0000 1002 ", "村干部", None, None],
    [3, "赵五", "羊场镇", None, 13800001003, "镇街审核员", None, None],
    [4, "周六", None, "大方县", "13800001004", "部门数据专员", "大方县医疗保障局", None],
    [5, "吴七", "黄泥塘镇", "新华村", "138-0000-1005", "村级干部", None, None],
    [6, "郑八", "羊场镇", "光明村", "13800001006", "村级干部", None, None],
    [None, None, None, None, None, None, None, None],
    ["合计", "6人", None, None, None, None, None, None],
]


@pytest.fixture
def qianxi(divisions):
    """A neighbouring county, outside the 大方县 administrator's subtree."""
    for code, name, level, parent in [
        ("520522000000", "黔西县", Level.COUNTY, "520500000000"),
        ("520522100000", "金碧镇", Level.TOWNSHIP, "520522000000"),
        ("520522100001", "核屯村", Level.VILLAGE, "520522100000"),
    ]:
        Division.objects.create(code=code, name=name, level=level, parent_id=parent)


def write_xlsx(path, rows, *, title="大方县防返贫监测帮扶干部花名册（2026年12月）"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([title] + [None] * 7)
    sheet.append(HEADER_TOP)
    sheet.append(HEADER_SUB)
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:H1")
    sheet.merge_cells("C2:D2")
    for letter in "ABEFGH":
        sheet.merge_cells(f"{letter}2:{letter}3")
    workbook.save(path)
    return str(path)


def problems_of(report):
    return [(p.row, p.column, p.reason) for p in report.problems]


def test_the_dry_run_reads_the_county_list_and_writes_nothing(administrator, tmp_path):
    path = write_xlsx(tmp_path / FILE, GOOD_ROWS)
    before = User.objects.count()

    report = users_import(actor=administrator, path=path, dry_run=True)

    assert report.problems == [] and not report.written and report.accounts == []
    assert (report.header_row, report.header_rows, report.title_rows) == (3, 2, 1)
    assert report.columns["township"] == "所属区划/乡镇" and report.columns["division"] == "所属区划/村"
    assert report.columns_ignored == ["序号", "备注"]
    assert (report.rows_read, report.skipped) == (6, 2)  # the blank row and the 合计 footer
    new = {r.row: r for r in report.new}
    assert [(r.full_name, r.phone, r.division.code, r.roles, r.username) for r in new.values()] == [
        ("张三", "13800001001", "520521100001", [Role.VILLAGE_CADRE], "c520521100001-01"),
        ("李四", "13800001002", "520521100002", [Role.VILLAGE_CADRE], "c520521100002-01"),
        ("赵五", "13800001003", "520521100000", [Role.TOWNSHIP_REVIEWER], "c520521100-01"),
        ("周六", "13800001004", "520521000000", [Role.DEPARTMENT_OFFICER], "c520521-01"),
        ("吴七", "13800001005", "520521101001", [Role.VILLAGE_CADRE], "c520521101001-01"),
        ("郑八", "13800001006", "520521100001", [Role.VILLAGE_CADRE], "c520521100001-02"),
    ]
    assert new[7].department == Department.MEDICAL_INSURANCE and all(r.generated for r in new.values())
    text = "\n".join(report.lines())
    assert "试运行，未写入任何数据" in text and "将新建账号 6 个" in text and "列名在第2-3行" in text
    assert "138****1001" in text and "13800001001" not in text
    assert User.objects.count() == before


def test_the_import_creates_the_accounts_once_and_a_reimport_creates_nothing(administrator, tmp_path):
    path = write_xlsx(tmp_path / FILE, GOOD_ROWS)

    report = users_import(actor=administrator, path=path)

    assert report.written and report.created == 6 and report.problems == []
    by_username = {a.username: a for a in report.accounts}
    cadre = User.objects.get(username="c520521100001-01")
    assert cadre.full_name == "张三" and cadre.phone == "13800001001" and cadre.division_id == "520521100001"
    assert cadre.roles == {Role.VILLAGE_CADRE} and cadre.must_change_password
    assert not cadre.is_staff and not cadre.is_superuser and cadre.is_active
    assert cadre.check_password(by_username[cadre.username].password)
    assert by_username[cadre.username].password not in cadre.password  # only the hash is stored
    officer = User.objects.get(phone="13800001004")
    assert officer.department == Department.MEDICAL_INSURANCE and officer.roles == {Role.DEPARTMENT_OFFICER}
    history = cadre.history.get()
    assert history.history_change_reason.startswith(f"批量导入：{FILE}；新建账号；角色：无 → 村级干部")
    assert history.history_user_id == administrator.pk
    assert "password" not in {f.name for f in User.history.model._meta.fields}
    sheets = report.by_division()
    assert [key for key in sheets] == [
        ("520521000000", "大方县"),
        ("520521100000", "羊场镇"),
        ("520521100001", "光明村"),
        ("520521100002", "红岩村"),
        ("520521101001", "新华村"),
    ]
    assert [a.full_name for a in sheets[("520521100001", "光明村")]] == ["张三", "郑八"]
    assert all(a.password not in "\n".join(report.lines()) for a in report.accounts)

    users, histories = User.objects.count(), User.history.count()
    again = users_import(actor=administrator, path=path)
    assert not again.written and again.created == 0 and again.problems == [] and again.new == []
    assert [(r.row, r.existing) for r in again.existing] == [
        (4, "c520521100001-01"),
        (5, "c520521100002-01"),
        (6, "c520521100-01"),
        (7, "c520521-01"),
        (8, "c520521101001-01"),
        (9, "c520521100001-02"),
    ]
    assert "与系统一致，无需新建" in "\n".join(again.lines())
    assert (User.objects.count(), User.history.count()) == (users, histories)


def test_every_problem_is_listed_with_row_and_column_and_nothing_is_written(administrator, cadre_b, qianxi, tmp_path):
    rows = [
        [1, "张三", "羊场镇", "光明村", "13800001001", "村级干部", None, None],  # fine on its own
        [2, "钱一", "金碧镇", "核屯村", "13800001011", "村级干部", None, None],  # another county
        [3, "孙二", "羊场镇", None, "13800001012", "村级干部", None, None],  # a village role at a township
        [4, "李三", "羊场镇", "红岩村", "1380000101", "村级干部", None, None],  # 10 digits
        [5, "周四", "羊场镇", "光明村", "１３８００００１００１", "村级干部", None, None],  # row 4's phone
        [6, "吴五", None, "大方县", "13800001014", "部门数据专员", None, None],  # no department
        [7, "郑六", None, "大方县", "13800001015", "系统管理员", None, None],  # a peer administrator
        [8, "王七", "羊场镇", "光明村", "13800001016", "村长", None, None],  # no such role
        [9, "冯八", "羊场镇", "太平村", "13800001017", "村级干部", None, None],  # no such village
        [10, "陈九", "羊场镇", "光明村", "13800009999", "村级干部", None, None],  # cadre_b's phone
        [11, "", "羊场镇", "光明村", "13800001019", "", None, None],  # no name, no role
    ]
    User.objects.filter(pk=cadre_b.pk).update(phone="13800009999")
    path = write_xlsx(tmp_path / FILE, rows)
    users, histories = User.objects.count(), User.history.count()

    report = users_import(actor=administrator, path=path)

    assert report.refused and not report.written and report.accounts == [] and report.created == 0
    assert problems_of(report) == [
        (5, "所属区划/乡镇", "“金碧镇”不在您的辖区内"),
        (6, "角色", "村级干部只能设在村级区划，羊场镇是乡镇级"),
        (7, "联系电话", "手机号应为11位数字，当前为10位（“1380000101”）"),
        (8, "联系电话", "与第4行的手机号相同：一个人只开一个账号，多个角色请写在同一行"),
        (9, "部门", "部门数据专员须填写所属部门（" + "、".join(Department.labels) + "）"),
        (10, "角色", "不能在大方县设系统管理员：只能为大方县的下级区划设系统管理员"),
        (11, "角色", "没有这个角色：“村长”（可填：" + "、".join(Role.labels) + "）"),
        (12, "所属区划/村", "所填乡镇内没有“太平村”"),
        (13, "联系电话", "该手机号已是另一个账号的手机号（红岩村的账号 cadre_b）：一个人只开一个账号"),
        (14, "姓名", "姓名为空"),
        (14, "角色", "角色为空"),
    ]
    assert report.rejected_rows == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert [r.row for r in report.new] == [4]  # planned, not written
    assert (User.objects.count(), User.history.count()) == (users, histories)
    assert "已拒绝：10行未通过检查，未写入任何数据" in "\n".join(report.lines())


def test_existing_accounts_phones_and_usernames(administrator, cadre_a, cadre_b, tmp_path):
    """A person already there (same phone, same division) is 已存在 and left alone, even as the
    administrator lists themself; a username of another account refuses the row."""
    User.objects.filter(pk=cadre_a.pk).update(phone="13800002001")
    User.objects.filter(pk=administrator.pk).update(phone="13800002000")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "手机号码", "所属区划", "角色", "用户名"])
    sheet.append(["王村干", "13800002001", "520521100001", "村级干部", None])
    sheet.append(["孙管理", "13800002000", "大方县", "系统管理员", None])  # the importer, as listed
    sheet.append(["新人", "13800002002", "光明村", "村级干部", "cadre_b"])  # another's username
    sheet.append(["新人二", "13800002003", "光明村", "村级干部", "Guangming.li"])
    path = tmp_path / "users.xlsx"
    workbook.save(path)

    report = users_import(actor=administrator, path=str(path), dry_run=True)

    assert [(r.row, r.status, r.existing) for r in report.rows] == [
        (2, "exists", "cadre_a"),
        (3, "exists", "admin_user"),
        (4, "refused", ""),
        (5, "new", ""),
    ]
    assert problems_of(report) == [(4, "用户名", "该用户名已被使用")]
    assert report.rows[3].username == "Guangming.li" and not report.rows[3].generated


def test_only_an_administrator_imports_and_only_inside_the_subtree(cadre_a, divisions, tmp_path):
    path = write_xlsx(tmp_path / FILE, GOOD_ROWS)
    with pytest.raises(PermissionDenied):
        users_import(actor=cadre_a, path=path, dry_run=True)
    township_admin = make_user("yc_admin", divisions["520521100000"], Role.ADMINISTRATOR)
    report = users_import(actor=township_admin, path=path, dry_run=True)
    assert [(p.row, p.column) for p in report.problems] == [(7, "所属区划/村"), (8, "所属区划/乡镇")]
    assert report.problems[0].reason == "“大方县”不在您的辖区内"


def test_a_csv_pasted_with_tabs_and_full_width_digits(administrator, tmp_path):
    lines = [
        "大方县村干部名单",
        "姓名\t联系电话\t所属村\t角色",
        "马  一\t＋86 １３８００００３００１\t光明村村民委员会\t村级干部",
        "马二\t13800003002\t５２０５２１１００００２\t村级干部、系统管理员",
        "马三\t13800003003\t黄泥塘镇 新华村\t村干部",
    ]
    path = tmp_path / "名单.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))

    report = users_import(actor=administrator, path=str(path), dry_run=True)

    assert report.problems == [] and report.encoding in {"gbk", "gb18030"}
    assert [(r.full_name, r.phone, r.division.code, r.roles) for r in report.new] == [
        ("马一", "13800003001", "520521100001", [Role.VILLAGE_CADRE]),
        ("马二", "13800003002", "520521100002", [Role.VILLAGE_CADRE, Role.ADMINISTRATOR]),
        ("马三", "13800003003", "520521101001", [Role.VILLAGE_CADRE]),
    ]


def test_the_command_writes_one_password_list_per_division_and_prints_no_password(administrator, tmp_path):
    path = write_xlsx(tmp_path / FILE, GOOD_ROWS)
    out_dir = tmp_path / "passwords"
    with pytest.raises(CommandError, match="--passwords-out"):
        call_command("import_users", path, "--as", "admin_user")
    call_command("import_users", path, "--as", "admin_user", "--dry-run")
    assert not User.objects.filter(username__startswith="c5205").exists() and not out_dir.exists()

    from io import StringIO

    stdout = StringIO()
    call_command("import_users", path, "--as", "admin_user", "--passwords-out", str(out_dir), stdout=stdout)

    files = sorted(p.name for p in out_dir.iterdir())
    assert files == [
        "520521000000-大方县-初始密码.xlsx",
        "520521100000-羊场镇-初始密码.xlsx",
        "520521100001-光明村-初始密码.xlsx",
        "520521100002-红岩村-初始密码.xlsx",
        "520521101001-新华村-初始密码.xlsx",
    ]
    assert (out_dir / files[2]).stat().st_mode & 0o077 == 0  # the owner's only
    sheet = openpyxl.load_workbook(out_dir / files[2]).active
    assert sheet["A1"].value == "光明村（520521100001）新账号初始密码"
    assert [c.value for c in sheet[3]] == ["序号", "姓名", "手机号", "角色", "用户名", "初始密码", "签收"]
    listed = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert [(r[1], r[4]) for r in listed] == [("张三", "c520521100001-01"), ("郑八", "c520521100001-02")]
    for row in listed:
        assert User.objects.get(username=row[4]).check_password(row[5])
        assert row[5] not in stdout.getvalue()
    assert "已新建 6 个账号" in stdout.getvalue()

    with pytest.raises(CommandError, match="没有用户名"):
        call_command("import_users", path, "--as", "nobody", "--dry-run")


def test_a_created_cadre_must_change_the_password_before_anything_else(administrator, tmp_path):
    path = write_xlsx(tmp_path / FILE, GOOD_ROWS)
    account = next(a for a in users_import(actor=administrator, path=path).accounts if a.full_name == "张三")
    change = reverse("accounts:password_change")

    client = Client()
    login = client.post(reverse("login"), {"username": account.username, "password": account.password})
    assert login.status_code == 302
    home = client.get(login["Location"], follow=True)
    assert home.redirect_chain[-1][0] == change and "首次登录请先修改初始密码" in home.content.decode()
    for url in (reverse("home"), reverse("inbox"), reverse("accounts:tokens"), "/households/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == change, url
    assert client.post(reverse("accounts:tokens")).status_code == 302  # no API token either
    api = client.get("/api/v1/households/")
    assert api.status_code == 403 and "修改初始密码" in api.json()["detail"]

    done = client.post(
        change, {"old_password": account.password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_change_done")
    assert client.get(done["Location"]).status_code == 200
    user = User.objects.get(username=account.username)
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)
    assert user.history.latest().history_change_reason == "本人修改密码"
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/households/").status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_the_flag_lets_logout_through_and_leaves_other_accounts_alone(cadre_a, village_a):
    forced = make_user("forced", village_a, Role.VILLAGE_CADRE, must_change_password=True)
    client = Client()
    client.force_login(forced)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302  # signed out: the login page
    other = Client()
    other.force_login(cadre_a)
    assert other.get(reverse("home")).status_code == 200


def test_a_village_name_two_townships_share_needs_its_township_or_code(administrator, divisions, tmp_path):
    Division.objects.create(code="520521101002", name="光明村", level=Level.VILLAGE, parent_id="520521101000")
    path = tmp_path / "名单.csv"
    lines = [
        "姓名,手机号,乡镇,村,角色",
        "甲,13800004001,,光明村,村级干部",
        "乙,13800004002,黄泥塘镇,光明村,村级干部",
        "丙,13800004003,,520521100001,村级干部",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    report = users_import(actor=administrator, path=str(path), dry_run=True)

    assert problems_of(report) == [
        (
            2,
            "村",
            "辖区内有2个区划叫“光明村”：光明村（520521100001）、光明村（520521101002）；请填写12位区划代码或所属乡镇",
        )
    ]
    assert [(r.row, r.division.code) for r in report.new] == [(3, "520521101002"), (4, "520521100001")]
