"""Departmental comparison benchmark (SPEC §5): a 1,000,000-row 医保 list against a registry of
1,000,000 members, end to end, compared in the same run with the straightforward ORM loop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fpr_bench_cmp .venv/bin/python bench/comparison.py

The database named in DATABASE_URL is dropped and created again (its name must contain "bench"),
migrated and seeded with `households.seeding.seed_county` (286,000 households give
1,004,058 members with seed 2026). The list is 5 % registered members, 1 % invalid rows (bad check
digit, wrong length, bad amount, missing amount, in turn), the rest valid IDs of nobody registered;
a county administrator uploads it.

The measured part — `upload_create` then `comparison_run` — runs in a fresh subprocess, so its peak
RSS is the pipeline's own and not the seeder's. Phases are timed by wrapping the module's functions
and by a database execute wrapper, here only; `monitoring.screening.comparison` is not changed. Then, in this
process: the ORM equivalent per row on a 20,000-row sample (rolled back), and the rejected-rows XLSX
report on a smaller upload. Prints `BENCH <name> <value> <unit>` lines. Targets (2-core machine):
1,000,000 rows in under 60 s, peak RSS under 500 MB, at least 20× the ORM loop's rows per second.
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.seed import bench, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fpr_bench_cmp"
HOUSEHOLDS_FOR_1M_MEMBERS = 286_000  # seed 2026: 1,004,058 members (3.51 a household)
PERIOD = "2026-11"
ADMIN = "bench_admin"
HEADER = ["身份证号", "姓名", "个人自付金额", "费用期间", "就诊机构"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"

# Ceilings from /work/shared/MEASURED.md (same kind of machine), printed beside our figures.
CEILING_SET_BASED = 180_000  # raw COPY + analyse + join per million rows, before parsing and validation
CEILING_CSV_LOW, CEILING_CSV_HIGH = 500_000, 700_000  # csv module, 1 M lines
CEILING_XLSX_WRITE_ONLY = 2_400  # openpyxl write_only, 200,000 rows × 20 columns


def comparison_module():
    """The comparison pipeline of the checkout this process runs in: monitoring.screening.comparison
    since #14's rooms, monitoring.comparison in a checkout from before (--against an older commit)."""
    import importlib

    try:
        return importlib.import_module("monitoring.screening.comparison")
    except ModuleNotFoundError:
        return importlib.import_module("monitoring.comparison")


