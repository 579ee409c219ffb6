"""Users in bulk (用户批量导入, issue #15 point 4): the county office's list of cadres — 姓名, 手机号, 所属区划,
角色, 部门 — made into accounts of the importer's subtree, each through households.accounts.user_create (the
one door for accounts: its scoping and role rules apply unchanged).

Files accepted: an XLSX (first sheet) or a CSV/TXT (comma- or tab-separated; UTF-8 with or without BOM,
GBK, GB18030), as a county keeps it: title rows above the header, a two-row header (a group header
merged over sub-headers, `所属区划` over `乡镇`/`村`, with `姓名` merged down the two rows), the office's own
column names (aliases below), columns that are no fpr field (序号, 职务, 备注: ignored), blank and
numbered-but-empty rows, a `合计`/`制表人` footer. Cells are read as typed or pasted: full-width digits
and letters folded, spaces (also inside a name written `张  三`) and dashes removed.

The rules:

- Who: an active system administrator (系统管理员, with a division) — households.accounts' rule — and only
  for divisions inside their own subtree. The roles a row may have at its division are
  `accounts.roles_grantable` (each role only at its levels; a 系统管理员 only strictly below the
  importer's division); a 部门数据专员 row needs its 部门. Accounts are never superuser or staff.
- The division: a 12-digit 统计用区划代码, or a name looked up inside the importer's subtree (`光明村`,
  also `光明村村民委员会`/`光明村委会` and the like, or `羊场镇光明村` in one cell); a name that several
  divisions carry is refused unless a 乡镇 column says which, or the name is exact for exactly one. A
  乡镇 cell with an empty 村 cell makes a township-level account.
- The phone: 11 digits starting with 1 (+86 dropped). One account per person: a phone is the key.
- Existing accounts — re-importing a file creates nothing: a row whose phone (or, when the phone is new,
  whose 用户名) is an account of the same division that the importer manages is reported "已存在" and
  left as it is (differences in name or roles are noted, to be changed on the user pages). A phone or a
  用户名 held by an account anywhere else refuses the row; so does a phone or 用户名 twice in the file
  (the later row, naming the first).
- Usernames, when the 用户名 cell is empty: `c` + the division's significant code (村 12 digits, 乡镇 9,
  县 6, 市 4, 省 2) + `-` + a two-digit sequence, the first free one in file order (`c520521100001-01`,
  `c520521100001-02`, …; a username already taken, in the database or the file, is skipped).
- Initial passwords: 12 characters from `secrets` (upper- and lower-case letters and digits, none of
  the look-alikes 0/O/1/l/I), passing the project's validators; only their hash is stored; they are
  returned once in the report (never in its lines, never logged) for the printable list per division
  (`password_sheet`); the account is marked `must_change_password`, so its owner can only change the
  password at the first login (fpr.middleware.PasswordChangeRequiredMiddleware).
- History: each new account's history row has the reason "批量导入：<file name>；新建账号；角色：…".
- All or nothing: every row is checked (row, column, the reason in Chinese) before anything is
  written; a dry run stops there; a real import creates every new account in one transaction, and none
  when any row is refused.
"""

import itertools
import re
import secrets
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from fpr.errors import ApplicationError
from fpr.roles import ROLE_LEVELS, Department, Level, Role
from households import accounts
from households.models import Division, User
from monitoring.screening import comparison, tables
from monitoring.screening.comparison import FileProblem
from monitoring.screening.departments import Column, GradeRule, Source
from workflow.onboarding.divisions import _split_tabs, division_code_problem, normal_code
from workflow.onboarding.report import Problem, file_line, state_line

__all__ = ["FileProblem", "NewAccount", "UserImportReport", "password_sheet", "users_import"]

MAX_ROWS = 20_000  # a province has some 30,000 villages; a county's list is a few hundred rows
NAME_MAX = User._meta.get_field("full_name").max_length
USERNAME_MAX = User._meta.get_field("username").max_length
PASSWORD_LENGTH = 12
PASSWORD_ALPHABETS = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789")

