"""Roles (角色) a user can hold, and the division level each one works at. SPEC §1."""

from django.core.exceptions import PermissionDenied
from django.db import models


class Role(models.TextChoices):
    VILLAGE_CADRE = "village_cadre", "村级干部"
    TOWNSHIP_REVIEWER = "township_reviewer", "镇街审核员"
    COUNTY_REVIEWER = "county_reviewer", "县级审定员"
    DEPARTMENT_OFFICER = "department_officer", "部门数据专员"
    ADMINISTRATOR = "administrator", "系统管理员"


class Level(models.IntegerChoices):
    PROVINCE = 1, "省"
    CITY = 2, "市"
    COUNTY = 3, "县"
    TOWNSHIP = 4, "乡镇"
    VILLAGE = 5, "村"


# Significant digits of the 12-digit statistical code (统计用区划代码) at each level:
# PP CC DD TTT VVV. A division's subtree is every code that starts with its prefix.
PREFIX_LENGTH = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
}

# The levels a role may be held at; None means any level.
ROLE_LEVELS: dict[str, set[int] | None] = {
    Role.VILLAGE_CADRE: {Level.VILLAGE},
    Role.TOWNSHIP_REVIEWER: {Level.TOWNSHIP},
    Role.COUNTY_REVIEWER: {Level.COUNTY},
    Role.DEPARTMENT_OFFICER: {Level.PROVINCE, Level.CITY, Level.COUNTY},
    Role.ADMINISTRATOR: None,
}

# Roles that keep the household registry (登记、修改农户信息).
REGISTRY_EDITORS = {Role.VILLAGE_CADRE, Role.ADMINISTRATOR}

# Roles that work with household and case data (everyone but department data officers).
CASE_READERS = frozenset({Role.VILLAGE_CADRE, Role.TOWNSHIP_REVIEWER, Role.COUNTY_REVIEWER, Role.ADMINISTRATOR})


def ensure_case_reader(user, what: str) -> None:
    """A list page of households or cases refuses the other roles with a 403 that says why, instead of
    an empty list that reads as "nothing registered" (a department officer sees no household at all)."""
    if user.is_superuser or user.has_role(*CASE_READERS):
        return
    if user.has_role(Role.DEPARTMENT_OFFICER):
        raise PermissionDenied(f"部门数据专员不查看{what}：本部门名单的上传和比对结果见“部门数据”。")
    raise PermissionDenied(f"您的角色不能查看{what}。")


class Department(models.TextChoices):
    """The departments whose monthly lists are compared with the registry (SPEC §5). What each one's
    file holds, and the warning it raises, is in monitoring.screening.departments."""

    CIVIL_AFFAIRS = "civil_affairs", "民政"
    MEDICAL_INSURANCE = "medical_insurance", "医保"
    HEALTH = "health", "卫健"
    DISABLED_FEDERATION = "disabled_federation", "残联"
    HOUSING = "housing", "住建"
    EDUCATION = "education", "教育"
    HUMAN_RESOURCES = "human_resources", "人社"
    EMERGENCY = "emergency", "应急管理"
    WATER = "water", "水利"
    PUBLIC_SECURITY = "public_security", "公安"
    VEHICLES = "vehicles", "车管"
    REAL_ESTATE = "real_estate", "不动产"
    MARKET_REGULATION = "market_regulation", "市场监管"
    FINANCE = "finance", "财政"
