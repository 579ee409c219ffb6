"""What every import report shares: its first lines (what happened to the file, how it was read), the
refused cell (Problem), and how a management command runs an import."""

from dataclasses import dataclass


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


@dataclass
class Problem:
    """One refused cell: its row, the file's column name (or fpr's label when the file has no such
    column) and the reason in Chinese."""

    row: int
    column: str
    reason: str


def run_for_command(load, *, username: str, path: str, dry_run: bool, denied: str, write):
    """A management command's import: as the named account, the report's lines written with `write`,
    CommandError (exit non-zero) for a file that cannot be read or has refused rows."""
    from django.core.exceptions import PermissionDenied
    from django.core.management.base import CommandError

    from fpr.errors import ApplicationError
    from households.models import User
    from monitoring.screening.comparison import FileProblem

    actor = User.objects.filter(username=username).select_related("division").first()
    if actor is None:
        raise CommandError(f"没有用户名为“{username}”的账号。")
    try:
        report = load(actor=actor, path=path, dry_run=dry_run)
    except FileNotFoundError:
        raise CommandError(f"找不到文件：{path}") from None
    except PermissionDenied as error:
        raise CommandError(str(error) or denied) from None
    except FileProblem as error:
        raise CommandError(str(error)) from None
    except ApplicationError as error:
        raise CommandError(error.message) from None
    for line in report.lines():
        write(line)
    if report.refused:
        rows = len(report.rejected_rows)
        raise CommandError(f"有{rows}行未通过检查，未写入任何数据。请修改文件后重新导入。")
    return report
