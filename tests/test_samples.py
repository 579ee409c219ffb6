"""The department sample files (monitoring/samples/) upload and compare on the demo registry: each one
raises its warnings in the villages it names and rejects exactly the rows its manifest lists. The demo
county (seed_demo --households 2000 --seed 2026, in 2026) is seeded once for the module and rolled
back at its end; each test runs in its own savepoint."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings

from fpr.roles import Department
from households.models import User
from households.seeding import seed_county
from monitoring.models import RejectedRow, RiskWarning, UploadStatus
from monitoring.screening.comparison import NOT_REGISTERED, comparison_run, upload_create
from monitoring.screening.departments import source_for
from tests.builders import restore_reference_data

SAMPLES = Path(settings.BASE_DIR) / "monitoring" / "samples"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
FILES = {entry["file"]: entry for entry in MANIFEST["files"]}


@pytest.fixture(scope="module")
def demo_registry(django_db_setup, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        restore_reference_data()
        yield seed_county(households=MANIFEST["households"], seed=MANIFEST["seed"], current_year=2026, with_users=True)
        transaction.set_rollback(True)


@pytest.fixture
def users(demo_registry, db):
    return {u.username: u for u in User.objects.all()}


def upload_sample(entry: dict, user) -> object:
    data = (SAMPLES / entry["file"]).read_bytes()
    upload = upload_create(
        user=user,
        department=entry["department"],
        period=MANIFEST["period"],
        file=SimpleUploadedFile(entry["file"], data),
    )
    return comparison_run(upload.pk)


def test_there_is_one_sample_per_department_in_every_format():
    assert sorted(e["department"] for e in FILES.values()) == sorted(Department.values)
    kinds = {(e["format"], e["encoding"], e["bom"]) for e in FILES.values()}
    assert {("csv", "gbk", False), ("csv", "gb18030", False), ("csv", "utf-8", True), ("csv", "utf-8", False)} <= kinds
    assert sum(e["format"] == "xlsx" for e in FILES.values()) >= 2
    for entry in FILES.values():
        data = (SAMPLES / entry["file"]).read_bytes()
        assert (SAMPLES / entry["file"]).exists() and entry["bad"] and len(entry["unregistered"]) == 2
        if entry["encoding"] in ("gbk", "gb18030"):
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            data.decode(entry["encoding"])
        if entry["bom"]:
            assert data.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("name", list(FILES))
def test_sample_raises_its_warnings_and_rejects_its_bad_rows(name, users):
    entry = FILES[name]
    upload = upload_sample(entry, users["guanli"])

    assert upload.status == UploadStatus.DONE, upload.error
    assert upload.detected_encoding == entry["encoding"]
    assert upload.rows_total == entry["rows"]
    registered = {int(row): village for row, village in entry["registered"].items()}
    warnings = RiskWarning.objects.filter(upload=upload)
    assert upload.warnings_created == len(registered) == warnings.count() >= 10
    assert dict(warnings.values_list("row_number", "village_id")) == registered
    assert set(warnings.values_list("kind", flat=True)) == {source_for(entry["department"]).kind}
    assert users["cunganbu"].division_id in registered.values()
    assert len(set(registered.values())) >= 4  # several village queues

    rejected = {r.row_number: (r.column_label, r.reason) for r in RejectedRow.objects.filter(upload=upload)}
    bad = {int(row): info["column"] for row, info in entry["bad"].items()}
    assert set(rejected) == set(bad) | set(entry["unregistered"])
    assert {row: rejected[row][0] for row in bad} == bad
    assert all(rejected[row][1] != NOT_REGISTERED for row in bad)
    assert all(rejected[row] == ("身份证号", NOT_REGISTERED) for row in entry["unregistered"])


def test_the_number_stored_id_is_rejected_not_matched(users):
    entry = FILES["disabled_federation_2026-11.xlsx"]
    upload = upload_sample(entry, users["guanli"])
    numeric = next(int(row) for row, info in entry["bad"].items() if "数字" in info["kind"])
    reason = RejectedRow.objects.get(upload=upload, row_number=numeric).reason
    assert "被保存为数字" in reason


def test_the_demo_department_officer_uploads_only_the_medical_list(users):
    bumen = users["bumen"]
    assert bumen.department == Department.MEDICAL_INSURANCE
    upload = upload_sample(FILES["medical_insurance_2026-11.csv"], bumen)
    assert upload.status == UploadStatus.DONE and upload.warnings_created == 11
    with pytest.raises(PermissionDenied, match="只能上传本部门"):
        upload_sample(FILES["civil_affairs_2026-11.csv"], bumen)


def test_demo_warnings_of_last_month_do_not_clash_with_the_samples(users):
    from workflow.demo.warnings import seed_demo_warnings

    cadre = users["cunganbu"]
    demo = seed_demo_warnings(seed=MANIFEST["seed"], administrator=users["guanli"], first_village=cadre.division)
    assert demo.status == UploadStatus.DONE and demo.period == "2026-10"
    assert demo.warnings_created == demo.rows_total == 13
    assert RiskWarning.objects.filter(upload=demo, village=cadre.division).count() == 4

    sample = upload_sample(FILES["civil_affairs_2026-11.csv"], users["guanli"])
    assert sample.warnings_created == len(FILES["civil_affairs_2026-11.csv"]["registered"])


COUNTY_EXPORTS = json.loads((SAMPLES / "county_exports.json").read_text(encoding="utf-8"))["files"]


@pytest.mark.parametrize("entry", COUNTY_EXPORTS, ids=[e["file"] for e in COUNTY_EXPORTS])
def test_a_county_export_gives_what_the_plain_sample_gives(entry, users):
    """The same list as a county office exports it (title, own headers and category names, two-row
    header, footer): the same warnings and rejected rows as the plain sample, rows moved by the title."""
    base, offset = FILES[entry["based_on"]], entry["row_offset"]
    upload = upload_sample({**entry, "department": base["department"]}, users["guanli"])
    assert upload.status == UploadStatus.DONE, upload.error
    assert upload.detected_encoding == entry["encoding"]
    assert upload.rows_total == base["rows"]
    assert upload.skipped_summary == entry["skipped"]
    registered = {int(row) + offset: village for row, village in base["registered"].items()}
    warnings = RiskWarning.objects.filter(upload=upload)
    assert dict(warnings.values_list("row_number", "village_id")) == registered
    rejected = {r.row_number: r.column_label for r in RejectedRow.objects.filter(upload=upload)}
    expected = {int(row) + offset: info["column"] for row, info in base["bad"].items()}
    expected |= {row + offset: "身份证号" for row in base["unregistered"]}
    assert rejected == expected
