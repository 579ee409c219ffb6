"""Shared test fixtures: a small division tree and one persona per role, plus an outsider.

Households are built through the real services (never by setting fields the users cannot set).
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from fpr.roles import Department, Level, Role
from households.id_numbers import make_id_number
from households.models import Division, MonitoringLine, PovertyStatus, Relationship, User
from households.services import household_create

PASSWORD = "Fpr-test-pass-2026"

pytest_plugins = ["tests.browser"]

TREE = [
    ("520000000000", "贵州省", Level.PROVINCE, None),
    ("520500000000", "毕节市", Level.CITY, "520000000000"),
    ("520521000000", "大方县", Level.COUNTY, "520500000000"),
    ("520521100000", "羊场镇", Level.TOWNSHIP, "520521000000"),
    ("520521100001", "光明村", Level.VILLAGE, "520521100000"),
    ("520521100002", "红岩村", Level.VILLAGE, "520521100000"),
    ("520521101000", "黄泥塘镇", Level.TOWNSHIP, "520521000000"),
    ("520521101001", "新华村", Level.VILLAGE, "520521101000"),
]

_sequence = itertools.count(1)


def new_id_number(*, male: bool = True) -> str:
    """A fresh valid ID number: each call gets its own birth date, so numbers never collide."""
    n = next(_sequence)
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=n * 7)
    return make_id_number(region_code="520521", birth_date=birth, sequence=n * 2 % 1000 + (1 if male else 0))


def restore_reference_data() -> None:
    """Migrations create the role groups and risk categories; a transactional test's flush removes
    them, so every test that builds data puts them back first (idempotent)."""
    from django.contrib.auth.models import Permission

    from assistance.models import MeasureCategory
    from assistance.reference import ensure_measure_categories
    from households.reference import ensure_role_groups
    from monitoring.models import RiskCategory
    from monitoring.reference import ensure_risk_categories

    if not Group.objects.exists() or not RiskCategory.objects.exists() or not MeasureCategory.objects.exists():
        ensure_role_groups(Group, Permission)
        ensure_risk_categories(RiskCategory)
        ensure_measure_categories(MeasureCategory)


@pytest.fixture
def divisions(db):
    restore_reference_data()
    created = {}
    for code, name, level, parent in TREE:
        created[code] = Division.objects.create(code=code, name=name, level=level, parent_id=parent)
    MonitoringLine.objects.create(province_id="520000000000", year=2025, amount="7000.00", poverty_line="4800")
    MonitoringLine.objects.create(province_id="520000000000", year=2026, amount="7300.00", poverty_line="4900")
    return created


@pytest.fixture
def village_a(divisions):
    return divisions["520521100001"]


@pytest.fixture
def village_b(divisions):
    return divisions["520521100002"]


@pytest.fixture
def village_c(divisions):
    return divisions["520521101001"]


def make_user(username: str, division: Division, *roles: str, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, division=division, **extra)
    for role in roles:
        user.groups.add(Group.objects.get(name=Role(role).label))
    return user


@pytest.fixture
def cadre_a(divisions):
    return make_user("cadre_a", divisions["520521100001"], Role.VILLAGE_CADRE, full_name="王村干")


@pytest.fixture
def cadre_b(divisions):
    """The outsider: a cadre of the neighbouring village, who must see nothing of village A."""
    return make_user("cadre_b", divisions["520521100002"], Role.VILLAGE_CADRE, full_name="李村干")


@pytest.fixture
def township_reviewer(divisions):
    return make_user("township", divisions["520521100000"], Role.TOWNSHIP_REVIEWER, full_name="赵审核")


@pytest.fixture
def county_reviewer(divisions):
    return make_user("county", divisions["520521000000"], Role.COUNTY_REVIEWER, full_name="钱审定")


@pytest.fixture
def administrator(divisions):
    return make_user("admin_user", divisions["520521000000"], Role.ADMINISTRATOR, full_name="孙管理", is_staff=True)


@pytest.fixture
def department_officer(divisions):
    return make_user(
        "dept",
        divisions["520521000000"],
        Role.DEPARTMENT_OFFICER,
        full_name="周专员",
        department=Department.MEDICAL_INSURANCE,
    )


def member_data(name: str, relationship: str = Relationship.HEAD, **extra) -> dict:
    data = {"name": name, "id_number": new_id_number(), "relationship": relationship}
    data.update(extra)
    return data


def household_data(**extra) -> dict:
    data = {"address": "光明村一组12号", "poverty_status": PovertyStatus.LIFTED, "poverty_exit_year": 2019}
    data.update(extra)
    return data


@pytest.fixture
def make_household():
    def build(*, user, village, members=None, **data):
        members = members or [member_data("张三"), member_data("李四", Relationship.SPOUSE)]
        return household_create(user=user, village=village, data=household_data(**data), members=members)

    return build


@pytest.fixture
def household_a(make_household, cadre_a, village_a):
    return make_household(user=cadre_a, village=village_a)


@pytest.fixture
def household_b(make_household, cadre_b, village_b):
    return make_household(user=cadre_b, village=village_b, address="红岩村二组3号")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the real Redis broker, pointed at the test database.

    Tests that use it must commit their data (transactional_db) so the worker can see it, and point
    settings.MEDIA_ROOT at `worker.media_root` when the worker reads uploaded files.
    """
    import os
    import subprocess
    import sys
    import time

    from django.conf import settings
    from django.db import connection

    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("REDIS_URL is not set: the real-worker tests need Redis (run them with scripts/test).")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    media_root = tmp_path_factory.mktemp("worker-media")
    env = {**os.environ, "DATABASE_URL": database_url, "FPR_TESTING": "1", "MEDIA_ROOT": str(media_root)}
    from fpr.celery import app

    app.control.purge()  # tasks left in the test broker by an earlier run must not reach this database
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fpr", "worker", "--pool=solo", "--loglevel=WARNING", "-n", "test@%h"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"Celery worker exited: {worker.stderr.read().decode()[-2000:]}")
        if app.control.ping(timeout=1):
            break
    else:
        worker.kill()
        pytest.fail("Celery worker did not answer a ping within 60 s")
    worker.media_root = media_root
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()


