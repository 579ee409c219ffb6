"""The existing-monitoring-objects import (监测对象（原系统）导入, issue #15 point 3): a county's current
监测对象 list, from the national system's export or its own Excel ledger, made into fpr's cases — so the
elimination review (七个不消), the data-quality checks, the queues and the statistics see them as they see
cases identified here.

The rules:

- Who: an active system administrator, for households inside their own subtree only.
- One row per monitoring object. The household is found by 户编号 and/or 户主身份证号 (any member's ID
  number finds its household; both given must name the same household); it must be registered already
  (the registry import, workflow.onboarding.registry). An optional 所属村 is checked against it.
- Columns: 监测对象类型 (脱贫不稳定户 / 边缘易致贫户 / 突发严重困难户, and their short wordings), 风险类型 (one or
  several in one cell: `因病、因残`), 识别时间 (纳入时间; `2025-03-01`, `2025/3/1`, `2025年3月1日`, an Excel date
  cell) are required; optional 当前状态 (监测中 / 风险消除) with 风险消除时间, 风险等级 (颜色), 困难情况描述,
  帮扶措施 (each item `、；` separated becomes a measure, its category by keyword) and 帮扶责任人 (a name: the
  user of the household's village or township with that name becomes the pairing cadre, else kept as a
  name).
- Each row becomes a case created directly in stage 监测中 or 风险消除 (no walk through the identification
  steps), with the file's 识别时间 / 风险消除时间, channel 原系统导入, and one timeline entry (由原系统导入, naming
  the file and the row); history rows by the importer with the reason `由原系统导入：<file>`.
- A household with an open case is refused, unless that case came from an import with the same type and
  识别时间: then the row is the same import and nothing changes (a re-run of the file changes nothing).
- All or nothing: every row is checked first (row, column, the reason in Chinese); a dry run stops there;
  an import writes in one transaction, nothing when any row is refused.
"""

import datetime as dt
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from assistance.models import AssistancePlan, Measure, MeasureCategory, MeasureStatus
from fpr import clock
from fpr.errors import ApplicationError
from households import accounts
from households.models import Household, Member, User
from monitoring.models import CaseType, Channel, MonitoringCase, RiskCategory, RiskColour, Stage
from monitoring.screening import comparison, tables
from monitoring.screening.comparison import FileProblem
from monitoring.screening.departments import ID, Column, GradeRule, Source
from workflow.models import TransitionEvent
from workflow.onboarding import registry
from workflow.onboarding.report import Problem, file_line, state_line
from workflow.onboarding.users import _Divisions, clean_name

__all__ = ["CaseImportReport", "FileProblem", "cases_import"]

TRANSITION, LABEL, FROM = "imported", "由原系统导入", "原系统"
MAX_ROWS = 100_000
REASON_MAX = 100

NUMBER = Column("number", "户编号", aliases=registry.NUMBER.aliases)
ID_NUMBER = Column(
    "id_number",
    "户主身份证号",
    aliases=("户主身份证号码", "户主公民身份号码", "户主证件号码", *ID.headers, "身份证号码（证件号码）"),
)
CASE_TYPE = Column(
    "case_type", "监测对象类型", required=True, aliases=("监测类型", "对象类型", "监测户类型", "监测对象类别", "类型")
)
RISKS = Column(
    "risks",
    "风险类型",
    required=True,
    aliases=(
        "致贫返贫风险",
        "返贫致贫风险",
        "风险类别",
        "主要风险",
        "致贫原因",
        "返贫风险类型",
        "风险",
        "主要风险类型",
    ),
)
IDENTIFIED = Column(
    "identified_on",
    "识别时间",
    required=True,
    aliases=("纳入时间", "识别纳入时间", "纳入监测时间", "识别日期", "纳入日期", "识别纳入日期", "纳入监测日期"),
)
STATUS = Column("status", "当前状态", aliases=("监测状态", "状态", "风险消除状态", "是否风险消除", "风险状态"))
ELIMINATED = Column(
    "eliminated_on", "风险消除时间", aliases=("风险消除日期", "消除时间", "消除日期", "风险消除年月", "消除风险时间")
)
COLOUR = Column("colour", "风险等级", aliases=("颜色", "风险颜色", "预警等级", "风险等级（颜色）", "预警颜色"))
DESCRIPTION = Column("description", "困难情况描述", aliases=("困难情况", "风险描述", "致贫返贫风险描述", "情况说明"))
MEASURES = Column(
    "measures", "帮扶措施", aliases=("落实帮扶措施", "已落实帮扶措施", "帮扶措施情况", "帮扶情况", "落实措施")
)
CADRE = Column(
    "cadre", "帮扶责任人", aliases=("结对帮扶干部", "帮扶干部", "帮扶联系人", "帮扶人", "结对帮扶人", "帮扶责任人姓名")
)
SOURCE = Source(
    department="",
    kind="cases",
    kind_label="监测对象（原系统）",
    description="县里现有的监测对象名单：每个监测对象一行",
    columns=(
        NUMBER,
        ID_NUMBER,
        registry.VILLAGE,
        registry.TOWNSHIP,
        CASE_TYPE,
        RISKS,
        IDENTIFIED,
        STATUS,
        ELIMINATED,
        COLOUR,
        DESCRIPTION,
        MEASURES,
        CADRE,
    ),
    grade=GradeRule(default=""),
)
LABELS = {c.key: c.label for c in SOURCE.columns}


