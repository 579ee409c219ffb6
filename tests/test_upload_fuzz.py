"""Upload fuzzing: the department-list pipeline (monitoring.screening.comparison) with broken and hostile files,
and formula injection (`=cmd|...`) neutralised in the rejected-rows report and in every XLSX export
registered in reports.exports.runner.WRITERS.

A hostile file must end as a FAILED upload with a Chinese message, or be refused at upload — never an
exception out of the run, never a warning raised from garbage.
"""

import datetime as dt
import io
import os
import random
import zipfile
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from openpyxl import Workbook, load_workbook

from fpr.errors import ApplicationError
from fpr.roles import Department, Role
from households.models import Member
from monitoring.models import RiskWarning, UploadStatus
from monitoring.screening.comparison import comparison_run, rejected_report_build, upload_create
from monitoring.screening.departments import source_for
from tests.builders import CaseWalker, department_csv, make_user, member_data

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
INJECTION = "=cmd|' /C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t")
DEPARTMENT = Department.MEDICAL_INSURANCE


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def uploader(divisions):
    return make_user("upload_fuzzer", divisions["520521000000"], Role.ADMINISTRATOR, full_name="吴管理")


@pytest.fixture
def registered(household_a):
    """A member of the registry, so that a good row would match and raise a warning."""
    return household_a.members.first()


def upload_and_run(user, data: bytes, name: str, *, encoding: str = "", period: str = "2026-11"):
    upload = upload_create(
        user=user, department=DEPARTMENT, period=period, file=SimpleUploadedFile(name, data), encoding=encoding
    )
    return comparison_run(upload.pk)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def header() -> list[str]:
    return [column.label for column in source_for(DEPARTMENT).columns]


def good_rows(member, n: int = 30) -> list[list]:
    rows = [header()]
    rows += [[member.id_number, member.name, "30000", "2026-10", "县医院"] for _ in range(1)]
    rows += [[f"52052119900101{i:04d}", f"某{i}", str(i), "", ""] for i in range(n)]
    return rows


# --------------------------------------------------------------------------- truncated and hostile files


