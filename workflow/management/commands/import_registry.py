"""python manage.py import_registry <file> --as <username> [--dry-run] — import a county's household ledger
(one row per member, grouped by 户编号: workflow.onboarding.registry, issue #15 point 2) as a system
administrator: the report in Chinese; refused rows make it exit non-zero with nothing written; a second run
of the same file changes nothing."""

from django.core.management.base import BaseCommand

from workflow.onboarding.registry import registry_import
from workflow.onboarding.report import run_for_command


class Command(BaseCommand):
    help = (
        "导入农户和家庭成员（农户台账 XLSX/CSV，每个成员一行，按户编号归户），先检查全部行；"
        "有任何一行被拒绝则不写入；再次导入同一文件不作修改。Import the household registry."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="农户台账（.xlsx / .csv / .txt）")
        parser.add_argument(
            "--as", dest="username", required=True, help="以该系统管理员身份导入（只能导入其辖区内的村）"
        )
        parser.add_argument("--dry-run", action="store_true", help="试运行：只报告，不写入")

    def handle(self, *args, file, username, dry_run=False, **options):
        run_for_command(
            registry_import,
            username=username,
            path=file,
            dry_run=dry_run,
            denied="没有导入农户的权限。",
            write=self.stdout.write,
        )
