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

# The demo department officer uploads 医保's lists (monitoring/samples/ has one per department; the
# administrator "guanli" may upload every one of them).
DEMO_DEPARTMENTS = {"bumen": Department.MEDICAL_INSURANCE}