def _fold(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", unicodedata.normalize("NFKC", text))


CASE_TYPE_WORDS = {
    **{_fold(label): str(code) for code, label in CaseType.choices},
    **dict.fromkeys(("脱贫不稳定", "不稳定户", "脱贫不稳定户（监测户）", "脱贫户不稳定户"), CaseType.UNSTABLE_LIFTED),
    **dict.fromkeys(("边缘易致贫", "边缘户", "边缘易致贫人口", "边缘致贫户"), CaseType.MARGINAL),
    **dict.fromkeys(("突发严重困难", "突发困难户", "严重困难户", "突发严重困难户（监测户）"), CaseType.SUDDEN_HARDSHIP),
}
RISK_ALIASES = {
    "因意外": "accident",
    "意外事故": "accident",
    "务工就业不稳": "unstable_employment",
    "就业不稳": "unstable_employment",
    "因务工就业不稳定": "unstable_employment",
    "产业项目失败": "industry_failure",
    "因产业失败": "industry_failure",
    "缺劳力": "lack_of_labour",
    "缺乏劳动力": "lack_of_labour",
    "因缺劳动力": "lack_of_labour",
    "住房": "housing",
    "住房安全问题": "housing",
    "饮水": "drinking_water",
    "饮水安全问题": "drinking_water",
    "疫情": "epidemic",
    "其它": "other",
}
_SPLIT = re.compile(r"[、，,;；/\s]+")
_ITEMS = re.compile(r"[；;\n、]+|\d+[.、)）]")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
MONITORING_WORDS = {"监测中", "正在监测", "未消除", "风险未消除", "未消除风险", "否", "在监测", "监测"}
ELIMINATED_WORDS = {"风险消除", "已消除", "已消除风险", "风险已消除", "是", "消除", "已风险消除"}
COLOUR_WORDS = {
    **{_fold(label): str(code) for code, label in RiskColour.choices},
    **{_fold(label).removesuffix("色"): str(code) for code, label in RiskColour.choices},
    **{str(code): str(code) for code in RiskColour.values},
}
# The measure category of an item, by the first keyword found in it (assistance.reference codes).
MEASURE_KEYWORDS = (
    ("public_job", ("公益性岗位", "公益岗", "护林员", "保洁员", "生态护林")),
    ("microcredit", ("小额信贷", "贷款", "信贷")),
    ("social_security", ("低保", "特困", "临时救助", "兜底", "救助", "五保")),
    ("education", ("教育", "雨露计划", "助学", "资助", "学费")),
    ("health", ("医疗", "医保", "健康", "家庭医生", "大病", "慢病", "报销")),
    ("disability", ("残疾", "残疾人", "两项补贴")),
    ("housing", ("危房", "住房", "改造")),
    ("water", ("饮水", "水窖", "供水")),
    ("employment", ("务工", "就业", "转移", "技能培训", "培训", "车间")),
    ("industry", ("产业", "种植", "养殖", "奖补", "分红", "合作社")),
    ("support_agreement", ("赡养",)),
    ("motivation", ("扶志", "扶智")),
    ("social", ("社会帮扶", "东西部协作", "结对", "慰问")),
)
MEASURE_RISK = {
    "health": "illness",
    "education": "schooling",
    "disability": "disability",
    "housing": "housing",
    "water": "drinking_water",
    "employment": "unstable_employment",
    "public_job": "unstable_employment",
    "industry": "industry_failure",
}


def case_date(value) -> tuple[dt.date | None, str]:
    """A date as the ledgers write it: an Excel date cell, `2025-03-01`, `2025/3/1`, `2025.3.1`,
    `2025年3月1日`, `20250301`."""
    if isinstance(value, dt.datetime):
        return value.date(), ""
    if isinstance(value, dt.date):
        return value, ""
    text = _fold(tables.cell_text(value))
    text = re.sub(r"(T|\s)?00:00(:00)?$", "", text)
    match = _DATE.match(text) or _DATE_DIGITS.match(text)
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])), ""  # type: ignore[index]
    except (TypeError, ValueError):
        return None, f"应为日期（如 2025-03-01、2025/3/1、2025年3月1日），当前为“{text[:20]}”"


