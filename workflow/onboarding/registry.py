"""The registry import (农户和家庭成员导入, issue #15 point 2, first version): a county's household ledger —
one row per member, the 户编号 grouping them — made into fpr's households and members, inside the
importer's subtree.

Files accepted: an XLSX (first sheet) or a CSV/TXT (UTF-8 with or without BOM, GBK, GB18030), read
through the project's one table-reading layer (monitoring.screening.comparison.read_rows and
monitoring.screening.tables' header recognition): title rows, a two-row header (a group header merged
over sub-headers, `所属区划` over `乡镇`/`村`), the county's own column names (aliases below), columns
that are no fpr field (序号, 民族, 文化程度, 户主姓名, 备注: listed as not used), blank rows and a
`合计`/`制表人` footer.

The rules:

- Who: an active system administrator (households.accounts.is_account_administrator), for villages
  inside their own subtree only.
- Columns: 户编号, 姓名, 身份证号 (公民身份号码 …), 与户主关系 are required; the village is 所属村 (a name,
  `羊场镇光明村` in one cell, or the 12-digit code) or 乡镇 + 村. Optional: 性别 (checked against the
  ID number, not stored: fpr derives it), 健康状况, 疾病名称, 残疾类别, 残疾等级, 劳动技能, 在校生状况,
  and the household's 联系电话, 家庭住址, 脱贫状态 (户类型), 脱贫年度. Choices are read in the national
  system's and the ledgers' wordings (`之子`, `长女`, `患有大病`, `弱劳动力`, `已脱贫户` …).
- ID numbers are normalised as every door does (households.id_numbers.normalize_id_number: full-width
  digits, spaces, dashes, lower-case x) and checked (GB 11643); a number Excel stored as a number
  (`5.22422E+17`) is refused with the hint to re-export the column as text.
- A household's own values may be on every member's row or only on some: the non-empty values must
  agree. A new household needs 所属村, 家庭住址 and 脱贫状态; exactly one 户主 (counting the members it
  already has in fpr that the file does not list).
- Matching: a household by its 户编号 (kept as the file has it), a member by 身份证号. A 户编号 fpr has
  under another village, or a member fpr has in another household, is refused (moving people between
  households is done on the household pages, not by a file); so is the same 身份证号 under two 户编号.
- Updates: only the columns the file has, and only non-empty cells — an empty cell never erases a
  value; nothing is ever deleted (a member fpr has and the file does not list stays). Each changed or
  created row gets a history row by the importer with the reason `导入：<file name>`.
- All or nothing: every row is checked (row, column, the reason in Chinese) before anything is
  written; a dry run stops there; a real import writes in one transaction, nothing when any row is
  refused; a second run of the same file changes nothing (reported `与系统一致`).
- Writes: bulk operations (simple-history's bulk_create_with_history / bulk_update_with_history), not
  the per-row households.services (whose household_create numbers a household itself and runs a few
  queries per member); the same checks apply: the models' full_clean, services.member_rule_errors, one
  head per household, an ID number once, the subtree.
- Not in this version: income items and rigid expenditures (a later kind), bank accounts, the
  两不愁三保障 items, disability certificates.
"""

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from fpr import clock
from fpr.errors import ApplicationError
from fpr.roles import Level
from households import accounts
from households.models import (
    DisabilityCategory,
    DisabilityGrade,
    Health,
    Household,
    LabourCapacity,
    Member,
    PovertyStatus,
    Relationship,
    Schooling,
    SensitiveAccess,
)
from households.services import DUPLICATE_VIA, OUTSIDE_DUPLICATE, member_rule_errors
from monitoring.screening import comparison, tables
from monitoring.screening.comparison import FileProblem, id_cell_problem
from monitoring.screening.departments import ID, Column, GradeRule, Source
from workflow.onboarding.divisions import _split_tabs
from workflow.onboarding.report import Problem, file_line, state_line
from workflow.onboarding.users import _Divisions, clean_name, normal_phone

__all__ = ["FileProblem", "RegistryImportReport", "registry_import"]

MAX_ROWS = 500_000  # a county of 100,000 households has some 350,000 members
NUMBER_MAX = Household._meta.get_field("number").max_length
REASON_MAX = 100  # history_change_reason

