"""Division loader (区划代码导入, issue #15 point 1): a county's or a province's division tree from the
published 统计用区划代码 list.

Files accepted: a CSV/TXT (comma- or tab-separated; UTF-8 with or without BOM, GBK, GB18030) or an
XLSX (first sheet) of `code, name` lines — the 国家统计局 shape too: a title row
(`2023年统计用区划代码`), a header row (`统计用区划代码 / 城乡分类代码 / 名称`, or `代码 / 名称`, `code /
name` …), extra columns that are ignored (城乡分类代码), blank and footer rows (合计、说明), or no header
at all (the code column is the one holding 12-digit codes, the name the first other text cell). Codes
are normalised as typed or pasted: full-width digits, spaces, dashes and invisible marks removed, an
Excel text mark `'` dropped.

The rules (what "a code is never re-used for another place" means in practice):

- The level and the parent come from the code alone: PP CC DD TTT VVV, the deepest non-zero segment is
  the level (省 2 digits + zeros, 市 4, 县 6, 乡镇 9, 村 12) and the parent is the code cut to the
  level above. A zero segment above a non-zero one (e.g. a township directly under a city without
  counties, 东莞/中山's 4419 00 003 000) is refused: fpr's tree has all five levels.
- A code that exists keeps its place: same level, same parent. A file whose row would give an existing
  code another level or parent is refused (row and both places named) — never "moved".
- A code that exists with another name is a renaming of the same place: the new name is written and the
  division's history (django-simple-history) records it with the reason "区划代码导入：<file name>";
  so does every new division. Codes missing from the file are never deleted or changed (a county file
  does not list the other counties; users and households point at abolished codes too).
- The same code twice with the same name is one division (the repeat is reported and ignored); the
  same code with two names refuses every row of that code, naming the rows.
- A new division's parent must be in the database or accepted in the same file; otherwise the row is
  refused. A row refused makes its children refused too.
- Scope: an operator (superuser, or the command without --as) loads anything; an active system
  administrator (系统管理员) only codes inside their own division's subtree. The rows above it (the
  province, city and county rows a county's list starts with) are accepted when they match the
  database exactly (counted unchanged) and refused when they would create or rename anything.
- All or nothing: the plan (rows read, new, renamed, unchanged, repeated, refused with the reason) is
  made before anything is written; a dry run stops there; a real load writes in one transaction, and
  writes nothing when any row is refused. Loading the same file again changes nothing (0 changed).
"""

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from fpr.errors import ApplicationError
from fpr.roles import PREFIX_LENGTH, Level
from households.accounts import is_account_administrator
from households.models import Division
from monitoring.screening import comparison, tables
from monitoring.screening.comparison import FileProblem
from monitoring.screening.departments import Column, GradeRule, Source
from workflow.onboarding.report import file_line, state_line

__all__ = ["DivisionImportReport", "FileProblem", "division_code_problem", "divisions_load", "level_of_code"]

MAX_ROWS = 1_000_000  # the whole country has about 700,000 divisions
NAME_MAX = Division._meta.get_field("name").max_length
CHUNK = 5000

# The file's columns, recognised by the table-reading layer's header detection (monitoring.tables).
CODE = Column(
    "code",
    "统计用区划代码",
    required=True,
    aliases=(
        "区划代码",
        "行政区划代码",
        "统计区划代码",
        "区划编码",
        "区划编号",
        "代码",
        "编码",
        "code",
        "Code",
        "CODE",
    ),
)
NAME = Column(
    "name",
    "名称",
    required=True,
    aliases=("区划名称", "行政区划名称", "单位名称", "地名", "名字", "name", "Name", "NAME"),
)
URBAN_RURAL = Column("urban_rural", "城乡分类代码", aliases=("城乡分类", "城乡属性", "城乡分类码", "城乡代码"))
SOURCE = Source(
    department="",
    kind="division_codes",
    kind_label="统计用区划代码",
    description="国家统计局统计用区划代码和城乡划分代码",
    columns=(CODE, NAME, URBAN_RURAL),
    grade=GradeRule(default=""),
)