def risk_codes(text: str, names: dict[str, str]) -> tuple[list[str], list[str]]:
    """(the codes, the words not understood) of `因病、因残`."""
    codes: list[str] = []
    unknown: list[str] = []
    for word in filter(None, map(_fold, _SPLIT.split(unicodedata.normalize("NFKC", text)))):
        code = names.get(word) or names.get(f"因{word}") or RISK_ALIASES.get(word)
        if code is None:
            unknown.append(word)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


def measure_category(text: str) -> str:
    return next((code for code, words in MEASURE_KEYWORDS if any(w in text for w in words)), "other")


# --------------------------------------------------------------------------- the report


@dataclass
class RowPlan:
    row: int
    household: Household | None = None
    case_type: str = ""
    risks: list[str] = field(default_factory=list)
    identified_on: dt.date | None = None
    eliminated_on: dt.date | None = None
    colour: str = ""
    description: str = ""
    measures: list[str] = field(default_factory=list)
    cadre: User | None = None
    cadre_name: str = ""

    @property
    def stage(self) -> str:
        return Stage.ELIMINATED if self.eliminated_on else Stage.MONITORING


@dataclass
class CaseImportReport:
    file_name: str
    dry_run: bool
    file_format: str = ""
    encoding: str = ""
    header_row: int = 0
    header_rows: int = 1
    columns: dict[str, str] = field(default_factory=dict)
    columns_ignored: list[str] = field(default_factory=list)
    title_rows: int = 0
    rows_read: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    new: list[RowPlan] = field(default_factory=list)
    unchanged: int = 0
    written: bool = False

    @property
    def refused(self) -> bool:
        return bool(self.problems)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems})

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "cases_created": len(self.new),
            "monitoring": sum(p.stage == Stage.MONITORING for p in self.new),
            "eliminated": sum(p.stage == Stage.ELIMINATED for p in self.new),
            "measures_created": sum(len(p.measures) for p in self.new),
            "unchanged": self.unchanged,
            "rejected": len(self.rejected_rows),
        }

    def lines(self) -> list[str]:
        counts = self.counts()
        will = "将" if self.dry_run or self.refused else ""
        out = [
            state_line(
                "监测对象（原系统）导入",
                self.file_name,
                refused_rows=(len(self.rejected_rows) or 1) if self.refused else 0,
                dry_run=self.dry_run,
                written=self.written,
                same="均已导入，未作修改",
            ),
            file_line(self),
            f"读取数据行 {self.rows_read} 行；跳过空行及合计、说明行 {self.skipped} 行",
        ]
        if self.refused:
            out.append("通过检查的行：")
        out.append(
            f"监测对象：{will}新增 {counts['cases_created']} 户（监测中 {counts['monitoring']} 户，"
            f"风险消除 {counts['eliminated']} 户），{will}录入帮扶措施 {counts['measures_created']} 条；"
            f"已导入未变 {self.unchanged} 户"
        )
        out.append(f"拒绝 {len(self.rejected_rows)} 行（问题 {len(self.problems)} 个）")
        out += [f"  第{p.row}行 “{p.column}”：{p.reason}" for p in self.problems]
        return out


