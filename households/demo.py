"""Demo users: created by `seed_demo` and listed on the login page, only when FPR_DEMO=1."""

from fpr.roles import Department, Role

# Same password for every demo account; these accounts exist only in a demo database.
DEMO_PASSWORD = "demo-fpr-2026"

# (username, role, which division: "village" / "township" / "county") — resolved by seed_demo to the
# first village / township of the seeded county.
DEMO_USERS = [
    ("cunganbu", Role.VILLAGE_CADRE, "village"),
    ("zhenjie", Role.TOWNSHIP_REVIEWER, "township"),
    ("xianji", Role.COUNTY_REVIEWER, "county"),
    ("bumen", Role.DEPARTMENT_OFFICER, "county"),
    ("guanli", Role.ADMINISTRATOR, "county"),
]

# The second village's cadre, created by the demo cases (workflow.demo) in a village of zhenjie's township:
# not one of DEMO_USERS (seed_county does not make them), same password.
SECOND_CADRE = ("cunganbu2", "王建军")
SECOND_CADRE_NOTE = "第二个村，有演示案件时"


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, role label, note) of every demo login, in the order `seed_demo` prints them: the one
    list of the login page and the command."""
    accounts = [(username, Role(role).label, "") for username, role, _ in DEMO_USERS]
    accounts.append((SECOND_CADRE[0], Role.VILLAGE_CADRE.label, SECOND_CADRE_NOTE))
    return accounts


# The demo department officer uploads 医保's lists (monitoring/samples/ has one per department; the
# administrator "guanli" may upload every one of them).
DEMO_DEPARTMENTS = {"bumen": Department.MEDICAL_INSURANCE}