NUMBER = Column(
    "number",
    "户编号",
    required=True,
    aliases=("户码", "户号", "户编码", "农户编号", "家庭编号", "家庭户编号", "户籍编号", "户主编号"),
)
NAME = Column("name", "姓名", required=True, aliases=("成员姓名", "家庭成员姓名", "人员姓名", "名字"))
ID_NUMBER = Column("id_number", "身份证号", required=True, aliases=(*ID.aliases, "身份证号码（证件号码）"))
RELATIONSHIP = Column(
    "relationship", "与户主关系", required=True, aliases=("与户主的关系", "家庭关系", "成员关系", "关系")
)
VILLAGE = Column(
    "village",
    "所属村",
    aliases=(
        "村",
        "村名",
        "行政村",
        "所在村",
        "村（社区）",
        "所属村（社区）",
        "行政村（社区）",
        "村代码",
        "村区划代码",
        "区划代码",
        "所属区划",
        "统计用区划代码",
    ),
)
TOWNSHIP = Column(
    "township", "乡镇", aliases=("所属乡镇", "乡镇（街道）", "乡（镇）", "镇街", "乡镇街道", "镇（乡）", "乡镇名称")
)
SEX = Column("sex", "性别")
HEALTH = Column("health", "健康状况", aliases=("健康情况", "身体状况", "身体健康状况"))
ILLNESS = Column("illness", "疾病名称", aliases=("病种", "所患疾病", "患病名称", "疾病"))
DISABILITY_CATEGORY = Column("disability_category", "残疾类别", aliases=("残疾类型",))
DISABILITY_GRADE = Column("disability_grade", "残疾等级", aliases=("残疾级别",))
LABOUR = Column("labour_capacity", "劳动技能", aliases=("劳动能力", "劳动力状况", "劳动力类型", "劳动力"))
SCHOOLING = Column("schooling", "在校生状况", aliases=("在校生情况", "在校情况", "就学状况", "在校状况"))
PHONE = Column(
    "phone", "联系电话", aliases=("电话", "手机号", "手机号码", "联系方式", "户主联系电话", "电话号码", "手机")
)
ADDRESS = Column("address", "家庭住址", aliases=("住址", "家庭地址", "现住址", "居住地址", "详细地址", "家庭详细地址"))
POVERTY = Column(
    "poverty_status",
    "脱贫状态",
    aliases=("户类型", "农户类型", "户属性", "农户属性", "脱贫户属性", "贫困户属性", "是否脱贫户", "户别"),
)
EXIT_YEAR = Column("poverty_exit_year", "脱贫年度", aliases=("脱贫年份", "脱贫时间", "脱贫年"))
SOURCE = Source(
    department="",
    kind="registry",
    kind_label="农户和家庭成员",
    description="县里的农户台账：每个成员一行，户编号把成员归为一户",
    columns=(
        NUMBER,
        NAME,
        ID_NUMBER,
        RELATIONSHIP,
        VILLAGE,
        TOWNSHIP,
        SEX,
        HEALTH,
        ILLNESS,
        DISABILITY_CATEGORY,
        DISABILITY_GRADE,
        LABOUR,
        SCHOOLING,
        PHONE,
        ADDRESS,
        POVERTY,
        EXIT_YEAR,
    ),
    grade=GradeRule(default=""),
)
MEMBER_KEYS = ("name", "relationship", "health", "illness", "disability_category", "disability_grade")
MEMBER_KEYS += ("labour_capacity", "schooling")
HOUSEHOLD_KEYS = ("address", "phone", "poverty_status", "poverty_exit_year")
LABELS = {c.key: c.label for c in SOURCE.columns}


def _words(choices, extra: dict) -> dict[str, str]:
    return {**{tables.normal_value(label): str(code) for code, label in choices.choices}, **extra}