# --------------------------------------------------------------------------- reading


def _open(path: str, name: str) -> registry._Table:
    file_format, encoding, first, rest = comparison.read_rows(path, name)
    if file_format == "csv":
        first, rest = registry._split_tabs(first), map(registry._split_tabs, rest)
    head = [first, *itertools.islice(rest, tables.HEADER_SCAN_ROWS - 1)]
    layout = tables.detect_header(head, SOURCE)
    if not layout.found:
        wanted = "、".join(f"“{c.label}”" for c in SOURCE.required_columns)
        raise FileProblem(
            f"没有找到列名行：前{min(len(head), tables.HEADER_SCAN_ROWS)}行中没有一行（或合并的两行表头）同时含有"
            f"{wanted}这几列（也认“纳入时间”“致贫返贫风险”“监测类型”等常用列名）。请确认文件是监测对象名单。"
        )
    if "number" not in layout.mapping and "id_number" not in layout.mapping:
        raise FileProblem("文件中没有“户编号”或“户主身份证号”列：至少要有一列用来找到农户。")
    data = itertools.chain(head[layout.header_index + 1 :], rest)
    numbered = ((layout.header_index + 2 + i, row) for i, row in enumerate(data))
    return registry._Table(file_format, encoding, layout, numbered)


class _Finder:
    """The importer's households, by 户编号 and by a member's ID number, and the cadres who may be named
    帮扶责任人 — loaded for the whole file in a few queries (never one per row). Nothing outside the subtree
    is found (no oracle for another county's households)."""

    CHUNK = 5000

    def __init__(self, prefix: str, numbers: set[str], ids: set[str], names: set[str]):
        self.prefix = prefix
        self.numbers: dict[str, Household] = {}
        self.ids: dict[str, Household] = {}
        households = Household.objects.filter(village__code__startswith=prefix).select_related("village")
        listed = sorted(numbers)
        for start in range(0, len(listed), self.CHUNK):
            chunk = households.filter(number__in=listed[start : start + self.CHUNK])
            self.numbers.update((h.number, h) for h in chunk)
        listed = sorted(ids)
        members = Member.objects.filter(household__village__code__startswith=prefix).select_related(
            "household__village"
        )
        for start in range(0, len(listed), self.CHUNK):
            chunk = members.filter(id_number__in=listed[start : start + self.CHUNK])
            self.ids.update((m.id_number, m.household) for m in chunk)
        self.cadres: dict[str, list[User]] = {}
        users = User.objects.filter(is_active=True, full_name__in=sorted(names), division__code__startswith=prefix)
        for user in users.order_by("pk"):
            self.cadres.setdefault(user.full_name, []).append(user)

    def by_number(self, number: str) -> Household | None:
        return self.numbers.get(number)

    def by_id(self, id_number: str) -> Household | None:
        return self.ids.get(id_number)

    def cadre(self, name: str, household: Household) -> tuple[User | None, str]:
        """The user of the household's village or township with that name; none (kept as a name) when
        there is none; refused when there are several."""
        where = {household.village_id, household.village.parent_id}
        users = [u for u in self.cadres.get(name, []) if u.division_id in where]
        if len(users) > 1:
            return None, f"本村和乡镇有{len(users)}个叫“{name}”的账号，请在系统中指定结对帮扶干部"
        return (users[0] if users else None), ""


def _keys(rows: list[tuple[int, list]], mapping: dict) -> tuple[set[str], set[str], set[str]]:
    """The 户编号, ID numbers and cadre names of the file, to load their rows at once."""
    numbers: set[str] = set()
    ids: set[str] = set()
    names: set[str] = set()
    for _, cells in rows:

        def value(key, cells=cells):
            at = mapping.get(key)
            return cells[at] if at is not None and at < len(cells) else None

        if number := registry.household_number(value("number"))[0]:
            numbers.add(number)
        if found := registry.id_number(value("id_number"))[0]:
            ids.add(found)
        if name := clean_name(value("cadre"))[:32]:
            names.add(name)
    return numbers, ids, names


