"""Laying out a paper form on a sheet with openpyxl (normal mode): a grid of columns, a title, blocks of
label/value fields, tables with one- or two-row headers (a group over several columns, as the official
forms group 收入情况 over 工资性/生产经营性/财产性/转移性), totals rows, signature lines and the print setup.

Every text value goes through fpr.excel.safe_text, so nothing a user typed can run as a formula.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from fpr.excel import safe_text

FONT = "宋体"
MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
HEADER_FILL = PatternFill("solid", fgColor="E8EEF7")
WRAP = Alignment(vertical="center", wrap_text=True)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
NUMBER_FORMATS = {"int": "0", "money": MONEY, "date": DATE}


@dataclass(frozen=True)
class Col:
    """One column of a table: its header, how many grid columns it spans, its kind, and the group
    header above it (two-row header) if any."""

    header: str
    span: int = 1
    kind: str = "text"  # text | int | money | date
    group: str = ""


def yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


class FormSheet:
    """A form on one sheet. Rows are appended top to bottom; `row` is the next free row (1-based)."""

    def __init__(self, *, sheet_title: str, widths: Sequence[float], landscape: bool):
        self.book = Workbook()
        self.sheet = self.book.active
        self.sheet.title = sheet_title
        self.ncols = len(widths)
        self.row = 1
        self.landscape = landscape
        self.repeat_rows: tuple[int, int] | None = None
        for index, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width

    # ------------------------------------------------------------------ cells

    def _put(self, row: int, col: int, value, *, span: int = 1, rows: int = 1, kind: str = "text", **style):
        """Write `value` at (row, col), merged over `span` columns and `rows` rows, every cell boxed."""
        if isinstance(value, str):
            value = safe_text(value)
        elif isinstance(value, Decimal):
            value = float(value) if kind == "money" else value
        cell = self.sheet.cell(row=row, column=col, value=value)
        if kind in NUMBER_FORMATS and value not in (None, ""):
            cell.number_format = NUMBER_FORMATS[kind]
        cell.font = style.get("font", Font(name=FONT, size=10))
        cell.alignment = style.get("alignment", CENTRE if kind != "text" else WRAP)
        if "fill" in style:
            cell.fill = style["fill"]
        if style.get("boxed", True):
            for r in range(row, row + rows):
                for c in range(col, col + span):
                    self.sheet.cell(row=r, column=c).border = BOX
        if span > 1 or rows > 1:
            self.sheet.merge_cells(start_row=row, start_column=col, end_row=row + rows - 1, end_column=col + span - 1)
        return cell

    # ------------------------------------------------------------------ blocks

    def title(self, text: str, subtitle: str = "") -> None:
        self._put(
            self.row, 1, text, span=self.ncols, font=Font(name=FONT, size=16, bold=True), alignment=CENTRE, boxed=False
        )
        self.sheet.row_dimensions[self.row].height = 30
        self.row += 1
        if subtitle:
            self._put(self.row, 1, subtitle, span=self.ncols, boxed=False, alignment=Alignment(vertical="center"))
            self.row += 1
        self.repeat_rows = (1, self.row - 1)

    def section(self, text: str) -> None:
        self._put(self.row, 1, text, span=self.ncols, font=Font(name=FONT, size=11, bold=True), fill=LABEL_FILL)
        self.row += 1

    def fields(self, pairs: Iterable[tuple[str, object, int]], *, label_span: int = 1) -> None:
        """Label/value pairs side by side, a new row when the grid is full; `(label, value, value_span)`."""
        col = 1
        for label, value, span in pairs:
            if col + label_span + span - 1 > self.ncols:
                self._pad(col)
                self.row, col = self.row + 1, 1
            self._put(self.row, col, label, span=label_span, font=Font(name=FONT, size=10, bold=True), fill=LABEL_FILL)
            kind = "date" if isinstance(value, dt.date) else "money" if isinstance(value, Decimal) else "text"
            self._put(self.row, col + label_span, value, span=span, kind=kind, alignment=WRAP)
            col += label_span + span
        self._pad(col)
        self.row += 1

    def _pad(self, col: int) -> None:
        if col <= self.ncols:
            self._put(self.row, col, "", span=self.ncols - col + 1)

    def text(self, label: str, value: str, *, label_span: int = 1, height: float = 45) -> None:
        """A label and a long text over the rest of the row."""
        self._put(self.row, 1, label, span=label_span, font=Font(name=FONT, size=10, bold=True), fill=LABEL_FILL)
        self._put(self.row, 1 + label_span, value or "", span=self.ncols - label_span, alignment=WRAP)
        self.sheet.row_dimensions[self.row].height = height
        self.row += 1

    def table(
        self,
        columns: Sequence[Col],
        rows: Iterable[Sequence],
        *,
        totals: Sequence | None = None,
        subtotal_rows: Iterable[int] = (),
        repeat: bool = False,
    ) -> tuple[int, int]:
        """A table with its header (two rows when a column has a group), rows and an optional 合计 row.
        Returns (first header row, first data row). `repeat` makes its header the rows printed on
        every page. Rows whose index is in `subtotal_rows` are set in bold (subtotals)."""
        header_rows = 2 if any(c.group for c in columns) else 1
        header_top, bold = self.row, Font(name=FONT, size=10, bold=True)
        col, index = 1, 0
        while index < len(columns):
            column = columns[index]
            if column.group:
                end, span = index, 0
                while end < len(columns) and columns[end].group == column.group:
                    span += columns[end].span
                    end += 1
                self._put(header_top, col, column.group, span=span, font=bold, fill=HEADER_FILL, alignment=CENTRE)
                sub_col = col
                for sub in columns[index:end]:
                    self._put(
                        header_top + 1,
                        sub_col,
                        sub.header,
                        span=sub.span,
                        font=bold,
                        fill=HEADER_FILL,
                        alignment=CENTRE,
                    )
                    sub_col += sub.span
                col, index = sub_col, end
            else:
                self._put(
                    header_top,
                    col,
                    column.header,
                    span=column.span,
                    rows=header_rows,
                    font=bold,
                    fill=HEADER_FILL,
                    alignment=CENTRE,
                )
                col, index = col + column.span, index + 1
        self.row = header_top + header_rows
        first_data = self.row
        if repeat:
            self.repeat_rows = (header_top, header_top + header_rows - 1)
        subtotals = set(subtotal_rows)
        for number, values in enumerate(rows):
            self._row(columns, values, bold=number in subtotals)
        if totals is not None:
            self._row(columns, totals, bold=True)
        return header_top, first_data

    def _row(self, columns: Sequence[Col], values: Sequence, *, bold: bool = False) -> None:
        col = 1
        font = Font(name=FONT, size=10, bold=bold)
        for column, value in zip(columns, values, strict=True):
            self._put(self.row, col, value, span=column.span, kind=column.kind, font=font)
            col += column.span
        self.row += 1

    def note(self, text: str) -> None:
        self._put(self.row, 1, text, span=self.ncols, boxed=False, alignment=WRAP)
        self.row += 1

    def signatures(self, labels: Sequence[str]) -> None:
        """Signature lines under the form: 填表人：＿＿ 日期：＿＿ …, spread across the grid."""
        self.row += 1
        span = max(1, self.ncols // len(labels))
        for i, label in enumerate(labels):
            self._put(
                self.row, 1 + i * span, f"{label}：", span=span, boxed=False, alignment=Alignment(vertical="bottom")
            )
        self.sheet.row_dimensions[self.row].height = 28
        self.row += 1

    # ------------------------------------------------------------------ print and save

    def save(self, path: str, *, freeze: str | None = None) -> None:
        sheet = self.sheet
        setup = sheet.page_setup
        setup.paperSize = sheet.PAPERSIZE_A4
        setup.orientation = "landscape" if self.landscape else "portrait"
        setup.fitToWidth, setup.fitToHeight = 1, 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_options.horizontalCentered = True
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        if self.repeat_rows:
            sheet.print_title_rows = f"{self.repeat_rows[0]}:{self.repeat_rows[1]}"
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
        if freeze:
            sheet.freeze_panes = freeze
        self.book.save(path)