RELATIONSHIP_WORDS = _words(
    Relationship,
    {
        **dict.fromkeys(("本人", "户主本人"), Relationship.HEAD),
        **dict.fromkeys(("妻", "妻子", "夫", "丈夫", "爱人", "老婆", "老公"), Relationship.SPOUSE),
        **dict.fromkeys(("儿子", "长子", "次子", "三子", "四子", "独子", "养子", "继子"), Relationship.SON),
        **dict.fromkeys(("女儿", "长女", "次女", "三女", "四女", "独女", "养女", "继女"), Relationship.DAUGHTER),
        **dict.fromkeys(("媳妇", "儿媳妇"), Relationship.DAUGHTER_IN_LAW),
        "上门女婿": Relationship.SON_IN_LAW,
        **dict.fromkeys(
            ("孙子", "孙女", "外孙", "外孙子", "外孙女", "孙", "曾孙子", "曾孙女", "孙辈"), Relationship.GRANDCHILD
        ),
        **dict.fromkeys(
            ("父", "母", "父亲", "母亲", "岳父", "岳母", "公公", "婆婆", "继父", "继母", "养父", "养母"),
            Relationship.PARENT,
        ),
        **dict.fromkeys(("祖父", "祖母", "外祖父", "外祖母", "爷爷", "奶奶"), Relationship.GRANDPARENT),
        **dict.fromkeys(
            ("兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹", "兄弟姐妹"), Relationship.SIBLING
        ),
        **dict.fromkeys(("其他亲属", "其它", "其他", "侄子", "侄女", "外甥", "外甥女", "儿媳之子"), Relationship.OTHER),
    },
)
HEALTH_WORDS = _words(
    Health,
    {
        **dict.fromkeys(("良好", "健康良好", "正常"), Health.HEALTHY),
        **dict.fromkeys(("慢性病", "患有慢性病", "长期慢性病患者", "慢病"), Health.CHRONIC),
        **dict.fromkeys(("患有大病", "重病", "大病重病", "患大病", "重大疾病"), Health.SERIOUS),
        **dict.fromkeys(("残疾人", "有残疾"), Health.DISABLED),
    },
)
LABOUR_WORDS = _words(
    LabourCapacity,
    {
        "普通劳力": LabourCapacity.ORDINARY,
        **dict.fromkeys(("技能劳力", "技术劳动力"), LabourCapacity.SKILLED),
        **dict.fromkeys(("弱劳动力", "半劳动力", "弱劳力", "半劳力", "弱劳动力或半劳动力"), LabourCapacity.WEAK),
        **dict.fromkeys(("丧失劳力",), LabourCapacity.LOST),
        **dict.fromkeys(("无劳力", "无"), LabourCapacity.NONE),
    },
)
SCHOOLING_WORDS = _words(
    Schooling,
    {
        **dict.fromkeys(("非在校生", "不在校", "否", "无"), Schooling.NONE),
        **dict.fromkeys(("学龄前儿童", "学前", "学前教育", "幼儿园"), Schooling.PRESCHOOL),
        **dict.fromkeys(("小学", "初中", "义务教育", "义务教育阶段", "小学在读", "初中在读"), Schooling.COMPULSORY),
        **dict.fromkeys(("普通高中", "高中在读"), Schooling.HIGH_SCHOOL),
        **dict.fromkeys(("中专", "技校", "职高", "中等职业教育", "中职在读"), Schooling.VOCATIONAL),
        **dict.fromkeys(("大专", "本科", "大学", "高职", "研究生", "大专在读", "本科在读"), Schooling.COLLEGE),
        **dict.fromkeys(("辍学儿童", "失学"), Schooling.DROPOUT),
    },
)
POVERTY_WORDS = _words(
    PovertyStatus,
    {
        **dict.fromkeys(
            ("已脱贫户", "已脱贫", "脱贫", "建档立卡户", "建档立卡脱贫户", "贫困户", "脱贫不稳定户", "是"),
            PovertyStatus.LIFTED,
        ),
        **dict.fromkeys(("一般户", "农户", "非贫困户", "非建档立卡户", "边缘易致贫户", "否"), PovertyStatus.ORDINARY),
    },
)
CATEGORY_WORDS = {
    **{tables.normal_value(label): code for code, label in DisabilityCategory.choices},
    **{tables.normal_value(label).removesuffix("残疾"): code for code, label in DisabilityCategory.choices},
    **{str(code): code for code in DisabilityCategory.values},
}
GRADE_WORDS = {
    **{tables.normal_value(label): code for code, label in DisabilityGrade.choices},
    **{tables.normal_value(label).removesuffix("级"): code for code, label in DisabilityGrade.choices},
    **{f"{code}级": code for code in DisabilityGrade.values},
    **{str(code): code for code in DisabilityGrade.values},
}
_SPACES = re.compile(r"[\s\u3000]+")
_NUMBER_DROP = re.compile(r"[\s\-\u2010-\u2015\u2212\u00ad\u200b-\u200f\u2060\ufeff'‘’`]+")
_NUMBER = re.compile(r"^[0-9A-Za-z]+$")
_EXCEL_NUMBER = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})(年|年度)?$")
_HOUSEHOLD_PHONE = re.compile(r"^\d{7,20}$")


# --------------------------------------------------------------------------- the report


@dataclass
class RowPlan:
    row: int
    number: str = ""
    id_number: str = ""
    village_text: str = ""
    township_text: str = ""
    village: object = None  # the Division
    member: dict = field(default_factory=dict)  # member key → value (only the non-empty cells)
    household: dict = field(default_factory=dict)  # household key → value (only the non-empty cells)
    sex: str = ""
    refused: set[str] = field(default_factory=set)  # the keys of the cells already refused