# (level, first digit, end) of each segment of the 12-digit code.
SEGMENTS = [
    (Level.PROVINCE, 0, 2),
    (Level.CITY, 2, 4),
    (Level.COUNTY, 4, 6),
    (Level.TOWNSHIP, 6, 9),
    (Level.VILLAGE, 9, 12),
]
LEVEL_WORD = {level: f"{level.label}级" for level in Level}

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u00ad\u200b-\u200f\u2060\ufeff'‘’`]+")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")
_EXCEL_NUMBER = re.compile(r"^\d(\.\d+)?E\+?\d+$", re.IGNORECASE)
_TRAILING_ZERO_DECIMAL = re.compile(r"^(\d{12})\.0+$")


# --------------------------------------------------------------------------- codes


def normal_code(value) -> str:
    text = tables.cell_text(value)
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if match := _TRAILING_ZERO_DECIMAL.match(code):
        code = match[1]
    return code


def level_of_code(code: str) -> tuple[int | None, str]:
    """(level, "") of a 12-digit code, or (None, the reason in Chinese)."""
    deepest = None
    for level, start, end in SEGMENTS:
        if code[start:end].strip("0"):
            deepest = level
    if deepest is None:
        return None, "区划代码不能全为0"
    for level, start, end in SEGMENTS:
        if level >= deepest:
            break
        if not code[start:end].strip("0"):
            return None, (
                f"区划代码第{start + 1}-{end}位（{LEVEL_WORD[level]}）为0，而其后的位不为0：层级不连续"
                "（如不设区的地级市直接下设乡镇），fpr 的区划须逐级设置省、市、县、乡镇、村"
            )
    return deepest, ""


def parent_of_code(code: str, level: int) -> str | None:
    if level == Level.PROVINCE:
        return None
    return code[: PREFIX_LENGTH[Level(level - 1)]].ljust(12, "0")


def division_code_problem(text: str, code: str) -> str:
    """The reason a normalised code cell is refused, or ""."""
    shown = text.strip()[:30]
    if not code:
        return "区划代码为空"
    if _EXCEL_NUMBER.match(code):
        return f"区划代码被保存为科学计数法数字（“{shown}”），末几位已丢失；请把该列设为“文本”格式后重新导出"
    if not (code.isascii() and code.isdigit()):
        return f"区划代码只能由数字组成（“{shown}”）"
    if len(code) != 12:
        return f"区划代码应为12位数字，当前为{len(code)}位（“{shown}”）"
    return level_of_code(code)[1]


def _clean_name(value) -> str:
    return _INVISIBLE.sub("", tables.cell_text(value)).strip()


# --------------------------------------------------------------------------- the report


@dataclass
class Refused:
    row: int
    code: str  # as normalised (or as written when it cannot be)
    name: str
    reason: str


@dataclass
class Planned:
    row: int
    code: str
    name: str
    level: int
    parent: str | None
    old_name: str = ""