NAME = Column("full_name", "姓名", required=True, aliases=("名字", "干部姓名", "人员姓名", "用户姓名", "真实姓名"))
PHONE = Column(
    "phone",
    "手机号",
    required=True,
    aliases=("手机号码", "手机", "联系电话", "电话", "电话号码", "联系方式", "移动电话", "手机号（登录用）"),
)
DIVISION = Column(
    "division",
    "所属区划",
    required=True,
    aliases=(
        "所属村",
        "所属村（社区）",
        "村（社区）",
        "村",
        "村名",
        "行政村",
        "所在村",
        "所属村/乡镇",
        "所属村或乡镇",
        "所属单位",
        "工作单位",
        "区划",
        "区划名称",
        "区划代码",
        "所属区划代码",
        "统计用区划代码",
    ),
)
TOWNSHIP = Column("township", "乡镇", aliases=("所属乡镇", "乡镇（街道）", "乡（镇）", "镇街", "乡镇街道", "镇（乡）"))
ROLE = Column("roles", "角色", required=True, aliases=("用户角色", "账号角色", "系统角色", "岗位角色", "权限"))
DEPARTMENT = Column("department", "部门", aliases=("所属部门", "行业部门", "部门名称"))
USERNAME = Column("username", "用户名", aliases=("登录名", "账号", "登录账号", "用户账号", "账户"))
SOURCE = Source(
    department="",
    kind="user_list",
    kind_label="干部名单",
    description="县里的干部花名册：姓名、手机号、所属区划、角色、部门",
    columns=(NAME, PHONE, DIVISION, TOWNSHIP, ROLE, DEPARTMENT, USERNAME),
    grade=GradeRule(default=""),
)