def test_a_truncated_xlsx_fails_cleanly_at_every_cut_point(uploader, registered):
    whole = xlsx_bytes(good_rows(registered, 200))
    cuts = sorted({*range(1, len(whole), max(1, len(whole) // 40)), len(whole) - 1, len(whole) - 22, 4, 30})
    outcomes = set()
    for cut in cuts:
        data = whole[:cut]
        try:
            upload = upload_and_run(uploader, data, f"cut{cut}.xlsx")
        except ApplicationError as refused:
            outcomes.add("refused")
            assert refused.message
            continue
        outcomes.add(upload.status)
        assert upload.status == UploadStatus.FAILED, f"cut at {cut} of {len(whole)}: {upload.status}"
        assert upload.error and "XLSX" in upload.error or "文件" in upload.error
        assert not RiskWarning.objects.filter(upload=upload).exists()
    assert UploadStatus.FAILED in outcomes
    # The whole file still works: the failures were about the cuts.
    assert upload_and_run(uploader, whole, "whole.xlsx").status == UploadStatus.DONE


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(uploader, settings):
    settings.FPR_MAX_XLSX_UNPACKED_MB = 50
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([header()])))
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info, source.read(info))
        # 64 MB of XML whitespace inside the sheet: compresses to ~60 kB.
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            chunk = b" " * (1 << 20)
            for _ in range(64):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    bomb = out.getvalue()
    assert len(bomb) < 1 << 20
    upload = upload_and_run(uploader, bomb, "bomb.xlsx")
    assert upload.status == UploadStatus.FAILED
    assert "解压后超过50MB" in upload.error


def test_a_csv_mixing_utf8_and_gbk_lines_is_refused_with_the_line(uploader, registered):
    lines = [",".join(header()), f"{registered.id_number},{registered.name},30000,2026-10,县医院"]
    utf8 = "\r\n".join(lines).encode("utf-8") + b"\r\n"
    gbk = "52052119900101001X,王五,100,2026-10,乡卫生院\r\n".encode("gbk")
    upload = upload_and_run(uploader, utf8 + gbk + utf8.split(b"\r\n", 1)[1], "mixed.csv")
    assert upload.status == UploadStatus.FAILED
    assert "第3行" in upload.error and "UTF-8" in upload.error
    # GBK first, then UTF-8: GBK decodes most UTF-8 bytes, so the file decodes as GBK or is refused;
    # either way nothing crashes and no warning comes from a mis-decoded name.
    upload = upload_and_run(uploader, gbk + utf8, "mixed2.csv")
    assert upload.status in (UploadStatus.FAILED, UploadStatus.DONE)
    assert upload.status == UploadStatus.FAILED or upload.rows_total >= 1


@pytest.mark.parametrize("seed", range(12))
def test_random_bytes_are_refused_or_fail_with_a_message(uploader, seed):
    rng = random.Random(seed)
    size = rng.choice([1, 7, 100, 4096, 70_000])
    data = bytes(rng.getrandbits(8) for _ in range(size))
    if seed % 3 == 0:
        data = b"PK\x03\x04" + data  # looks like an XLSX at first sight
    try:
        upload = upload_and_run(uploader, data, f"random{seed}.csv")
    except ApplicationError as refused:
        assert refused.message
        return
    assert upload.status in (UploadStatus.FAILED, UploadStatus.DONE)
    if upload.status == UploadStatus.FAILED:
        assert upload.error
    assert not RiskWarning.objects.filter(upload=upload).exists()


# --------------------------------------------------------------------------- a 100 MB file


def _big_csv(path, member, megabytes: int) -> int:
    """A department CSV of about `megabytes` MB, written in large blocks; returns its size."""
    block_rows = "".join(f"52052119900101{i % 10000:04d},某某,{i},2026-10,县医院\r\n" for i in range(20_000))
    block = block_rows.encode()
    with open(path, "wb") as out:
        out.write((",".join(header()) + "\r\n").encode())
        out.write(f"{member.id_number},{member.name},30000,2026-10,县医院\r\n".encode())
        while out.tell() < megabytes * 1024 * 1024:
            out.write(block)
    return os.path.getsize(path)


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _hwm_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _uploaded(path) -> TemporaryUploadedFile:
    """The file as Django hands a large upload to the view: on disk, not in memory."""
    upload = TemporaryUploadedFile("big.csv", "text/csv", os.path.getsize(path), None)
    with open(path, "rb") as source:
        while chunk := source.read(1 << 22):
            upload.write(chunk)
    upload.seek(0)
    return upload


def test_a_100_mb_csv_is_refused_by_size_above_the_limit(uploader, registered, tmp_path, settings):
    path = tmp_path / "big.csv"
    size = _big_csv(path, registered, 100)
    settings.FPR_MAX_DEPARTMENT_UPLOAD_MB = 50
    file = _uploaded(path)
    with pytest.raises(ApplicationError) as refused:
        upload_create(user=uploader, department=DEPARTMENT, period="2026-11", file=file)
    file.close()
    assert refused.value.field == "file"
    assert f"{size / 1048576:.1f}MB" in refused.value.message and "50MB" in refused.value.message


def test_a_100_mb_csv_under_a_raised_limit_streams_in_bounded_memory(uploader, registered, tmp_path, settings):
    path = tmp_path / "big.csv"
    size = _big_csv(path, registered, 100)
    settings.FPR_MAX_DEPARTMENT_UPLOAD_MB = 200
    file = _uploaded(path)
    upload = upload_create(user=uploader, department=DEPARTMENT, period="2026-11", file=file)
    file.close()  # the storage moved the temporary file into MEDIA_ROOT
    rss_before, peak_before = _rss_kb(), _hwm_kb()
    upload = comparison_run(upload.pk)
    growth_mb = (max(_hwm_kb(), peak_before) - rss_before) / 1024
    assert upload.status == UploadStatus.DONE, upload.error
    assert upload.rows_total > 2_000_000 and upload.rows_matched == 1
    # The whole file is ~100 MB; as Python rows it would be several GB. Streaming keeps the run flat.
    print(f"comparison of a {size / 1048576:.0f} MB CSV: peak RSS growth {growth_mb:.0f} MB")
    assert growth_mb < 150, f"RSS grew {growth_mb:.0f} MB over a {size / 1048576:.0f} MB file"


# --------------------------------------------------------------------------- formula injection

PAYLOADS = [INJECTION, "+1+cmd|' /C calc'!A0", "-2+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1"]


def assert_neutralised(path) -> int:
    """No formula cell anywhere in the workbook, and no text cell that a spreadsheet would run.
    Returns how many cells carried one of the payloads (neutralised)."""
    workbook = load_workbook(path)
    seen = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), (
                        f"{sheet.title}!{cell.coordinate} starts like a formula: {cell.value!r}"
                    )
                    seen += "cmd|" in cell.value or "=1+1" in cell.value
    return seen


