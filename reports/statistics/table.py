"""The statistics table's columns, shared by the page and the XLSX so both show the same cells in the same
order: a three-level header (group › item › 户/人), how to read each cell from a Figures, its kind
(count, rate, days) and, for a village row, the case-list filters that list the cases behind it."""

from collections.abc import Callable
from dataclasses import dataclass

from monitoring.models import IDENTIFICATION_STAGES, WARNING_DUE_HOURS, CaseType, Stage
from reports.statistics.figures import STATUSES, Figures, Tally
from workflow.selectors import STATUS_GROUPS

HEADER_ROWS = 3
NAME_HEADER = "区划"


@dataclass(frozen=True)
class Column:
    path: tuple[str, ...]  # header labels, top to bottom (1 to 3 levels)
    value: Callable[[Figures], int | float | None]
    kind: str = "count"  # count / rate / days
    # Case-list filters (besides the village) for the cases behind this number; None: no such list.
    cases: dict | None = None


def _tally_columns(group: str, item: str | None, read: Callable[[Figures], Tally], cases: dict | None):
    prefix = (group, item) if item else (group,)
    return [
        Column((*prefix, "户"), lambda f: read(f).households, cases=cases),
        Column((*prefix, "人"), lambda f: read(f).persons, cases=cases),
    ]


def table_columns(*, risks: list[tuple[str, str]], period_code: str) -> list[Column]:
    """Every column after the division name, in order."""
    columns = _tally_columns("监测对象合计", None, lambda f: f.objects, {"status": "identified"})
    for value, label in CaseType.choices:
        columns += _tally_columns(
            "监测对象类型", label, lambda f, v=value: f.by_type[v], {"status": "identified", "case_type": value}
        )
    for status in STATUSES:
        columns += _tally_columns(
            "状态", STATUS_GROUPS[status][0], lambda f, s=status: f.by_status[s], {"status": status}
        )
    columns += _tally_columns("本期变动", "新识别", lambda f: f.new, {"identified_in": period_code})
    columns += _tally_columns("本期变动", "风险消除", lambda f: f.eliminated, {"eliminated_in": period_code})
    for code, name in risks:
        columns.append(
            Column(
                ("风险类型（户）", name),
                lambda f, c=code: f.by_risk[c].households,
                cases={"status": "identified", "risk": code},
            )
        )
    columns += [
        Column(("三率一度", "监测纳入率"), lambda f: f.inclusion_rate, "rate"),
        Column(("三率一度", "帮扶措施到位率"), lambda f: f.coverage_rate, "rate"),
        Column(("三率一度", "返贫人口动态清零（无措施户）"), lambda f: f.cases_without_measure),
        Column(("三率一度", "群众认可度"), lambda f: f.approval_rate, "rate"),
        Column(("预警核实", "本期预警"), lambda f: f.warnings_raised),
        Column(("预警核实", f"{WARNING_DUE_HOURS}小时内核实率"), lambda f: f.timeliness_rate, "rate"),
    ]
    for stage in IDENTIFICATION_STAGES:
        columns.append(
            Column(("流程时效（中位天数）", Stage(stage).label), lambda f, s=stage.value: f.stage_days[s], "days")
        )
    return columns


@dataclass
class HeaderCell:
    text: str
    row: int  # 0-based header row
    column: int  # 0-based, the name column being 0
    colspan: int
    rowspan: int


def header_cells(columns: list[Column]) -> list[list[HeaderCell]]:
    """The merged header, row by row: equal labels under the same parent merge across; a label with no
    level below it reaches down to the last header row. Column 0 is the division name."""
    paths = [(NAME_HEADER,), *(column.path for column in columns)]
    rows: list[list[HeaderCell]] = [[] for _ in range(HEADER_ROWS)]
    for level in range(HEADER_ROWS):
        for index, path in enumerate(paths):
            if len(path) <= level:
                continue
            cells = rows[level]
            previous = paths[index - 1] if index else None
            if cells and previous is not None and len(previous) > level and previous[: level + 1] == path[: level + 1]:
                cells[-1].colspan += 1
                continue
            rowspan = HEADER_ROWS - level if level == len(path) - 1 else 1
            cells.append(HeaderCell(path[level], level, index, 1, rowspan))
    return rows


def display(value, kind: str) -> str:
    """A cell as text on the page (the XLSX keeps numbers and formats them)."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    return f"{value:,}"