# --------------------------------------------------------------------------- monitoring cases


# The smallest whole files of each accepted kind: attachments are checked by structure, not only by
# their first bytes (fpr/uploads.py), so test scans and photos must be real files.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG_BYTES = png_bytes()


def pdf_scan(name: str = "scan.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


@pytest.fixture
def open_case():
    """Open an application for a household through the real service."""
    from households.models import IncomeKind
    from households.services import account_items_set
    from monitoring.cases.services import case_create

    def build(*, user, household, signed=True, **extra):
        account_items_set(user=user, household=household, year=2026, incomes={IncomeKind.WAGE: "9000"})
        fields = {
            "case_type": "marginal",
            "risk_categories": ["illness"],
            "channel": "self_report",
            "description": "户主患病住院，自付费用较高。",
        }
        fields.update(extra)
        if signed:
            fields.update(authorization_signed_on=dt.date(2026, 11, 1), authorization_scan=pdf_scan("承诺授权书.pdf"))
        return case_create(user=user, household=household, **fields)

    return build


@pytest.fixture
def case_a(open_case, household_a, cadre_a):
    return open_case(user=cadre_a, household=household_a)


class CaseWalker:
    """Moves a case through the identification stages the way the users do, step by step."""

    def __init__(self, cadre, township, county):
        self.cadre, self.township, self.county = cadre, township, county

    def fire(self, case, transition, user, **inputs):
        from workflow.services import case_transition

        case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)
        case.refresh_from_db()
        return case

    def to_verification(self, case):
        return self.fire(case, "submit_application", self.cadre)

    def record_verification(self, case, day=dt.date(2026, 11, 2)):
        from monitoring.cases.services import verification_record

        verification_record(
            user=self.cadre,
            case=case,
            visit_date=day,
            verifiers=[{"user_id": self.cadre.pk, "name": "王村干"}, {"name": "陈驻村", "unit": "驻村工作队"}],
            findings="情况属实",
            risk_points="大病自付费用高",
            year=2026,
        )

    def to_appraisal(self, case):
        self.to_verification(case)
        self.record_verification(case)
        return self.fire(case, "complete_verification", self.cadre)

    def record_appraisal(self, case, votes_for=5, votes_against=0, day=dt.date(2026, 11, 3)):
        from monitoring.cases.services import appraisal_record

        roles = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
        appraisal_record(
            user=self.cadre,
            case=case,
            meeting_date=day,
            participants=[{"name": f"评议人{i}", "role": role} for i, role in enumerate(roles)],
            votes_for=votes_for,
            votes_against=votes_against,
            votes_abstain=5 - votes_for - votes_against,
            minutes_scan=pdf_scan("会议记录.pdf"),
        )

    def to_notice(self, case, starts_on=dt.date(2026, 11, 4)):
        self.to_appraisal(case)
        self.record_appraisal(case)
        return self.fire(case, "start_notice", self.cadre, starts_on=starts_on, place="村务公开栏")

    def to_township(self, case):
        self.to_notice(case)
        return self.fire(case, "submit_to_township", self.cadre)

    def to_county(self, case):
        self.to_township(case)
        return self.fire(case, "township_approve", self.township, opinion="经复核，情况属实，同意纳入。")

    def to_monitoring(self, case):
        self.to_county(case)
        return self.fire(case, "county_approve", self.county, opinion="同意", comparison="部门比对无异常")


