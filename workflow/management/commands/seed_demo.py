"""python manage.py seed_demo --households N --seed S [--with-users] [--with-cases] [--reset] [--if-empty]

In workflow, not households: besides the registry (households.seeding) it seeds demo cases through the
services of every app (workflow.demo)."""

import argparse
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fpr import clock
from fpr.errors import ApplicationError
from fpr.periods import accounting_year
from households.demo import DEMO_PASSWORD, DEMO_USERS, demo_accounts
from households.models import Household, User
from households.seeding import seed_county
from monitoring.jobs.runner import job_run
from monitoring.models import MonitoringCase, Stage
from workflow.demo import TooFewHouseholds, seed_demo_cases
from workflow.demo.builder import moved_clock

REGISTRY_DAYS_AGO = 400
DEMO_JOBS = ("overdue_scan", "data_quality", "elimination_review")


class Command(BaseCommand):
    help = "生成一个县的演示数据（确定性：同一 --seed 生成相同的数据）。Seed a synthetic demo county."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=2000, help="农户数 (default 2000)")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子 (default 2026)")
        parser.add_argument("--year", type=int, default=None, help="算账年度 (default: fpr.periods.accounting_year())")
        parser.add_argument(
            "--with-users",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="创建演示账号 (default: on when FPR_DEMO=1)",
        )
        parser.add_argument(
            "--with-cases",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="为演示账号生成各环节的演示案件 (default: on with --with-users)",
        )
        parser.add_argument("--reset", action="store_true", help="先删除该县已有的农户数据")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="数据库中已有农户时不再生成（还没有案件时只补充演示案件；scripts/demo 用）",
        )

    def handle(self, *args, **options):
        with_users = settings.DEMO_MODE if options["with_users"] is None else options["with_users"]
        with_cases = with_users if options["with_cases"] is None else options["with_cases"]
        if with_cases and not with_users:
            raise CommandError("演示案件由演示账号办理，请同时加 --with-users。")
        if options["if_empty"] and (existing := Household.objects.count()):
            self.stdout.write(f"数据库中已有 {existing} 户农户，跳过生成演示数据。")
            logins = [u for u, _, _ in DEMO_USERS if User.objects.filter(username=u).exists()]
            # A demo database seeded before there were demo cases gets them once, on its next start.
            first_cases = with_cases and len(logins) == len(DEMO_USERS) and not MonitoringCase.objects.exists()
            if first_cases and (cases := self._seed_cases(options["seed"], asked=options["with_cases"])):
                self._run_jobs()
                self._print_cases(cases)
            self._print_logins()
            return
        try:
            # One transaction: a failure in the cases leaves no half-seeded county behind.
            with transaction.atomic():
                # The registry as a county would have it before the year of cases: entered 13 months ago.
                with moved_clock(clock.now() - dt.timedelta(days=REGISTRY_DAYS_AGO)):
                    result = seed_county(
                        households=options["households"],
                        seed=options["seed"],
                        current_year=options["year"] or accounting_year(),
                        with_users=with_users,
                        reset=options["reset"],
                    )
                cases = self._seed_cases(options["seed"], asked=options["with_cases"]) if with_cases else {}
                warnings = self._seed_warnings(options["seed"]) if cases else None
        except (ApplicationError, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成{result.county.name}演示数据：{result.townships} 个乡镇，{result.villages} 个村，"
                f"{result.households} 户，{result.members} 人，{result.income_items} 条收入明细，"
                f"{result.expenditures} 条刚性支出；用时 {result.seconds:.1f} 秒（{result.method}）。"
            )
        )
        if cases:
            self._run_jobs()
        self._print_cases(cases)
        if warnings is not None:
            self.stdout.write(
                f"演示预警：{warnings.get_department_display()} {warnings.period} 名单 {warnings.rows_total} 行，"
                f"推送预警 {warnings.warnings_created} 条（样例文件见 monitoring/samples/）。"
            )
        if with_users:
            self._print_logins()

    def _seed_cases(self, seed: int, *, asked: bool | None) -> dict[str, int]:
        """Cases per stage; none, with a warning, for a county too small unless they were asked for."""
        try:
            return seed_demo_cases(seed=seed, today=clock.today())  # rolled back as a whole on failure
        except TooFewHouseholds as exc:
            if asked:
                raise CommandError(exc.message) from exc
            self.stderr.write(f"未生成演示案件：{exc.message}")
            return {}
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _seed_warnings(self, seed: int):
        """Last month's 民政 list through the real comparison, so village warning queues are not empty."""
        from workflow.demo.warnings import seed_demo_warnings

        cadre = User.objects.select_related("division__parent").get(username="cunganbu")
        return seed_demo_warnings(
            seed=seed, administrator=User.objects.get(username="guanli"), first_village=cadre.division
        )

    def _run_jobs(self) -> None:
        """The daily and weekly jobs once, as the beat would have run them this morning: the overdue
        warnings and notices, the data-quality findings and the elimination review become to-do items."""
        for job in DEMO_JOBS:
            job_run(job=job, triggered_by="演示数据")

    def _print_cases(self, cases: dict[str, int]) -> None:
        if not cases:
            return
        self.stdout.write(f"演示案件 {sum(cases.values())} 件：")
        for stage, count in cases.items():
            self.stdout.write(f"  {Stage(stage).label}：{count} 件")

    def _print_logins(self) -> None:
        """The demo logins that exist, from households.demo.demo_accounts (the login page's list too)."""
        usernames = [username for username, _, _ in demo_accounts()]
        users = {u.username: u for u in User.objects.filter(username__in=usernames).select_related("division")}
        if not users:
            return
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username in (u for u in usernames if u in users):
            user = users[username]
            division = user.division.name if user.division_id else ""
            self.stdout.write(f"  {username:<10} {'、'.join(user.role_labels):<8} {division}  {user.full_name}")
