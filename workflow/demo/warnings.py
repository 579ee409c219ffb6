"""Demo warnings: 民政's list of last month compared through the real pipeline three days ago (past
its 48 hours: a few are 已超时, two already handled by the village) and 医保's list this morning (剩余
40多小时), so the village warning queues, the inbox and the overdue figures are not empty at first login.

Period 2026-10 (the month before the sample files of monitoring/samples/, which are 2026-11), built in
memory as the department would send it and uploaded by the administrator through
`monitoring.screening.comparison.upload_create` + `comparison_run`, exactly as the upload page does — with the
clock moved to the hour of each upload (workflow.demo.builder.moved_clock), so `raised_at` and the
deadlines are those of a real upload.
"""

import csv
import datetime as dt
import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fpr import clock
from fpr.roles import Department
from households.models import Division, Member, User
from monitoring.models import ContactOutcome, DepartmentUpload, RiskWarning
from monitoring.screening.comparison import comparison_run, upload_create
from monitoring.screening.warning_services import warning_contact_record, warning_exclude
from workflow.demo.builder import moved_clock

PERIOD = "2026-10"
KINDS = ["低保", "临时救助", "特困", "临时救助", "低保"]
HOSPITALS = ["大方县人民医院", "毕节市第一人民医院", "大方县中医院"]


def _at(days_ago: int, hour: int, minute: int) -> dt.datetime | None:
    """That hour `days_ago` days ago; None (now) when it has not come yet today."""
    moment = dt.datetime.combine(
        clock.today() - dt.timedelta(days=days_ago), dt.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )
    return moment if moment < clock.now() else None


def _upload(administrator: User, department: str, name: str, header: list[str], rows: list[list]) -> DepartmentUpload:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    upload = upload_create(
        user=administrator,
        department=department,
        period=PERIOD,
        file=SimpleUploadedFile(name, out.getvalue().encode("utf-8")),
    )
    return comparison_run(upload.pk)


def seed_demo_warnings(*, seed: int, administrator: User, first_village: Division) -> DepartmentUpload:
    """Warnings for a few people of the first village and of three others: 民政's list three days ago
    (the first village's cadre has excluded one and phoned another since), then 医保's this morning.
    Returns 民政's upload."""
    rng = random.Random(f"{seed}:demo-warnings")
    villages = list(
        Division.objects.filter(code__startswith=first_village.parent_id[:6], level=first_village.level)
        .exclude(pk=first_village.pk)
        .filter(households__isnull=False)
        .distinct()
        .order_by("code")
    )
    chosen = [(first_village, 6)] + [(v, 3) for v in rng.sample(villages, min(3, len(villages)))]
    people = []
    for village, count in chosen:
        members = list(
            Member.objects.filter(household__village=village)
            .order_by("household__number", "id_number")
            .values_list("id_number", "name")
        )
        people += [(village, *person) for person in rng.sample(members, min(count, len(members)))]
    medical = [p for p in people if p[0] == first_village][:2]
    civil = [p for p in people if p not in medical]
    with moved_clock(_at(3, 9, 40)):
        upload = _upload(
            administrator,
            Department.CIVIL_AFFAIRS,
            "民政_2026-10_新增救助对象.csv",
            ["身份证号", "姓名", "救助类型", "救助金额", "批准日期"],
            [
                [id_number, name, KINDS[n % len(KINDS)], 3000 + 300 * n, f"2026-10-{5 + n:02d}"]
                for n, (_, id_number, name) in enumerate(civil)
            ],
        )
    cadre = User.objects.filter(division=first_village, username="cunganbu").first()
    warnings = list(RiskWarning.objects.filter(upload=upload, village=first_village).order_by("row_number"))
    if cadre and len(warnings) >= 2:
        with moved_clock(_at(2, 10, 15)):
            warning_exclude(
                user=cadre,
                warning=warnings[0],
                reason="经入户核实，临时救助为子女意外受伤的一次性救助，已痊愈返岗，家庭收入稳定。",
            )
        with moved_clock(_at(1, 16, 5)):
            warning_contact_record(
                user=cadre,
                warning=warnings[1],
                outcome=ContactOutcome.PHONED,
                note="已电话联系户主，约定明天上午入户核实。",
            )
    if medical:
        with moved_clock(_at(0, 8, 50)):
            _upload(
                administrator,
                Department.MEDICAL_INSURANCE,
                "医保_2026-10_高额自付.csv",
                ["身份证号", "姓名", "个人自付金额", "费用期间", "就诊机构"],
                [
                    [id_number, name, 18000 + 7500 * n, PERIOD, HOSPITALS[n % len(HOSPITALS)]]
                    for n, (_, id_number, name) in enumerate(medical)
                ],
            )
    return upload
