"""The lines every import report starts with: what happened to the file, and how it was read."""


def state_line(title: str, file_name: str, *, refused_rows: int, dry_run: bool, written: bool, same: str) -> str:
    """ "区划代码导入：a.csv（已导入）" — refused, a dry run, written, or nothing to change (`same`)."""
    if refused_rows:
        state = f"已拒绝：{refused_rows}行未通过检查，未写入任何数据"
    elif dry_run:
        state = "试运行，未写入任何数据"
    elif written:
        state = "已导入"
    else:
        state = same
    return f"{title}：{file_name}（{state}）"


def file_line(report, *, header: str = "") -> str:
    """ "文件：CSV，GBK 编码；列名在第2行（使用 …）；标题行1行；未使用的列：…". `report` has file_format,
    encoding, header_row, columns, title_rows, columns_ignored and, for two-row headers, header_rows;
    `header` replaces the header part (a list read without a header row)."""
    where = report.file_format.upper()
    if report.encoding:
        where += f"，{report.encoding.upper().replace('-SIG', '')} 编码"
    if header:
        where += f"；{header}"
    else:
        row = report.header_row
        rows = f"第{row}行" if getattr(report, "header_rows", 1) == 1 else f"第{row - 1}-{row}行"
        used = "、".join(f"“{name}”" for name in report.columns.values())
        where += f"；列名在{rows}（使用 {used}）"
    if report.title_rows:
        where += f"；标题行{report.title_rows}行"
    if report.columns_ignored:
        where += f"；未使用的列：{'、'.join(report.columns_ignored)}"
    return f"文件：{where}"