# Role spellings (normalised: full-width folded, no spaces) → role code.
ROLE_WORDS = {
    **{tables.normal_value(label): code for code, label in Role.choices},
    **{code: code for code in Role.values},
    "村干部": Role.VILLAGE_CADRE,
    "村干": Role.VILLAGE_CADRE,
    "村级": Role.VILLAGE_CADRE,
    "村级信息员": Role.VILLAGE_CADRE,
    "乡镇审核员": Role.TOWNSHIP_REVIEWER,
    "镇审核员": Role.TOWNSHIP_REVIEWER,
    "街道审核员": Role.TOWNSHIP_REVIEWER,
    "镇街审核": Role.TOWNSHIP_REVIEWER,
    "县审定员": Role.COUNTY_REVIEWER,
    "县级审定": Role.COUNTY_REVIEWER,
    "部门专员": Role.DEPARTMENT_OFFICER,
    "数据专员": Role.DEPARTMENT_OFFICER,
    "管理员": Role.ADMINISTRATOR,
}
_ROLE_SPLIT = re.compile(r"[、,，;；/|＋+和及]+")
# Department spellings: a cell ending with one of these (longest first: `大方县医疗保障局`) names it.
DEPARTMENT_WORDS = {
    **{label: code for code, label in Department.choices},
    "民政局": Department.CIVIL_AFFAIRS,
    "医保局": Department.MEDICAL_INSURANCE,
    "医疗保障局": Department.MEDICAL_INSURANCE,
    "卫健局": Department.HEALTH,
    "卫健委": Department.HEALTH,
    "卫生健康局": Department.HEALTH,
    "卫生健康委员会": Department.HEALTH,
    "残疾人联合会": Department.DISABLED_FEDERATION,
    "住建局": Department.HOUSING,
    "住房和城乡建设局": Department.HOUSING,
    "教育局": Department.EDUCATION,
    "教体局": Department.EDUCATION,
    "教育和体育局": Department.EDUCATION,
    "人社局": Department.HUMAN_RESOURCES,
    "人力资源和社会保障局": Department.HUMAN_RESOURCES,
    "应急局": Department.EMERGENCY,
    "应急管理局": Department.EMERGENCY,
    "水利局": Department.WATER,
    "水务局": Department.WATER,
    "公安局": Department.PUBLIC_SECURITY,
    "车管所": Department.VEHICLES,
    "不动产登记中心": Department.REAL_ESTATE,
    "市场监管局": Department.MARKET_REGULATION,
    "市场监督管理局": Department.MARKET_REGULATION,
    "财政局": Department.FINANCE,
}
_DEPARTMENT_ENDINGS = sorted(DEPARTMENT_WORDS, key=len, reverse=True)
# A division's official name and the shorter forms a list writes (光明村村民委员会 → 光明村).
_NAME_SUFFIXES = (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", ""), ("居委会", ""), ("办事处", ""))
_SPACES = re.compile(r"[\s\u3000]+")
_CJK_NAME = re.compile(r"^[\u3400-\u9fff·•\s\u3000]+$")
_PHONE_DROP = re.compile(r"[\s\-\u2010-\u2015\u2212()（）'‘’`\u00ad\u200b-\u200f\u2060\ufeff]+")
_PHONE = re.compile(r"^1\d{10}$")


# --------------------------------------------------------------------------- the report


@dataclass
class RowPlan:
    row: int
    full_name: str = ""
    phone: str = ""
    division: Division | None = None
    roles: list[str] = field(default_factory=list)
    department: str = ""
    username: str = ""
    generated: bool = False  # the username was made by the rule
    status: str = ""  # "new", "exists", "refused"
    existing: str = ""  # the existing account's username
    note: str = ""
    # The role and department problems of a row that is otherwise right: they refuse a new account
    # only (an existing one is left as it is: the county administrator listed in their own list).
    pending: list[Problem] = field(default_factory=list, repr=False)

    @property
    def role_labels(self) -> str:
        return "、".join(Role(code).label for code in self.roles)


@dataclass
class NewAccount:
    """An account created, with its initial password: for the printable list, once."""

    row: int
    username: str
    full_name: str
    phone: str
    division_code: str
    division_name: str
    roles: str
    department: str
    password: str = field(repr=False)


def masked_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else phone


@dataclass
class UserImportReport:
    file_name: str
    dry_run: bool
    file_format: str = ""
    encoding: str = ""
    header_row: int = 0  # the (last) header row, 1-based
    header_rows: int = 1
    columns: dict[str, str] = field(default_factory=dict)  # key → the file's column name
    columns_ignored: list[str] = field(default_factory=list)
    title_rows: int = 0
    rows_read: int = 0
    skipped: int = 0
    rows: list[RowPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    accounts: list[NewAccount] = field(default_factory=list, repr=False)  # the passwords: shown once

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    @property
    def new(self) -> list[RowPlan]:
        return [r for r in self.rows if r.status == "new"]

    @property
    def existing(self) -> list[RowPlan]:
        return [r for r in self.rows if r.status == "exists"]

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    @property
    def created(self) -> int:
        return len(self.accounts) if self.written else 0

    def by_division(self) -> dict[tuple[str, str], list[NewAccount]]:
        """The created accounts (with their passwords) per division, for one printable list each."""
        sheets: dict[tuple[str, str], list[NewAccount]] = {}
        for account in sorted(self.accounts, key=lambda a: (a.division_code, a.row)):
            sheets.setdefault((account.division_code, account.division_name), []).append(account)
        return sheets

    def lines(self) -> list[str]:
        """The report in Chinese, as the command prints it: never a password."""
        out = [
            state_line(
                "用户批量导入",
                self.file_name,
                refused_rows=(len(self.rejected_rows) or 1) if self.refused else 0,
                dry_run=self.dry_run,
                written=self.written,
                same="与系统一致，无需新建",
            ),
            file_line(self),
        ]
        out.append(f"读取数据行 {self.rows_read} 行；跳过空行及合计、说明行 {self.skipped} 行")
        will = "" if self.written else "将"
        out.append(f"{will}新建账号 {len(self.new)} 个")
        for r in self.new:
            made = "（按规则生成）" if r.generated else ""
            department = f"（{Department(r.department).label}）" if r.department else ""
            out.append(
                f"  第{r.row}行 {r.full_name} {masked_phone(r.phone)} {r.division.name}（{r.division.code}）"
                f" {r.role_labels}{department} 用户名 {r.username}{made}"
            )
        out.append(f"已存在 {len(self.existing)} 个（未修改）")
        for r in self.existing:
            note = f"；{r.note}" if r.note else ""
            out.append(f"  第{r.row}行 {r.full_name} {masked_phone(r.phone)}：已有账号 {r.existing}{note}")
        out.append(f"拒绝 {len(self.rejected_rows)} 行（问题 {len(self.problems)} 个）")
        out += [f"  第{p.row}行 “{p.column}”：{p.reason}" for p in self.problems]
        if self.written:
            out.append(f"已新建 {self.created} 个账号；初始密码只在本次给出，首次登录须修改")
        return out


# --------------------------------------------------------------------------- reading the file


@dataclass
class _Table:
    file_format: str
    encoding: str
    header_index: int
    header_rows: int
    names: list[str]
    mapping: dict[str, int]
    title_rows: int
    rows: Iterator[tuple[int, Sequence]]


def _detect(head: list[Sequence]) -> tuple[int, int, list[str], dict[str, int]] | None:
    """(header index, header rows, names, mapping): the first row, or pair of rows — a group header
    over sub-headers, the 姓名 cell merged down (so empty in the second row) — naming every required
    column. As tables.detect_header, whose two-row test looks for an ID-number column, which this list
    does not have."""
    lookup = tables.alias_lookup(SOURCE)
    required = {c.key for c in SOURCE.required_columns}
    texts = tables.header_texts(head)
    for i, cells in enumerate(texts):
        if not any(cells):
            continue
        single = tables.column_positions(SOURCE, cells, lookup)
        if i + 1 < len(texts):
            below = texts[i + 1]
            joined = tables.join_header_rows(cells, below)
            both = tables.column_positions(SOURCE, joined, lookup)
            name_at = both.get("full_name")
            if (
                required <= both.keys()
                and len(both) > len(single)
                and name_at is not None
                and not (below[name_at] if name_at < len(below) else "")
            ):
                return i + 1, 2, joined, both
        if required <= single.keys():
            return i, 1, cells, single
    return None


def _open(path: str, name: str) -> _Table:
    file_format, encoding, first, rest = comparison.read_rows(path, name)
    if file_format == "csv":
        first, rest = _split_tabs(first), map(_split_tabs, rest)
    head = [first, *itertools.islice(rest, tables.HEADER_SCAN_ROWS - 1)]
    found = _detect(head)
    if found is None:
        wanted = "、".join(f"“{c.label}”" for c in SOURCE.required_columns)
        raise FileProblem(
            f"没有找到列名行：前{min(len(head), tables.HEADER_SCAN_ROWS)}行中没有一行（或合并的两行表头）同时含有"
            f"{wanted}这几列（也认“联系电话”“所属村”“村”“乡镇”等常用列名）。请确认文件是干部名单。"
        )
    index, header_rows, names, mapping = found
    texts = tables.header_texts(head[: index - header_rows + 1])
    title_rows = sum(1 for cells in texts if any(cells))
    data = itertools.chain(head[index + 1 :], rest)
    numbered = ((index + 2 + i, row) for i, row in enumerate(data))
    return _Table(file_format, encoding, index, header_rows, names, mapping, title_rows, numbered)


# --------------------------------------------------------------------------- cells


def _fold(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def clean_name(value) -> str:
    """A person's name: full-width folded; spaces removed from a Chinese name (`张  三` is 张三)."""
    text = unicodedata.normalize("NFKC", tables.cell_text(value)).strip()
    return _SPACES.sub("", text) if _CJK_NAME.match(text) else _SPACES.sub(" ", text)


def normal_phone(value) -> str:
    text = _PHONE_DROP.sub("", unicodedata.normalize("NFKC", tables.cell_text(value)))
    if text.endswith(".0"):
        text = text[:-2]
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text


def phone_problem(text: str, phone: str) -> str:
    if not phone:
        return "手机号为空"
    if _PHONE.match(phone):
        return ""
    shown = text.strip()[:30]
    if phone.isdigit() and phone.startswith("0"):
        return f"“{shown}”像是固定电话，请填写本人的11位手机号"
    if phone.isdigit():
        return f"手机号应为11位数字，当前为{len(phone)}位（“{shown}”）"
    return f"手机号只能由数字组成（“{shown}”）"


def parse_roles(text: str) -> tuple[list[str], list[str]]:
    """(role codes, the words that are no role)."""
    roles, unknown = [], []
    for word in _ROLE_SPLIT.split(_fold(text)):
        if not word:
            continue
        code = ROLE_WORDS.get(word)
        if code is None:
            unknown.append(word)
        elif code not in roles:
            roles.append(str(code))
    return roles, unknown


def parse_department(text: str) -> str:
    word = _fold(text)
    for ending in _DEPARTMENT_ENDINGS:
        if word.endswith(ending):
            return str(DEPARTMENT_WORDS[ending])
    return ""


def name_keys(name: str) -> set[str]:
    """The spellings of a division name that are matched: the name and its short forms."""
    name = _fold(name)
    keys = {name}
    for suffix, short in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            keys.add(base)
            if short and not base.endswith(short):
                keys.add(base + short)
    return keys


# --------------------------------------------------------------------------- divisions


class _Divisions:
    """The importer's subtree, in memory (a county is a few hundred divisions), found by code or name."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.by_code = {
            d.code: d
            for d in Division.objects.filter(code__startswith=prefix).only("code", "name", "level", "parent_id")
        }
        self.by_key: dict[str, set[str]] = {}
        for division in self.by_code.values():
            for key in name_keys(division.name):
                self.by_key.setdefault(key, set()).add(division.code)

    def find(self, text: str, *, within: list[Division] | None = None) -> tuple[Division | None, str]:
        """(the division, "") or (None, the reason)."""
        code = normal_code(text)
        if code.isascii() and code.isdigit() and len(code) >= 6:
            if problem := division_code_problem(text, code):
                return None, problem
            if code in self.by_code:
                found = self.by_code[code]
                if within is not None and found.parent_id not in {w.code for w in within}:
                    return None, f"区划代码{code}（{found.name}）不在所填的乡镇内"
                return found, ""
            if Division.objects.filter(code=code).exists():
                return None, f"区划代码{code}不在您的辖区内"
            return None, f"系统中没有区划代码{code}（请先导入区划代码）"
        folded = _fold(text)
        codes = set().union(*(self.by_key.get(key, set()) for key in name_keys(text)))
        if within is not None:
            codes = {c for c in codes if self.by_code[c].parent_id in {w.code for w in within}}
        candidates = sorted((self.by_code[c] for c in codes), key=lambda d: d.code)
        if len(candidates) > 1:
            exact = [d for d in candidates if _fold(d.name) == folded]
            if len(exact) == 1:
                return exact[0], ""
            listed = "、".join(f"{d.name}（{d.code}）" for d in candidates[:5])
            return None, f"辖区内有{len(candidates)}个区划叫“{folded}”：{listed}；请填写12位区划代码或所属乡镇"
        if candidates:
            return candidates[0], ""
        if within is not None:
            return None, f"所填乡镇内没有“{folded}”"
        if found := self._township_then_village(folded):
            return found, ""
        if Division.objects.filter(name=folded).exists():
            return None, f"“{folded}”不在您的辖区内"
        return None, f"您的辖区内没有叫“{folded}”的区划（可填写12位统计用区划代码）"

    def _township_then_village(self, folded: str) -> Division | None:
        """One cell naming both, as lists often do: `羊场镇光明村`, `羊场镇/光明村`, `羊场镇-光明村`."""
        for township in self.by_code.values():
            if township.level != Level.TOWNSHIP:
                continue
            for key in name_keys(township.name):
                rest = folded[len(key) :].lstrip("/-—·、") if folded.startswith(key) else ""
                if rest:
                    found, _ = self.find(rest, within=[township])
                    if found is not None:
                        return found
        return None


def _role_problem(role: str, division: Division, actor) -> str:
    levels = ROLE_LEVELS[role]
    label = Role(role).label
    if levels is not None and division.level not in levels:
        allowed = "、".join(f"{Level(level).label}级" for level in sorted(levels))
        return f"{label}只能设在{allowed}区划，{division.name}是{Level(division.level).label}级"
    if role == Role.ADMINISTRATOR:
        return f"不能在{division.name}设系统管理员：只能为{actor.division.name}的下级区划设系统管理员"
    return f"不能在{division.name}授予{label}"


# --------------------------------------------------------------------------- the plan


def _column_name(table: _Table, key: str, label: str) -> str:
    at = table.mapping.get(key)
    return table.names[at] if at is not None and table.names[at] else label


def _read(table: _Table, report: UserImportReport, divisions: _Divisions, actor) -> None:
    """Every data row checked on its own (the columns), then against the other rows."""
    col = {c.key: _column_name(table, c.key, c.label) for c in SOURCE.columns}
    grantable: dict[str, set[str]] = {}

    def cell(cells, key):
        at = table.mapping.get(key)
        return cells[at] if at is not None and at < len(cells) else None

    for row_number, cells in table.rows:
        raw = {c.key: tables.cell_text(cell(cells, c.key)) for c in SOURCE.columns}
        if not any(raw.values()):
            report.skipped += 1  # blank, or a template's row with only its 序号
            continue
        problems: list[Problem] = []
        pending: list[Problem] = []
        plan = RowPlan(row_number)
        plan.full_name = clean_name(raw["full_name"])
        if not plan.full_name:
            problems.append(Problem(row_number, col["full_name"], "姓名为空"))
        elif len(plan.full_name) > NAME_MAX:
            problems.append(Problem(row_number, col["full_name"], f"姓名超过{NAME_MAX}个字"))
        plan.phone = normal_phone(raw["phone"])
        if reason := phone_problem(raw["phone"], plan.phone):
            problems.append(Problem(row_number, col["phone"], reason))
        township = None
        if raw["township"]:
            township, reason = divisions.find(raw["township"])
            if township is not None and township.level != Level.TOWNSHIP:
                township, reason = None, f"{township.name}不是乡镇级区划"
            if reason:
                problems.append(Problem(row_number, col["township"], reason))
        if raw["division"]:
            if not raw["township"] or township is not None:
                plan.division, reason = divisions.find(raw["division"], within=[township] if township else None)
                if reason:
                    problems.append(Problem(row_number, col["division"], reason))
        elif township is not None:
            plan.division = township  # a township-level account: 乡镇 filled, 村 empty
        elif not raw["township"]:
            problems.append(Problem(row_number, col["division"], "所属区划为空"))
        plan.roles, unknown = parse_roles(raw["roles"])
        if unknown:
            words = "、".join(f"“{w}”" for w in unknown)
            choices = "、".join(Role.labels)
            problems.append(Problem(row_number, col["roles"], f"没有这个角色：{words}（可填：{choices}）"))
        elif not plan.roles:
            problems.append(Problem(row_number, col["roles"], "角色为空"))
        if plan.division is not None:
            code = plan.division.code
            if code not in grantable:
                grantable[code] = set(accounts.roles_grantable(actor=actor, division=plan.division))
            for role in plan.roles:
                if role not in grantable[code]:
                    pending.append(Problem(row_number, col["roles"], _role_problem(role, plan.division, actor)))
        if Role.DEPARTMENT_OFFICER in plan.roles:
            plan.department = parse_department(raw["department"])
            if not raw["department"]:
                choices = "、".join(Department.labels)
                reason = f"部门数据专员须填写所属部门（{choices}）"
                pending.append(Problem(row_number, col["department"], reason))
            elif not plan.department:
                reason = f"没有这个部门：“{raw['department'][:30]}”（可填：{'、'.join(Department.labels)}）"
                pending.append(Problem(row_number, col["department"], reason))
        if raw["username"]:
            plan.username = unicodedata.normalize("NFKC", raw["username"]).strip()
            try:
                User.username_validator(plan.username)
                if len(plan.username) > USERNAME_MAX:
                    raise ValidationError("")
            except ValidationError:
                reason = f"用户名只能由字母、数字和 @ . + - _ 组成，最长{USERNAME_MAX}个字符（“{plan.username[:30]}”）"
                problems.append(Problem(row_number, col["username"], reason))
                plan.username = ""
        if (problems or pending) and tables.skipped_kind(cells) == "footer":
            report.skipped += 1
            continue
        report.rows_read += 1
        if report.rows_read > MAX_ROWS:
            raise FileProblem(f"文件超过{MAX_ROWS}行数据，不像一份干部名单，请按县分开导入。")
        if problems:
            problems += pending
            plan.status = "refused"
        else:
            plan.pending = pending
        report.problems += problems
        report.rows.append(plan)
    _repeats(report, col)


def _repeats(report: UserImportReport, col: dict[str, str]) -> None:
    """A phone or a username twice in the file: the later row is refused, naming the first."""
    phones: dict[str, int] = {}
    usernames: dict[str, int] = {}
    for plan in report.rows:
        if plan.phone and not phone_problem(plan.phone, plan.phone):
            if plan.phone in phones:
                reason = f"与第{phones[plan.phone]}行的手机号相同：一个人只开一个账号，多个角色请写在同一行"
                report.problems.append(Problem(plan.row, col["phone"], reason))
                plan.status = "refused"
            else:
                phones[plan.phone] = plan.row
        if plan.username:
            key = plan.username.lower()
            if key in usernames:
                reason = f"与第{usernames[key]}行的用户名相同"
                report.problems.append(Problem(plan.row, col["username"], reason))
                plan.status = "refused"
            else:
                usernames[key] = plan.row


def _match_existing(report: UserImportReport, actor, col: dict[str, str]) -> None:
    """Each row checked against the accounts there are: the same person (已存在), or a phone or a
    username that belongs to another account (refused)."""
    rows = [p for p in report.rows if p.status != "refused"]
    phones = {p.phone for p in rows}
    names = {p.username.lower() for p in rows if p.username}
    by_phone: dict[str, list[User]] = {}
    for user in User.objects.filter(phone__in=phones).select_related("division").order_by("pk"):
        by_phone.setdefault(user.phone, []).append(user)
    by_username = {
        user.lower: user
        for user in User.objects.annotate(lower=Lower("username")).filter(lower__in=names).select_related("division")
    }
    found = [u for users in by_phone.values() for u in users] + list(by_username.values())
    managed = set(accounts.users_managed(actor=actor).filter(pk__in=[u.pk for u in found]).values_list("pk", flat=True))
    for plan in rows:
        same = [u for u in by_phone.get(plan.phone, []) if u.pk in managed and u.division_id == plan.division.code]
        if same:
            _exists(plan, same[0])
            if plan.username and plan.username.lower() != same[0].username.lower():
                plan.note = "；".join(filter(None, [plan.note, f"文件中的用户名“{plan.username}”未采用"]))
            continue
        if by_phone.get(plan.phone):
            other = by_phone[plan.phone][0]
            where = f"（{other.division.name}的账号 {other.username}）" if other.pk in managed else "（辖区外的账号）"
            reason = f"该手机号已是另一个账号的手机号{where}：一个人只开一个账号"
            report.problems.append(Problem(plan.row, col["phone"], reason))
            plan.status = "refused"
            continue
        other = by_username.get(plan.username.lower()) if plan.username else None
        if other is not None:
            if other.pk in managed and other.division_id == plan.division.code:
                _exists(plan, other)
                plan.note = "；".join(filter(None, [plan.note, f"系统中的手机号为{masked_phone(other.phone)}，未修改"]))
            else:
                report.problems.append(Problem(plan.row, col["username"], "该用户名已被使用"))
                plan.status = "refused"
            continue
        if plan.pending:
            report.problems += plan.pending
            plan.status = "refused"
            continue
        plan.status = "new"


def _exists(plan: RowPlan, user: User) -> None:
    plan.status, plan.existing = "exists", user.username
    differences = []
    if plan.full_name != user.full_name:
        differences.append(f"姓名为“{user.full_name or '空'}”")
    if set(plan.roles) != set(user.roles):
        differences.append(f"角色为“{'、'.join(user.role_labels) or '无'}”")
    if differences:
        plan.note = f"系统中{'，'.join(differences)}，未修改（请在用户管理中修改）"
    if not user.is_active:
        plan.note = "；".join(filter(None, ["该账号已停用（如需启用请在用户管理中修改）", plan.note]))


def _usernames(report: UserImportReport) -> None:
    """The rule for rows without a username: c + the division's significant code + - + 01, 02, …"""
    rows = [p for p in report.new if not p.username]
    if not rows:
        return
    stems = {f"c{p.division.prefix}-" for p in rows}
    taken = {p.username.lower() for p in report.rows if p.username}
    for stem in stems:
        taken |= {u.lower() for u in User.objects.filter(username__istartswith=stem).values_list("username", flat=True)}
    for plan in rows:
        stem = f"c{plan.division.prefix}-"
        n = 1
        while f"{stem}{n:02d}" in taken:
            n += 1
        plan.username, plan.generated = f"{stem}{n:02d}", True
        taken.add(plan.username)


def new_password() -> str:
    """12 characters from `secrets`: every kind the validators ask for, no look-alike characters."""
    everything = "".join(PASSWORD_ALPHABETS)
    while True:
        password = "".join(secrets.choice(everything) for _ in range(PASSWORD_LENGTH))
        if all(any(c in alphabet for c in password) for alphabet in PASSWORD_ALPHABETS):
            return password


class _Rollback(Exception):
    pass


def users_import(*, actor, path: str, file_name: str = "", dry_run: bool = False) -> UserImportReport:
    """Read the cadre list at `path` and create its accounts (or, with `dry_run`, only report what the
    import would do) as `actor`, a system administrator. Raises PermissionDenied for anyone else,
    FileProblem / ApplicationError for a file that cannot be read as a whole; a file with refused rows
    returns its report with nothing written. The report's `accounts` hold the initial passwords."""
    accounts.ensure_account_administrator(actor)
    file_name = file_name or Path(path).name
    report = UserImportReport(file_name=file_name, dry_run=dry_run)
    table = _open(path, file_name)
    report.file_format, report.encoding = table.file_format, table.encoding
    report.header_row, report.header_rows = table.header_index + 1, table.header_rows
    report.title_rows = table.title_rows
    report.columns = {key: table.names[at] for key, at in table.mapping.items()}
    report.columns_ignored = [n for i, n in enumerate(table.names) if n and i not in table.mapping.values()]
    col = {c.key: _column_name(table, c.key, c.label) for c in SOURCE.columns}
    _read(table, report, _Divisions(actor.jurisdiction_prefix), actor)
    reason = f"批量导入：{file_name[:60]}"
    try:
        with transaction.atomic():
            _match_existing(report, actor, col)
            report.problems.sort(key=lambda p: p.row)
            _usernames(report)
            if dry_run or report.refused or not report.new:
                return report
            for plan in report.new:
                password = new_password()
                data = {
                    "full_name": plan.full_name,
                    "phone": plan.phone,
                    "division": plan.division,
                    "department": plan.department,
                }
                try:
                    accounts.user_create(
                        actor=actor,
                        username=plan.username,
                        password=password,
                        roles=plan.roles,
                        data=data,
                        must_change_password=True,
                        reason=reason,
                    )
                except ValidationError as error:  # the door's own rules: the checks above should have said
                    for key, messages in error.message_dict.items():
                        column = col.get(key, key)
                        report.problems += [Problem(plan.row, column, m) for m in messages]
                    plan.status = "refused"
                    raise _Rollback from None
                report.accounts.append(
                    NewAccount(
                        row=plan.row,
                        username=plan.username,
                        full_name=plan.full_name,
                        phone=plan.phone,
                        division_code=plan.division.code,
                        division_name=plan.division.name,
                        roles=plan.role_labels,
                        department=Department(plan.department).label if plan.department else "",
                        password=password,
                    )
                )
            report.written = True
    except _Rollback:
        report.accounts, report.written = [], False
    except IntegrityError:
        raise ApplicationError("另一次导入同时新建了相同的用户名，本次未写入任何数据，请稍后重新导入。") from None
    return report


# --------------------------------------------------------------------------- the printable list


def password_sheet(division: tuple[str, str], created: list[NewAccount], *, file_name: str = ""):
    """The printable list of one division's new accounts and initial passwords (an openpyxl Workbook):
    A4 landscape, one page wide, with a 签收 column; to be printed, handed out and destroyed."""
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, Side

    code, name = division
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "初始密码"
    header = ["序号", "姓名", "手机号", "角色", "用户名", "初始密码", "签收"]
    sheet.append([f"{name}（{code}）新账号初始密码"])
    sheet.append([f"来源：{file_name}。首次登录须修改密码；本表只生成一次，发放后请销毁。"])
    sheet.append(header)
    for n, account in enumerate(created, 1):
        roles = account.roles + (f"（{account.department}）" if account.department else "")
        sheet.append([n, account.full_name, account.phone, roles, account.username, account.password, ""])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(header))
    sheet["A1"].font = Font(size=14, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    thin = Side(style="thin")
    for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row):
        for c in row:
            c.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if c.row == 3:
                c.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (6, 12, 15, 22, 22, 16, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=4, max_row=sheet.max_row, min_col=6, max_col=6):
        for c in row:
            c.font = Font(name="Consolas", size=12)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "3:3"
    return workbook
