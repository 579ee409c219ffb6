"""Writing XLSX files with openpyxl: cell text that cannot run as a formula, and the rejected-rows report.

Any text a user or a department supplied may begin with "=", "+", "-", "@" or a control character; a
spreadsheet would run it as a formula (CSV/formula injection). `safe_text` keeps such text inert.
"""

from collections.abc import Iterable

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_text(value):
    """The value to write into a cell: text that a spreadsheet would read as a formula gets a leading
    apostrophe-like guard (a single quote), everything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_rejected_rows(path: str, *, upload, rows: Iterable[tuple], id_position: int | None = None) -> int:
    """拒收行报告: one row per rejected line, streamed (write-only mode). Returns the rows written.

    Personal numbers are masked as the page shows them (fpr.sensitive): the ID column (`id_position`
    in the file's columns) as `5224**********1234`, and any ID, bank or phone number found in the other
    cells. The report is one file kept with the upload, downloaded by every reader of the upload."""
    import json

    from fpr.sensitive import Kind, mask, mask_text

    def shown(position: int, value):
        if value is None or value == "":
            return value
        if position == id_position:
            return safe_text(mask(Kind.ID_NUMBER, value))
        return safe_text(mask_text(value) if isinstance(value, str) else value)

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    max_rows = 1_000_000  # below Excel's 1,048,576 per sheet; more go on the next sheet
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FDECEA")
    title = f"{upload.get_department_display()} {upload.period} 拒收行报告（{upload.original_name}）"
    header = ["行号", "问题列", "原因", *upload.columns]
    written = 0
    sheet = None
    for number, column, reason, values in rows:
        if sheet is None or written % max_rows == 0:
            sheet = workbook.create_sheet(f"拒收行{written // max_rows + 1}")
            sheet.freeze_panes = "A3"
            sheet.column_dimensions["A"].width = 8
            sheet.column_dimensions["B"].width = 14
            sheet.column_dimensions["C"].width = 48
            title_cell = WriteOnlyCell(sheet, value=title)
            title_cell.font = bold
            sheet.append([title_cell])
            cells = []
            for text in header:  # the file's own header row is the uploader's text too
                cell = WriteOnlyCell(sheet, value=safe_text(text))
                cell.font, cell.fill = bold, fill
                cells.append(cell)
            sheet.append(cells)
        cells = [shown(position, value) for position, value in enumerate(json.loads(values))]
        sheet.append([number, safe_text(column), safe_text(reason), *cells])
        written += 1
    if sheet is None:
        sheet = workbook.create_sheet("拒收行1")
        sheet.append(["没有拒收行"])
    # What the rows above do not show one by one: invalid rows beyond the cap, people not registered.
    notes = []
    if upload.rejected_not_kept:
        kept, total = upload.rejected_kept, upload.rows_rejected
        notes.append(f"拒收行共 {total} 行：以上为前 {kept} 行，其余 {upload.rejected_not_kept} 行未逐行保存。")
    if upload.rows_unmatched:
        notes.append(
            f"本辖区未登记人员共 {upload.rows_unmatched} 行（不是错误，只计数）；"
            f"以上列出其中前 {upload.unmatched_kept} 行作为示例。"
        )
    for note in notes:
        sheet.append([None, None, note])
    workbook.save(path)
    return written