@dataclass
class RegistryImportReport:
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
    problems: list[Problem] = field(default_factory=list)
    households_new: list[str] = field(default_factory=list)  # 户编号
    households_updated: list[tuple[str, list[str]]] = field(default_factory=list)  # (户编号, changed labels)
    households_unchanged: int = 0
    members_new: int = 0
    members_updated: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (row, 户编号, labels)
    members_unchanged: int = 0
    written: bool = False

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    @property
    def changed(self) -> bool:
        return bool(self.households_new or self.households_updated or self.members_new or self.members_updated)

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "households_created": len(self.households_new),
            "households_updated": len(self.households_updated),
            "households_unchanged": self.households_unchanged,
            "members_created": self.members_new,
            "members_updated": len(self.members_updated),
            "members_unchanged": self.members_unchanged,
            "rejected": len(self.rejected_rows),
        }

    def lines(self, *, shown: int = 30) -> list[str]:
        """The report in Chinese, as the command and the import page show it (ID numbers never in full)."""
        out = [
            state_line(
                "农户和家庭成员导入",
                self.file_name,
                refused_rows=(len(self.rejected_rows) or 1) if self.refused else 0,
                dry_run=self.dry_run,
                written=self.written,
                same="与系统一致，未作修改",
            ),
            file_line(self),
        ]
        out.append(f"读取数据行 {self.rows_read} 行；跳过空行及合计、说明行 {self.skipped} 行")
        will = "将" if self.dry_run or self.refused else ""
        if self.refused:
            out.append("通过检查的行：")
        out.append(
            f"农户：{will}新增 {len(self.households_new)} 户，{will}更新 {len(self.households_updated)} 户，"
            f"未变 {self.households_unchanged} 户"
        )
        for number, labels in self.households_updated[:shown]:
            out.append(f"  户编号 {number}：{'、'.join(labels)}")
        out.append(
            f"家庭成员：{will}新增 {self.members_new} 人，{will}更新 {len(self.members_updated)} 人，"
            f"未变 {self.members_unchanged} 人"
        )
        for row, number, labels in self.members_updated[:shown]:
            out.append(f"  第{row}行（户编号 {number}）：{'、'.join(labels)}")
        if len(self.households_updated) > shown or len(self.members_updated) > shown:
            out.append(f"  ……只列出前{shown}项")
        out.append(f"拒绝 {len(self.rejected_rows)} 行（问题 {len(self.problems)} 个）")
        out += [f"  第{p.row}行 “{p.column}”：{p.reason}" for p in self.problems]
        if not self.refused:
            out.append("本版不导入收入明细和刚性支出。")
        return out


# --------------------------------------------------------------------------- reading the file


@dataclass
class _Table:
    file_format: str
    encoding: str
    layout: tables.TableLayout
    rows: Iterator[tuple[int, Sequence]]


def _open(path: str, name: str) -> _Table:
    file_format, encoding, first, rest = comparison.read_rows(path, name)
    if file_format == "csv":
        first, rest = _split_tabs(first), map(_split_tabs, rest)
    head = [first, *itertools.islice(rest, tables.HEADER_SCAN_ROWS - 1)]
    layout = tables.detect_header(head, SOURCE)
    if not layout.found:
        wanted = "、".join(f"“{c.label}”" for c in SOURCE.required_columns)
        raise FileProblem(
            f"没有找到列名行：前{min(len(head), tables.HEADER_SCAN_ROWS)}行中没有一行（或合并的两行表头）同时含有"
            f"{wanted}这几列（也认“公民身份号码”“户码”“与户主的关系”等常用列名）。请确认文件是农户台账。"
        )
    if "village" not in layout.mapping:
        raise FileProblem("文件中没有“所属村”列（也认“村”“行政村”“村（社区）”“区划代码”，或“乡镇”和“村”两列）。")
    data = itertools.chain(head[layout.header_index + 1 :], rest)
    numbered = ((layout.header_index + 2 + i, row) for i, row in enumerate(data))
    return _Table(file_format, encoding, layout, numbered)


# --------------------------------------------------------------------------- cells


