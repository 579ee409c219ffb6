"""Backups: scripts/backup dumps the test database (pg_dump custom format) and its uploaded files,
scripts/restore brings them back into a fresh database, and the restored copy has the same rows in
every table — registry, cases, events, warnings and the django-simple-history tables — the same
history of a household, and the same scans. Data is built through the real services and committed
(transactional tests), so the scripts, which connect on their own, see it."""

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import psycopg2
import pytest
import time_machine
from django.conf import settings
from django.db import connection

from households.models import Relationship
from households.services import household_update
from monitoring.models import MonitoringCase, RiskWarning

ROOT = Path(__file__).resolve().parent.parent
# Tables whose rows this test creates: a restore that lost any of them must not pass as "equal zeros".
MAIN_TABLES = (
    "households_household",
    "households_member",
    "households_incomeitem",
    "monitoring_monitoringcase",
    "monitoring_verification",
    "monitoring_appraisal",
    "monitoring_notice",
    "monitoring_departmentupload",
    "monitoring_riskwarning",
    "workflow_transitionevent",
)
HISTORY_TABLES = (
    "households_historicalhousehold",
    "households_historicalmember",
    "households_historicalincomeitem",
    "monitoring_historicalmonitoringcase",
    "monitoring_historicalriskwarning",
)


def server_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def run_script(name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / name), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def table_counts(url: str) -> dict[str, int]:
    """Exact row counts of every table in the public schema."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def household_history_rows(url: str, household_id: int) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT history_id, history_type, history_date, history_user_id, history_change_reason, address "
            "FROM households_historicalhousehold WHERE id = %s ORDER BY history_id",
            [household_id],
        )
        return cursor.fetchall()


@pytest.fixture
def restored_name():
    """A database name no one else uses, dropped at the end whatever happened."""
    name = f"fpr_restore_test_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    yield name
    admin = psycopg2.connect(server_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_fresh_database_with_same_rows_history_and_files(
    make_household, case_a, walker, cadre_b, village_b, department_upload, household_a, cadre_a, tmp_path, restored_name
):
    with time_machine.travel(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC), tick=False):
        household_update(user=cadre_a, household=household_a, data={"address": "光明村一组14号"})
        walker.to_township(case_a)  # transitions, visit, appraisal with its signed minutes, notice
        household_b = make_household(user=cadre_b, village=village_b, address="红岩村二组3号")
        head_b = household_b.members.get(relationship=Relationship.HEAD)
        upload = department_upload(
            [{"身份证号": head_b.id_number, "姓名": head_b.name, "个人自付金额": "60000", "就诊机构": "县医院"}]
        )
    assert upload.status == "done", upload.error
    assert RiskWarning.objects.count() == 1
    case = MonitoringCase.objects.get(pk=case_a.pk)

    source_url = server_url(connection.settings_dict["NAME"])
    media_root = Path(settings.MEDIA_ROOT)
    backup_dir = tmp_path / "backups"
    backup = run_script(
        "backup", "--dir", str(backup_dir), "--media-root", str(media_root), env={"DATABASE_URL": source_url}
    )
    assert backup.returncode == 0, backup.stderr + backup.stdout
    produced = dict(line.split("=", 1) for line in backup.stdout.splitlines() if line.startswith(("DUMP=", "MEDIA=")))
    assert Path(produced["DUMP"]).stat().st_size > 0
    assert Path(produced["MEDIA"]).stat().st_size > 0

    restored_media = tmp_path / "restored-media"
    restore = run_script(
        "restore",
        produced["DUMP"],
        "--into",
        restored_name,
        "--media",
        produced["MEDIA"],
        "--media-root",
        str(restored_media),
        env={"DATABASE_URL": source_url},
    )
    assert restore.returncode == 0, restore.stderr + restore.stdout
    assert "迁移完整 / migrations: all applied" in restore.stdout
    assert "households_historicalhousehold" in restore.stdout  # the row-count summary

    restored_url = server_url(restored_name)
    source, restored = table_counts(source_url), table_counts(restored_url)
    assert restored == source
    for table in (*MAIN_TABLES, *HISTORY_TABLES):
        assert source[table] > 0, f"the test built no rows in {table}"

    # The household's history — its creation, then the address change, when and why — is intact.
    history = household_history_rows(restored_url, household_a.pk)
    assert history == household_history_rows(source_url, household_a.pk)
    assert [row[1] for row in history] == ["+", "~"]
    assert history[0][5] == "光明村一组12号" and history[-1][5] == "光明村一组14号"

    # The scans the database points to came back with it, byte for byte.
    for stored in (case.authorization_scan.name, case.appraisals.get().minutes_scan.name, upload.file.name):
        assert (restored_media / stored).read_bytes() == (media_root / stored).read_bytes()

    # A second restore into the now non-empty database is refused and leaves it as it was.
    again = run_script("restore", produced["DUMP"], "--into", restored_name, env={"DATABASE_URL": source_url})
    assert again.returncode != 0
    assert "拒绝覆盖" in again.stderr and "refusing to overwrite" in again.stderr
    assert table_counts(restored_url) == source


@pytest.mark.django_db(transaction=True)
def test_backup_removes_only_this_databases_backups_older_than_retention(tmp_path):
    source_name = connection.settings_dict["NAME"]
    backup_dir = tmp_path / "backups"
    backup_dir.mkdir()
    month_ago = time.time() - 31 * 86400
    old_own = [backup_dir / f"fpr-{source_name}-20261001-020000{suffix}" for suffix in (".dump", "-media.tar.gz")]
    recent_own = backup_dir / f"fpr-{source_name}-20261120-020000.dump"
    old_other = backup_dir / "fpr-another_db-20261001-020000.dump"
    unrelated = backup_dir / "notes.txt"
    for path in (*old_own, recent_own, old_other, unrelated):
        path.write_bytes(b"x")
    for path in (*old_own, old_other, unrelated):
        os.utime(path, (month_ago, month_ago))
    recent = time.time() - 10 * 86400
    os.utime(recent_own, (recent, recent))

    result = run_script(
        "backup",
        "--dir",
        str(backup_dir),
        "--keep-days",
        "30",
        "--no-media",
        env={"DATABASE_URL": server_url(source_name)},
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert not any(path.exists() for path in old_own)
    assert recent_own.exists() and old_other.exists() and unrelated.exists()
    new_dumps = sorted(p.name for p in backup_dir.glob(f"fpr-{source_name}-*.dump") if p != recent_own)
    assert len(new_dumps) == 1


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_backup_whose_checksum_no_longer_matches(tmp_path, restored_name):
    source_url = server_url(connection.settings_dict["NAME"])
    backup = run_script("backup", "--dir", str(tmp_path), "--no-media", env={"DATABASE_URL": source_url})
    assert backup.returncode == 0, backup.stderr + backup.stdout
    dump = Path(next(line[5:] for line in backup.stdout.splitlines() if line.startswith("DUMP=")))
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    result = run_script("restore", str(dump), "--into", restored_name, env={"DATABASE_URL": source_url})

    assert result.returncode != 0
    assert "checksum mismatch" in result.stderr
    with psycopg2.connect(server_url("postgres")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [restored_name])
        assert cursor.fetchone()[0] == 0  # refused before anything was created


def test_restore_refuses_a_file_that_is_not_a_dump(tmp_path):
    dump = tmp_path / "fpr-x-20261120-020000.dump"
    dump.write_bytes(b"PGDMP not really a dump")
    result = run_script("restore", str(dump), "--into", "fpr_restore_never_created")
    assert result.returncode != 0
    assert "pg_dump custom-format" in result.stderr
