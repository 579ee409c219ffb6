"""python manage.py import_users <file> --as <username> [--dry-run] [--passwords-out <dir>] — create the
accounts of a county's cadre list (workflow.onboarding.users, issue #15 point 4) as a system administrator:
the report in Chinese (never a password); refused rows make it exit non-zero with nothing written.

A real import writes the initial passwords once, as one printable XLSX per division
(`<dir>/<code>-<name>-初始密码.xlsx`, readable by the file's owner only), and nowhere else: so it needs
--passwords-out, a directory that is checked before anything is written; an existing list is never
overwritten."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from workflow.onboarding.report import run_for_command
from workflow.onboarding.users import password_sheet, users_import


def _writable_directory(text: str) -> Path:
    directory = Path(text)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"无法创建密码清单目录 {directory}：{error.strerror}") from None
    if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
        raise CommandError(f"密码清单目录 {directory} 不可写。")
    return directory


def _sheet_path(directory: Path, code: str, name: str) -> Path:
    safe = "".join(c for c in name if c not in '\\/:*?"<>|').strip() or "区划"
    return directory / f"{code}-{safe}-初始密码.xlsx"


class Command(BaseCommand):
    help = (
        "批量导入用户（干部名单 XLSX/CSV：姓名、手机号、所属区划、角色、部门、用户名），先检查全部行；"
        "有任何一行被拒绝则不写入。初始密码按区划写成可打印的 XLSX，只生成一次。Import users."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="干部名单（.xlsx / .csv / .txt）")
        parser.add_argument(
            "--as", dest="username", required=True, help="以该系统管理员身份导入（只能建其辖区内的账号）"
        )
        parser.add_argument("--dry-run", action="store_true", help="试运行：只报告，不写入")
        parser.add_argument("--passwords-out", dest="passwords_out", help="初始密码清单（每个区划一个 XLSX）写入的目录")

    def handle(self, *args, file, username, dry_run=False, passwords_out=None, **options):
        directory = None
        if not dry_run:
            if not passwords_out:
                raise CommandError("正式导入须用 --passwords-out 指定初始密码清单的目录：初始密码只在这次给出。")
            directory = _writable_directory(passwords_out)
        report = run_for_command(
            users_import,
            username=username,
            path=file,
            dry_run=dry_run,
            denied="没有批量导入用户的权限。",
            write=self.stdout.write,
        )
        if directory is None:
            return
        for (code, name), created in report.by_division().items():
            first = path = _sheet_path(directory, code, name)
            n = 1
            while path.exists():  # never over a list already handed out
                n += 1
                path = first.with_name(f"{first.stem}-{n}.xlsx")
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                password_sheet((code, name), created, file_name=report.file_name).save(out)
            self.stdout.write(f"初始密码清单：{path}（{len(created)}个账号）")