def _fold(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def household_number(value) -> tuple[str, str]:
    """(the 户编号 as kept, the reason it is refused or "")."""
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 1e15):
        return "", "户编号被保存为数字，末几位已丢失；请把该列设为“文本”格式后重新导出"
    text = tables.cell_text(value)
    number = _NUMBER_DROP.sub("", unicodedata.normalize("NFKC", text))
    if not number:
        return "", "户编号为空"
    if _EXCEL_NUMBER.match(number):
        return "", f"户编号被保存为科学计数法数字（“{text[:30]}”），末几位已丢失；请把该列设为“文本”格式后重新导出"
    if not _NUMBER.match(number):
        return "", f"户编号只能由数字和字母组成（“{text[:30]}”）"
    if len(number) > NUMBER_MAX:
        return "", f"户编号超过{NUMBER_MAX}位（“{text[:30]}”）"
    return number, ""


def id_number(value) -> tuple[str, str]:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return "", comparison.EXCEL_NUMBER_REASON
    text = tables.cell_text(value)
    number, problem = id_cell_problem(text)
    return number, problem


def _choice(text: str, words: dict, label: str, choices) -> tuple[str, str]:
    word = _fold(text).removeprefix("之") if label == LABELS["relationship"] else _fold(text)
    code = words.get(word)
    if code is None:
        listed = "、".join(str(c) for c in choices.labels)
        return "", f"“{text[:30]}”不是可用的{label}（可填：{listed}）"
    return code, ""


def exit_year(value) -> tuple[int | None, str]:
    if isinstance(value, dt.date):
        return value.year, ""
    text = _fold(tables.cell_text(value)).removesuffix(".0")
    match = _YEAR.match(text) or re.match(r"^(\d{4})[-/.年]", text)
    if not match:
        return None, f"脱贫年度应为4位年份（“{text[:30]}”）"
    year = int(match[1])
    if not 2013 <= year <= clock.today().year:
        return None, f"脱贫年度{year}不合理（应在2013年至今之间）"
    return year, ""


def household_phone(value) -> tuple[str, str]:
    phone = normal_phone(value)
    if _HOUSEHOLD_PHONE.match(phone):
        return phone, ""
    return "", f"联系电话应为7到20位数字（“{tables.cell_text(value)[:30]}”）"


# --------------------------------------------------------------------------- the rows


def _read(table: _Table, report: RegistryImportReport, divisions: _Divisions, col: dict) -> list[RowPlan]:
    mapping = table.layout.mapping
    plans: list[RowPlan] = []

    def cell(cells, key):
        at = mapping.get(key)
        return cells[at] if at is not None and at < len(cells) else None

    for row_number, cells in table.rows:
        values = {key: cell(cells, key) for key in mapping}
        raw = {key: tables.cell_text(v) for key, v in values.items()}
        if not any(raw.values()):
            report.skipped += 1
            continue
        problems: list[Problem] = []

        def refuse(key, reason, problems=problems, row_number=row_number):
            problems.append(Problem(row_number, col[key], reason))

        plan = RowPlan(row_number)
        plan.number, reason = household_number(values.get("number"))
        if reason:
            refuse("number", reason)
        plan.id_number, reason = id_number(values.get("id_number"))
        if reason:
            refuse("id_number", reason)
        name = clean_name(values.get("name"))
        if not name:
            refuse("name", "姓名为空")
        else:
            plan.member["name"] = name
        for key, words, choices in (
            ("relationship", RELATIONSHIP_WORDS, Relationship),
            ("health", HEALTH_WORDS, Health),
            ("labour_capacity", LABOUR_WORDS, LabourCapacity),
            ("schooling", SCHOOLING_WORDS, Schooling),
        ):
            if raw.get(key):
                code, reason = _choice(raw[key], words, LABELS[key], choices)
                if reason:
                    refuse(key, reason)
                else:
                    plan.member[key] = code
            elif key == "relationship":
                refuse(key, "与户主关系为空")
        if raw.get("illness"):
            plan.member["illness"] = unicodedata.normalize("NFKC", raw["illness"]).strip()
        for key, words, choices in (
            ("disability_category", CATEGORY_WORDS, DisabilityCategory),
            ("disability_grade", GRADE_WORDS, DisabilityGrade),
        ):
            if raw.get(key):
                code = words.get(_fold(raw[key]))
                if code is None:
                    refuse(key, f"“{raw[key][:30]}”不是可用的{LABELS[key]}（可填：{'、'.join(choices.labels)}）")
                else:
                    plan.member[key] = code
        if raw.get("sex"):
            plan.sex = _fold(raw["sex"]).removesuffix("性")
            if plan.sex not in ("男", "女"):
                refuse("sex", f"性别应为“男”或“女”（“{raw['sex'][:10]}”）")
            elif plan.id_number and not problems_for(problems, col["id_number"]):
                sex = "男" if int(plan.id_number[16]) % 2 == 1 else "女"
                if sex != plan.sex:
                    refuse("sex", f"性别“{plan.sex}”与身份证号（第17位）所示的“{sex}”不符，请核对身份证号")
        if raw.get("address"):
            plan.household["address"] = unicodedata.normalize("NFKC", raw["address"]).strip()
        if raw.get("phone"):
            phone, reason = household_phone(values["phone"])
            if reason:
                refuse("phone", reason)
            else:
                plan.household["phone"] = phone
        if raw.get("poverty_status"):
            code, reason = _choice(raw["poverty_status"], POVERTY_WORDS, LABELS["poverty_status"], PovertyStatus)
            if reason:
                refuse("poverty_status", reason)
            else:
                plan.household["poverty_status"] = code
        if raw.get("poverty_exit_year"):
            year, reason = exit_year(values["poverty_exit_year"])
            if reason:
                refuse("poverty_exit_year", reason)
            else:
                plan.household["poverty_exit_year"] = year
        plan.village_text, plan.township_text = raw.get("village", ""), raw.get("township", "")
        _village(plan, divisions, refuse)
        if problems and tables.skipped_kind(cells) == "footer":
            report.skipped += 1
            continue
        report.rows_read += 1
        if report.rows_read > MAX_ROWS:
            raise FileProblem(f"文件超过{MAX_ROWS}行数据，请按乡镇分开导入。")
        plan.refused = {key for key, column in col.items() if problems_for(problems, column)}
        report.problems += problems
        plans.append(plan)
    return plans