def test_the_rejected_rows_report_neutralises_formulas_in_every_column(uploader, registered):
    labels = header()
    rows = []
    for payload in PAYLOADS:
        for target in labels:  # the payload in each column in turn (and valid values elsewhere)
            row = {"身份证号": "52052119900101002X", "姓名": "某某", "个人自付金额": "100"}
            row[target] = payload
            rows.append(row)
    rows.append({label: PAYLOADS[0] for label in labels})
    data = department_csv(rows, department=DEPARTMENT).encode()
    upload = upload_and_run(uploader, data, "injection.csv")
    assert upload.status == UploadStatus.DONE and upload.rows_rejected == len(rows)
    upload = rejected_report_build(upload.pk)
    assert upload.rejected_report
    assert assert_neutralised(upload.rejected_report.path) >= len(rows)


def test_a_formula_in_the_header_of_a_department_list_is_neutralised_in_the_report(uploader):
    """The report repeats the file's own header row: a header cell is file content too."""
    labels = [*header(), INJECTION]
    data = department_csv([{"身份证号": "123", INJECTION: INJECTION}], department=DEPARTMENT, header=labels).encode()
    upload = upload_and_run(uploader, data, "header.csv")
    assert upload.status == UploadStatus.DONE
    upload = rejected_report_build(upload.pk)
    assert assert_neutralised(upload.rejected_report.path) >= 2


@pytest.fixture
def injected_world(divisions, cadre_a, township_reviewer, county_reviewer, make_household, open_case, make_monitored):
    """Cases whose every free text a user types — address, member names, description, findings,
    opinions, plan, measures, visits — is a formula, built through the services."""
    from assistance.models import Effect, MeasureStatus
    from assistance.services import measure_add

    village = divisions["520521100001"]
    members = [
        member_data(INJECTION),
        member_data(PAYLOADS[1], "spouse"),
        member_data(PAYLOADS[3], "son"),
    ]
    household = make_household(user=cadre_a, village=village, address=INJECTION, members=members)
    assert Member.objects.filter(household=household, name=INJECTION).exists()
    case = open_case(user=cadre_a, household=household, description=INJECTION)
    monitored = make_monitored(case)
    measure_add(
        user=cadre_a,
        plan=monitored.plan,
        category="health",
        risk_category="illness",
        description=INJECTION,
        amount=Decimal("10"),
        starts_on=dt.date(2026, 7, 1),
        status=MeasureStatus.DONE,
        effect=Effect.CLEAR,
    )
    application = open_case(
        user=cadre_a,
        household=make_household(user=cadre_a, village=village, address=PAYLOADS[2]),
        description=PAYLOADS[4],
    )
    walker = CaseWalker(cadre_a, township_reviewer, county_reviewer)
    walker.to_verification(application)
    return {"monitored": monitored, "application": application}


def test_every_registered_export_neutralises_formulas(injected_world, administrator, cadre_a, divisions):
    from reports.exports.runner import WRITERS, export_start

    assert len(WRITERS) >= 3  # the registry is filled (ReportsConfig.ready)
    filters = {"year": 2026, "quarter": 4, "period": "2026-11", "case": injected_world["monitored"].pk}
    checked = {}
    for kind in sorted(WRITERS):
        for user, division in ((administrator, divisions["520521000000"]), (cadre_a, divisions["520521100001"])):
            export = export_start(user=user, kind=kind, division=division, filters=filters, background=False)
            checked[(kind, user.username)] = assert_neutralised(export.file.path)
    # The payloads did reach the files (neutralised), so the check above looked at real content.
    assert sum(checked.values()) > 0, checked
    assert any(seen for (kind, _), seen in checked.items() if kind == "ledger")


