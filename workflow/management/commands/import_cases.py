"""python manage.py import_cases <file> --as <username> [--dry-run] — import a county's existing monitoring
objects (监测对象, from the national system's export or the county's ledger: workflow.onboarding.cases, issue
#15 point 3) as a system administrator: the report in Chinese; refused rows make it exit non-zero with
nothing written; a second run of the same file changes nothing."""

from django.core.management.base import BaseCommand

from workflow.onboarding.cases import cases_import
from workflow.onboarding.report import run_for_command


class Command(BaseCommand):
    help = (
        "导入现有监测对象（原系统导出或县里的监测对象台账 XLSX/CSV，每户一行），先检查全部行；"
        "有任何一行被拒绝则不写入；再次导入同一文件不作修改。Import existing monitoring objects."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="监测对象名单（.xlsx / .csv / .txt）")
        parser.add_argument(
            "--as", dest="username", required=True, help="以该系统管理员身份导入（只能导入其辖区内的农户）"
        )
        parser.add_argument("--dry-run", action="store_true", help="试运行：只报告，不写入")

    def handle(self, *args, file, username, dry_run=False, **options):
        run_for_command(
            cases_import,
            username=username,
            path=file,
            dry_run=dry_run,
            denied="没有导入监测对象的权限。",
            write=self.stdout.write,
        )
