"""Deterministic demo data: a synthetic county of the size SPEC §8 plans for, written in bulk.

`seed_county(households=..., seed=...)` builds 贵州省 → a city → a county → townships → villages and
fills the villages with households, members, income accounting and rigid expenditures. The same seed
(and current year) gives the same people; only timestamps and database ids differ between runs.
"""

import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_create_with_history

from fpr.errors import ApplicationError
from fpr.periods import accounting_year
from fpr.prefetch import chunked, prefetched
from fpr.roles import Role
from households.demo import DEMO_DEPARTMENTS, DEMO_PASSWORD, DEMO_USERS
from households.models import Division, Expenditure, Household, IncomeItem, Member, MonitoringLine, User
from households.seeding.generate import CountyPlan, HouseholdGenerator, plan_county
from households.seeding.vocabulary import MONITORING_LINES
from households.seeding.writers import CopyWriter, OrmWriter

DEMO_CHANGE_REASON = "演示数据"

DEMO_FULL_NAMES = {
    "cunganbu": "陈志强",
    "zhenjie": "刘晓梅",
    "xianji": "张国华",
    "bumen": "李敏",
    "guanli": "赵磊",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    division: str


@dataclass(frozen=True)
class SeedResult:
    county: Division
    townships: int
    villages: int
    households: int
    members: int
    income_items: int
    expenditures: int
    method: str
    seconds: float
    demo_logins: list[DemoLogin]

    @property
    def rows(self) -> int:
        """Rows written to the four registry tables (each has as many history rows again)."""
        return self.households + self.members + self.income_items + self.expenditures


def seed_county(
    *,
    households: int,
    seed: int,
    current_year: int | None = None,
    county_code: str = "520521",
    county_name: str = "大方县",
    with_users: bool = False,
    reset: bool = False,
    method: str | None = None,
    chunk_size: int = 5000,
    change_reason: str = DEMO_CHANGE_REASON,
) -> SeedResult:
    """Generate and store a synthetic county in one transaction.

    Refuses (ApplicationError) when the county already has households, unless `reset` deletes them
    first. `method` is "copy" (PostgreSQL COPY, the default there) or "orm" (bulk_create).
    """
    if households < 1:
        raise ValueError("households must be at least 1")
    if not re.fullmatch(r"52\d{4}", county_code):
        raise ValueError("county_code must be a 6-digit county code in 贵州省 (52xxxx)")
    method = method or ("copy" if connection.vendor == "postgresql" else "orm")
    if method not in ("copy", "orm") or (method == "copy" and connection.vendor != "postgresql"):
        raise ValueError(f"method {method!r} is not available on {connection.vendor}")
    # The accounting year (算账年度) the demo is in: its accounting and the year before's are seeded, so
    # the pages, the ledger and the jobs find this year's 算账 (fpr.periods.accounting_year).
    current_year = current_year or accounting_year()
    started = time.perf_counter()
    rng = random.Random(seed)
    plan = plan_county(rng, households=households, county_code=county_code, county_name=county_name)

    with transaction.atomic():
        existing = Household.objects.filter(village__code__startswith=county_code).count()
        if existing and not reset:
            raise ApplicationError(
                f"{county_name}已有{existing}户农户数据，未生成演示数据。"
                "如确需重新生成，请加 --reset（将删除该县全部农户及其成员、收支和历史记录）。"
            )
        if existing:
            delete_county_households(county_code)
        # The county has no households now, so every village's numbering starts at 0001. Two seeders
        # racing on one county: the unique household number makes the second one fail and roll back.
        divisions = _ensure_divisions(plan, change_reason)
        lines = _ensure_monitoring_lines(plan.province.code, current_year, change_reason)
        generator = HouseholdGenerator(
            rng,
            plan,
            current_year=current_year,
            monitoring_lines=lines,
            village_names={v.code: divisions[v.code].name for v in plan.villages},
            taken_id_numbers=set(
                Member.objects.filter(id_number__startswith=county_code).values_list("id_number", flat=True)
            ),
        )
        now = timezone.now()
        writer_class = CopyWriter if method == "copy" else OrmWriter
        writer = writer_class(households=households, now=now, change_reason=change_reason)
        # Generation and writer.prepare run in a thread; writer.write (the database) runs here.
        for prepared in _prefetched(map(writer.prepare, chunked(generator, chunk_size))):
            writer.write(prepared)
        writer.finish()
        logins = []
        if with_users:
            first_village = divisions[plan.villages[0].code]
            logins = create_demo_users(
                village=first_village,
                township=divisions[plan.villages[0].parent],
                county=divisions[plan.county.code],
            )
    counts = writer.counts
    return SeedResult(
        county=divisions[plan.county.code],
        townships=len(plan.townships),
        villages=len(plan.villages),
        households=counts.households,
        members=counts.members,
        income_items=counts.income_items,
        expenditures=counts.expenditures,
        method=method,
        seconds=time.perf_counter() - started,
        demo_logins=logins,
    )


def _prefetched(chunks: Iterator, depth: int = 2) -> Iterator:
    """Generate the next chunks in a thread while the database stores this one: generation is pure
    Python (one core, no database access) and storing is mostly the server's work (the other core)."""
    return prefetched(chunks, depth=depth, name="seed-generator")


def _ensure_divisions(plan: CountyPlan, change_reason: str) -> dict[str, Division]:
    """Create the planned divisions that do not exist yet; existing ones keep their names."""
    codes = [d.code for d in plan.divisions]
    existing = Division.objects.in_bulk(codes)
    missing = [
        Division(code=d.code, name=d.name, level=d.level, parent_id=d.parent)
        for d in plan.divisions
        if d.code not in existing
    ]
    if missing:
        bulk_create_with_history(missing, Division, default_change_reason=change_reason)
    return Division.objects.in_bulk(codes)


def monitoring_line_for(year: int) -> tuple[int, int]:
    """(监测范围, 国家扶贫标准) for a year, extrapolated by 300 / 100 yuan a year outside the table."""
    first, last = min(MONITORING_LINES), max(MONITORING_LINES)
    if year in MONITORING_LINES:
        return MONITORING_LINES[year]
    anchor = first if year < first else last
    amount, poverty_line = MONITORING_LINES[anchor]
    return amount + 300 * (year - anchor), poverty_line + 100 * (year - anchor)


def _ensure_monitoring_lines(province_code: str, current_year: int, change_reason: str) -> dict[int, int]:
    """Lines for 2021 up to the current year; a line the administrator already set is kept.
    Returns every known line by year, for spreading incomes around it."""
    years = range(min(MONITORING_LINES), max(max(MONITORING_LINES), current_year) + 1)
    present = set(MonitoringLine.objects.filter(province_id=province_code).values_list("year", flat=True))
    missing = []
    for year in years:
        if year not in present:
            amount, poverty_line = monitoring_line_for(year)
            missing.append(
                MonitoringLine(
                    province_id=province_code,
                    year=year,
                    amount=Decimal(amount),
                    poverty_line=Decimal(poverty_line),
                )
            )
    if missing:
        bulk_create_with_history(missing, MonitoringLine, default_change_reason=change_reason)
    lines = {year: monitoring_line_for(year)[0] for year in (current_year - 1, current_year)}
    for year, amount in MonitoringLine.objects.filter(province_id=province_code).values_list("year", "amount"):
        lines[year] = int(amount)
    return lines


def delete_county_households(county_code: str) -> int:
    """Delete the county's households with their members, accounts and history rows.

    Set-based SQL: the ORM's cascade would load every row and write a '-' history row for each,
    which takes minutes for a county. Records of other apps pointing at households go through the
    ORM so their own cascades and history still apply.
    """
    households = Household.objects.filter(village__code__startswith=county_code)
    bulk_models = (Member, IncomeItem, Expenditure)
    for relation in Household._meta.related_objects:
        model = relation.related_model
        if model in bulk_models or issubclass(model, HistoricalChanges):
            continue
        model._base_manager.filter(**{f"{relation.field.name}__in": households}).delete()
    household_ids = f"SELECT id FROM {Household._meta.db_table} WHERE village_id LIKE %s"
    prefix = [county_code + "%"]
    with connection.cursor() as cursor:
        for model in bulk_models:
            for table in (model._meta.db_table, model.history.model._meta.db_table):
                cursor.execute(f"DELETE FROM {table} WHERE household_id IN ({household_ids})", prefix)
        cursor.execute(
            f"DELETE FROM {Household.history.model._meta.db_table} WHERE id IN ({household_ids})",
            prefix,
        )
        cursor.execute(f"DELETE FROM {Household._meta.db_table} WHERE village_id LIKE %s", prefix)
        return cursor.rowcount


def create_demo_users(*, village: Division, township: Division, county: Division) -> list[DemoLogin]:
    """The demo accounts of households.demo.DEMO_USERS; existing ones are reset to the demo state."""
    where = {"village": village, "township": township, "county": county}
    # Hashed once: every demo account has the same password, and hashing is deliberately slow.
    password = make_password(DEMO_PASSWORD)
    logins = []
    for username, role, level in DEMO_USERS:
        division = where[level]
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "division": division,
                "full_name": DEMO_FULL_NAMES.get(username, Role(role).label),
                "password": password,
                "is_active": True,
                "is_staff": role == Role.ADMINISTRATOR,
                "is_superuser": False,
                "department": DEMO_DEPARTMENTS.get(username, ""),
            },
        )
        user.groups.set([Group.objects.get(name=Role(role).label)])
        logins.append(DemoLogin(username, DEMO_PASSWORD, Role(role).label, division.name))
    return logins