def problems_for(problems: list[Problem], column: str) -> bool:
    return any(p.column == column for p in problems)


def _village(plan: RowPlan, divisions: _Divisions, refuse) -> None:
    township = None
    if plan.township_text:
        township, reason = divisions.find(plan.township_text)
        if township is not None and township.level != Level.TOWNSHIP:
            township, reason = None, f"{township.name}不是乡镇级区划"
        if reason:
            refuse("township", reason)
            return
    if not plan.village_text:
        return  # taken from the household's other rows (or refused there)
    found, reason = divisions.find(plan.village_text, within=[township] if township else None)
    if found is not None and found.level != Level.VILLAGE:
        found, reason = None, f"{found.name}不是村级区划：农户只能登记在村一级"
    if reason:
        refuse("village", reason)
    plan.village = found


# --------------------------------------------------------------------------- households


@dataclass
class _Group:
    number: str
    rows: list[RowPlan]
    village: object = None
    household: dict = field(default_factory=dict)


def _group(plans: list[RowPlan], report: RegistryImportReport, col: dict) -> dict[str, _Group]:
    """Rows by 户编号; a household's values agreed between its rows; an ID number in one household only."""
    groups: dict[str, _Group] = {}
    seen_ids: dict[str, RowPlan] = {}
    for plan in plans:
        if plan.id_number:
            first = seen_ids.get(plan.id_number)
            if first is None:
                seen_ids[plan.id_number] = plan
            elif first.number == plan.number:
                report.problems.append(
                    Problem(plan.row, col["id_number"], f"与第{first.row}行是同一身份证号：同一人登记了两次")
                )
                continue
            else:
                reason = (
                    f"同一身份证号在第{first.row}行属于户编号 {first.number}，这里属于户编号 {plan.number}："
                    "一人只能在一户"
                )
                report.problems.append(Problem(plan.row, col["id_number"], reason))
                continue
        if not plan.number:
            continue
        group = groups.setdefault(plan.number, _Group(plan.number, []))
        group.rows.append(plan)
    for group in groups.values():
        firsts: dict[str, RowPlan] = {}
        for plan in group.rows:
            if plan.village is not None:
                if group.village is None:
                    group.village, firsts["village"] = plan.village, plan
                elif plan.village.code != group.village.code:
                    reason = f"同一户在第{firsts['village'].row}行属于{group.village.name}，这里是{plan.village.name}"
                    report.problems.append(Problem(plan.row, col["village"], reason))
            for key, value in plan.household.items():
                if key not in group.household:
                    group.household[key], firsts[key] = value, plan
                elif group.household[key] != value:
                    reason = f"同一户的{LABELS[key]}与第{firsts[key].row}行不一致"
                    report.problems.append(Problem(plan.row, col[key], reason))
    return groups


def _clean(instance, exclude: list[str]) -> dict[str, list[str]]:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        return error.message_dict
    return {}


