"""Ledger export benchmark (issue #6 point 5): the 监测对象台账 of 100,000 monitoring cases, all ledger
columns, through the real writer — compared in the same run with the writer library alone writing the
same rows from a Python list (the ceiling).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fpr_bench_export .venv/bin/python bench/export.py

The database named in DATABASE_URL is dropped and created again (its name must contain "bench"),
migrated and seeded with `households.seeding.seed_county`; then 100,000 cases are made with set-based
SQL (`INSERT … SELECT`, not through the services: this measures the export, not the workflow) — a mix
of types, colours, channels and stages, one to three risk categories each, a plan with one or two
measures for the cases under monitoring.

Each measurement runs in a fresh subprocess, so its peak RSS is its own (VmHWM): the full export
through `reports.exports.runner.export_run` (count, query, formatting, writing, saving the file) with
xlsxwriter (the default) and with openpyxl write-only, then each library alone writing the rows
(read from the database into a list first, untimed). Prints `BENCH <name> <value> <unit>` lines.
Targets (2-core machine): the full export at ≥ 70 % of the raw writer's rows/s, peak RSS under 300 MB.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.seed import bench, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fpr_bench_export"
ADMIN = "bench_admin"
COUNTY = "520521000000"

# Parameters are bound by name, so the modulo operator is written %% here.
CASES_SQL = """
INSERT INTO monitoring_monitoringcase (
    created_at, updated_at, household_id, village_id, case_type, colour, channel, description,
    authorization_signed_on, authorization_scan, stage, stage_entered_at, stage_round, last_transition,
    is_open, identified_on, eliminated_on, closed_on, close_reason, created_by_id)
SELECT now(), now(), h.id, h.village_id,
       (ARRAY['unstable_lifted', 'marginal', 'sudden_hardship'])[1 + h.id %% 3],
       (ARRAY['', 'red', 'orange', 'yellow', 'blue'])[1 + h.id %% 5],
       (ARRAY['self_report', 'cadre_screening', 'department_warning', 'public_supervision',
              'data_analysis'])[1 + h.id %% 5],
       '户主患病住院，自付费用较高。', DATE '2026-03-01', '',
       CASE WHEN h.id %% 10 < 6 THEN 'monitoring' WHEN h.id %% 10 < 8 THEN 'eliminated' ELSE 'township_review' END,
       now(), 6, '', true,
       CASE WHEN h.id %% 10 < 8 THEN DATE '2026-01-01' + (h.id %% 300)::int END,
       CASE WHEN h.id %% 10 IN (6, 7) THEN DATE '2026-10-01' + (h.id %% 50)::int END,
       NULL, '', %(user)s
FROM households_household h ORDER BY h.id LIMIT %(cases)s
"""
RISKS_SQL = """
INSERT INTO monitoring_monitoringcase_risk_categories (monitoringcase_id, riskcategory_id)
SELECT c.id, r.code FROM monitoring_monitoringcase c
JOIN monitoring_riskcategory r ON r."order" IN (1 + c.id % 12, 1 + (c.id + 5) % 12)
UNION
SELECT c.id, 'illness' FROM monitoring_monitoringcase c WHERE c.id % 4 = 0
"""
PLANS_SQL = """
INSERT INTO assistance_assistanceplan (
    created_at, updated_at, case_id, situation, risk_analysis, needs, pairing_cadre_id, pairing_cadre_name,
    version, adjustment_reason)
SELECT now(), now(), c.id, '家庭基本情况', '风险分析', '农户需求', NULL,
       (ARRAY['王建国', '李明', '张华', '刘芳'])[1 + c.id % 4], 1, ''
FROM monitoring_monitoringcase c WHERE c.stage IN ('monitoring', 'eliminated')
"""
MEASURES_SQL = """
INSERT INTO assistance_measure (
    created_at, updated_at, plan_id, category_id, risk_category_id, description, amount, starts_on, ends_on,
    status, effect, effect_note)
SELECT now(), now(), p.id, m.category, 'illness', '帮扶措施内容', (p.id % 50) * 100.5, DATE '2026-04-01', NULL,
       'active', 'clear', ''
