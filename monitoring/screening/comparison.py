"""Monthly departmental comparison (部门筛查预警, SPEC §5): upload, validate, stage, match, warn.

One pass over the file: each row is read as a stream (never the whole file as Python objects),
checked (ID checksum, required columns, value types) and written, valid or not, into a staging table
— with PostgreSQL `COPY` fed by a generator, or batched inserts on the demo's SQLite. Everything after
that is set-based SQL: one join finds the registered members of the upload's area, one INSERT … SELECT
raises the warnings (ON CONFLICT DO NOTHING on person+kind+period, so a re-run raises nothing twice),
and the rejected-rows report keeps the first FPR_MAX_REJECTED_ROWS invalid rows (a LIMIT in the
INSERT … SELECT; the true number is counted) and a few examples of people not registered in the area —
those are not errors, a county list is mostly such people, so they are only counted (`rows_unmatched`).

Every input is bounded: a CSV line over MAX_LINE_BYTES, a cell over the csv module's field limit, an
open quote, more than MAX_COLUMNS columns, an XLSX part unpacking over its limit (checked from the zip
directory before the workbook is opened) each fail the upload with a Chinese message naming the line
or the part, at most ERROR_MAX_CHARS long.

Atomicity: the whole run is one transaction holding a row lock on the upload. A failed or killed run
leaves no warning and no rejected row; the retry (Celery acks_late, or the monthly job) starts again
from the file. Progress is therefore not in the database while the run is going: it is in the cache,
which web and worker processes share (Redis).
"""

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import logging
import re
import zipfile
from calendar import isleap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils.timezone import localtime

from fpr import clock, queueing
from fpr.errors import ApplicationError
from fpr.roles import PREFIX_LENGTH, Department, Role
from fpr.sensitive import mask_text
from households.id_numbers import mask_id_number, normalize_id_number
from monitoring.models import (
    WARNING_DUE_HOURS,
    ColumnMapping,
    DepartmentUpload,
    RejectedRow,
    RiskWarning,
    UploadStatus,
)
from monitoring.screening import tables
from monitoring.screening.departments import Column, ColumnType, Source, source_for

logger = logging.getLogger(__name__)

