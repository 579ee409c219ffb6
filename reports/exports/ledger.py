"""监测对象台账 — the monitoring-object ledger: one row per case in the user's scope, with the filters of the
case list, streamed from the database into an XLSX file.

Memory stays flat however many cases there are: the cases are read with a server-side cursor
(`.iterator(chunk_size=…)`), and for each chunk of cases four grouped queries fetch household size and
head, risk categories, income by kind and measures, keyed by id. No list of all rows is ever built, and
the sheet is written in xlsxwriter's constant-memory mode (each row is flushed to disk once the next one
starts). bench/export.py measured both libraries through this module: xlsxwriter wins (README), so it
is the default; `engine="openpyxl"` (write-only mode) is kept for that comparison.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, islice

from django.db import connection, connections
from django.db.models import Count, Q, Sum

from assistance.models import Measure
from fpr import clock
from fpr.excel import safe_text
from fpr.periods import accounting_year
from fpr.prefetch import chunked, prefetched
from households.id_numbers import mask_id_number
from households.models import TRANSFER_KINDS, Division, IncomeItem, IncomeKind, Member, MonitoringLine, Relationship
from monitoring.models import CaseType, Channel, MonitoringCase, RiskCategory, RiskColour, Stage
from reports.exports.runner import writer
from reports.models import Export, ExportKind
from workflow.selectors import case_list

CHUNK = 2000
PROGRESS_EVERY = 1000
CENT = Decimal("0.01")
INCOME_GROUP = "收入情况（元）"


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str = "text"  # text | int | money | date
    group: str = ""  # a header spanning several columns in the row above (收入情况)
    total: bool = False  # summed in the 合计 row


COLUMNS = (
    Column("序号", 6, "int"),
    Column("户编号", 16),
    Column("乡镇", 10),
    Column("村", 10),
    Column("户主姓名", 9),
    Column("户主身份证号", 21),
    Column("家庭人口", 6, "int", total=True),
    Column("家庭住址", 20),
    Column("监测对象类型", 13),
    Column("风险类型", 16),
    Column("风险等级", 7),
    Column("发现渠道", 13),
    Column("当前环节", 14),
    Column("识别纳入日期", 11, "date"),
    Column("风险消除日期", 11, "date"),
    Column("工资性收入", 11, "money", INCOME_GROUP, True),
    Column("生产经营性净收入", 11, "money", INCOME_GROUP, True),
    Column("财产性收入", 10, "money", INCOME_GROUP, True),
    Column("转移性收入", 11, "money", INCOME_GROUP, True),
    Column("家庭纯收入", 12, "money", INCOME_GROUP, True),
    Column("人均纯收入", 11, "money", INCOME_GROUP),
    Column("监测范围（元/人）", 10, "money"),
    Column("帮扶措施（项）", 8, "int", total=True),
    Column("帮扶资金（元）", 11, "money", total=True),
    Column("结对帮扶干部", 10),
)
HEADER_ROWS = 2  # the two-row header: groups above, column names below
FIRST_DATA_ROW = 2 + HEADER_ROWS  # title, subtitle, header rows (0-based)
FREEZE = (FIRST_DATA_ROW, 2)  # header rows and 序号/户编号 stay in view

_STAGES = dict(Stage.choices)
_TYPES = dict(CaseType.choices)
_COLOURS = dict(RiskColour.choices)
_CHANNELS = dict(Channel.choices)


# --------------------------------------------------------------------------- filters and the query


FILTER_LABELS = {
    "village": "区划",
    "case_type": "类型",
    "risk": "风险",
    "stage": "环节",
    "colour": "风险等级",
    "identified_from": "识别纳入起",
    "identified_to": "识别纳入止",
    "year": "收入年度",
}


def ledger_cases(*, user, filters: dict):
    """The cases of the ledger: `case_list` (the case list page's filters and its scoping through
    `for_user`), plus colour and the identification dates."""
    cases = case_list(
        user=user,
        village=filters.get("village"),
        case_type=filters.get("case_type"),
        risk=filters.get("risk"),
        stage=filters.get("stage"),
    )
    if filters.get("colour"):
        cases = cases.filter(colour=filters["colour"])
    if filters.get("identified_from"):
        cases = cases.filter(identified_on__gte=filters["identified_from"])
    if filters.get("identified_to"):
        cases = cases.filter(identified_on__lte=filters["identified_to"])
    return cases


def ledger_year(filters: dict) -> int:
    return int(filters.get("year") or accounting_year())


def describe_filters(filters: dict) -> str:
    """The filters in words, for the subtitle: 类型：边缘易致贫户；风险：因病 …"""
    names = {
        "case_type": _TYPES,
        "stage": _STAGES,
        "colour": _COLOURS,
        "risk": dict(RiskCategory.objects.values_list("code", "name")) if filters.get("risk") else {},
        "village": dict(Division.objects.filter(pk=filters.get("village")).values_list("code", "name")),
    }
    parts = [
        f"{FILTER_LABELS[key]}：{names.get(key, {}).get(value, value)}"
        for key, value in filters.items()
        if value and key in FILTER_LABELS and key != "year"
    ]
    return "；".join(parts) or "全部"


# Keys of the export log's filters (every kind of export) in words.
EXPORT_FILTER_LABELS = {
    **FILTER_LABELS,
    "case": "案件",
    "household": "户编号",
    "township": "乡镇",
    "division": "区划",
    "period": "期间",
    "year": "年度",
    "quarter": "季度",
}
_DIVISION_KEYS = ("village", "township", "division")


def export_filter_chips(exports) -> None:
    """Give each export of a page its filters in words (`export.filter_chips`): "乡镇：羊场镇", "案件：
    5205211000010001 的监测案件（#39）", "季度：第3季度" — never the raw keys and codes. Three queries for
    the whole page (divisions, cases, risk categories named in it), whatever its size."""
    exports = list(exports)
    filters = [export.filters or {} for export in exports]
    codes = {str(f[key]) for f in filters for key in _DIVISION_KEYS if f.get(key)}
    case_ids = {int(f["case"]) for f in filters if str(f.get("case", "")).isdigit()}
    risks = {f["risk"] for f in filters if f.get("risk")}
    divisions = dict(Division.objects.filter(pk__in=codes).values_list("code", "name")) if codes else {}
    cases = (
        dict(MonitoringCase.objects.filter(pk__in=case_ids).values_list("pk", "household__number")) if case_ids else {}
    )
    names = {
        "case_type": _TYPES,
        "stage": _STAGES,
        "colour": _COLOURS,
        "risk": dict(RiskCategory.objects.filter(code__in=risks).values_list("code", "name")) if risks else {},
    }
    for export, values in zip(exports, filters, strict=True):
        chips = []
        for key, value in values.items():
            if value in (None, ""):
                continue
            if key in _DIVISION_KEYS:
                text = divisions.get(str(value), str(value))
            elif key == "case":
                number = cases.get(int(value)) if str(value).isdigit() else None
                text = f"{number} 的监测案件（#{value}）" if number else f"#{value}"
            elif key == "quarter":
                text = f"第{value}季度"
            elif key == "year":
                text = f"{value}年"
            else:
                text = str(names.get(key, {}).get(value, value))
            chips.append(f"{EXPORT_FILTER_LABELS.get(key, key)}：{text}")
        export.filter_chips = chips


def ledger_rows(*, user, filters: dict, unmasked: bool, chunk: int = CHUNK) -> Iterator[tuple]:
    """The ledger's rows in order (township, village, household number), one tuple per case, in the
    order of COLUMNS without 序号. Streamed: a server-side cursor over the cases and, per chunk, one
    grouped query per related table."""
    year = ledger_year(filters)
    lines = dict(MonitoringLine.objects.filter(year=year).values_list("province_id", "amount"))
    risk_order = dict(RiskCategory.objects.values_list("name", "order"))
    cases = (
        ledger_cases(user=user, filters=filters)
        .order_by("village_id", "household__number", "pk")
        .values_list(
            "pk",
            "household_id",
            "household__number",
            "village__parent__name",
            "village__name",
            "village_id",
            "household__address",
            "case_type",
            "colour",
            "channel",
            "stage",
            "identified_on",
            "eliminated_on",
            "plan__pairing_cadre__full_name",
            "plan__pairing_cadre__username",
            "plan__pairing_cadre_name",
        )
        .iterator(chunk_size=chunk)
    )
    mask = (lambda number: number) if unmasked else mask_id_number
    while batch := list(islice(cases, chunk)):
        case_ids = [row[0] for row in batch]
        household_ids = [row[1] for row in batch]
        sizes, heads = _members(household_ids)
        risks = _risks(case_ids, risk_order)
        incomes = _incomes(household_ids, year)
        measures = _measures(case_ids)
        for (
            case_id,
            household_id,
            number,
            township,
            village,
            village_code,
            address,
            case_type,
            colour,
            channel,
            stage,
            identified_on,
            eliminated_on,
            cadre_full_name,
            cadre_username,
            cadre_name,
        ) in batch:
            size = sizes.get(household_id, 0)
            head_name, head_id = heads.get(household_id, ("", ""))
            wage, business, property_income, transfers = incomes.get(household_id, (None, None, None, None))
            if wage is None:
                net = per_capita = None
            else:
                net = wage + business + property_income + transfers
                per_capita = (net / size).quantize(CENT, rounding=ROUND_HALF_UP) if size else None
            measure_count, measure_amount = measures.get(case_id, (0, Decimal(0)))
            yield (
                number,
                township or "",
                village,
                safe_text(head_name),
                mask(head_id),
                size,
                safe_text(address),
                _TYPES.get(case_type, case_type),
                risks.get(case_id, ""),
                _COLOURS.get(colour, ""),
                _CHANNELS.get(channel, channel),
                _STAGES.get(stage, stage),
                identified_on,
                eliminated_on,
                wage,
                business,
                property_income,
                transfers,
                net,
                per_capita,
                lines.get(village_code[:2] + "0" * 10),
                measure_count,
                measure_amount,
                safe_text(cadre_name or cadre_full_name or cadre_username or ""),
            )


def _among(queryset, field: str, column: str, ids: list[int]):
    """`field IN ids` for one chunk of the ledger. Django prepares each value of an `__in` list one by
    one (2,000 values × 5 queries × 50 chunks: 2.5 s of a 100,000-row ledger); on PostgreSQL the list
    goes as one array parameter instead, `column` being "table"."column" as the query names it."""
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{field}__in": ids})
    return queryset.extra(where=[f"{column} = ANY(%s)"], params=[ids])


def _members(household_ids: list[int]) -> tuple[dict, dict]:
    sizes = dict(
        _among(Member.objects.all(), "household_id", '"households_member"."household_id"', household_ids)
        .order_by()
        .values("household_id")
        .annotate(n=Count("pk"))
        .values_list("household_id", "n")
    )
    heads = {}
    for household_id, name, id_number in (
        _among(
            Member.objects.filter(relationship=Relationship.HEAD),
            "household_id",
            '"households_member"."household_id"',
            household_ids,
        )
        .order_by("household_id", "pk")
        .values_list("household_id", "name", "id_number")
    ):
        heads.setdefault(household_id, (name, id_number))
    return sizes, heads


def _risks(case_ids: list[int], order: dict[str, int]) -> dict[int, str]:
    through = MonitoringCase.risk_categories.through
    names: dict[int, list[str]] = defaultdict(list)
    table = through._meta.db_table
    for case_id, name in _among(
        through.objects.all(), "monitoringcase_id", f'"{table}"."monitoringcase_id"', case_ids
    ).values_list("monitoringcase_id", "riskcategory__name"):
        names[case_id].append(name)
    return {case_id: "、".join(sorted(items, key=lambda n: order.get(n, 99))) for case_id, items in names.items()}


_KIND_SUMS = {
    "wage": Q(kind=IncomeKind.WAGE),
    "business": Q(kind=IncomeKind.BUSINESS),
    "business_cost": Q(kind=IncomeKind.BUSINESS_COST),
    "property": Q(kind=IncomeKind.PROPERTY),
    "transfers": Q(kind__in=TRANSFER_KINDS),
}


def _incomes(household_ids: list[int], year: int) -> dict[int, tuple]:
    """Per household: 工资性, 生产经营性 net of its costs, 财产性, 转移性 — the same sums as
    households.selectors.income_summary, so the ledger agrees with the household page to the cent."""
    zero = Decimal(0)
    rows = (
        _among(
            IncomeItem.objects.filter(year=year),
            "household_id",
            '"households_incomeitem"."household_id"',
            household_ids,
        )
        .order_by()
        .values("household_id")
        .annotate(**{name: Sum("amount", filter=condition) for name, condition in _KIND_SUMS.items()})
    )
    return {
        row["household_id"]: (
            row["wage"] or zero,
            (row["business"] or zero) - (row["business_cost"] or zero),
            row["property"] or zero,
            row["transfers"] or zero,
        )
        for row in rows
    }


def _measures(case_ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    rows = (
        _among(Measure.objects.all(), "plan__case_id", '"assistance_assistanceplan"."case_id"', case_ids)
        .order_by()
        .values("plan__case_id")
        .annotate(n=Count("pk"), amount=Sum("amount"))
        .values_list("plan__case_id", "n", "amount")
    )
    return {case_id: (n, amount or Decimal(0)) for case_id, n, amount in rows}


# --------------------------------------------------------------------------- the sheet


def ledger_title(division_name: str) -> str:
    return f"{division_name}防止返贫监测对象台账"


def ledger_subtitle(*, division_name: str, year: int, filters: str, user, when: dt.datetime) -> str:
    return (
        f"范围：{division_name}　收入年度：{year}年　筛选：{filters}　导出：{user} {when:%Y-%m-%d %H:%M}　金额单位：元"
    )


def write_ledger_file(
    path: str,
    *,
    title: str,
    subtitle: str,
    rows: Iterable[tuple],
    total: int,
    progress: Callable[[int, int], None] = lambda written, total: None,
    engine: str = "xlsxwriter",
) -> int:
    """Write the ledger sheet at `path` from `rows` (tuples in COLUMNS order without 序号). Returns the
    number of data rows; the 合计 row sums the columns marked `total`."""
    sheet = (XlsxwriterLedger if engine == "xlsxwriter" else OpenpyxlLedger)(path)
    sheet.start(title, subtitle)
    sums = [Decimal(0) if column.total else None for column in COLUMNS[1:]]
    summed = [i for i, s in enumerate(sums) if s is not None]
    written = 0
    for row in rows:
        written += 1
        sheet.row(FIRST_DATA_ROW + written - 1, (written, *row))
        for i in summed:
            if row[i] is not None:
                sums[i] += row[i]
        if written % PROGRESS_EVERY == 0:
            progress(written, total)
    totals = ["合计", f"共{written}户", *([""] * (len(COLUMNS) - 2))]
    for i in summed:
        totals[i + 1] = sums[i]
    sheet.totals(FIRST_DATA_ROW + written, totals)
    sheet.close()
    progress(written, written)
    return written


def _header_layout() -> list[tuple[int, int, int, int, str]]:
    """(first_row, first_col, last_row, last_col, text) of every header cell, merged or not: a column
    without a group spans both header rows; a group spans its columns in the upper row."""
    top = FIRST_DATA_ROW - HEADER_ROWS
    cells = []
    col = 0
    while col < len(COLUMNS):
        column = COLUMNS[col]
        if not column.group:
            cells.append((top, col, top + 1, col, column.header))
            col += 1
            continue
        end = col
        while end + 1 < len(COLUMNS) and COLUMNS[end + 1].group == column.group:
            end += 1
        cells.append((top, col, top, end, column.group))
        cells.extend((top + 1, c, top + 1, c, COLUMNS[c].header) for c in range(col, end + 1))
        col = end + 1
    return cells


class XlsxwriterLedger:
    """xlsxwriter in constant-memory mode: rows must be written in order, each flushed when the next
    one starts."""

    def __init__(self, path: str):
        import xlsxwriter

        self.book = xlsxwriter.Workbook(
            path, {"constant_memory": True, "default_date_format": "yyyy-mm-dd", "strings_to_formulas": False}
        )
        self.sheet = self.book.add_worksheet("监测对象台账")
        add = self.book.add_format
        self.title_format = add({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.subtitle_format = add({"font_size": 10, "align": "left", "valign": "vcenter"})
        self.header_format = add(
            {
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#E8EEF7",
            }
        )
        self.formats = {
            "int": add({"num_format": "0"}),
            "money": add({"num_format": "#,##0.00"}),
            "date": add({"num_format": "yyyy-mm-dd"}),
            "text": None,
        }
        self.total_formats = {
            kind: add({"bold": True, "top": 1, **({"num_format": fmt} if fmt else {})})
            for kind, fmt in (("int", "0"), ("money", "#,##0.00"), ("date", ""), ("text", ""))
        }
        self.kinds = [column.kind for column in COLUMNS]

    def start(self, title: str, subtitle: str) -> None:
        sheet, last = self.sheet, len(COLUMNS) - 1
        for index, column in enumerate(COLUMNS):
            sheet.set_column(index, index, column.width)
        sheet.set_row(0, 30)
        sheet.merge_range(0, 0, 0, last, title, self.title_format)
        sheet.merge_range(1, 0, 1, last, subtitle, self.subtitle_format)
        # Constant-memory mode flushes a row once a later one is written, so a header cell that spans
        # both header rows cannot go through merge_range (it would write the lower row first). The
        # cells are written row by row and the merged ranges registered on the sheet's merge list,
        # which xlsxwriter writes out as <mergeCells> when it closes the sheet.
        layout = _header_layout()
        for row in range(FIRST_DATA_ROW - HEADER_ROWS, FIRST_DATA_ROW):
            for first_row, first_col, last_row, last_col, text in layout:
                for col in range(first_col, last_col + 1):
                    if first_row <= row <= last_row:
                        value = text if (row, col) == (first_row, first_col) else ""
                        sheet.write_string(row, col, value, self.header_format)
        for first_row, first_col, last_row, last_col, _ in layout:
            if (first_row, first_col) != (last_row, last_col):
                sheet.merge.append([first_row, first_col, last_row, last_col])
        sheet.freeze_panes(*FREEZE)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.repeat_rows(FIRST_DATA_ROW - HEADER_ROWS, FIRST_DATA_ROW - 1)
        sheet.fit_to_pages(1, 0)  # one page wide, as many pages tall as it takes
        sheet.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.5)
        sheet.set_footer("&C第 &P 页，共 &N 页")

    def row(self, index: int, values: tuple) -> None:
        write_string, write_number, write_datetime = (
            self.sheet.write_string,
            self.sheet.write_number,
            self.sheet.write_datetime,
        )
        formats = self.formats
        for col, (kind, value) in enumerate(zip(self.kinds, values, strict=True)):
            if value is None or value == "":
                continue
            if kind == "text":
                write_string(index, col, value)
            elif kind == "date":
                write_datetime(index, col, value, formats["date"])
            else:
                write_number(index, col, value, formats[kind])

    def totals(self, index: int, values: list) -> None:
        for col, (kind, value) in enumerate(zip(self.kinds, values, strict=True)):
            fmt = self.total_formats[kind]
            if isinstance(value, (int, Decimal)):
                self.sheet.write_number(index, col, value, fmt)
            else:
                self.sheet.write_string(index, col, value, self.total_formats["text"])

    def close(self) -> None:
        self.book.close()


class OpenpyxlLedger:
    """openpyxl in write-only mode (kept for the benchmark's comparison; see the module docstring)."""

    def __init__(self, path: str):
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        self.path = path
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("监测对象台账")
        thin = Side(style="thin")
        self.header_style = {
            "font": Font(bold=True),
            "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
            "border": Border(left=thin, right=thin, top=thin, bottom=thin),
            "fill": PatternFill("solid", fgColor="E8EEF7"),
        }
        self.bold = Font(bold=True)
        self.number_formats = {"int": "0", "money": "#,##0.00", "date": "yyyy-mm-dd"}
        self.kinds = [column.kind for column in COLUMNS]

    def _cell(self, value, **style):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self.sheet, value=value)
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    def start(self, title: str, subtitle: str) -> None:
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        sheet = self.sheet
        for index, column in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        last = get_column_letter(len(COLUMNS))
        sheet.append([self._cell(title, font=Font(bold=True, size=16), alignment=Alignment(horizontal="center"))])
        sheet.append([self._cell(subtitle, font=Font(size=10))])
        sheet.merged_cells.add(f"A1:{last}1")
        sheet.merged_cells.add(f"A2:{last}2")
        layout = _header_layout()
        for row in range(FIRST_DATA_ROW - HEADER_ROWS, FIRST_DATA_ROW):
            cells = [""] * len(COLUMNS)
            for first_row, first_col, last_row, last_col, text in layout:
                for col in range(first_col, last_col + 1):
                    if first_row <= row <= last_row:
                        value = text if (row, col) == (first_row, first_col) else None
                        cells[col] = self._cell(value, **self.header_style)
            sheet.append(cells)
        for first_row, first_col, last_row, last_col, _ in layout:
            if (first_row, first_col) != (last_row, last_col):
                sheet.merged_cells.add(
                    f"{get_column_letter(first_col + 1)}{first_row + 1}:{get_column_letter(last_col + 1)}{last_row + 1}"
                )
        sheet.freeze_panes = f"{get_column_letter(FREEZE[1] + 1)}{FREEZE[0] + 1}"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = 9
        sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = f"{FIRST_DATA_ROW - HEADER_ROWS + 1}:{FIRST_DATA_ROW}"

    def row(self, index: int, values: tuple) -> None:
        cells = []
        for kind, value in zip(self.kinds, values, strict=True):
            if kind == "text" or value is None:
                cells.append(value)
            else:
                cells.append(self._cell(value, number_format=self.number_formats[kind]))
        self.sheet.append(cells)

    def totals(self, index: int, values: list) -> None:
        self.sheet.append(
            [
                self._cell(
                    value, font=self.bold, **({"number_format": self.number_formats[kind]} if kind != "text" else {})
                )
                for kind, value in zip(self.kinds, values, strict=True)
            ]
        )

    def close(self) -> None:
        self.book.save(self.path)


