"""Shared test fixtures: a small division tree and one persona per role, plus an outsider.

Households are built through the real services (never by setting fields the users cannot set). The data
builders the fixtures use, and tests import, are in tests/builders.py.
"""

import datetime as dt
from decimal import Decimal

import pytest

from fpr.roles import Department, Role
from households.models import Division, MonitoringLine, Relationship, User
from households.services import household_create
from tests.builders import (
    TREE,
    CaseWalker,
    department_csv,
    household_data,
    make_user,
    member_data,
    pdf_scan,
    restore_reference_data,
)

pytest_plugins = ["tests.browser"]


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