def _read(table, report: CaseImportReport, actor, col: dict) -> list[RowPlan]:
    mapping = table.layout.mapping
    divisions = _Divisions(actor.jurisdiction_prefix)
    rows = list(itertools.islice(table.rows, MAX_ROWS + 1))
    if len(rows) > MAX_ROWS:
        raise FileProblem(f"文件超过{MAX_ROWS}行，请按乡镇分开导入。")
    finder = _Finder(actor.jurisdiction_prefix, *_keys(rows, mapping))
    risk_names = {_fold(c.name): c.code for c in RiskCategory.objects.all()}
    today = clock.today()
    plans: list[RowPlan] = []
    seen: dict[int, int] = {}  # household pk → first row

    for row_number, cells in rows:
        values = {key: cells[at] if at < len(cells) else None for key, at in mapping.items()}
        raw = {key: tables.cell_text(v) for key, v in values.items()}
        if not any(raw.values()):
            report.skipped += 1
            continue
        problems: list[Problem] = []

        def refuse(key, reason, problems=problems, row_number=row_number):
            problems.append(Problem(row_number, col[key], reason))

        plan = RowPlan(row_number)
        by_number = by_id = None
        number = id_number = ""
        if raw.get("number"):
            number, reason = registry.household_number(values["number"])
            if reason:
                refuse("number", reason)
            elif (by_number := finder.by_number(number)) is None:
                refuse("number", f"辖区内没有户编号为 {number} 的农户（请先导入农户和家庭成员）")
        if raw.get("id_number"):
            id_number, reason = registry.id_number(values["id_number"])
            if reason:
                refuse("id_number", reason)
            elif (by_id := finder.by_id(id_number)) is None:
                refuse("id_number", "辖区内没有登记该身份证号的农户成员（请先导入农户和家庭成员）")
        if not number and not id_number and not problems:
            refuse("number" if "number" in mapping else "id_number", "户编号和户主身份证号都为空，找不到农户")
        if by_number and by_id and by_number.pk != by_id.pk:
            refuse("id_number", f"该身份证号属于户编号 {by_id.number}，与本行的户编号 {number} 不是同一户")
        plan.household = by_number or by_id
        if plan.household is not None and raw.get("village"):
            township = None
            if raw.get("township"):
                township, _ = divisions.find(raw["township"])
            village, reason = divisions.find(raw["village"], within=[township] if township else None)
            if reason:
                refuse("village", reason)
            elif village is not None and village.code != plan.household.village_id:
                refuse("village", f"该户在系统中属于{plan.household.village.name}，文件中是{village.name}")
        if plan.household is not None and not problems:
            first = seen.setdefault(plan.household.pk, row_number)
            if first != row_number:
                refuse(
                    "number" if "number" in mapping else "id_number", f"与第{first}行是同一户：一户只能有一个监测对象"
                )

        code = CASE_TYPE_WORDS.get(_fold(raw.get("case_type", "")))
        if code is None:
            listed = "、".join(CaseType.labels)
            refuse("case_type", f"“{raw.get('case_type', '')[:30]}”不是可用的监测对象类型（可填：{listed}）")
        else:
            plan.case_type = code
        plan.risks, unknown = risk_codes(raw.get("risks", ""), risk_names)
        if unknown:
            listed = "、".join(risk_names)
            refuse("risks", f"“{'、'.join(unknown)[:30]}”不是可用的风险类型（可填：{listed}）")
        elif not plan.risks:
            refuse("risks", "风险类型为空：至少填写一个风险类型")

        identified, reason = case_date(values.get("identified_on"))
        if reason or identified is None:
            refuse("identified_on", f"识别时间{reason}" if reason else "识别时间为空")
        elif identified > today:
            refuse("identified_on", f"识别时间{identified:%Y-%m-%d}晚于今天")
        elif identified.year < 2020:
            refuse("identified_on", f"识别时间{identified:%Y-%m-%d}早于防返贫监测开始的2020年")
        else:
            plan.identified_on = identified
        status = _fold(raw.get("status", ""))
        eliminated = None
        if raw.get("eliminated_on"):
            eliminated, reason = case_date(values["eliminated_on"])
            if reason:
                refuse("eliminated_on", f"风险消除时间{reason}")
        if status and status not in MONITORING_WORDS | ELIMINATED_WORDS:
            refuse("status", f"“{raw['status'][:20]}”不是可用的当前状态（可填：监测中、风险消除）")
        elif status in MONITORING_WORDS and eliminated:
            refuse("eliminated_on", "当前状态为监测中，却填写了风险消除时间：请核对")
        elif status in ELIMINATED_WORDS and not eliminated and not raw.get("eliminated_on"):
            refuse("eliminated_on", "当前状态为风险消除，须填写风险消除时间")
        elif eliminated:
            if eliminated > today:
                refuse("eliminated_on", f"风险消除时间{eliminated:%Y-%m-%d}晚于今天")
            elif plan.identified_on and eliminated < plan.identified_on:
                refuse("eliminated_on", f"风险消除时间{eliminated:%Y-%m-%d}早于识别时间{plan.identified_on:%Y-%m-%d}")
            else:
                plan.eliminated_on = eliminated
        if raw.get("colour"):
            colour = COLOUR_WORDS.get(_fold(raw["colour"]))
            if colour is None:
                refuse("colour", f"“{raw['colour'][:20]}”不是可用的风险等级（可填：{'、'.join(RiskColour.labels)}）")
            else:
                plan.colour = colour
        plan.description = unicodedata.normalize("NFKC", raw.get("description", "")).strip()
        text = unicodedata.normalize("NFKC", raw.get("measures", "")).strip()
        plan.measures = [item.strip() for item in _ITEMS.split(text) if item and item.strip()]
        if raw.get("cadre") and plan.household is not None:
            plan.cadre_name = clean_name(values["cadre"])[:32]
            plan.cadre, reason = finder.cadre(plan.cadre_name, plan.household)
            if reason:
                refuse("cadre", reason)

        if problems and tables.skipped_kind(cells) == "footer":
            report.skipped += 1
            continue
        report.rows_read += 1
        report.problems += problems
        if not problems:
            plans.append(plan)
    return plans