@dataclass
class DivisionImportReport:
    file_name: str
    dry_run: bool
    file_format: str = ""
    encoding: str = ""
    header_row: int = 0  # 0: no header row (columns found from the codes)
    columns: dict[str, str] = field(default_factory=dict)  # key → the file's column name
    columns_ignored: list[str] = field(default_factory=list)
    title_rows: int = 0
    rows_read: int = 0
    skipped: int = 0  # blank, footer rows
    repeated: list[tuple[int, int, str]] = field(default_factory=list)  # (row, first row, code)
    new: list[Planned] = field(default_factory=list)
    renamed: list[Planned] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[Refused] = field(default_factory=list)
    written: bool = False

    @property
    def refused(self) -> bool:
        return bool(self.rejected)

    @property
    def changed(self) -> int:
        """Divisions written: created or renamed (0 for a dry run or a refused file)."""
        return len(self.new) + len(self.renamed) if self.written else 0

    def new_by_level(self) -> dict[int, int]:
        return dict(sorted(Counter(p.level for p in self.new).items()))

    def lines(self, *, all_new: bool = False, new_shown: int = 20) -> list[str]:
        """The report in Chinese, as the command prints it."""
        out = [
            state_line(
                "区划代码导入",
                self.file_name,
                refused_rows=(len(self.rejected) or 1) if self.refused else 0,
                dry_run=self.dry_run,
                written=self.written,
                same="与系统一致，无需变更",
            ),
            file_line(self, header="" if self.header_row else "没有列名行（按12位代码识别代码列和名称列）"),
        ]
        out.append(
            f"读取数据行 {self.rows_read} 行；跳过空行及合计、说明行 {self.skipped} 行；"
            f"重复行 {len(self.repeated)} 行（与前面的行完全相同，已忽略）"
        )
        by_level = "、".join(f"{Level(level).label}{n}" for level, n in self.new_by_level().items())
        will = "" if self.written else "将"  # a plan only: nothing was written
        out.append(f"{will}新增 {len(self.new)} 个" + (f"（{by_level}）" if by_level else ""))
        shown = self.new if all_new else self.new[:new_shown]
        out += [f"  第{p.row}行 {p.code} {p.name}（{Level(p.level).label}）" for p in shown]
        if len(shown) < len(self.new):
            out.append(f"  ……另有 {len(self.new) - len(shown)} 个（加 -v 2 列出全部）")
        out.append(f"{will}更名 {len(self.renamed)} 个")
        out += [f"  第{p.row}行 {p.code} {p.old_name} → {p.name}" for p in self.renamed]
        out.append(f"未变 {self.unchanged} 个")
        out += [f"  第{row}行 {code} 与第{first}行重复，已忽略" for row, first, code in self.repeated[:new_shown]]
        out.append(f"拒绝 {len(self.rejected)} 行")
        out += [f"  第{r.row}行 {r.code or '（无代码）'} {r.name}：{r.reason}" for r in self.rejected]
        out.append(f"变更合计：{self.changed} 个")
        return out


# --------------------------------------------------------------------------- reading the file


@dataclass
class _Table:
    file_format: str
    encoding: str
    code_at: int
    name_at: int
    header_row: int
    columns: dict[str, str]
    ignored: list[str]
    title_rows: int
    rows: Iterator[tuple[int, Sequence]]  # (spreadsheet row number, cells)


def _split_tabs(row: Sequence) -> Sequence:
    """A tab-separated line read as one cell: the reading layer picks the CSV dialect from the first
    line only, so a pasted list whose first line is a title (no tab, no comma) is read comma-separated."""
    if len(row) == 1 and isinstance(row[0], str) and "\t" in row[0]:
        return row[0].split("\t")
    return row


def _open(path: str, name: str) -> _Table:
    file_format, encoding, first, rest = comparison.read_rows(path, name)
    if file_format == "csv":
        first, rest = _split_tabs(first), map(_split_tabs, rest)
    head = [first, *itertools.islice(rest, tables.HEADER_SCAN_ROWS - 1)]
    layout = tables.detect_header(head, SOURCE)
    if layout.found:
        code_at, name_at = layout.mapping["code"], layout.mapping["name"]
        start = layout.header_index + 1
        columns = {key: layout.names[at] for key, at in layout.mapping.items() if key != "urban_rural"}
        ignored = [n for i, n in enumerate(layout.names) if n and i not in (code_at, name_at)]
        header_row, title_rows = layout.header_index + 1, layout.title_rows
    else:
        code_at, name_at, start = _headerless(tables.header_texts(head))
        columns, ignored, header_row = {}, [], 0
        title_rows = sum(1 for row in head[:start] if any(tables.cell_text(v) for v in row))
    data = itertools.chain(head[start:], rest)
    numbered = ((start + 1 + i, row) for i, row in enumerate(data))
    return _Table(file_format, encoding, code_at, name_at, header_row, columns, ignored, title_rows, numbered)


def _headerless(texts: list[list[str]]) -> tuple[int, int, int]:
    """(code column, name column, first data row index) of a file without a header: the first row with
    a valid 12-digit code; the name is the first other cell that is not a number (城乡分类代码 is)."""
    for i, cells in enumerate(texts):
        for j, text in enumerate(cells):
            code = normal_code(text)
            if division_code_problem(text, code):
                continue
            for k, other in enumerate(cells):
                if k != j and other and not normal_code(other).isdigit():
                    return j, k, i
    raise FileProblem(
        f"没有找到区划代码和名称两列：前{len(texts)}行中既没有“统计用区划代码”“名称”（或“代码”“名称”）这样的列名，"
        "也没有“12位代码、名称”这样的数据行。请确认文件是统计用区划代码表。"
    )