def id_with_check(first17: str) -> str:
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def unregistered_id(i: int) -> str:
    """A valid ID number of nobody in the registry: region 110101 (北京 东城区) is never seeded."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=i % 20_000)
    return id_with_check(f"110101{birth:%Y%m%d}{(i // 20_000) % 1000:03d}")


def write_list(path: str, *, rows: int, registered: list[str], seed: int) -> dict[str, int]:
    """The department CSV (UTF-8). Row i (0-based): every 20th a registered member, every 100th (at
    50) invalid, one of four kinds in turn; the rest unregistered valid IDs. Returns the counts."""
    rng = random.Random(seed)
    hospitals = ["大方县人民医院", "毕节市第一人民医院", "贵州医科大学附属医院", "大方县中医医院"]
    counts = {"registered": 0, "invalid": 0, "unregistered": 0}
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            amount = f"{rng.randrange(500, 80_000)}.{rng.randrange(100):02d}"
            if i % 100 == 50:
                kind = (i // 100) % 4
                number = unregistered_id(i)
                if kind == 0:  # bad check digit
                    number = number[:17] + ("0" if number[17] != "0" else "1")
                elif kind == 1:  # wrong length
                    number = number[:17]
                elif kind == 2:  # bad amount
                    amount = "约三千元"
                else:  # missing required value
                    amount = ""
                counts["invalid"] += 1
            elif i % 20 == 0 and counts["registered"] < len(registered):
                number = registered[counts["registered"]]
                counts["registered"] += 1
            else:
                number = unregistered_id(i)
                counts["unregistered"] += 1
            writer.writerow((number, "张三", amount, "2026-10", hospitals[i % 4]))
    return counts


# --------------------------------------------------------------------------- the measured child


def proc_status_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak since the last reset through /proc/self/clear_refs). Not
    getrusage: Linux carries ru_maxrss across exec, so a child would report the seeding parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(path: str, report_path: str) -> int:
    """upload_create → comparison_run in this fresh process, phases timed; figures as JSON to report_path."""
    import django

    django.setup()
    from django.core.files import File
    from django.db import connection

    from households.models import User
    from monitoring.models import UploadStatus

    comparison = comparison_module()

    baseline_rss = proc_status_mb("VmRSS")
    # Reset the kernel's high-water mark, so the peak below is the pipeline's alone (Linux ≥ 4.0).
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    phases: dict[str, float] = {}

    def add(name: str, seconds: float) -> None:
        phases[name] = phases.get(name, 0.0) + seconds

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                add(name, time.perf_counter() - started)

        return wrapper

    # Python-side read + validate + JSON of each row happens inside the staged-rows generator, which
    # COPY's CSV stream drains 2,000 rows at a time through _take: timing _take measures it.
    for name in ("_check_encoding", "_detect_encoding"):  # (renamed while the module evolves)
        if hasattr(comparison, name):
            setattr(comparison, name, timed("detect_encoding", getattr(comparison, name)))
    comparison._take = timed("read_validate", comparison._take)
    comparison._stage = timed("stage_total", comparison._stage)
    comparison.comparison_enqueue = lambda upload_id: None  # the bench runs it itself, below

    statements = (
        ("ANALYZE", "analyze"),
        (f"CREATE TEMP TABLE {comparison.MATCH}", "match"),
        ("SELECT COUNT(*)", "match"),
        ("INSERT INTO monitoring_riskwarning", "warnings"),
        ("INSERT INTO monitoring_historicalriskwarning", "history"),
        ("INSERT INTO monitoring_rejectedrow", "rejected_rows"),
    )

    def by_statement(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            for prefix, name in statements:
                if sql.startswith(prefix):
                    add(name, time.perf_counter() - started)
                    break

    user = User.objects.get(username=ADMIN)
    size = os.path.getsize(path)
    with connection.execute_wrapper(by_statement):
        started = time.perf_counter()
        with open(path, "rb") as handle:
            upload = comparison.upload_create(
                user=user,
                department="medical_insurance",
                period=PERIOD,
                file=File(handle, name="医保_大额自付_2026-11.csv"),
            )
        uploaded = time.perf_counter()
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: the run's checks happen at its commit.
        connection.commit = timed("commit", connection.commit)
        upload = comparison.comparison_run(upload.pk)
        finished = time.perf_counter()
    assert upload.status == UploadStatus.DONE, upload.error
    peak = proc_status_mb("VmHWM")
    run_phases = dict(phases)  # the run's alone: the passes below detect the encoding again
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('monitoring_rejectedrow')")
        rejected_table_mb = cursor.fetchone()[0] / 1048576

    # The csv module alone over the stored file: what reading costs before any checking.
    started_read = time.perf_counter()
    header, rows, *_ = comparison.open_table(upload)  # (since #12 also the first data row number)
    read_rows = sum(1 for _ in rows)
    read_only = time.perf_counter() - started_read
    checker = comparison.RowChecker(comparison.source_for(upload.department), header)
    started_check = time.perf_counter()
    header, rows, *_ = comparison.open_table(upload)  # (since #12 also the first data row number)
    for row in rows:
        checker.check(row)
    read_check = time.perf_counter() - started_check

    figures = {
        "size_mb": size / 1048576,
        "upload_s": uploaded - started,
        "run_s": finished - uploaded,
        "total_s": finished - started,
        "rows": upload.rows_total,
        "matched": upload.rows_matched,
        "rejected": upload.rows_rejected,
        "unmatched": getattr(upload, "rows_unmatched", 0),  # (counted apart since #11; 0 before)
        "kept": getattr(upload, "rows_kept", upload.rows_rejected),
        "warnings": upload.warnings_created,
        "existing": upload.warnings_existing,
        "baseline_rss": baseline_rss,
        "peak_rss": peak,
        "rejected_table_mb": rejected_table_mb,
        "phases": run_phases,
        "read_only_s": read_only,
        "read_check_s": read_check,
        "read_rows": read_rows,
        "upload_id": upload.pk,
    }
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump(figures, out)
    return 0


# --------------------------------------------------------------------------- the ORM loop


def orm_loop(path: str, *, rows: int, upload, prefix: str) -> float:
    """The straightforward Django way, per row, in one transaction (rolled back): validate with
    parse_id_number, look the member up with its household, get_or_create the warning (with its
    history row, via simple-history's signal) or create the rejected row. Returns rows per second."""
    from decimal import Decimal, InvalidOperation

    from django.core.exceptions import ValidationError
    from django.db import transaction

    from fpr import clock
    from households.id_numbers import parse_id_number
    from households.models import Member
    from monitoring.models import MonitoringCase, RejectedRow, RiskWarning
    from monitoring.screening.comparison import NOT_REGISTERED

    class Rollback(Exception):
        pass

    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        sample = [next(reader) for _ in range(rows)]
    started = time.perf_counter()
    try:
        with transaction.atomic():
            for number, row in enumerate(sample, start=2):
                id_number, amount_text = row[0].strip().upper(), row[2].strip()

                def reject(column: str, reason: str, number=number, id_number=id_number, row=row) -> None:
                    RejectedRow.objects.create(
                        upload=upload,
                        row_number=number,
                        column_label=column,
                        reason=reason,
                        id_number=id_number[:64],
                        source_values=json.dumps(row, ensure_ascii=False),
                    )

                try:
                    parse_id_number(id_number)
                except ValidationError as error:
                    reject("身份证号", error.messages[0])
                    continue
                if not amount_text:
                    reject("个人自付金额", "个人自付金额为空（必填）")
                    continue
                try:
                    amount = Decimal(amount_text)
                except InvalidOperation:
                    reject("个人自付金额", f"个人自付金额应为数字，当前为“{amount_text}”")
                    continue
                member = (
                    Member.objects.select_related("household")
                    .filter(id_number=id_number, household__village__code__startswith=prefix)
                    .first()
                )
                if member is None:
                    reject("身份证号", NOT_REGISTERED)
                    continue
                case = MonitoringCase.objects.filter(household=member.household, is_open=True).first()
                now = clock.now()
                RiskWarning.objects.get_or_create(
                    member=member,
                    kind="medical_cost",
                    period="2026-10",  # not the pipeline's period: these are all new warnings
                    defaults={
                        "upload": upload,
                        "department": "medical_insurance",
                        "grade": "red" if amount >= 50_000 else "orange" if amount >= 20_000 else "yellow",
                        "household": member.household,
                        "village_id": member.household.village_id,
                        "row_number": number,
                        "source_values": json.dumps(row, ensure_ascii=False),
                        "risk_category_id": "illness",
                        "raised_at": now,
                        "due_at": now + dt.timedelta(hours=48),
                        "case": case,
                    },
                )
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return rows / seconds


# --------------------------------------------------------------------------- main


def seed_registry(households: int, seed: int, minimum: int) -> None:
    from households.seeding import seed_county

    started = time.perf_counter()
    result = seed_county(households=households, seed=seed, change_reason="批量导入")
    print(
        f"# seeded {result.households} households, {result.members} members in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    if result.members < minimum:
        raise SystemExit(f"{result.members} members < {minimum}: raise --households")


def side_by_side(args, list_path: str, work: Path) -> None:
    """The older checkout's pipeline and ours, alternately (old, new, old, new …) on the same list and the
    same registry, each in a fresh process with its own code; the database is emptied of uploads between
    runs. Wall time is the child's upload + run; CPU is the whole child's (user + system, from
    getrusage of the waited-for children), which also includes the same two reading passes on both sides."""
    import resource
    import statistics

    from django.db import connection

    with connection.cursor() as cursor:
        # Older code may not know a column added since (table_layout, #12): give it the default.
        cursor.execute("ALTER TABLE monitoring_departmentupload ALTER COLUMN table_layout SET DEFAULT '{}'::jsonb")
    sides = {"old": Path(args.against).resolve() / "bench" / "comparison.py", "new": Path(__file__).resolve()}
    results: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for round_ in range(args.rounds):
        for side in ("old", "new"):
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE monitoring_riskwarning, monitoring_historicalriskwarning, monitoring_rejectedrow,"
                    " monitoring_departmentupload CASCADE"
                )
            report = str(work / f"{side}{round_}.json")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(  # in its checkout: Celery puts the working directory first on sys.path
                [sys.executable, str(sides[side]), "--child", list_path, report],
                check=True,
                env=os.environ.copy(),
                cwd=sides[side].parent.parent,
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            with open(report, encoding="utf-8") as handle:
                figures = json.load(handle)
            assert figures["rows"] == args.rows, figures
            results[side].append((figures["total_s"], cpu))
            print(
                f"# round {round_ + 1} {side}: {figures['total_s']:.1f} s wall (upload + run), {cpu:.1f} s CPU"
                f" (whole child), {figures['matched']} matched, {figures['rejected']} invalid",
                flush=True,
            )
            bench(f"side_by_side_{side}_round{round_ + 1}_seconds", figures["total_s"], "s")
    for side in ("old", "new"):
        bench(f"side_by_side_{side}_median_seconds", statistics.median(w for w, _ in results[side]), "s")
        bench(f"side_by_side_{side}_median_cpu_seconds", statistics.median(c for _, c in results[side]), "s")
    bench(
        "side_by_side_new_to_old_wall_ratio",
        statistics.median(w for w, _ in results["new"]) / statistics.median(w for w, _ in results["old"]),
        "ratio",
    )
    bench(
        "side_by_side_new_to_old_cpu_ratio",
        statistics.median(c for _, c in results["new"]) / statistics.median(c for _, c in results["old"]),
        "ratio",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=HOUSEHOLDS_FOR_1M_MEMBERS)
    parser.add_argument("--members", type=int, default=1_000_000, help="fewest registered members")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the department list")
    parser.add_argument("--orm-rows", type=int, default=20_000)
    parser.add_argument("--report-rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database (no re-seed)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--child", nargs=2, metavar=("CSV", "REPORT"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--against",
        metavar="CHECKOUT",
        help="a checkout of older code (git worktree add --detach DIR COMMIT): its pipeline and ours run"
        " alternately on the same list and database, old-new-old-new, and only that is measured",
    )
    parser.add_argument("--rounds", type=int, default=2, help="with --against: runs of each side")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("FPR_TESTING", "1")  # local settings: no SECRET_KEY needed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fpr.settings")
    os.environ.pop("REDIS_URL", None)  # no broker: nothing is queued, the cache is in-process
    if args.child:
        return child(*args.child)

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"] or "bench" not in config["NAME"]:
        print("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' (it is dropped).")
        return 2
    work = Path(tempfile.mkdtemp(prefix="fpr-bench-cmp-"))
    os.environ["MEDIA_ROOT"] = str(work / "media")
    if not args.reuse:
        recreate_database(config)

    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from households.models import Division, Member, User
    from monitoring.models import DepartmentUpload

    comparison = comparison_module()

    call_command("migrate", verbosity=0)
    if not (args.reuse and Member.objects.count() >= args.members):
        seed_registry(args.households, args.seed, args.members)
    with connection.cursor() as cursor:
        if args.reuse:  # the uploads of an earlier run, with everything they raised
            cursor.execute(
                "TRUNCATE monitoring_riskwarning, monitoring_historicalriskwarning, monitoring_rejectedrow,"
                " monitoring_departmentupload CASCADE"
            )
        cursor.execute("ANALYZE households_member")
        cursor.execute("ANALYZE households_household")
        cursor.execute("SELECT count(*) FROM households_member")
        members = cursor.fetchone()[0]
        # Every 20th member by id: spread over the whole county, the same on every run.
        cursor.execute(
            "SELECT id_number FROM households_member WHERE id %% 20 = 0 ORDER BY id LIMIT %s", [args.rows // 20]
        )
        registered = [number for (number,) in cursor.fetchall()]
    county = Division.objects.get(code="520521000000")
    admin, _ = User.objects.get_or_create(username=ADMIN, defaults={"division": county, "full_name": "压测管理员"})
    admin.groups.set([Group.objects.get(name="系统管理员")])

    list_path = str(work / "medical_insurance.csv")
    counts = write_list(list_path, rows=args.rows, registered=registered, seed=args.seed)
    print(
        f"# registry {members} members; list {args.rows} rows: {counts['registered']} registered, "
        f"{counts['invalid']} invalid, {counts['unregistered']} unregistered; "
        f"{os.path.getsize(list_path) / 1048576:.0f} MB",
        flush=True,
    )

    if args.against:
        side_by_side(args, list_path, work)
        connection.close()
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            recreate_database(config, drop_only=True)
        return 0

    # 1. End to end in a fresh process.
    report = str(work / "child.json")
    subprocess.run([sys.executable, __file__, "--child", list_path, report], check=True, env=os.environ.copy())
    with open(report, encoding="utf-8") as handle:
        figures = json.load(handle)
    phases = figures["phases"]
    rows = figures["rows"]
    assert rows == args.rows and figures["matched"] == counts["registered"], figures
    # Every row that raised no warning is either invalid or of nobody registered (counted apart).
    assert figures["rejected"] + figures["unmatched"] == args.rows - counts["registered"], figures
    print(
        f"# {rows} rows: {figures['matched']} matched ({figures['warnings']} warnings created, "
        f"{figures['existing']} existing), {figures['rejected']} invalid, {figures['unmatched']} of nobody "
        f"registered; {figures['kept']} rows kept for the report; file {figures['size_mb']:.0f} MB",
        flush=True,
    )
    pipeline_rows_per_s = rows / figures["total_s"]
    bench("comparison_total_seconds", figures["total_s"], "s")
    bench("comparison_rows_per_s", pipeline_rows_per_s, "rows/s")
    bench("comparison_peak_rss_mb", figures["peak_rss"], "MB")
    bench("comparison_rss_before_run_mb", figures["baseline_rss"], "MB")
    bench("rejected_rows_table_mb", figures["rejected_table_mb"], "MB")
    bench("ceiling_set_based_rows_per_s", CEILING_SET_BASED, "rows/s")
    bench("comparison_to_set_based_ratio", pipeline_rows_per_s / CEILING_SET_BASED, "ratio")
    read_validate = phases.get("read_validate", 0.0)
    copy = phases.get("stage_total", 0.0) - read_validate - phases.get("analyze", 0.0)
    breakdown = [
        ("upload_create (hash + store file)", figures["upload_s"]),
        ("detect encoding (whole-file decode)", phases.get("detect_encoding", 0.0)),
        ("read + validate + serialise rows (Python)", read_validate),
        ("COPY into staging (CSV writer + server)", copy),
        ("ANALYZE staging", phases.get("analyze", 0.0)),
        ("match (join into temp table + count)", phases.get("match", 0.0)),
        ("warnings INSERT … SELECT", phases.get("warnings", 0.0)),
        ("warning history INSERT … SELECT", phases.get("history", 0.0)),
        ("rejected rows INSERT … SELECT", phases.get("rejected_rows", 0.0)),
        ("COMMIT (deferred foreign-key checks)", phases.get("commit", 0.0)),
    ]
    accounted = sum(seconds for _, seconds in breakdown)
    breakdown.append(("other (lock, open, temp tables, save)", figures["total_s"] - accounted))
    for label, seconds in breakdown:
        print(f"#   {label:<44} {seconds:6.2f} s", flush=True)
    bench("phase_read_validate_rows_per_s", rows / read_validate, "rows/s")
    bench("csv_read_only_rows_per_s", figures["read_rows"] / figures["read_only_s"], "rows/s")
    bench("csv_read_and_check_rows_per_s", figures["read_rows"] / figures["read_check_s"], "rows/s")
    bench("ceiling_csv_module_rows_per_s", (CEILING_CSV_LOW + CEILING_CSV_HIGH) / 2, "rows/s")

    # 2. The ORM loop on a sample of the same file.
    upload = DepartmentUpload.objects.get(pk=figures["upload_id"])
    orm_rows_per_s = orm_loop(list_path, rows=args.orm_rows, upload=upload, prefix=county.prefix)
    bench("orm_loop_rows_per_s", orm_rows_per_s, "rows/s")
    bench("comparison_to_orm_ratio", pipeline_rows_per_s / orm_rows_per_s, "ratio")
    bench("orm_projected_seconds_for_list", rows / orm_rows_per_s, "s")

    # 3. The rejected-rows report on a smaller upload (its own file: every 20th row registered, too).
    small_path = str(work / "medical_insurance_small.csv")
    write_list(small_path, rows=args.report_rows, registered=registered[-args.report_rows // 20 :], seed=args.seed + 1)
    comparison.comparison_enqueue = lambda upload_id: None
    from django.conf import settings

    # The report keeps at most FPR_MAX_REJECTED_ROWS invalid rows and a few examples of the unmatched:
    # keep every row of this small upload, so the writer is measured on thousands of rows.
    settings.FPR_UNMATCHED_EXAMPLE_ROWS = settings.FPR_MAX_REJECTED_ROWS = args.report_rows
    with open(small_path, "rb") as handle:
        small = comparison.upload_create(
            user=admin, department="medical_insurance", period=PERIOD, file=File(handle, name="医保_小批.csv")
        )
    small = comparison.comparison_run(small.pk)
    started = time.perf_counter()
    small = comparison.rejected_report_build(small.pk)
    seconds = time.perf_counter() - started
    assert small.rejected_report, small
    report_rows = getattr(small, "rows_kept", small.rows_rejected)
    report_rows_per_s = report_rows / seconds
    bench("rejected_report_rows", report_rows, "rows")
    bench("rejected_report_rows_per_s", report_rows_per_s, "rows/s")
    bench("ceiling_openpyxl_write_only_rows_per_s", CEILING_XLSX_WRITE_ONLY, "rows/s")
    bench("rejected_report_to_ceiling_ratio", report_rows_per_s / CEILING_XLSX_WRITE_ONLY, "ratio")
    bench("rejected_report_projected_seconds_for_list", figures["kept"] / report_rows_per_s, "s")

    connection.close()
    shutil.rmtree(work, ignore_errors=True)
    if not args.keep:
        recreate_database(config, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