# --------------------------------------------------------------------------- broken CSVs (#11 finding 14)


def assert_clear_failure(upload, *phrases: str) -> None:
    """Failed with a bounded Chinese message naming the problem, not the generic system error."""
    from monitoring.screening.comparison import ERROR_MAX_CHARS

    assert upload.status == UploadStatus.FAILED
    assert "系统错误" not in upload.error, upload.error
    assert len(upload.error) <= ERROR_MAX_CHARS
    for phrase in phrases:
        assert phrase in upload.error, upload.error
    assert not RiskWarning.objects.filter(upload=upload).exists()


def csv_lines(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def test_a_header_field_over_128_kb_names_the_line(uploader):
    data = csv_lines(",".join(header()) + ",备注" + "注" * 140_000, "52052119900101001X,某,1,,")
    assert_clear_failure(upload_and_run(uploader, data, "header.csv"), "第1行有单元格超过128KB")


def test_an_unterminated_quote_names_the_line_where_it_opens(uploader, registered):
    good = f"{registered.id_number},{registered.name},30000,2026-10,县医院"
    data = csv_lines(",".join(header()), good, '52052119900101001X,"某某,100,2026-10,县医院', good, good)
    assert_clear_failure(upload_and_run(uploader, data, "quote.csv"), "第3行（至第5行）", "引号")


def test_a_quote_that_swallows_the_file_names_the_line(uploader, registered):
    good = f"{registered.id_number},{registered.name},30000,2026-10,县医院"
    data = csv_lines(",".join(header()), good, '52052119900101001X,"某某,100', *[good] * 20_000)
    assert_clear_failure(upload_and_run(uploader, data, "swallow.csv"), "第3行", "超过128KB", "引号")


def test_a_40_mb_field_is_refused_with_its_line(uploader, registered):
    good = f"{registered.id_number},{registered.name},30000,2026-10,县医院"
    data = csv_lines(",".join(header()), good, good, f"52052119900101001X,{'某' * (14 << 20)},1,,")
    assert len(data) > 40 << 20
    assert_clear_failure(upload_and_run(uploader, data, "field.csv"), "第4行超过4MB")


def test_a_million_columns_are_refused_in_a_bounded_message(uploader):
    data = csv_lines(",".join(header() + [f"列{i}" for i in range(1_000_000)]), "52052119900101001X,某,1,,")
    assert_clear_failure(upload_and_run(uploader, data, "wide.csv"), "第1行超过4MB")
    # Narrower, within a line: the column limit, naming the first columns and how many there are.
    data = csv_lines(",".join(header() + [f"列{i}" for i in range(10_000)]), "52052119900101001X,某,1,,")
    upload = upload_and_run(uploader, data, "wide2.csv")
    assert_clear_failure(upload, "第1行（列名）有10005列，超过200列的上限", "身份证号、姓名", "列14 等10005列")


def test_the_uploads_api_list_never_returns_a_huge_error(uploader):
    """An upload that failed before the bound kept a 7.9 MB message; the list returns it cut."""
    from rest_framework.test import APIClient

    from monitoring.models import DepartmentUpload
    from monitoring.screening.comparison import ERROR_MAX_CHARS

    upload = upload_and_run(uploader, csv_lines("身份证号"), "old.csv")
    DepartmentUpload.objects.filter(pk=upload.pk).update(error="医保数据缺少必需列：" + "列、" * 4_000_000)
    api = APIClient()
    api.force_authenticate(uploader)
    response = api.get("/api/v1/uploads/")
    assert response.status_code == 200
    assert len(response.content) < 20_000
    (listed,) = response.json()["results"]
    assert len(listed["error"]) == len(listed["progress"]["error"]) == ERROR_MAX_CHARS