# --------------------------------------------------------------------------- the registered writer


def _read_ahead(rows: Iterator[tuple]) -> Iterator[tuple]:
    """The rows, read one chunk ahead in a thread with its own database connection, so PostgreSQL works
    on the next cases while this chunk is written. Inside a transaction (a caller's, or a test's) the
    thread could not see uncommitted rows, so there the rows are read in line."""
    if connection.in_atomic_block:
        return rows
    chunks = prefetched(chunked(rows, CHUNK), depth=2, name="ledger-reader", on_exit=connections.close_all)
    return chain.from_iterable(chunks)


@writer(ExportKind.LEDGER)
def write_ledger(export: Export, path: str, progress: Callable[[int, int], None]) -> int:
    filters = dict(export.filters)
    user = export.user
    total = ledger_cases(user=user, filters=filters).count()
    progress(0, total)
    division_name = export.division.name
    return write_ledger_file(
        path,
        title=ledger_title(division_name),
        subtitle=ledger_subtitle(
            division_name=division_name,
            year=ledger_year(filters),
            filters=describe_filters(filters),
            user=user,
            when=clock.localtime_now(),
        ),
        rows=_read_ahead(ledger_rows(user=user, filters=filters, unmasked=export.unmasked)),
        total=total,
        progress=progress,
    )