def _cell(row: Sequence, at: int):
    return row[at] if at < len(row) else None


def _name_cell(row: Sequence, code_at: int):
    """Without a header, each row's name is its first cell after the code that is not a number (a
    pasted list mixes township lines, `code name`, with village lines, `code 城乡分类代码 name`)."""
    for k, value in enumerate(row):
        if k != code_at and (text := tables.cell_text(value)) and not normal_code(text).isdigit():
            return value
    return None


# --------------------------------------------------------------------------- the plan


def _scope(actor) -> str:
    """The code prefix `actor` may load ("" = everything), or PermissionDenied."""
    if actor is None or actor.is_superuser:
        return ""
    if not is_account_administrator(actor):
        raise PermissionDenied("只有系统管理员可以导入区划代码。")
    return actor.jurisdiction_prefix


def _read(table: _Table, report: DivisionImportReport) -> dict[str, Planned]:
    """Every data row checked on its own; the same code twice with different names refused."""
    seen: dict[str, list[Planned]] = {}
    for row_number, cells in table.rows:
        raw_code = _cell(cells, table.code_at)
        raw_name = _cell(cells, table.name_at) if table.header_row else _name_cell(cells, table.code_at)
        code_text, name = tables.cell_text(raw_code), _clean_name(raw_name)
        if not code_text and not name or (not code_text and tables.skipped_kind(cells)):
            report.skipped += 1
            continue
        code = normal_code(code_text)
        problem = division_code_problem(code_text, code)
        if problem and tables.skipped_kind(cells) == "footer":
            report.skipped += 1
            continue
        report.rows_read += 1
        if report.rows_read > MAX_ROWS:
            raise FileProblem(f"文件超过{MAX_ROWS}行数据，不像一个省的区划代码表，请分省导入。")
        if not problem and not name:
            problem = "名称为空"
        if not problem and len(name) > NAME_MAX:
            problem = f"名称超过{NAME_MAX}个字"
        if problem:
            report.rejected.append(Refused(row_number, code or code_text.strip()[:30], name[:NAME_MAX], problem))
            continue
        level, _ = level_of_code(code)
        seen.setdefault(code, []).append(Planned(row_number, code, name, level, parent_of_code(code, level)))
    planned: dict[str, Planned] = {}
    for code, rows in seen.items():
        names = {p.name for p in rows}
        if len(names) > 1:
            where = "、".join(f"第{p.row}行“{p.name}”" for p in rows)
            reason = f"同一代码在文件中出现了{len(rows)}次且名称不同：{where}；一个代码只能是一个地方"
            report.rejected += [Refused(p.row, code, p.name, reason) for p in rows]
            continue
        planned[code] = rows[0]
        report.repeated += [(p.row, rows[0].row, code) for p in rows[1:]]
    return planned


def _existing(codes: Iterable[str], *, lock: bool) -> dict[str, Division]:
    found: dict[str, Division] = {}
    codes = sorted(set(codes))
    for i in range(0, len(codes), CHUNK):
        query = Division.objects.filter(code__in=codes[i : i + CHUNK]).only("code", "name", "level", "parent_id")
        if lock:
            query = query.select_for_update()
        found.update((d.code, d) for d in query)
    return found


