"""Roles (角色) a user can hold, and the division level each one works at. SPEC §1."""

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