def _check_open(plans: list[RowPlan], report: CaseImportReport, col: dict, *, lock: bool) -> list[RowPlan]:
    """The rows to create: a household's open case refuses its row, unless it is this same import."""
    households = [p.household.pk for p in plans if p.household is not None]
    opened = MonitoringCase.objects.open().filter(household_id__in=households)
    if lock:
        opened = opened.select_for_update()
    open_cases = {c.household_id: c for c in opened}
    imported = {
        e.case_id: e for e in TransitionEvent.objects.filter(case__in=list(open_cases.values()), transition=TRANSITION)
    }
    new: list[RowPlan] = []
    key = col.get("number") if "number" in report.columns else col.get("id_number")
    for plan in plans:
        assert plan.household is not None
        case = open_cases.get(plan.household.pk)
        if case is None:
            new.append(plan)
            continue
        event = imported.get(case.pk)
        if event is not None and case.case_type == plan.case_type and case.identified_on == plan.identified_on:
            report.unchanged += 1
            continue
        where = f"由原系统导入（{event.data.get('文件', '')}）" if event else f"“{case.get_stage_display()}”"
        reason = (
            f"户编号 {plan.household.number} 已有{where}的监测对象（{case.get_case_type_display()}），"
            "不能再导入一个：请核对，或在该户的案件页面办理"
        )
        report.problems.append(Problem(plan.row, key or "户编号", reason))
    return new