FROM assistance_assistanceplan p
JOIN (VALUES ('employment', 0), ('health', 1)) AS m(category, n) ON m.n <= p.id % 2
"""


def vm_hwm_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --------------------------------------------------------------------------- the measured children


def child(mode: str, year: int, report_path: str) -> None:
    import django

    django.setup()
    from households.models import Division, User
    from reports.exports import ledger
    from reports.exports.runner import export_run
    from reports.models import Export, ExportKind

    user = User.objects.get(username=ADMIN)
    filters = {"year": year}
    figures: dict = {"mode": mode}
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "ledger.xlsx")
        if mode.startswith("export-"):
            engine = mode.removeprefix("export-")
            original = ledger.write_ledger_file

            def with_engine(*args, **kwargs):
                return original(*args, engine=engine, **kwargs)

            ledger.write_ledger_file = with_engine  # the benchmark's choice of library, here only
            export = Export.objects.create(
                kind=ExportKind.LEDGER, user=user, division=Division.objects.get(pk=COUNTY), filters=filters,
                unmasked=True,
            )  # fmt: skip
            started = time.perf_counter()
            export = export_run(export.pk)
            figures["seconds"] = time.perf_counter() - started
            figures["rows"] = export.rows_written
            figures["bytes"] = export.file.size
        else:
            rows = list(ledger.ledger_rows(user=user, filters=filters, unmasked=True))  # untimed
            figures["list_mb"] = vm_hwm_mb()
            started = time.perf_counter()
            if mode == "raw-xlsxwriter":
                import xlsxwriter

                book = xlsxwriter.Workbook(path, {"constant_memory": True, "default_date_format": "yyyy-mm-dd"})
                sheet = book.add_worksheet()
                for index, row in enumerate(rows):
                    sheet.write_row(index, 0, (index + 1, *row))
                book.close()
            else:
                from openpyxl import Workbook

                book = Workbook(write_only=True)
                sheet = book.create_sheet()
                for index, row in enumerate(rows):
                    sheet.append((index + 1, *row))
                book.save(path)
            figures["seconds"] = time.perf_counter() - started
            figures["rows"] = len(rows)
            figures["bytes"] = os.path.getsize(path)
    figures["peak_rss_mb"] = vm_hwm_mb()
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(figures, handle)


def measure(mode: str, year: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = handle.name
    try:
        subprocess.run(
            [sys.executable, __file__, "--child", mode, str(year), report], check=True, env=os.environ.copy()
        )
        with open(report, encoding="utf-8") as handle:
            return json.load(handle)
    finally:
        os.unlink(report)


# --------------------------------------------------------------------------- setup and report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure on the kept database, do not reseed")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "YEAR", "REPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("FPR_TESTING", "1")  # local settings: no SECRET_KEY needed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fpr.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ["MEDIA_ROOT"] = os.environ.get("BENCH_MEDIA_ROOT") or tempfile.mkdtemp(prefix="bench-export-")
    if args.child:
        mode, year, report = args.child
        child(mode, int(year), report)
        return 0

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"] or "bench" not in config["NAME"]:
        print("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' (it is dropped).")
        return 2
    import django

    if not args.reuse:
        recreate_database(config)
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from households.models import Division, User
    from households.seeding import seed_county

    if not args.reuse:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        result = seed_county(households=args.cases, seed=args.seed, change_reason="批量导入")
        print(f"# migrated and seeded {result.households} households in {time.perf_counter() - started:.1f} s")
        admin = User.objects.create_user(
            username=ADMIN, password="x", division=Division.objects.get(pk=COUNTY), is_superuser=True
        )
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CASES_SQL, {"user": admin.pk, "cases": args.cases})
            for sql in (RISKS_SQL, PLANS_SQL, MEASURES_SQL):
                cursor.execute(sql)
            cursor.execute("ANALYZE")
        print(f"# made {args.cases} cases with plans and measures in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monitoring_monitoringcase")
        cases = cursor.fetchone()[0]
        cursor.execute("SELECT year FROM households_incomeitem GROUP BY year ORDER BY count(*) DESC, year DESC LIMIT 1")
        year = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM assistance_measure")
        measures = cursor.fetchone()[0]
    connection.close()
    print(f"# {cases} cases, {measures} measures; ledger of income year {year}, 25 columns", flush=True)

    results = {
        mode: measure(mode, year) for mode in ("export-xlsxwriter", "export-openpyxl", "raw-xlsxwriter", "raw-openpyxl")
    }
    for mode, figures in results.items():
        assert figures["rows"] == cases, (mode, figures["rows"], cases)
        name = mode.replace("-", "_")
        bench(f"{name}_rows_per_s", figures["rows"] / figures["seconds"], "rows/s")
        bench(f"{name}_seconds", figures["seconds"], "s")
        bench(f"{name}_peak_rss_mb", figures["peak_rss_mb"], "MB")
        bench(f"{name}_file_mb", figures["bytes"] / 1e6, "MB")
    for library in ("xlsxwriter", "openpyxl"):
        full = results[f"export-{library}"]
        raw = results[f"raw-{library}"]
        bench(f"{library}_export_to_raw_ratio", raw["seconds"] / full["seconds"], "ratio")
    bench(
        "xlsxwriter_over_openpyxl_export",
        results["export-openpyxl"]["seconds"] / results["export-xlsxwriter"]["seconds"],
        "ratio",
    )

    if not args.keep:
        recreate_database(config, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