ENCODINGS = {"utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
NOT_REGISTERED = "未匹配到本辖区登记人员（该身份证号不在本单位辖区的农户成员中）"
PROGRESS_EVERY = 20_000
# Bounds on what one hostile or broken file can cost: columns read, the longest physical line of a
# CSV, the length of a stored error message (every list of uploads returns it).
MAX_COLUMNS = 200
MAX_HEADER_CHARS = 64  # a column name longer than this is cut (it is stored and listed with the upload)
MAX_LINE_BYTES = 4 << 20
ERROR_MAX_CHARS = 1000
NAMED_COLUMNS = 20  # columns named in a message; the rest as "等 N 列"


class FileProblem(Exception):
    """The file as a whole cannot be compared (encoding, missing column, broken XLSX …). The message
    is shown to the uploader as it is."""


# --------------------------------------------------------------------------- upload


def may_upload(user, department: str) -> bool:
    if user.is_superuser or user.has_role(Role.ADMINISTRATOR):
        return True
    return user.has_role(Role.DEPARTMENT_OFFICER) and user.department == department


def uploadable_departments(user) -> list[tuple[str, str]]:
    return [(code, label) for code, label in Department.choices if may_upload(user, code)]


def upload_create(
    *, user, department: str, period: str, file, encoding: str = "", start: bool = True
) -> DepartmentUpload:
    """Keep a department list and queue its comparison — or, with `start=False` (the pages and the
    API), keep it for its preview (PREVIEW, 待确认: upload_preview, then upload_start). The same file (by
    content) for the same department and area is recognised: refused when it was compared, taken up
    again when its run failed or it is still waiting for its preview to be confirmed."""
    if department not in Department.values:
        raise ApplicationError("请选择数据来源部门。", field="department")
    if not may_upload(user, department):
        raise PermissionDenied(f"您只能上传本部门的数据，不能上传{Department(department).label}的数据。")
    if not user.division_id:
        raise ApplicationError("您的账号未设置所属区划，无法确定比对范围，请联系管理员。")
    _check_period(period)
    if encoding not in ("", *ENCODINGS):
        raise ApplicationError("文件编码只能选择自动识别、UTF-8、GBK 或 GB18030。", field="encoding")
    limit = settings.FPR_MAX_DEPARTMENT_UPLOAD_MB
    if file.size > limit * 1024 * 1024:
        size = file.size / 1048576
        raise ApplicationError(f"文件大小为{size:.1f}MB，超过{limit}MB的上限，请分批上传。", field="file")
    if file.size == 0:
        raise ApplicationError("文件是空的。", field="file")
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    file_format = _sniff_format(file.read(8), file.name)
    file.seek(0)

    with transaction.atomic():
        existing = (
            DepartmentUpload.objects.select_for_update()
            .filter(department=department, division_id=user.division_id, content_hash=digest.hexdigest())
            .first()
        )
        if existing is not None:
            if existing.status not in (UploadStatus.FAILED, UploadStatus.PREVIEW):
                raise ApplicationError(
                    f"该文件已于{localtime(existing.created_at):%Y-%m-%d %H:%M}上传过"
                    f"（{existing.get_department_display()} {existing.period}，"
                    f"{existing.get_status_display()}），不再重复比对。",
                    extra={"upload": existing.pk},
                )
            # The same file after a failed run (say, with the wrong encoding chosen), or uploaded again
            # before its preview was confirmed: take it up again.
            if existing.encoding != encoding:
                existing.detected_encoding = ""
            existing.encoding, existing.period, existing.error = encoding, period, ""
            existing.status = UploadStatus.QUEUED if start else UploadStatus.PREVIEW
            existing.uploaded_by = user
            existing.save()
            upload = existing
        else:
            upload = DepartmentUpload(
                department=department,
                period=period,
                division_id=user.division_id,
                original_name=file.name[:255],
                size=file.size,
                content_hash=digest.hexdigest(),
                file_format=file_format,
                encoding=encoding,
                uploaded_by=user,
                status=UploadStatus.QUEUED if start else UploadStatus.PREVIEW,
            )
            upload.file.save(file.name, file, save=False)
            try:
                with transaction.atomic():
                    upload.save()
            except IntegrityError:  # the same file, uploaded at the same moment by someone else
                raise ApplicationError("该文件刚刚已被上传，不再重复比对。") from None
        if start:
            transaction.on_commit(lambda: comparison_enqueue(upload.pk))
    return upload


def comparison_requeue_stalled(upload: DepartmentUpload) -> bool:
    """Queue again an upload still QUEUED a minute after it was made with no run in progress (its message
    was most likely never sent: broker down). Asked by the upload page (fpr.queueing)."""
    if upload.status != UploadStatus.QUEUED:
        return False
    return queueing.requeue_stalled(
        key=f"upload-requeued:{upload.pk}",
        since=upload.updated_at,
        busy=lambda: bool(cache.get(_progress_key(upload.pk))),
        enqueue=lambda: comparison_enqueue(upload.pk),
    )


def comparison_enqueue(upload_id: int) -> bool:
    """Queue the run. If the broker is down the upload stays QUEUED: the upload page queues it again
    once the broker is back, and the monthly job runs whatever is still queued."""
    from monitoring.tasks import run_comparison

    return queueing.enqueue(run_comparison, upload_id, what=f"the comparison of upload {upload_id}")


def _check_period(period: str) -> None:
    match = PERIOD.match(period or "")
    if not match:
        raise ApplicationError("数据期间应为“年-月”，例如 2026-11。", field="period")
    today = clock.today()
    if (int(match[1]), int(match[2])) > (today.year, today.month):
        raise ApplicationError("数据期间不能晚于本月。", field="period")


def _sniff_format(head: bytes, name: str) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ApplicationError("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后上传。", field="file")
    if head.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff")) or b"\x00" in head:
        raise ApplicationError("文件不是 CSV 或 XLSX 表格，请上传部门导出的数据表。", field="file")
    return "csv"


# --------------------------------------------------------------------------- progress


def _progress_key(upload_id: int) -> str:
    return f"comparison-progress:{upload_id}"


def _progress_cache(operation, *args, **kwargs):
    """Progress is only shown, never relied on: with the cache (Redis) down, a comparison still runs
    and the upload page still renders, without the running figures."""
    try:
        return operation(*args, **kwargs)
    except (redis.RedisError, OSError) as error:
        logger.warning("comparison progress not available (cache unreachable): %s", error)
        return None


def progress_set(upload_id: int, **values) -> None:
    _progress_cache(cache.set, _progress_key(upload_id), values, timeout=6 * 3600)


def progress_clear(upload_id: int) -> None:
    _progress_cache(cache.delete, _progress_key(upload_id))


def upload_progress(upload: DepartmentUpload) -> dict:
    """What the upload page shows: the running figures from the cache, or the final ones."""
    running = _progress_cache(cache.get, _progress_key(upload.pk)) if upload.status == UploadStatus.QUEUED else None
    figures = {
        "status": upload.status,
        "status_label": upload.get_status_display(),
        "phase": "",
        "rows_read": upload.rows_total,
        "rows_matched": upload.rows_matched,
        "rows_rejected": upload.rows_rejected,
        "rows_unmatched": upload.rows_unmatched,
        "warnings_created": upload.warnings_created,
        "warnings_existing": upload.warnings_existing,
        "error": bounded_error(upload.error),
        "report_ready": bool(upload.rejected_report),
        "skipped": upload.skipped_summary,
    }
    if running:
        figures.update(running)
        figures["status_label"] = "比对中"
    return figures


def bounded_error(message: str) -> str:
    """An error message as stored and shown: at most ERROR_MAX_CHARS (older uploads kept longer ones)."""
    return message if len(message) <= ERROR_MAX_CHARS else message[: ERROR_MAX_CHARS - 1] + "…"


def _column_list(names: list, total: int = 0) -> str:
    """The first NAMED_COLUMNS names (each cut to 40 characters), then "等 N 列" for a longer list."""
    total = max(total, len(names))
    shown = "、".join(str(name)[:40] for name in names[:NAMED_COLUMNS] if name) or "（空）"
    return shown + (f" 等{total}列" if total > NAMED_COLUMNS else "")


# --------------------------------------------------------------------------- reading


def _undecodable_line(path: str, encoding: str) -> tuple[int, bool]:
    """(0, _) when the whole file decodes, else (the number of the first line that does not, whether
    any line before it held non-ASCII text). Lines end at b"\n", which is never part of a multi-byte
    character in UTF-8, GBK or GB18030, so each run of whole lines decodes on its own; only a failing
    run is looked at line by line."""
    line, rest, non_ascii = 1, b"", False
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            whole, rest = data[:cut], data[cut:]
            if len(rest) > MAX_LINE_BYTES:  # (and so no line is longer than the limit and one chunk)
                long_line = line + whole.count(b"\n")
                raise FileProblem(
                    f"第{long_line}行超过{MAX_LINE_BYTES >> 20}MB，不是正常的数据行"
                    "（可能缺少换行，或有未闭合的引号）。请检查该行后重新导出上传。"
                )
            try:
                whole.decode(encoding)
            except UnicodeDecodeError:
                for offset, text in enumerate(whole.split(b"\n")):
                    try:
                        text.decode(encoding)
                    except UnicodeDecodeError:
                        return line + offset, non_ascii
                    non_ascii = non_ascii or not text.isascii()
            non_ascii = non_ascii or not whole.isascii()
            line += whole.count(b"\n")
    try:
        rest.decode(encoding)
    except UnicodeDecodeError:
        return line, non_ascii
    return 0, non_ascii


def _check_encoding(path: str, chosen: str) -> str:
    """The encoding to read the file with. A chosen one must decode the whole file; otherwise UTF-8
    (with or without BOM), else GBK, else GB18030 (its superset) — checked over the whole file before
    any row is staged, so a bad byte on the last line fails the upload, not a half-read run."""
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem("文件是 UTF-16 编码（Excel“Unicode 文本”），请另存为“CSV UTF-8”或 XLSX 后上传。")
    bom = head.startswith(codecs.BOM_UTF8)
    if chosen:
        encoding = "utf-8-sig" if bom and chosen == "utf-8" else chosen
        if bad := _undecodable_line(path, encoding)[0]:
            raise FileProblem(
                f"第{bad}行附近的内容无法按 {ENCODINGS[chosen]} 解码。请确认文件编码"
                "（可选择自动识别，或 UTF-8、GBK、GB18030）后重新上传。"
            )
        return encoding
    if bom:
        if bad := _undecodable_line(path, "utf-8-sig")[0]:
            raise FileProblem(f"文件标明为 UTF-8，但第{bad}行附近的内容不是 UTF-8，请重新导出后上传。")
        return "utf-8-sig"
    bad, chinese_before = _undecodable_line(path, "utf-8")
    if not bad:
        return "utf-8"
    if chinese_before:
        # Chinese text that is valid UTF-8 and then a line that is not: two encodings in one file.
        raise FileProblem(
            f"文件编码不一致：前{bad - 1}行是 UTF-8，第{bad}行却不是（可能是把不同编码的文件拼在了一起）。"
            "请统一另存为“CSV UTF-8”后重新上传。"
        )
    for encoding in ("gbk", "gb18030"):
        if not _undecodable_line(path, encoding)[0]:
            return encoding
    raise FileProblem("无法识别文件编码：既不是 UTF-8，也不是 GBK/GB18030。请另存为“CSV UTF-8”或 XLSX 后上传。")


def _csv_problem(error: csv.Error, first_line: int, last_line: int) -> FileProblem:
    """A csv module error in Chinese, naming the line where the broken record starts."""
    text = str(error)
    where = f"第{first_line}行" if last_line <= first_line else f"第{first_line}行（至第{last_line}行）"
    if "field larger than field limit" in text:
        limit = csv.field_size_limit() // 1024
        return FileProblem(
            f'{where}有单元格超过{limit}KB，不是正常的数据（常见原因：引号“"”未闭合，把后面的行都并进了一个单元格）。'
            "请检查该行后重新导出上传。"
        )
    if "unexpected end of data" in text:
        return FileProblem(f'{where}的引号“"”没有闭合，一直到文件末尾。请检查该行后重新导出上传。')
    if "expected after" in text:
        return FileProblem(f'{where}的引号用法有误（引号“"”闭合后紧跟了其他字符）。请检查该行后重新导出上传。')
    return FileProblem(f"{where}不是有效的 CSV 数据行（{text[:100]}）。请检查该行后重新导出上传。")


def _csv_table(path: str, encoding: str) -> tuple[list, Iterator[list]]:
    raw = open(path, "rb")  # noqa: SIM115 — closed by the generator below (or here on a bad header)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    label = ENCODINGS.get(encoding.replace("-sig", ""), encoding.upper())
    try:
        first = text.readline(MAX_LINE_BYTES)
        text.seek(0)
    except UnicodeDecodeError:
        raw.close()
        raise FileProblem(f"第1行无法按 {label} 解码，请确认文件编码后重新上传（可在上传时选择编码）。") from None
    dialect = "excel-tab" if "\t" in first and "," not in first else "excel"
    # strict: a quote left open is an error naming its line, not the rest of the file read as one cell.
    reader = csv.reader(text, dialect=dialect, strict=True)
    try:
        header = next(reader, [])
    except csv.Error as error:
        raw.close()
        raise _csv_problem(error, 1, reader.line_num) from None

    def rows() -> Iterator[list]:
        done = reader.line_num  # physical lines read so far: the next record starts after them
        try:
            for row in reader:
                yield row
                done = reader.line_num
        except UnicodeDecodeError:
            raise FileProblem(
                f"第{done + 1}行附近的内容无法按 {label} 解码。请确认文件编码"
                "（可在上传时选择 UTF-8、GBK 或 GB18030）后重新上传。"
            ) from None
        except csv.Error as error:
            raise _csv_problem(error, done + 1, reader.line_num) from None
        finally:
            raw.close()

    return header, rows()


def _check_xlsx_sizes(path: str) -> None:
    """Refuse a workbook whose parts unpack too large, from the zip directory alone (nothing unpacked):
    the whole, each part, and the shared strings (which a reader holds in memory) more tightly. The
    sizes in the directory bound what is unpacked: Python's zipfile reads no more than they declare."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem("XLSX 文件已损坏或不完整，请重新导出后上传。") from None
    if sum(info.file_size for info in parts) > settings.FPR_MAX_XLSX_UNPACKED_MB << 20:
        raise FileProblem(f"XLSX 文件解压后超过{settings.FPR_MAX_XLSX_UNPACKED_MB}MB，不予处理，请分批上传或改用 CSV。")
    for info in parts:
        shared = info.filename.lower().endswith("sharedstrings.xml")
        limit = settings.FPR_MAX_XLSX_SHARED_STRINGS_MB if shared else settings.FPR_MAX_XLSX_PART_MB
        if info.file_size > limit << 20:
            what = "共享字符串表" if shared else "部件"
            raise FileProblem(
                f"XLSX 文件中的{what}“{info.filename[:100]}”解压后为{info.file_size / 1048576:.0f}MB，"
                f"超过{limit}MB的上限，不予处理。请分批上传或改用 CSV。"
            )


def _xlsx_table(path: str) -> tuple[list, Iterator[tuple]]:
    import openpyxl

    _check_xlsx_sizes(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = list(next(rows, ()) or ())
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a broken workbook
        raise FileProblem("无法读取该 XLSX 文件（文件损坏或不是 Excel 工作簿），请重新导出后上传。") from None

    def rows_() -> Iterator[tuple]:
        try:
            yield from rows
        except Exception:  # noqa: BLE001
            raise FileProblem("XLSX 文件读到中途出错（文件可能不完整），请重新导出后上传。") from None
        finally:
            workbook.close()

    return header, rows_()


def _reading_encoding(upload: DepartmentUpload) -> str:
    """The encoding to read a CSV with. `detected_encoding` set means the whole file was checked for
    the chosen encoding already (by the preview): not read twice. (Reading decodes strictly anyway.)"""
    path = upload.file.path
    if upload.detected_encoding in ENCODINGS:
        if upload.detected_encoding == "utf-8":
            with open(path, "rb") as raw:
                if raw.read(3) == codecs.BOM_UTF8:
                    return "utf-8-sig"
        return upload.detected_encoding
    encoding = _check_encoding(path, upload.encoding)
    upload.detected_encoding = encoding.replace("-sig", "")
    return encoding


def _open_rows(upload: DepartmentUpload) -> tuple[list, Iterator]:
    if upload.file_format == "xlsx":
        upload.detected_encoding = ""
        return _xlsx_table(upload.file.path)
    return _csv_table(upload.file.path, _reading_encoding(upload))


def saved_mapping(department: str, division_id: str) -> dict[str, str]:
    """The column mapping saved for the department in the area or the nearest area above it."""
    codes = [division_id[:n].ljust(12, "0") for n in sorted(set(PREFIX_LENGTH.values()))]
    found = {
        m.division_id: m.mapping for m in ColumnMapping.objects.filter(department=department, division_id__in=codes)
    }
    for code in reversed(codes):  # the deepest first
        if code in found:
            return found[code]
    return {}


def _layout(upload: DepartmentUpload, head: list, header_row: int | None = None, header_rows: int = 1):
    """The table layout: the uploader's confirmed one (upload_start), or the one asked for on the
    preview (`header_row`), or the one detected — with the area's saved mapping first."""
    source = source_for(upload.department)
    confirmed = (upload.table_layout or {}).get("confirmed")
    if header_row is None and confirmed:
        layout = tables.layout_at(head, source, confirmed["header_row"], confirmed["header_rows"])
        return layout.with_mapping({key: int(at) for key, at in confirmed["positions"].items()})
    saved = saved_mapping(upload.department, upload.division_id)
    if header_row is not None:
        return tables.layout_at(head, source, header_row, header_rows, saved)
    return tables.detect_header(head, source, saved)


def _check_width(layout, head: list) -> None:
    header_row = head[layout.header_index] if head else []
    if len(header_row) > MAX_COLUMNS:
        names = [_cell_text(value).strip() for value in header_row[:NAMED_COLUMNS]]
        raise FileProblem(
            f"第{layout.header_index + 1}行（列名）有{len(header_row)}列，超过{MAX_COLUMNS}列的上限，不像部门数据表："
            f"{_column_list(names, len(header_row))}。"
            "请确认文件后重新上传。"
        )


def read_rows(path: str, name: str, encoding: str = "") -> tuple[str, str, list, Iterator]:
    """The table-reading layer for any list, not only a department's (the onboarding imports): (format
    "xlsx"/"csv", the encoding read with, the first row, the other rows), with the same checks as an
    upload — the type by content, the XLSX part sizes, the encoding over the whole file."""
    with open(path, "rb") as raw:
        file_format = _sniff_format(raw.read(8), name)
    if file_format == "xlsx":
        first, rest = _xlsx_table(path)
        return file_format, "", first, rest
    encoding = _check_encoding(path, encoding)
    first, rest = _csv_table(path, encoding)
    return file_format, encoding, first, rest


def open_table(upload: DepartmentUpload) -> tuple[list[str], Iterator, int, dict[str, int]]:
    """(column names, the data rows, the spreadsheet number of the first data row, column key → file
    column position). The header is the one the uploader confirmed on the preview, or is found among
    the first rows (monitoring.screening.tables: title rows, two-row headers, the saved mapping, aliases); what
    was used is kept in `upload.table_layout`."""
    first, rows = _open_rows(upload)
    head = [first, *itertools.islice(rows, tables.HEADER_SCAN_ROWS - 1)]
    layout = _layout(upload, head)
    _check_width(layout, head)
    upload.table_layout = {**layout.as_json(), "confirmed": (upload.table_layout or {}).get("confirmed")}
    data = itertools.chain(head[layout.header_index + 1 :], rows)
    return [name[:MAX_HEADER_CHARS] for name in layout.names], data, layout.first_data_row, layout.mapping


# --------------------------------------------------------------------------- the preview

PREVIEW_SHOWN_ROWS = 10  # data rows shown (every cell masked)
PREVIEW_CHECKED_ROWS = 200  # data rows checked for the first problems
PREVIEW_PROBLEMS = 20


def _estimate_rows(upload: DepartmentUpload) -> int | None:
    """The number of lines of a CSV (counted, not parsed) or the rows an XLSX declares; None when an
    XLSX does not say."""
    path = upload.file.path
    if upload.file_format == "xlsx":
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                return workbook.worksheets[0].max_row
            finally:
                workbook.close()
        except Exception:  # noqa: BLE001 — a broken workbook was refused when it was read
            return None
    lines, last = 0, b"\n"
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _masked_cells(row, id_at: int | None, width: int) -> list[str]:
    cells = []
    for i in range(width):
        text = _cell_text(row[i]).strip() if i < len(row) else ""
        if i == id_at and text:
            normal = normalize_id_number(text)
            cells.append(mask_id_number(normal) if len(normal) in (15, 18) else mask_text(text)[:4] + "…")
        else:
            cells.append(mask_text(text)[:40])
    return cells


def upload_preview(upload: DepartmentUpload, *, header_row: int | None = None, header_rows: int = 1) -> dict:
    """What the uploader confirms before anything is compared (待确认): the encoding found, the header
    row, which file column is which fpr column (the saved mapping applied), the columns missing, a row
    estimate, the first rows (every cell masked) and the first problems. Reads the head of the file
    only (plus, for a CSV, the one whole-file encoding check, kept for the run). A file that cannot be
    read at all fails the upload with its reason, as its run would."""
    source = source_for(upload.department)
    try:
        first, rows = _open_rows(upload)
        try:
            head = [first, *itertools.islice(rows, tables.HEADER_SCAN_ROWS - 1)]
            layout = _layout(upload, head, header_row, header_rows)
            _check_width(layout, head)
            data = itertools.chain(head[layout.header_index + 1 :], rows)
            sample = list(itertools.islice(data, PREVIEW_CHECKED_ROWS))
        finally:
            rows.close()
    except FileProblem as problem:
        failed = _fail(upload.pk, str(problem))
        upload.status, upload.error = failed.status, failed.error
        return {"ready": False, "error": failed.error}
    DepartmentUpload.objects.filter(pk=upload.pk).update(detected_encoding=upload.detected_encoding)
    names = [name[:MAX_HEADER_CHARS] for name in layout.names]
    mapping = layout.mapping
    missing = [c.label for c in source.required_columns if c.key not in mapping]
    id_at = mapping.get("id_number")
    width = len(names)
    samples = [""] * width
    for row in sample:
        for i, text in enumerate(_masked_cells(row, id_at, width)):
            if text and not samples[i]:
                samples[i] = text
    problems, problem_rows, blank, footer = [], 0, 0, 0
    if not missing:
        checker = RowChecker(source, names, mapping)
        for offset, row in enumerate(sample):
            if not any(row):
                blank += 1
                continue
            checked = checker.check(row)
            if not checked.reasons:
                continue
            kind = tables.skipped_kind(row)
            if kind:
                blank += kind == "blank"
                footer += kind == "footer"
                continue
            problem_rows += 1
            if len(problems) < PREVIEW_PROBLEMS:
                problems.append(
                    {
                        "row_number": layout.first_data_row + offset,
                        "column": "、".join(checked.columns),
                        "reason": "；".join(checked.reasons),
                    }
                )
    estimate = _estimate_rows(upload)
    return {
        "ready": not missing,
        "error": "",
        "encoding": upload.detected_encoding,
        "encoding_label": ENCODINGS.get(upload.detected_encoding, "XLSX" if upload.file_format == "xlsx" else ""),
        "header_row": layout.header_index + 1,
        "header_rows": layout.header_rows,
        "title_rows": layout.title_rows,
        "columns": [{"position": i, "name": name, "sample": samples[i]} for i, name in enumerate(names)],
        "fields": [
            {
                "key": c.key,
                "label": c.label,
                "required": c.required,
                "position": mapping.get(c.key),
                "name": names[mapping[c.key]] if c.key in mapping and mapping[c.key] < width else "",
            }
            for c in source.columns
        ],
        "mapping": mapping,
        "missing": missing,
        "unmapped": [name for i, name in enumerate(names) if name and i not in set(mapping.values())],
        "rows_estimate": None if estimate is None else max(estimate - layout.header_index - 1, 0),
        "rows": [_masked_cells(row, id_at, width) for row in sample[:PREVIEW_SHOWN_ROWS]],
        "rows_checked": len(sample),
        "problems": problems,
        "problem_rows": problem_rows,
        "blank_rows": blank,
        "footer_rows": footer,
    }


def upload_start(
    upload: DepartmentUpload,
    *,
    user,
    header_row: int | None = None,
    header_rows: int = 1,
    positions: dict[str, int] | None = None,
) -> DepartmentUpload:
    """开始比对: confirm an upload's layout — the header row and which file column is which fpr column
    (`positions`: column key → file column position; None keeps what was detected) — and queue its run.
    A mapping the uploader gave is saved for the department and area (ColumnMapping) and applied to its
    next files. Nothing is queued while a required column is not mapped."""
    if not may_upload(user, upload.department):
        raise PermissionDenied("只有该部门的数据专员和系统管理员可以确认比对。")
    source = source_for(upload.department)
    with transaction.atomic():
        upload = DepartmentUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.status != UploadStatus.PREVIEW:
            raise ApplicationError(f"该批次{upload.get_status_display()}，不能再确认比对。")
        try:
            first, rows = _open_rows(upload)
            try:
                head = [first, *itertools.islice(rows, tables.HEADER_SCAN_ROWS - 1)]
            finally:
                rows.close()
        except FileProblem as problem:
            raise ApplicationError(str(problem)) from None
        layout = _layout(upload, head, header_row, header_rows)
        names = layout.names
        if positions is not None:
            keys = {c.key: c for c in source.columns}
            chosen: dict[str, int] = {}
            for key, at in positions.items():
                if at is None or at == "":
                    continue
                if key not in keys:
                    raise ApplicationError(f"没有名为“{str(key)[:20]}”的比对列。", field="mapping")
                try:
                    at = int(at)
                except (TypeError, ValueError):
                    raise ApplicationError(f"{keys[key].label}：请选择文件中的一列。", field="mapping") from None
                if not 0 <= at < len(names) or not names[at]:
                    raise ApplicationError(f"{keys[key].label}：文件中没有第{at + 1}列。", field="mapping")
                if at in chosen.values():
                    other = next(keys[k].label for k, v in chosen.items() if v == at)
                    raise ApplicationError(
                        f"文件列“{names[at]}”不能同时对应“{other}”和“{keys[key].label}”。", field="mapping"
                    )
                chosen[key] = at
            layout = layout.with_mapping(chosen)
        missing = [c.label for c in source.required_columns if c.key not in layout.mapping]
        if missing:
            raise ApplicationError(
                f"还有必需列没有对应到文件中的列：{'、'.join(missing)}。请在“列对应”中选择后再开始比对。",
                field="mapping",
                extra={"missing": missing},
            )
        if positions is not None:
            given = {key: names[at] for key, at in layout.mapping.items()}
            ColumnMapping.objects.update_or_create(
                department=upload.department,
                division_id=upload.division_id,
                defaults={"mapping": given, "updated_by": user},
            )
        upload.table_layout = {
            **layout.as_json(),
            "confirmed": {
                "header_row": layout.header_index + 1,
                "header_rows": layout.header_rows,
                "positions": layout.mapping,
            },
        }
        upload.status = UploadStatus.QUEUED
        upload.uploaded_by = user
        upload.save()
        transaction.on_commit(lambda: comparison_enqueue(upload.pk))
    return upload


def upload_set_encoding(upload: DepartmentUpload, *, encoding: str) -> None:
    """The encoding chosen on the preview of a CSV (the file is checked again with it)."""
    if encoding not in ("", *ENCODINGS):
        raise ApplicationError("文件编码只能选择自动识别、UTF-8、GBK 或 GB18030。", field="encoding")
    DepartmentUpload.objects.filter(pk=upload.pk, status=UploadStatus.PREVIEW).update(
        encoding=encoding, detected_encoding="", table_layout={}
    )


def upload_retry(upload: DepartmentUpload, *, user) -> bool:
    """重新比对 a failed upload (after its cause, say a stopped worker, was fixed): back to QUEUED with the
    error cleared, and queued. False when it is not failed (anymore: someone retried it first)."""
    if not may_upload(user, upload.department):
        raise PermissionDenied("只有该部门的数据专员和系统管理员可以重新比对。")
    retried = DepartmentUpload.objects.filter(pk=upload.pk, status=UploadStatus.FAILED).update(
        status=UploadStatus.QUEUED, error=""
    )
    if retried:
        comparison_enqueue(upload.pk)
    return bool(retried)


def upload_discard(upload: DepartmentUpload, *, user) -> None:
    """放弃: delete an upload still waiting for its preview to be confirmed (and its file)."""
    if not may_upload(user, upload.department):
        raise PermissionDenied("只有该部门的数据专员和系统管理员可以放弃该批次。")
    with transaction.atomic():
        upload = DepartmentUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.status != UploadStatus.PREVIEW:
            raise ApplicationError(f"该批次{upload.get_status_display()}，不能放弃。")
        name = upload.file.name
        upload.delete()
        transaction.on_commit(lambda: upload.file.storage.delete(name))


# --------------------------------------------------------------------------- checking a row

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_DIGITS = frozenset("0123456789")
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DATE = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?$")
# Digit × weight per position, looked up instead of computed: the check-digit sum is the hottest line
# of a million-row run.
_PRODUCTS = [{str(d): d * w for d in range(10)} for w in _WEIGHTS]


EXCEL_NUMBER_REASON = "身份证号被保存为数字，末几位已丢失；请把该列设为“文本”格式后重新导出"
# The same loss in a CSV saved by Excel: the cell holds the number's display, e.g. "5.22422E+17".
_EXCEL_NUMBER_TEXT = re.compile(r"^\d(\.\d+)?E\+?\d+$")


def id_number_problem(number: str, today: str = "") -> str:
    """The reason an ID number is invalid, or "" — GB 11643 shape, birth date (a real day, not after
    `today`, "YYYYMMDD") and check digit; written for speed (this runs once per row of a million-row
    file). Agrees with households.id_numbers.parse_id_number (a property test proves it)."""
    if len(number) != 18:
        if len(number) == 15 and number.isdigit():
            return "身份证号为15位的第一代号码（已停止使用），应为现用的18位号码"
        return f"身份证号应为18位，当前为{len(number)}位" if number else "身份证号为空"
    if not _DIGITS.issuperset(number[:17]) or number[17] not in _CHECK:
        return "身份证号前17位应为数字，最后一位为数字或X"
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if (
        year < 1880
        or not 1 <= month <= 12
        or not 1 <= day <= _DAYS[month]
        or (month == 2 and day == 29 and not isleap(year))
    ):
        return "身份证号中的出生日期无效"
    if number[6:14] > (today or clock.today().strftime("%Y%m%d")):
        return "身份证号中的出生日期晚于今天"
    if _CHECK[sum(map(dict.__getitem__, _PRODUCTS, number[:17])) % 11] != number[17]:
        return "身份证号校验位错误"
    return ""


def id_cell_problem(text: str, today: str = "") -> tuple[str, str]:
    """(the number as compared, the reason it is refused or "") for a department file's ID cell:
    normalised as every door normalises (households.id_numbers.normalize_id_number), then checked."""
    problem = id_number_problem(text, today)
    if not problem or not text:
        return text, problem
    number = normalize_id_number(text)
    problem = id_number_problem(number, today)
    if problem and _EXCEL_NUMBER_TEXT.match(number):
        problem = EXCEL_NUMBER_REASON
    return number, problem


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


@dataclass
class CheckedRow:
    id_number: str
    grade: str
    columns: list[str]
    reasons: list[str]


class RowChecker:
    """Knows where the source's columns are in this file and checks one row against them."""

    def __init__(self, source: Source, header: list[str], positions: dict[str, int] | None = None):
        self.source = source
        self.position: dict[str, int] = tables.column_positions(source, header) if positions is None else positions
        missing = [c.label for c in source.required_columns if c.key not in self.position]
        if missing:
            found = _column_list([h for h in header if h])
            hint = "" if self.position else "未识别到任何应有的列名，可能是文件编码选错或不是该部门的数据表。"
            raise FileProblem(
                f"{source.label}数据缺少必需列：{'、'.join(missing)}。文件中的列：{found}。{hint}"
                f"应有的列：{'、'.join(c.label + ('（必填）' if c.required else '') for c in source.columns)}。"
            )
        self.id_position = self.position["id_number"]
        self.checks: list[tuple[int, Column]] = [
            (self.position[c.key], c) for c in source.columns if c.key in self.position and c.type != ColumnType.ID
        ]
        self.choice_maps = {
            c.key: {
                form: value
                for value, spellings in c.choices.items()
                for spelling in (value, *spellings)
                for form in (spelling, tables.normal_value(spelling))
            }
            for c in source.columns
            if c.type == ColumnType.CHOICE
        }
        rule = source.grade
        self.grade_position = self.position.get(rule.column) if rule.column else None
        self.today = clock.today().strftime("%Y%m%d")

    def check(self, row) -> CheckedRow:
        raw_id = row[self.id_position] if self.id_position < len(row) else ""
        columns: list[str] = []
        reasons: list[str] = []
        if isinstance(raw_id, float | int):
            id_number = _cell_text(raw_id)
            columns.append("身份证号")
            reasons.append(EXCEL_NUMBER_REASON)
        else:
            # Fast path: a cell already in normal form (nearly every row) is checked as it is; only a
            # refused one is normalised (full-width digits, spaces, dashes, lower-case x) and re-checked.
            id_number = raw_id if isinstance(raw_id, str) else _cell_text(raw_id)
            problem = id_number_problem(id_number, self.today)
            if problem and id_number:
                id_number, problem = id_cell_problem(id_number, self.today)
            if problem:
                columns.append("身份证号")
                reasons.append(problem)
        values: dict[str, object] = {}
        for position, column in self.checks:
            value = row[position] if position < len(row) else None
            text = _cell_text(value).strip()
            if not text:
                if column.required:
                    columns.append(column.label)
                    reasons.append(f"{column.label}为空（必填）")
                continue
            problem, parsed = self._check_value(column, value, text)
            if problem:
                columns.append(column.label)
                reasons.append(problem)
            else:
                values[column.key] = parsed
        grade = "" if reasons else self._grade(values)
        return CheckedRow(id_number, grade, columns, reasons)

    def _check_value(self, column: Column, value, text: str) -> tuple[str, object]:
        if column.type == ColumnType.DECIMAL:
            try:
                number = Decimal(text.replace(",", "").replace("，", "").lstrip("¥￥"))
            except InvalidOperation:
                return f"{column.label}应为数字，当前为“{text[:20]}”", None
            if not number.is_finite() or number < 0:
                return f"{column.label}应为不小于0的数字，当前为“{text[:20]}”", None
            return "", number
        if column.type == ColumnType.DATE:
            if isinstance(value, dt.date):
                return "", value
            match = _DATE.match(text)
            try:
                return "", dt.date(int(match[1]), int(match[2]), int(match[3]))
            except (TypeError, ValueError):
                return f"{column.label}应为日期（如 2026-11-05），当前为“{text[:20]}”", None
        if column.type == ColumnType.CHOICE:
            choices = self.choice_maps[column.key]
            canonical = choices.get(text)
            if canonical is None:  # a value alias spelt with full-width letters or inner spaces
                canonical = choices.get(tables.normal_value(text))
            if canonical is None:
                return f"{column.label}“{text[:20]}”无效，应为：{'、'.join(column.choices)}", None
            return "", canonical
        return "", text

    def _grade(self, values: dict) -> str:
        rule = self.source.grade
        value = values.get(rule.column) if rule.column else None
        if value is None:
            return rule.default
        if rule.by_value:
            return rule.by_value.get(value, rule.default)
        for threshold, grade in rule.thresholds:
            if value >= threshold:
                return grade
        return rule.default


# --------------------------------------------------------------------------- staging

STAGE = "fpr_comparison_stage"
MATCH = "fpr_comparison_match"


def _staged_rows(
    rows: Iterable, checker: RowChecker, upload_id: int, counts: dict, first_number: int = 2
) -> Iterator[tuple]:
    """(row_number, id_number, grade, values JSON, problem columns, reasons) per data row. Blank rows
    and footer rows (合计, 说明, 制表人 …) are counted in counts["blank"]/["footer"], not staged."""
    dumps = json.JSONEncoder(ensure_ascii=False, default=_cell_text, separators=(",", ":")).encode
    check = checker.check
    skipped_kind = tables.skipped_kind
    number = first_number - 1  # row numbers as a spreadsheet shows them
    read = invalid = blank = footer = 0
    for row in rows:
        number += 1
        if not any(row):
            blank += 1  # a blank line carries no data
            continue
        if len(row) > MAX_COLUMNS:  # cells beyond any column a list can have: not kept
            row = row[:MAX_COLUMNS]
        checked = check(row)
        if checked.reasons:
            kind = skipped_kind(row)  # only a refused row can be a blank (spaces) or a footer row
            if kind == "blank":
                blank += 1
                continue
            if kind == "footer":
                footer += 1
                continue
            read += 1
            invalid += 1
            problems = "、".join(checked.columns), "；".join(checked.reasons)
            yield number, checked.id_number[:64], None, dumps(row), *problems
        else:
            read += 1
            yield number, checked.id_number, checked.grade, dumps(row), None, None
        if read % PROGRESS_EVERY == 0:
            progress_set(upload_id, phase="读取并校验", rows_read=read, rows_invalid=invalid)
    counts["read"], counts["invalid"], counts["blank"], counts["footer"] = read, invalid, blank, footer


class _CsvStream:
    """A file-like object over the staged rows, for COPY FROM STDIN: CSV text is produced as COPY reads,
    so no more than one buffer of rows is ever in memory."""

    def __init__(self, rows: Iterator[tuple]):
        self.rows = rows
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.pending = ""
        self.problem: FileProblem | None = None

    def read(self, size: int = -1) -> str:
        while len(self.pending) < size or size < 0:
            try:
                self.writer.writerows(_take(self.rows, 2000))
            except FileProblem as problem:  # psycopg2 reports it as a cancelled COPY: keep it to say so
                self.problem = problem
                raise
            chunk = self.buffer.getvalue()
            if not chunk:
                break
            self.buffer.seek(0)
            self.buffer.truncate()
            self.pending += chunk
        if size < 0:
            size = len(self.pending)
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


def _take(rows: Iterator, n: int) -> list:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == n:
            break
    return batch


def _stage(cursor, rows: Iterator[tuple]) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE TEMP TABLE {STAGE} (row_number integer, id_number text, grade text, vals text,"
            " err_column text, err_reason text) ON COMMIT DROP"
        )
        stream = _CsvStream(rows)
        try:
            cursor.copy_expert(f"COPY {STAGE} FROM STDIN WITH (FORMAT csv)", stream, size=1 << 18)
        except Exception:
            if stream.problem is not None:  # the file's fault, found while reading it: say what it is
                raise stream.problem from None
            raise
        cursor.execute(f"ANALYZE {STAGE}")
    else:  # the demo's SQLite: the same table, filled in batches
        cursor.execute(
            f"CREATE TEMP TABLE {STAGE} (row_number integer, id_number text, grade text, vals text,"
            " err_column text, err_reason text)"
        )
        while batch := _take(rows, 5000):
            cursor.executemany(f"INSERT INTO {STAGE} VALUES (%s, %s, %s, %s, %s, %s)", batch)


# --------------------------------------------------------------------------- the run


def comparison_run(upload_id: int) -> DepartmentUpload:
    """Compare one upload with the registry. Idempotent: a finished upload is returned as it is, and
    its warnings are never raised twice (unique person + kind + period)."""
    try:
        with transaction.atomic():
            upload = DepartmentUpload.objects.select_for_update().get(pk=upload_id)
            if upload.status != UploadStatus.QUEUED:
                return upload
            _run(upload)
    except FileProblem as problem:
        return _fail(upload_id, str(problem))
    except (OperationalError, InterfaceError):
        # The database went away (restart, failover): the transaction is gone, the upload is still
        # queued, and the task's retry with backoff runs it again from the start.
        logger.warning("comparison of upload %s interrupted by a database error; it stays queued", upload_id)
        raise
    except Exception:
        logger.exception("comparison of upload %s failed", upload_id)
        _fail(upload_id, "比对过程中出现系统错误，本次未产生任何预警；请点击“重新比对”，如仍失败请联系管理员。")
        raise
    finally:
        progress_clear(upload_id)
    return DepartmentUpload.objects.get(pk=upload_id)


def _fail(upload_id: int, message: str) -> DepartmentUpload:
    DepartmentUpload.objects.filter(pk=upload_id).update(
        status=UploadStatus.FAILED, error=bounded_error(message), finished_at=clock.now()
    )
    return DepartmentUpload.objects.get(pk=upload_id)


def _run(upload: DepartmentUpload) -> None:
    source = source_for(upload.department)
    now = clock.now()
    upload.started_at = now
    progress_set(upload.pk, phase="读取并校验", rows_read=0)
    header, rows, first_number, positions = open_table(upload)
    checker = RowChecker(source, header, positions)
    upload.columns = header
    counts: dict[str, int] = {}
    prefix = upload.division.prefix
    with connection.cursor() as cursor:
        _stage(cursor, _staged_rows(rows, checker, upload.pk, counts, first_number))
        progress_set(upload.pk, phase="匹配登记人员", rows_read=counts["read"], rows_invalid=counts["invalid"])
        # The one join with the registry: valid rows whose person is a member of a household of the area.
        cursor.execute(f"DROP TABLE IF EXISTS {MATCH}")
        cursor.execute(
            f"CREATE TEMP TABLE {MATCH} AS"
            " SELECT s.row_number, s.grade, s.vals, m.id AS member_id, h.id AS household_id, h.village_id"
            f" FROM {STAGE} s"
            " JOIN households_member m ON m.id_number = s.id_number"
            " JOIN households_household h ON h.id = m.household_id"
            " WHERE s.err_reason IS NULL AND h.village_id LIKE %s",
            [prefix + "%"],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {MATCH}")
        matched = cursor.fetchone()[0]
        invalid = counts["invalid"]
        unmatched = counts["read"] - invalid - matched  # valid rows of nobody registered in the area
        progress_set(
            upload.pk,
            phase="生成预警",
            rows_read=counts["read"],
            rows_matched=matched,
            rows_rejected=invalid,
            rows_unmatched=unmatched,
        )
        cursor.execute(
            "INSERT INTO monitoring_riskwarning (upload_id, department, kind, grade, period, member_id,"
            " household_id, village_id, row_number, source_values, risk_category_id, asset_kind, raised_at,"
            " due_at, status, case_id, reason, handled_by_id, handled_at)"
            " SELECT %s, %s, %s, x.grade, %s, x.member_id, x.household_id, x.village_id, x.row_number, x.vals,"
            " %s, %s, %s, %s, 'open', c.id, '', NULL, NULL"
            f" FROM {MATCH} x"
            " LEFT JOIN monitoring_monitoringcase c ON c.household_id = x.household_id AND c.is_open = %s"
            " WHERE x.row_number > 0"  # (SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT)
            " ON CONFLICT (member_id, kind, period) DO NOTHING",
            [
                upload.pk,
                upload.department,
                source.kind,
                upload.period,
                source.risk_category or None,
                source.asset_kind,
                now,
                now + dt.timedelta(hours=WARNING_DUE_HOURS),
                True,
            ],
        )
        created = cursor.rowcount
        _record_history(cursor, upload, now)
        # The first invalid rows up to the cap, then the first few examples of people not registered
        # (counted above, not errors). Two statements, not one with OR: "valid but unmatched" must plan
        # as an anti-join (a NOT IN under OR scans the match table per row once it outgrows work_mem).
        kept = []
        for condition, limit in (
            ("s.err_reason IS NOT NULL", settings.FPR_MAX_REJECTED_ROWS),
            (
                f"s.err_reason IS NULL AND NOT EXISTS (SELECT 1 FROM {MATCH} x WHERE x.row_number = s.row_number)",
                settings.FPR_UNMATCHED_EXAMPLE_ROWS,
            ),
        ):
            cursor.execute(
                "INSERT INTO monitoring_rejectedrow (upload_id, row_number, column_label, reason, id_number,"
                " source_values)"
                " SELECT %s, s.row_number, COALESCE(s.err_column, '身份证号'), COALESCE(s.err_reason, %s),"
                f" COALESCE(s.id_number, ''), s.vals FROM {STAGE} s WHERE {condition}"
                " ORDER BY s.row_number LIMIT %s",
                [upload.pk, NOT_REGISTERED, max(limit, 0)],
            )
            kept.append(cursor.rowcount)
        cursor.execute(f"DROP TABLE {MATCH}")
        cursor.execute(f"DROP TABLE {STAGE}")
    upload.status = UploadStatus.DONE
    upload.error = ""
    upload.rows_total = counts["read"]
    upload.rows_matched = matched
    upload.rows_rejected = invalid
    upload.rows_unmatched = unmatched
    upload.rejected_kept, upload.unmatched_kept = kept
    upload.warnings_created = created
    upload.warnings_existing = matched - created
    upload.table_layout = {
        **upload.table_layout,
        "id_position": checker.id_position,
        "blank_rows": upload.table_layout.get("blank_rows", 0) + counts["blank"],
        "footer_rows": counts["footer"],
    }
    upload.finished_at = clock.now()
    upload.save()


def _record_history(cursor, upload: DepartmentUpload, now: dt.datetime) -> None:
    """The "+" history record of every warning this upload raised, written set-wise like the warnings."""
    history = RiskWarning.history.model
    fields = [f.column for f in RiskWarning._meta.concrete_fields]
    columns = ", ".join(fields)
    cursor.execute(
        f"INSERT INTO {history._meta.db_table} ({columns}, history_date, history_change_reason, history_type,"
        " history_user_id)"
        f" SELECT {columns}, %s, %s, '+', %s FROM {RiskWarning._meta.db_table} WHERE upload_id = %s",
        [now, f"部门数据比对（批次 #{upload.pk}）", upload.uploaded_by_id, upload.pk],
    )


# --------------------------------------------------------------------------- rejected-rows report


def rejected_rows(upload: DepartmentUpload) -> Iterator[tuple]:
    return (
        RejectedRow.objects.filter(upload=upload)
        .order_by("row_number")
        .values_list("row_number", "column_label", "reason", "source_values")
        .iterator(chunk_size=5000)
    )


REPORT_INLINE_ROWS = 50_000  # a larger report is built by the worker, not in the request


def rejected_report_ready(upload: DepartmentUpload) -> bool:
    """Whether the report file is there to download: built now when small (or when tasks run
    in-process), else queued for the worker (the task runs after each comparison anyway)."""
    if not upload.rejected_report:
        if upload.rows_kept > REPORT_INLINE_ROWS and not settings.CELERY_TASK_ALWAYS_EAGER:
            from monitoring.tasks import build_rejected_report

            # Broker down: the page says the report is not ready yet.
            queueing.enqueue(build_rejected_report, upload.pk, what=f"the rejected-rows report of upload {upload.pk}")
            return False
        upload.rejected_report = rejected_report_build(upload.pk).rejected_report
    return bool(upload.rejected_report)


def _id_position(upload: DepartmentUpload) -> int | None:
    """Where the ID column is in the upload's columns (kept by the run; found again for older uploads)."""
    if "id_position" in (upload.table_layout or {}):
        return upload.table_layout["id_position"]
    return tables.column_positions(source_for(upload.department), upload.columns).get("id_number")


def rejected_report_build(upload_id: int) -> DepartmentUpload:
    """The rejected rows as an XLSX (行号, 问题列, 原因, then the file's own columns), written in
    openpyxl's write-only mode straight from the database cursor."""
    from django.core.files.base import File

    from fpr.excel import write_rejected_rows

    upload = DepartmentUpload.objects.get(pk=upload_id)
    if upload.status != UploadStatus.DONE or upload.rejected_report or not upload.rows_kept:
        return upload
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        write_rejected_rows(handle.name, upload=upload, rows=rejected_rows(upload), id_position=_id_position(upload))
        with open(handle.name, "rb") as built:
            upload.rejected_report.save(f"拒收行_{upload.pk}_{upload.department}_{upload.period}.xlsx", File(built))
    return upload
