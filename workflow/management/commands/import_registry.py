"""python manage.py import_registry <file> --as <username> [--dry-run] — import a county's household ledger
(one row per member, grouped by 户编号: workflow.onboarding.registry, issue #15 point 2) as a system
administrator: the report in Chinese; refused rows make it exit non-zero with nothing written; a second run
of the same file changes nothing."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from fpr.errors import ApplicationError
from households.models import User
from workflow.onboarding.registry import FileProblem, registry_import


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
        actor = User.objects.filter(username=username).select_related("division").first()
        if actor is None:
            raise CommandError(f"没有用户名为“{username}”的账号。")
        try:
            report = registry_import(actor=actor, path=file, dry_run=dry_run)
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{file}") from None
        except PermissionDenied as error:
            raise CommandError(str(error) or "没有导入农户的权限。") from None
        except FileProblem as error:
            raise CommandError(str(error)) from None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        for line in report.lines():
            self.stdout.write(line)
        if report.refused:
            rows = len(report.rejected_rows)
            raise CommandError(f"有{rows}行未通过检查，未写入任何数据。请修改文件后重新导入。")