def _plan(planned: dict[str, Planned], report: DivisionImportReport, *, prefix: str, actor, lock: bool):
    """Each row against the database and the scope, parents before children. Returns the rows to rename
    as (division, new name)."""
    parents = {p.parent for p in planned.values() if p.parent}
    existing = _existing(set(planned) | parents, lock=lock)
    refused_rows: dict[str, int] = {}  # code → the first row refusing it
    for refusal in sorted(report.rejected, key=lambda r: r.row):
        refused_rows.setdefault(refusal.code, refusal.row)
    accepted: set[str] = set()
    renames: list[tuple[Division, str]] = []
    own = actor.division if prefix else None
    for p in sorted(planned.values(), key=lambda p: (p.level, p.code)):
        current = existing.get(p.code)
        same_place = current is None or (current.level == p.level and current.parent_id == p.parent)
        reason = ""
        if prefix and not p.code.startswith(prefix):
            above = own.code.startswith(p.code[: PREFIX_LENGTH[Level(p.level)]])
            if above and current is not None and same_place and current.name == p.name:
                report.unchanged += 1  # the province/city/county rows above the actor's own, as they are
                accepted.add(p.code)
                continue
            area = f"您只能导入{own.name}（{own.code}）辖区内的区划"
            what = "名称" if current is not None else "新增"
            reason = f"上级区划的{what}由上级管理员维护：{area}" if above else f"不在您的辖区内：{area}"
        elif not same_place:
            reason = (
                f"代码{p.code}在系统中是{LEVEL_WORD[current.level]}的“{current.name}”"
                f"（上级 {current.parent_id or '无'}），按代码应为{LEVEL_WORD[p.level]}、上级 {p.parent or '无'}："
                "区划代码不得改作他用，请联系系统运维人员核对"
            )
        elif current is None and p.parent is not None and p.parent not in accepted and p.parent not in existing:
            if p.parent in planned or p.parent in refused_rows:
                row = planned[p.parent].row if p.parent in planned else refused_rows[p.parent]
                reason = f"上级区划{p.parent}（第{row}行）未通过检查"
            else:
                reason = f"上级区划{p.parent}既不在本文件中，也不在系统中"
        if reason:
            report.rejected.append(Refused(p.row, p.code, p.name, reason))
            refused_rows[p.code] = p.row
            continue
        accepted.add(p.code)
        if current is None:
            report.new.append(p)
        elif current.name != p.name:
            p.old_name = current.name
            report.renamed.append(p)
            renames.append((current, p.name))
        else:
            report.unchanged += 1
    report.rejected.sort(key=lambda r: r.row)
    report.new.sort(key=lambda p: p.row)
    report.renamed.sort(key=lambda p: p.row)
    return renames


def divisions_load(*, actor, path: str, file_name: str = "", dry_run: bool = False) -> DivisionImportReport:
    """Read the 统计用区划代码 file at `path` and load it (or, with `dry_run`, only report what loading it
    would do). `actor` is the user the load runs as (None: the operator, from the command line). Raises
    PermissionDenied for a user who may not load divisions, FileProblem / ApplicationError for a file
    that cannot be read as a whole; a file with refused rows returns its report with nothing written."""
    prefix = _scope(actor)
    file_name = file_name or Path(path).name
    report = DivisionImportReport(file_name=file_name, dry_run=dry_run)
    table = _open(path, file_name)
    report.file_format, report.encoding = table.file_format, table.encoding
    report.header_row, report.columns, report.columns_ignored = table.header_row, table.columns, table.ignored
    report.title_rows = table.title_rows
    planned = _read(table, report)
    reason = f"区划代码导入：{file_name}"[:100]
    user = actor if actor is not None and actor.is_authenticated else None
    try:
        with transaction.atomic():
            renames = _plan(planned, report, prefix=prefix, actor=actor, lock=not dry_run)
            if dry_run or report.refused or not (report.new or renames):
                return report
            new = [Division(code=p.code, name=p.name, level=p.level, parent_id=p.parent) for p in report.new]
            for division in new:
                division.full_clean(validate_unique=False, exclude=["parent"])
            bulk_create_with_history(new, Division, batch_size=CHUNK, default_user=user, default_change_reason=reason)
            for division, name in renames:
                division.name = name
            bulk_update_with_history(
                [d for d, _ in renames],
                Division,
                ["name"],
                batch_size=CHUNK,
                default_user=user,
                default_change_reason=reason,
            )
            report.written = True
    except IntegrityError:
        raise ApplicationError("另一次区划导入同时写入了相同的代码，本次未写入任何数据，请稍后重新导入。") from None
    return report