def _report_errors(report, row: int, errors: dict[str, list[str]], col: dict) -> None:
    for key, messages in errors.items():
        column = col.get(key, LABELS.get(key, key))
        report.problems += [Problem(row, column, m.rstrip("。")) for m in messages]


@dataclass
class _Writes:
    households_new: list[Household] = field(default_factory=list)
    households_changed: list[Household] = field(default_factory=list)
    household_fields: set[str] = field(default_factory=set)
    members_new: list[Member] = field(default_factory=list)
    members_changed: list[Member] = field(default_factory=list)
    member_fields: set[str] = field(default_factory=set)
    # Households outside the importer's subtree holding a number of the file: recorded as the services
    # record a refused registration of someone else's number (no silent oracle for finding people).
    outside_holders: dict[int, Household] = field(default_factory=dict)


def _plan(groups: dict[str, _Group], report: RegistryImportReport, actor, col: dict, writes: _Writes, *, lock: bool):
    prefix = actor.jurisdiction_prefix
    existing_households = Household.objects.filter(number__in=list(groups)).select_related("village")
    if lock:
        existing_households = existing_households.select_for_update(of=("self",))
    households = {h.number: h for h in existing_households}
    ids = [p.id_number for g in groups.values() for p in g.rows if p.id_number]
    members: dict[str, Member] = {}
    for start in range(0, len(ids), 5000):
        chunk = Member.objects.filter(id_number__in=ids[start : start + 5000]).select_related("household__village")
        members.update((m.id_number, m) for m in chunk)
    others: dict[int, list[Member]] = {}  # the members fpr has in the file's households, not in the file
    listed = set(ids)
    for m in Member.objects.filter(household__in=list(households.values())).exclude(id_number__in=listed):
        others.setdefault(m.household_id, []).append(m)

    for group in groups.values():
        household = households.get(group.number)
        first = group.rows[0].row
        if household is not None:
            if group.village is not None and household.village_id != group.village.code:
                where = household.village.name if household.village_id.startswith(prefix) else "辖区外的村"
                reason = (
                    f"户编号 {group.number} 在系统中属于{where}，文件中是{group.village.name}：户编号不能移到另一个村"
                )
                report.problems.append(Problem(first, col["number"], reason))
                continue
            changed = [k for k, v in group.household.items() if getattr(household, k) != v]
            for key in changed:
                setattr(household, key, group.household[key])
            errors = _clean(household, exclude=["number", "village"])
            if errors:
                _report_errors(report, first, errors, col)
            elif changed:
                writes.households_changed.append(household)
                writes.household_fields |= set(changed)
                report.households_updated.append((group.number, [LABELS[k] for k in changed]))
            else:
                report.households_unchanged += 1
        elif group.village is None:
            if not any(p.village_text for p in group.rows):  # else refused from its cell
                reason = f"新登记的农户（户编号 {group.number}）须填写所属村"
                report.problems.append(Problem(first, col["village"], reason))
        else:
            missing = [k for k in ("address", "poverty_status") if k not in group.household]
            for key in missing:
                report.problems.append(
                    Problem(first, col[key], f"新登记的农户（户编号 {group.number}）须填写{LABELS[key]}")
                )
            household = Household(number=group.number, village=group.village, **group.household)
            errors = _clean(household, exclude=["village", *missing])
            if errors:
                _report_errors(report, first, errors, col)
            if not missing and not errors:
                writes.households_new.append(household)
                report.households_new.append(group.number)
        heads = [m for m in others.get(household.pk, []) if m.relationship == Relationship.HEAD] if household else []
        heads += [p for p in group.rows if p.member.get("relationship") == Relationship.HEAD]
        unknown = any("relationship" in p.refused for p in group.rows)
        for plan in group.rows:
            member = members.get(plan.id_number) if plan.id_number else None
            if member is not None and member.household.number != group.number:
                holder = member.household
                if holder.village_id.startswith(prefix):
                    reason = (
                        f"该身份证号已是{holder.village.name}户编号 {holder.number} 的成员“{member.name}”："
                        "一人只能在一户（调整户籍请在农户页面办理）"
                    )
                else:
                    reason = OUTSIDE_DUPLICATE.rstrip("。")
                    writes.outside_holders.setdefault(holder.pk, holder)
                report.problems.append(Problem(plan.row, col["id_number"], reason))
                continue
            if member is None:
                member = Member(id_number=plan.id_number, **plan.member)
                errors = _clean(member, exclude=["household"])
                changed = None
            else:
                changed = [k for k, v in plan.member.items() if getattr(member, k) != v]
                for key in changed:
                    setattr(member, key, plan.member[key])
                errors = _clean(member, exclude=["household"])
            for key, messages in member_rule_errors(vars(member)).items():
                errors.setdefault(key, []).extend(messages)
            for key in (*plan.refused, "id_number" if not plan.id_number else ""):
                errors.pop(key, None)  # told once, from the cell
            if errors:
                _report_errors(report, plan.row, errors, col)
                continue
            if plan.refused:
                continue  # refused from its cells
            if changed is None:
                member.household = household
                writes.members_new.append(member)
                report.members_new += 1
            elif changed:
                writes.members_changed.append(member)
                writes.member_fields |= set(changed)
                report.members_updated.append((plan.row, group.number, [LABELS[k] for k in changed]))
            else:
                report.members_unchanged += 1
        if len(heads) != 1 and not unknown:
            if not heads:
                reason = f"户编号 {group.number} 没有户主：每户必须有且只有一位户主"
            else:
                names = "、".join(h.name if isinstance(h, Member) else h.member.get("name", "") for h in heads)
                reason = f"户编号 {group.number} 有{len(heads)}位户主（{names}）：每户必须有且只有一位户主"
            report.problems.append(Problem(first, col["relationship"], reason))


