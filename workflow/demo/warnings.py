"""Demo warnings: last month's 民政 list compared through the real pipeline, so the village warning
queues are not empty at first login.

Period 2026-10 (the month before the sample files of monitoring/samples/, which are 2026-11), built in
memory as the department would send it and uploaded by the administrator through
`monitoring.comparison.upload_create` + `comparison_run`, exactly as the upload page does.
"""

import csv
import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile

from fpr.roles import Department
from households.models import Division, Member, User
from monitoring.comparison import comparison_run, upload_create
from monitoring.models import DepartmentUpload

PERIOD = "2026-10"
KINDS = ["低保", "临时救助", "特困", "临时救助", "低保"]


def seed_demo_warnings(*, seed: int, administrator: User, first_village: Division) -> DepartmentUpload:
    """Warnings for a few people of the first village and of three others, one list of 民政."""
    rng = random.Random(f"{seed}:demo-warnings")
    villages = list(
        Division.objects.filter(code__startswith=first_village.parent_id[:6], level=first_village.level)
        .exclude(pk=first_village.pk)
        .filter(households__isnull=False)
        .distinct()
        .order_by("code")
    )
    chosen = [(first_village, 4)] + [(v, 3) for v in rng.sample(villages, min(3, len(villages)))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["身份证号", "姓名", "救助类型", "救助金额", "批准日期"])
    n = 0
    for village, count in chosen:
        people = list(
            Member.objects.filter(household__village=village)
            .order_by("household__number", "id_number")
            .values_list("id_number", "name")
        )
        for id_number, name in rng.sample(people, min(count, len(people))):
            writer.writerow([id_number, name, KINDS[n % len(KINDS)], 3000 + 300 * n, f"2026-10-{5 + n:02d}"])
            n += 1
    upload = upload_create(
        user=administrator,
        department=Department.CIVIL_AFFAIRS,
        period=PERIOD,
        file=SimpleUploadedFile("民政_2026-10_新增救助对象.csv", out.getvalue().encode("utf-8")),
    )
    return comparison_run(upload.pk)
