"""Test data builders: the division tree, users, household and member data, attachment files, the case
walker and department lists. Imported by tests and by conftest.py, which keeps the fixtures built on them.

Households and cases are built through the real services (never by setting fields the users cannot set).
"""

import datetime as dt
import itertools

from django.contrib.auth.models import Group

from fpr.roles import Level, Role
from households.id_numbers import make_id_number
from households.models import Division, PovertyStatus, Relationship, User

PASSWORD = "Fpr-test-pass-2026"

TREE = [
    ("520000000000", "贵州省", Level.PROVINCE, None),
    ("520500000000", "毕节市", Level.CITY, "520000000000"),
    ("520521000000", "大方县", Level.COUNTY, "520500000000"),
    ("520521100000", "羊场镇", Level.TOWNSHIP, "520521000000"),
    ("520521100001", "光明村", Level.VILLAGE, "520521100000"),
    ("520521100002", "红岩村", Level.VILLAGE, "520521100000"),
    ("520521101000", "黄泥塘镇", Level.TOWNSHIP, "520521000000"),
    ("520521101001", "新华村", Level.VILLAGE, "520521101000"),
]

_sequence = itertools.count(1)


def new_id_number(*, male: bool = True) -> str:
    """A fresh valid ID number: each call gets its own birth date, so numbers never collide."""
    n = next(_sequence)
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=n * 7)
    return make_id_number(region_code="520521", birth_date=birth, sequence=n * 2 % 1000 + (1 if male else 0))


def restore_reference_data() -> None:
    """Migrations create the role groups and risk categories; a transactional test's flush removes
    them, so every test that builds data puts them back first (idempotent)."""
    from django.contrib.auth.models import Permission

    from assistance.models import MeasureCategory
    from assistance.reference import ensure_measure_categories
    from households.reference import ensure_role_groups
    from monitoring.models import RiskCategory
    from monitoring.reference import ensure_risk_categories

    if not Group.objects.exists() or not RiskCategory.objects.exists() or not MeasureCategory.objects.exists():
        ensure_role_groups(Group, Permission)
        ensure_risk_categories(RiskCategory)
        ensure_measure_categories(MeasureCategory)


def make_user(username: str, division: Division, *roles: str, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, division=division, **extra)
    for role in roles:
        user.groups.add(Group.objects.get(name=Role(role).label))
    return user


def member_data(name: str, relationship: str = Relationship.HEAD, **extra) -> dict:
    data = {"name": name, "id_number": new_id_number(), "relationship": relationship}
    data.update(extra)
    return data


def household_data(**extra) -> dict:
    data = {"address": "光明村一组12号", "poverty_status": PovertyStatus.LIFTED, "poverty_exit_year": 2019}
    data.update(extra)
    return data


# The smallest whole files of each accepted kind: attachments are checked by structure, not only by
# their first bytes (fpr/uploads.py), so test scans and photos must be real files.
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG_BYTES = png_bytes()


def pdf_scan(name: str = "scan.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


class CaseWalker:
    """Moves a case through the identification stages the way the users do, step by step."""

    def __init__(self, cadre, township, county):
        self.cadre, self.township, self.county = cadre, township, county

    def fire(self, case, transition, user, **inputs):
        from workflow.services import case_transition

        case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)
        case.refresh_from_db()
        return case

    def to_verification(self, case):
        return self.fire(case, "submit_application", self.cadre)

    def record_verification(self, case, day=dt.date(2026, 11, 2)):
        from monitoring.cases.services import verification_record

        verification_record(
            user=self.cadre,
            case=case,
            visit_date=day,
            verifiers=[{"user_id": self.cadre.pk, "name": "王村干"}, {"name": "陈驻村", "unit": "驻村工作队"}],
            findings="情况属实",
            risk_points="大病自付费用高",
            year=2026,
        )

    def to_appraisal(self, case):
        self.to_verification(case)
        self.record_verification(case)
        return self.fire(case, "complete_verification", self.cadre)

    def record_appraisal(self, case, votes_for=5, votes_against=0, day=dt.date(2026, 11, 3)):
        from monitoring.cases.services import appraisal_record

        roles = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
        appraisal_record(
            user=self.cadre,
            case=case,
            meeting_date=day,
            participants=[{"name": f"评议人{i}", "role": role} for i, role in enumerate(roles)],
            votes_for=votes_for,
            votes_against=votes_against,
            votes_abstain=5 - votes_for - votes_against,
            minutes_scan=pdf_scan("会议记录.pdf"),
        )

    def to_notice(self, case, starts_on=dt.date(2026, 11, 4)):
        self.to_appraisal(case)
        self.record_appraisal(case)
        return self.fire(case, "start_notice", self.cadre, starts_on=starts_on, place="村务公开栏")

    def to_township(self, case):
        self.to_notice(case)
        return self.fire(case, "submit_to_township", self.cadre)

    def to_county(self, case):
        self.to_township(case)
        return self.fire(case, "township_approve", self.township, opinion="经复核，情况属实，同意纳入。")

    def to_monitoring(self, case):
        self.to_county(case)
        return self.fire(case, "county_approve", self.county, opinion="同意", comparison="部门比对无异常")


def department_csv(rows: list[dict], *, department: str, header: list[str] | None = None) -> str:
    """A department list as CSV text: the source's own headers unless `header` is given; rows are
    dicts keyed by header label (missing keys are empty cells)."""
    import csv
    import io

    from monitoring.screening.departments import source_for

    header = header or [column.label for column in source_for(department).columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(label, "") for label in header])
    return out.getvalue()