def _write(plans: list[RowPlan], actor, file_name: str) -> None:
    reason = f"由原系统导入：{file_name}"[:REASON_MAX]
    now = clock.now()
    categories = {c.code: c for c in MeasureCategory.objects.all()}
    risks = {c.code: c for c in RiskCategory.objects.all()}
    division = actor.division.name if actor.division_id else ""
    for plan in plans:
        household = plan.household
        assert household is not None and plan.identified_on is not None
        entered = plan.eliminated_on or plan.identified_on
        case = MonitoringCase(
            household=household,
            village_id=household.village_id,
            case_type=plan.case_type,
            colour=plan.colour,
            channel=Channel.IMPORTED,
            description=plan.description or f"由原系统导入（{file_name}第{plan.row}行）",
            stage=plan.stage,
            stage_entered_at=timezone.make_aware(dt.datetime.combine(entered, dt.time())),
            last_transition=TRANSITION,
            identified_on=plan.identified_on,
            eliminated_on=plan.eliminated_on,
            created_by=actor,
        )
        case._history_user = actor  # type: ignore[attr-defined]
        case._change_reason = reason  # type: ignore[attr-defined]
        case.save()
        case.risk_categories.set([risks[c] for c in plan.risks])
        state = f"风险消除（{plan.eliminated_on:%Y-%m-%d}）" if plan.eliminated_on else "监测中"
        TransitionEvent.objects.create(
            case=case,
            workflow="import",
            transition=TRANSITION,
            label=LABEL,
            from_stage=FROM,
            to_stage=plan.stage,
            actor=actor,
            actor_division=division,
            at=now,
            opinion=f"由原系统导入：{file_name}第{plan.row}行（{plan.identified_on:%Y-%m-%d}识别纳入，{state}）",
            data={"文件": file_name, "行号": str(plan.row)},
        )
        if not (plan.measures or plan.cadre_name):
            continue
        names = "、".join(risks[c].name for c in plan.risks)
        assistance = AssistancePlan(
            case=case,
            situation=f"由原系统导入（{file_name}第{plan.row}行）",
            risk_analysis=f"风险类型：{names}",
            needs="；".join(plan.measures) or "由原系统导入，待补充",
            pairing_cadre=plan.cadre,
            pairing_cadre_name="" if plan.cadre else plan.cadre_name,
        )
        assistance._history_user = actor  # type: ignore[attr-defined]
        assistance._change_reason = reason  # type: ignore[attr-defined]
        assistance.save()
        for item in plan.measures:
            category = measure_category(item)
            risk = MEASURE_RISK.get(category)
            measure = Measure(
                plan=assistance,
                category=categories[category],
                risk_category=risks[risk if risk in plan.risks else plan.risks[0]],
                description=item,
                starts_on=plan.identified_on,
                status=MeasureStatus.ACTIVE,
            )
            measure._history_user = actor  # type: ignore[attr-defined]
            measure._change_reason = reason  # type: ignore[attr-defined]
            measure.save()


def cases_import(*, actor, path: str, file_name: str = "", dry_run: bool = False) -> CaseImportReport:
    """Read the monitoring-object list at `path` and create its cases (or, with `dry_run`, only report
    what the import would do) as `actor`, a system administrator. Raises PermissionDenied for anyone
    else, FileProblem for a file that cannot be read as a whole; a file with refused rows returns its
    report with nothing written."""
    accounts.ensure_account_administrator(actor)
    file_name = file_name or Path(path).name
    report = CaseImportReport(file_name=file_name, dry_run=dry_run)
    table = _open(path, file_name)
    layout = table.layout
    report.file_format, report.encoding = table.file_format, table.encoding
    report.header_row, report.header_rows = layout.header_index + 1, layout.header_rows
    report.title_rows = layout.title_rows
    report.columns = {key: layout.names[at] for key, at in layout.mapping.items()}
    report.columns_ignored = list(layout.unmapped)
    col = {c.key: report.columns.get(c.key) or c.label for c in SOURCE.columns}
    plans = _read(table, report, actor, col)
    try:
        with transaction.atomic():
            report.new = _check_open(plans, report, col, lock=not dry_run)
            report.problems.sort(key=lambda p: p.row)
            if dry_run or report.refused or not report.new:
                return report
            _write(report.new, actor, file_name)
            report.written = True
    except IntegrityError:
        raise ApplicationError(
            "导入时另一次操作同时为其中的农户登记了监测对象，本次未写入任何数据，请重新导入。"
        ) from None
    return report
