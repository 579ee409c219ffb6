"""python manage.py load_divisions <file> [--dry-run] [--as <username>] — load the 统计用区划代码 list
(workflow.onboarding.divisions, issue #15): the report in Chinese; refused rows make it exit non-zero
with nothing written. Without --as the command acts as the operator (shell access is the operator's)."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from fpr.errors import ApplicationError
from households.models import User
from workflow.onboarding.divisions import FileProblem, divisions_load


class Command(BaseCommand):
    help = "导入统计用区划代码（CSV/TXT/XLSX：代码、名称），先检查全部行；有任何一行被拒绝则不写入。Load divisions."

    def add_arguments(self, parser):
        parser.add_argument("file", help="区划代码文件（.csv / .txt / .xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="试运行：只报告，不写入")
        parser.add_argument("--as", dest="username", help="以该用户身份导入（只能导入其辖区内的区划）")

    def handle(self, *args, file, dry_run=False, username=None, **options):
        actor = None
        if username:
            actor = User.objects.filter(username=username).select_related("division").first()
            if actor is None:
                raise CommandError(f"没有用户名为“{username}”的账号。")
        try:
            report = divisions_load(actor=actor, path=file, dry_run=dry_run)
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{file}") from None
        except PermissionDenied as error:
            raise CommandError(str(error) or "没有导入区划代码的权限。") from None
        except FileProblem as error:
            raise CommandError(str(error)) from None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        for line in report.lines(all_new=options["verbosity"] >= 2):
            self.stdout.write(line)
        if report.refused:
            raise CommandError(f"有{len(report.rejected)}行未通过检查，未写入任何数据。请修改文件后重新导入。")
