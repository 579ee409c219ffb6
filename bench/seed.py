"""Seeding benchmark: a county of synthetic households into a fresh PostgreSQL database, compared in
the same run with the ceiling of a raw COPY of a ready CSV file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fpr_bench .venv/bin/python bench/seed.py --households 100000

The database named in DATABASE_URL is dropped and created again (so its name must contain "bench"),
migrated, seeded through `households.seeding.seed_county` (COPY into the registry tables and their
history tables, one transaction), and dropped at the end unless --keep. Prints lines of the form
`BENCH <name> <value> <unit>`. Target on a 2-core machine: 100,000 households in under 120 s.
"""

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import dj_database_url
import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fpr_bench"


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.{0 if value >= 100 else 2}f} {unit}", flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def recreate_database(config: dict, *, drop_only: bool = False) -> None:
    name = config["NAME"]
    admin = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def copy_ceiling(connection, rows: int) -> float:
    """Rows per second for COPY FROM STDIN of a ready CSV file into a plain temp table: the fastest a
    load of this many narrow rows can go on this machine and server (the CSV is written untimed)."""
    rng = random.Random(1)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        start = dt.date(1940, 1, 1)
        for i in range(rows):
            birth = start + dt.timedelta(days=rng.randrange(30000))
            writer.writerow((f"520521{birth:%Y%m%d}{i % 1000:03d}{i % 10}", "张三丰", i // 4, birth, i % 2, 7000))
        path = handle.name
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE ceiling (id_number char(18), name text, household bigint, birth date, "
                "sex smallint, amount numeric(12, 2))"
            )
            with open(path, encoding="utf-8") as source:
                started = time.perf_counter()
                cursor.cursor.copy_expert("COPY ceiling FROM STDIN WITH (FORMAT csv)", source)
                seconds = time.perf_counter() - started
            cursor.execute("DROP TABLE ceiling")
    finally:
        os.unlink(path)
    return rows / seconds


def copy_same_tables(connection) -> tuple[int, float]:
    """Rows per second for COPY of the very rows the seed wrote, from ready files, back into the same
    eight tables (with their indexes and foreign keys): the floor for the database's share of the work.
    Returns (rows, rows per second)."""
    from django.db import transaction

    from households.models import Expenditure, Household, IncomeItem, Member

    tables = []
    for model in (Household, Member, IncomeItem, Expenditure):
        tables.append((model._meta.db_table, "id"))
        tables.append((model.history.model._meta.db_table, "history_id"))
    files = {}
    rows = 0
    with tempfile.TemporaryDirectory() as directory, connection.cursor() as cursor:
        raw = cursor.cursor
        for table, key in tables:
            cursor.execute(
                "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            columns = cursor.fetchone()[0]
            files[table] = (Path(directory) / f"{table}.txt", columns)
            with open(files[table][0], "w", encoding="utf-8") as sink:
                raw.copy_expert(f"COPY (SELECT {columns} FROM {table} ORDER BY {key}) TO STDOUT", sink)
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows += cursor.fetchone()[0]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(table for table, _ in tables)} CASCADE")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # foreign keys checked inside the timing
            started = time.perf_counter()
            for table, _ in tables:
                path, columns = files[table]
                with open(path, encoding="utf-8") as source:
                    cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", source)
        seconds = time.perf_counter() - started
    return rows, rows / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"] or "bench" not in config["NAME"]:
        print("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' (it is dropped).")
        return 2
    os.environ.setdefault("FPR_TESTING", "1")  # local settings: no SECRET_KEY needed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fpr.settings")
    sys.path.insert(0, str(ROOT))

    recreate_database(config)
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    from households.seeding import seed_county

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"# migrated {config['NAME']} in {time.perf_counter() - started:.1f} s", flush=True)

    result = seed_county(households=args.households, seed=args.seed, change_reason="批量导入")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM households_household")
        stored = cursor.fetchone()[0]
    assert stored == result.households, (stored, result.households)
    print(
        f"# {result.households} households, {result.members} members, {result.income_items} income items, "
        f"{result.expenditures} expenditures in {result.villages} villages of {result.townships} townships; "
        f"as many history rows again",
        flush=True,
    )
    seed_rows_per_s = 2 * result.rows / result.seconds  # every row has its history row
    bench("seed_households_per_s", result.households / result.seconds, "households/s")
    bench("seed_members_per_s", result.members / result.seconds, "members/s")
    bench("seed_rows_per_s", seed_rows_per_s, "rows/s")
    bench("seed_seconds_total", result.seconds, "s")
    bench("seed_peak_rss_mb", peak_rss_mb(), "MB")

    ceiling = copy_ceiling(connection, 2 * result.rows)
    bench("copy_ceiling_rows_per_s", ceiling, "rows/s")
    bench("seed_to_ceiling_ratio", seed_rows_per_s / ceiling, "ratio")
    _, same_tables = copy_same_tables(connection)
    bench("copy_same_tables_rows_per_s", same_tables, "rows/s")
    bench("seed_to_same_tables_ratio", seed_rows_per_s / same_tables, "ratio")

    connection.close()
    if not args.keep:
        recreate_database(config, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
