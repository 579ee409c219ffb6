"""统计表 (XLSX): the statistics of a division's children for a period, as on the statistics page.

Layout: a title row (division and period), a note row, a three-row merged header (the groups of the
official forms: 监测对象类型, 状态, 本期变动, 风险类型, 三率一度 …), one row per child division, the 合计
row (the parent's own figures, equal to the page), frozen below the header and right of the names,
percentages and day counts formatted, A4 landscape fitted to the page width with the header repeated.
The table holds no ID numbers, so nothing needs masking.
"""

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from fpr import clock
from fpr.excel import safe_text
from fpr.periods import Period
from reports.exports.runner import writer
from reports.models import Export, ExportKind
from reports.statistics.figures import Figures, statistics_by_child
from reports.statistics.table import HEADER_ROWS, Column, header_cells, table_columns

TITLE_ROW, NOTE_ROW, HEADER_TOP = 1, 2, 3
FIRST_DATA_ROW = HEADER_TOP + HEADER_ROWS
FORMATS = {"count": "#,##0", "rate": "0.0%", "days": "0.0"}
WIDTHS = {"count": 8, "rate": 10, "days": 9}
NAME_WIDTH = 16

_thin = Side(style="thin", color="999999")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")
TOTAL_FILL = PatternFill("solid", fgColor="FFF4D6")
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def statistics_title(division_name: str, period: Period) -> str:
    return f"{division_name}防返贫动态监测统计表（{period.label}）"


@writer(ExportKind.STATISTICS)
def write_statistics(export: Export, path: str, progress) -> int:
    period = Period.parse(export.filters["period"])
    table = statistics_by_child(user=export.user, division=export.division, period=period)
    columns = table_columns(risks=table.risks, period_code=period.code)
    width = len(columns) + 1

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "统计表"
    sheet.cell(TITLE_ROW, 1, safe_text(statistics_title(export.division.name, period))).font = Font(bold=True, size=14)
    sheet.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=width)
    sheet.row_dimensions[TITLE_ROW].height = 28
    note = (
        f"统计期间：{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}；类型、状态、风险类型为导出时现状；"
        f"导出人：{export.user}；导出时间：{clock.localtime_now():%Y-%m-%d %H:%M}"
    )
    sheet.cell(NOTE_ROW, 1, safe_text(note)).font = Font(size=9, color="555555")
    sheet.merge_cells(start_row=NOTE_ROW, start_column=1, end_row=NOTE_ROW, end_column=width)

    for row in header_cells(columns):
        for cell in row:
            top, left = HEADER_TOP + cell.row, cell.column + 1
            written = sheet.cell(top, left, safe_text(cell.text))
            written.font, written.fill, written.alignment = Font(bold=True), HEADER_FILL, CENTRE
            if cell.colspan > 1 or cell.rowspan > 1:
                sheet.merge_cells(
                    start_row=top, start_column=left, end_row=top + cell.rowspan - 1, end_column=left + cell.colspan - 1
                )
    for r in range(HEADER_TOP, FIRST_DATA_ROW):
        for c in range(1, width + 1):
            sheet.cell(r, c).border = BORDER
    for r in range(HEADER_TOP, FIRST_DATA_ROW):
        sheet.row_dimensions[r].height = 30

    row_number = FIRST_DATA_ROW
    for figures in table.rows:
        _write_row(sheet, row_number, figures.name, figures, columns)
        row_number += 1
    _write_row(sheet, row_number, "合计", table.total, columns, total=True)
    progress(len(table.rows), len(table.rows))

    sheet.column_dimensions["A"].width = NAME_WIDTH
    for index, column in enumerate(columns, start=2):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[column.kind]
    sheet.freeze_panes = sheet.cell(FIRST_DATA_ROW, 2)

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{HEADER_TOP}:{FIRST_DATA_ROW - 1}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    workbook.save(path)
    return len(table.rows)


def _write_row(sheet, row: int, name: str, figures: Figures, columns: list[Column], *, total: bool = False) -> None:
    cell = sheet.cell(row, 1, safe_text(name))
    cell.border = BORDER
    if total:
        cell.font, cell.fill = Font(bold=True), TOTAL_FILL
    for index, column in enumerate(columns, start=2):
        value = column.value(figures)
        cell = sheet.cell(row, index, "—" if value is None else value)
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="right")
        if value is not None:
            cell.number_format = FORMATS[column.kind]
        if total:
            cell.font, cell.fill = Font(bold=True), TOTAL_FILL
