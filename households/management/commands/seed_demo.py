"""python manage.py seed_demo --households N --seed S [--with-users] [--reset] [--if-empty]"""

import argparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fpr.errors import ApplicationError
from households.demo import DEMO_PASSWORD, DEMO_USERS
from households.models import Household, User
from households.seeding import seed_county


class Command(BaseCommand):
    help = "生成一个县的演示数据（确定性：同一 --seed 生成相同的数据）。Seed a synthetic demo county."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=2000, help="农户数 (default 2000)")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子 (default 2026)")
        parser.add_argument("--year", type=int, default=None, help="当前年度 (default: this year)")
        parser.add_argument(
            "--with-users",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="创建演示账号 (default: on when FPR_DEMO=1)",
        )
        parser.add_argument("--reset", action="store_true", help="先删除该县已有的农户数据")
        parser.add_argument("--if-empty", action="store_true", help="数据库中已有农户时什么也不做（scripts/demo 用）")

    def handle(self, *args, **options):
        with_users = settings.DEMO_MODE if options["with_users"] is None else options["with_users"]
        if options["if_empty"] and (existing := Household.objects.count()):
            self.stdout.write(f"数据库中已有 {existing} 户农户，跳过生成演示数据。")
            self._print_logins([u for u, _, _ in DEMO_USERS if User.objects.filter(username=u).exists()])
            return
        try:
            result = seed_county(
                households=options["households"],
                seed=options["seed"],
                current_year=options["year"],
                with_users=with_users,
                reset=options["reset"],
            )
        except (ApplicationError, ValueError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成{result.county.name}演示数据：{result.townships} 个乡镇，{result.villages} 个村，"
                f"{result.households} 户，{result.members} 人，{result.income_items} 条收入明细，"
                f"{result.expenditures} 条刚性支出；用时 {result.seconds:.1f} 秒（{result.method}）。"
            )
        )
        self._print_logins([login.username for login in result.demo_logins])

    def _print_logins(self, usernames: list[str]) -> None:
        if not usernames:
            return
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        users = {u.username: u for u in User.objects.filter(username__in=usernames).select_related("division")}
        for username in usernames:
            user = users[username]
            division = user.division.name if user.division_id else ""
            self.stdout.write(f"  {username:<10} {'、'.join(user.role_labels):<8} {division}  {user.full_name}")