class _Rollback(Exception):
    pass


def registry_import(*, actor, path: str, file_name: str = "", dry_run: bool = False) -> RegistryImportReport:
    """Read the household ledger at `path` and create or update its households and members (or, with
    `dry_run`, only report what the import would do) as `actor`, a system administrator. Raises
    PermissionDenied for anyone else, FileProblem / ApplicationError for a file that cannot be read as a
    whole; a file with refused rows returns its report with nothing written."""
    accounts.ensure_account_administrator(actor)
    file_name = file_name or Path(path).name
    report = RegistryImportReport(file_name=file_name, dry_run=dry_run)
    table = _open(path, file_name)
    layout = table.layout
    report.file_format, report.encoding = table.file_format, table.encoding
    report.header_row, report.header_rows = layout.header_index + 1, layout.header_rows
    report.title_rows = layout.title_rows
    report.columns = {key: layout.names[at] for key, at in layout.mapping.items()}
    report.columns_ignored = list(layout.unmapped)
    col = {c.key: report.columns.get(c.key) or c.label for c in SOURCE.columns}
    plans = _read(table, report, _Divisions(actor.jurisdiction_prefix), col)
    groups = _group(plans, report, col)
    reason = f"导入：{file_name}"[:REASON_MAX]
    writes = _Writes()
    try:
        with transaction.atomic():
            _plan(groups, report, actor, col, writes, lock=not dry_run)
            report.problems.sort(key=lambda p: p.row)
            if dry_run or report.refused or not report.changed:
                return report
            now = clock.now()
            history = {"default_user": actor, "default_change_reason": reason, "default_date": now}
            if writes.households_new:
                bulk_create_with_history(writes.households_new, Household, batch_size=2000, **history)
                if any(h.pk is None for h in writes.households_new):  # a database that returns no keys
                    created = {h.number: h for h in Household.objects.filter(number__in=report.households_new)}
                    for member in writes.members_new:
                        member.household = created.get(member.household.number, member.household)
            if writes.households_changed:
                for household in writes.households_changed:
                    household.version += 1
                    household.updated_at = now
                fields = [*sorted(writes.household_fields), "version", "updated_at"]
                bulk_update_with_history(writes.households_changed, Household, fields, batch_size=2000, **history)
            if writes.members_new:
                bulk_create_with_history(writes.members_new, Member, batch_size=2000, **history)
            if writes.members_changed:
                for member in writes.members_changed:
                    member.updated_at = now
                fields = [*sorted(writes.member_fields), "updated_at"]
                bulk_update_with_history(writes.members_changed, Member, fields, batch_size=2000, **history)
            report.written = True
    except IntegrityError:
        raise ApplicationError(
            "导入时另一次操作同时登记了相同的户编号或身份证号，本次未写入任何数据，请重新导入。"
        ) from None
    finally:
        _log_outside(writes, actor)
    return report


def _log_outside(writes: _Writes, actor) -> None:
    """After the import's transaction (also when it was refused, or a dry run), as
    households.services._logs_outside_duplicates records a refused registration of another county's
    person: for that household's county to see."""
    if not writes.outside_holders:
        return
    now = clock.now()
    SensitiveAccess.objects.bulk_create(
        SensitiveAccess(user=actor, household=h, at=now, via=DUPLICATE_VIA, reason="导入他人辖区已登记的身份证号")
        for h in writes.outside_holders.values()
    )