@pytest.fixture
def walker(cadre_a, township_reviewer, county_reviewer):
    return CaseWalker(cadre_a, township_reviewer, county_reviewer)


@pytest.fixture
def make_monitored(walker, cadre_a):
    """Turn an application into a monitoring object that meets the risk-elimination standard: plan
    carried out since June with a clear effect, income above the 2026 line, visited this month, no
    special hardship, 三保障 met. The test must fix the clock in late November 2026 (time_machine)."""
    from assistance.models import Effect, MeasureStatus
    from assistance.services import measure_add, plan_create, visit_record
    from households.models import IncomeKind
    from households.services import account_items_set

    def build(case):
        case = walker.to_monitoring(case)
        account_items_set(
            user=cadre_a,
            household=case.household,
            year=2026,
            incomes={IncomeKind.WAGE: Decimal("18000"), IncomeKind.FARMLAND_SUBSIDY: Decimal("600")},
        )
        plan = plan_create(
            user=cadre_a,
            case=case,
            situation="两口之家，户主曾患病住院。",
            risk_analysis="因病支出大，收入不稳。",
            needs="稳定就业。",
            pairing_cadre=cadre_a,
        )
        measure = measure_add(
            user=cadre_a,
            plan=plan,
            category="employment",
            risk_category="illness",
            description="推荐到县城工业园区务工",
            amount=Decimal("0"),
            starts_on=dt.date(2026, 6, 1),
            status=MeasureStatus.ACTIVE,
            effect=Effect.CLEAR,
        )
        visit_record(
            user=cadre_a, case=case, visited_on=dt.date(2026, 11, 10), findings="务工稳定", satisfaction="satisfied"
        )
        case.measure = measure
        return case

    return build


@pytest.fixture
def monitored(case_a, make_monitored):
    """Case A as a monitoring object that meets the elimination standard (see make_monitored)."""
    return make_monitored(case_a)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded scans go to a throw-away folder, never into the work tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


# --------------------------------------------------------------------------- departmental comparison


def department_csv(rows: list[dict], *, department: str, header: list[str] | None = None) -> str:
    """A department list as CSV text: the source's own headers unless `header` is given; rows are
    dicts keyed by header label (missing keys are empty cells)."""
    import csv
    import io

    from monitoring.screening.departments import source_for

    header = header or [column.label for column in source_for(department).columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(label, "") for label in header])
    return out.getvalue()


@pytest.fixture
def department_upload(divisions):
    """Upload a department list through the real service and run the real comparison synchronously:
    `department_upload(rows, department=..., period=..., user=None)` → the DepartmentUpload. Without a
    user, a county administrator uploads it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from monitoring.screening.comparison import comparison_run, upload_create

    def upload(
        rows: list[dict],
        *,
        department: str = Department.MEDICAL_INSURANCE,
        period: str = "2026-11",
        user=None,
        encoding: str = "utf-8",
        header: list[str] | None = None,
        name: str = "list.csv",
    ):
        if user is None:
            user = User.objects.filter(username="upload_admin").first() or make_user(
                "upload_admin", divisions["520521000000"], Role.ADMINISTRATOR, full_name="吴管理"
            )
        data = department_csv(rows, department=department, header=header).encode(encoding)
        created = upload_create(
            user=user,
            department=department,
            period=period,
            file=SimpleUploadedFile(name, data, content_type="text/csv"),
            encoding="" if encoding == "utf-8" else encoding,
        )
        return comparison_run(created.pk)

    return upload
