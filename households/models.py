"""Divisions, users, and the household registry (SPEC §1, §2)."""

from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from fpr.models import ScopedQuerySet, TimeStampedModel
from fpr.roles import CASE_READERS, PREFIX_LENGTH, Department, Level, Role
from households.id_numbers import mask_id_number, parse_id_number, validate_id_number

# --------------------------------------------------------------------------- divisions and users


class DivisionQuerySet(ScopedQuerySet):
    division_field = "code"


class Division(models.Model):
    """An administrative division (行政区划). The 12-digit statistical code is the primary key, so
    every foreign key to a division *is* the code and subtree scoping needs no join."""

    code = models.CharField(
        "区划代码",
        max_length=12,
        primary_key=True,
        validators=[RegexValidator(r"^\d{12}$", "区划代码必须是12位数字。")],
    )
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = DivisionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: PREFIX_LENGTH[self.level]]

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


class User(AbstractUser):
    """A cadre or officer. Works at one division; holds roles through groups named by `Role`."""

    division = models.ForeignKey(
        Division, verbose_name="所属区划", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    full_name = models.CharField("姓名", max_length=32, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    # A department data officer uploads only their own department's lists.
    department = models.CharField("所属部门", max_length=24, choices=Department.choices, blank=True)
    # An account made with an initial password someone else knows (the bulk import,
    # workflow.onboarding.users): until its owner sets their own, it reaches only the password change page
    # (fpr.middleware.PasswordChangeRequiredMiddleware); the change clears it.
    must_change_password = models.BooleanField("须修改初始密码", default=False)

    # Every change to an account is kept (who changed whose division, roles, state; households/accounts.py
    # writes what changed in the roles as the change reason). The password hash is never copied; a login's
    # last_login update is not a change (save() below skips history for it).
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    def save(self, *args, **kwargs):
        if set(kwargs.get("update_fields") or ()) == {"last_login"}:
            self.skip_history_when_saving = True
            try:
                return super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
        return super().save(*args, **kwargs)

    @cached_property
    def roles(self) -> frozenset[str]:
        labels = {label: code for code, label in Role.choices}
        return frozenset(labels[g.name] for g in self.groups.all() if g.name in labels)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def role_labels(self) -> list[str]:
        return [Role(code).label for code in sorted(self.roles)]

    @property
    def jurisdiction_prefix(self) -> str:
        return self.division.prefix if self.division_id else ""


# --------------------------------------------------------------------------- households


class PovertyStatus(models.TextChoices):
    LIFTED = "lifted", "脱贫户"
    ORDINARY = "ordinary", "一般农户"


class HousingSafety(models.TextChoices):
    SAFE = "safe", "安全"
    GRADE_C = "c", "C级危房"
    GRADE_D = "d", "D级危房"


class HouseholdQuerySet(ScopedQuerySet):
    division_field = "village__code"
    roles_allowed = CASE_READERS


class Household(TimeStampedModel):
    number = models.CharField("户编号", max_length=20, unique=True)
    village = models.ForeignKey(
        Division,
        verbose_name="所属村",
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level": Level.VILLAGE},
    )
    address = models.CharField("家庭住址", max_length=128)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    poverty_status = models.CharField("脱贫状态", max_length=16, choices=PovertyStatus.choices)
    poverty_exit_year = models.PositiveSmallIntegerField("脱贫年度", null=True, blank=True)
    relocated = models.BooleanField("易地扶贫搬迁户", default=False)
    single_parent = models.BooleanField("单亲家庭", default=False)
    # 两不愁三保障 (food and clothing; education, medical care, housing) and drinking water.
    food_secure = models.BooleanField("不愁吃", default=True)
    clothing_secure = models.BooleanField("不愁穿", default=True)
    education_secured = models.BooleanField("义务教育有保障", default=True)
    medical_secured = models.BooleanField("基本医疗有保障", default=True)
    housing_safety = models.CharField(
        "住房安全等级", max_length=8, choices=HousingSafety.choices, default=HousingSafety.SAFE
    )
    water_quantity_ok = models.BooleanField("饮水水量达标", default=True)
    water_quality_ok = models.BooleanField("饮水水质达标", default=True)
    water_convenience_ok = models.BooleanField("用水方便程度达标", default=True)
    water_assurance_ok = models.BooleanField("供水保证率达标", default=True)
    # Sensitive: shown masked unless the viewer holds households.view_sensitive.
    bank_name = models.CharField("开户银行", max_length=64, blank=True)
    bank_account = models.CharField(
        "银行账号",
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^\d{10,30}$", "银行账号应为10到30位数字。")],
    )
    # Optimistic lock of the edit page and the API: household_update refuses a save based on an older
    # version, so two cadres editing the same household never silently overwrite each other.
    version = models.PositiveIntegerField("版本号", default=1, db_default=1, editable=False)

    objects = HouseholdQuerySet.as_manager()
    # The version is bookkeeping, not a change a user made: kept out of the change history.
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        verbose_name = verbose_name_plural = "农户"
        ordering = ["number"]
        permissions = [("view_sensitive", "可查看完整身份证号和银行账号")]
        indexes = [models.Index(fields=["poverty_status", "village"])]

    def __str__(self) -> str:
        return f"{self.number}"

    @property
    def housing_secured(self) -> bool:
        return self.housing_safety == HousingSafety.SAFE

    @property
    def water_secured(self) -> bool:
        return all(getattr(self, field) for field, _ in WATER_ITEMS)

    @property
    def water_problems(self) -> list[str]:
        return [label for field, label in WATER_ITEMS if not getattr(self, field)]

    @property
    def guarantees(self) -> list[tuple[str, bool]]:
        """两不愁三保障 and drinking water as (item, met), in the cadres' words and order."""
        return [
            *((label, getattr(self, field)) for field, label in GUARANTEE_ITEMS),
            (HOUSING_LABEL, self.housing_secured),
            (WATER_LABEL, self.water_secured),
        ]

    @property
    def guarantees_unmet(self) -> list[str]:
        """两不愁三保障 and water items that are not met, in the cadres' words (the same fields as
        `guarantees_unmet_q`)."""
        return [label for label, met in self.guarantees if not met]

    @property
    def masked_bank_account(self) -> str:
        return mask_id_number(self.bank_account)


# 两不愁三保障 and drinking water, stated once: the flags that say an item is met, and their labels.
# `Household.guarantees` / `guarantees_unmet` read them on one household, `guarantees_unmet_q` in a query.
GUARANTEE_ITEMS = (
    ("food_secure", "不愁吃"),
    ("clothing_secure", "不愁穿"),
    ("education_secured", "义务教育有保障"),
    ("medical_secured", "基本医疗有保障"),
)
HOUSING_LABEL = "住房安全有保障"  # met when housing_safety is HousingSafety.SAFE
WATER_LABEL = "饮水安全有保障"  # met when every item of WATER_ITEMS is
WATER_ITEMS = (
    ("water_quantity_ok", "水量"),
    ("water_quality_ok", "水质"),
    ("water_convenience_ok", "用水方便程度"),
    ("water_assurance_ok", "供水保证率"),
)


def guarantees_unmet_q(prefix: str = "") -> Q:
    """Households with any 两不愁三保障 or drinking-water item unmet; `prefix` reaches the household
    from a related model (e.g. "household__" from a case)."""
    unmet = ~Q(**{f"{prefix}housing_safety": HousingSafety.SAFE})
    for field, _ in (*GUARANTEE_ITEMS, *WATER_ITEMS):
        unmet |= Q(**{f"{prefix}{field}": False})
    return unmet


class Relationship(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    SON = "son", "子"
    DAUGHTER = "daughter", "女"
    DAUGHTER_IN_LAW = "daughter_in_law", "儿媳"
    SON_IN_LAW = "son_in_law", "女婿"
    GRANDCHILD = "grandchild", "孙子女"
    PARENT = "parent", "父母"
    GRANDPARENT = "grandparent", "祖父母"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


class Health(models.TextChoices):
    HEALTHY = "healthy", "健康"
    CHRONIC = "chronic", "长期慢性病"
    SERIOUS = "serious", "大病"
    DISABLED = "disabled", "残疾"


class DisabilityCategory(models.IntegerChoices):
    # The digit in the disability certificate number (GB/T 26341).
    VISION = 1, "视力残疾"
    HEARING = 2, "听力残疾"
    SPEECH = 3, "言语残疾"
    PHYSICAL = 4, "肢体残疾"
    INTELLECTUAL = 5, "智力残疾"
    MENTAL = 6, "精神残疾"
    MULTIPLE = 7, "多重残疾"


class DisabilityGrade(models.IntegerChoices):
    ONE = 1, "一级"
    TWO = 2, "二级"
    THREE = 3, "三级"
    FOUR = 4, "四级"


class LabourCapacity(models.TextChoices):
    ORDINARY = "ordinary", "普通劳动力"
    SKILLED = "skilled", "技能劳动力"
    WEAK = "weak", "弱劳动力或半劳动力"
    LOST = "lost", "丧失劳动力"
    NONE = "none", "无劳动力"


HAS_LABOUR = {LabourCapacity.ORDINARY, LabourCapacity.SKILLED, LabourCapacity.WEAK}


class Schooling(models.TextChoices):
    NONE = "none", "非在校"
    PRESCHOOL = "preschool", "学龄前"
    COMPULSORY = "compulsory", "义务教育在校"
    HIGH_SCHOOL = "high_school", "高中"
    VOCATIONAL = "vocational", "中职"
    COLLEGE = "college", "大专及以上"
    DROPOUT = "dropout", "辍学"
    HOME_TEACHING = "home_teaching", "送教上门"


class SpecialGroup(models.TextChoices):
    """Special groups to watch (SPEC §2). Each maps to a condition on members or the household."""

    SERIOUS_ILLNESS = "serious_illness", "大病重病"
    CHRONIC_ILLNESS = "chronic_illness", "负担较重的慢性病"
    SEVERE_DISABILITY = "severe_disability", "重度残疾"
    DISABLED_ELDERLY = "disabled_elderly", "失能老年人"
    LEFT_BEHIND = "left_behind", "留守老人妇女儿童"
    SINGLE_PARENT = "single_parent", "单亲家庭"


class MemberQuerySet(ScopedQuerySet):
    division_field = "household__village__code"
    roles_allowed = CASE_READERS


class Member(TimeStampedModel):
    household = models.ForeignKey(Household, verbose_name="所属农户", on_delete=models.CASCADE, related_name="members")
    name = models.CharField("姓名", max_length=32)
    id_number = models.CharField(
        "身份证号", max_length=18, unique=True, validators=[validate_id_number], help_text="18位公民身份号码"
    )
    relationship = models.CharField("与户主关系", max_length=16, choices=Relationship.choices)
    health = models.CharField("健康状况", max_length=16, choices=Health.choices, default=Health.HEALTHY)
    illness = models.CharField("疾病名称", max_length=64, blank=True)
    disability_category = models.PositiveSmallIntegerField(
        "残疾类别", choices=DisabilityCategory.choices, null=True, blank=True
    )
    disability_grade = models.PositiveSmallIntegerField(
        "残疾等级", choices=DisabilityGrade.choices, null=True, blank=True
    )
    disability_certificate = models.CharField("残疾人证号", max_length=22, blank=True)
    labour_capacity = models.CharField(
        "劳动技能", max_length=16, choices=LabourCapacity.choices, default=LabourCapacity.ORDINARY
    )
    schooling = models.CharField("在校生状况", max_length=16, choices=Schooling.choices, default=Schooling.NONE)
    employment_location = models.CharField("务工地点", max_length=64, blank=True)
    employment_months = models.PositiveSmallIntegerField("务工时间（月）", default=0, validators=[MinValueValidator(0)])
    is_dibao = models.BooleanField("享受低保", default=False)
    is_tekun = models.BooleanField("特困供养", default=False)
    has_medical_insurance = models.BooleanField("参加城乡居民医保", default=True)
    is_disabled_elderly = models.BooleanField("失能老年人", default=False)
    is_left_behind = models.BooleanField("留守人员", default=False)

    objects = MemberQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "家庭成员"
        ordering = ["household", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def id_info(self):
        return parse_id_number(self.id_number)

    @property
    def birth_date(self):
        return self.id_info.birth_date

    @property
    def sex(self) -> str:
        return self.id_info.sex

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def has_labour(self) -> bool:
        return self.labour_capacity in HAS_LABOUR

    @property
    def special_groups(self) -> list[str]:
        groups = []
        if self.health == Health.SERIOUS:
            groups.append(SpecialGroup.SERIOUS_ILLNESS.label)
        if self.health == Health.CHRONIC:
            groups.append(SpecialGroup.CHRONIC_ILLNESS.label)
        if self.health == Health.DISABLED and self.disability_grade in (1, 2):
            groups.append(SpecialGroup.SEVERE_DISABILITY.label)
        if self.is_disabled_elderly:
            groups.append(SpecialGroup.DISABLED_ELDERLY.label)
        if self.is_left_behind:
            groups.append(SpecialGroup.LEFT_BEHIND.label)
        return groups


# The fields a cadre records, in the order the forms show them. Services accept exactly these keys;
# forms, serializers, the admin and the seeding COPY columns all use these lists.
HOUSEHOLD_FIELDS = (
    "address",
    "phone",
    "poverty_status",
    "poverty_exit_year",
    "relocated",
    "single_parent",
    "food_secure",
    "clothing_secure",
    "education_secured",
    "medical_secured",
    "housing_safety",
    "water_quantity_ok",
    "water_quality_ok",
    "water_convenience_ok",
    "water_assurance_ok",
    "bank_name",
    "bank_account",
)
MEMBER_FIELDS = (
    "name",
    "id_number",
    "relationship",
    "health",
    "illness",
    "disability_category",
    "disability_grade",
    "disability_certificate",
    "labour_capacity",
    "schooling",
    "employment_location",
    "employment_months",
    "is_dibao",
    "is_tekun",
    "has_medical_insurance",
    "is_disabled_elderly",
    "is_left_behind",
)


# --------------------------------------------------------------------------- income accounting (算账)


class IncomeKind(models.TextChoices):
    WAGE = "wage", "工资性收入"
    BUSINESS = "business", "生产经营性收入"
    BUSINESS_COST = "business_cost", "生产经营支出"
    PROPERTY = "property", "财产性收入"
    # 转移性收入, itemised: a cadre was fined for forgetting 地力补贴 and 生态补偿金 (seeds/002).
    PENSION = "pension", "养老金"
    DIBAO = "dibao", "低保金"
    TEKUN = "tekun", "特困供养金"
    FARMLAND_SUBSIDY = "farmland_subsidy", "耕地地力保护补贴"
    ECO_COMPENSATION = "eco_compensation", "生态补偿金"
    OTHER_TRANSFER = "other_transfer", "其他转移性收入"


TRANSFER_KINDS = (
    IncomeKind.PENSION,
    IncomeKind.DIBAO,
    IncomeKind.TEKUN,
    IncomeKind.FARMLAND_SUBSIDY,
    IncomeKind.ECO_COMPENSATION,
    IncomeKind.OTHER_TRANSFER,
)


class ExpenditureKind(models.TextChoices):
    MEDICAL = "medical", "医疗自付支出"
    EDUCATION = "education", "教育支出"
    DISASTER = "disaster", "灾害损失"
    ACCIDENT = "accident", "意外事故支出"


class AccountItemQuerySet(ScopedQuerySet):
    division_field = "household__village__code"
    roles_allowed = CASE_READERS


class AccountItem(TimeStampedModel):
    household = models.ForeignKey(Household, verbose_name="所属农户", on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField("年度")
    amount = models.DecimalField(
        "金额（元）", max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    note = models.CharField("说明", max_length=128, blank=True)

    objects = AccountItemQuerySet.as_manager()

    class Meta:
        abstract = True


class IncomeItem(AccountItem):
    kind = models.CharField("收入项目", max_length=24, choices=IncomeKind.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "收入明细"
        ordering = ["year", "kind"]
        constraints = [models.UniqueConstraint(fields=["household", "year", "kind"], name="income_item_once_per_year")]
        default_related_name = "income_items"


class Expenditure(AccountItem):
    kind = models.CharField("刚性支出项目", max_length=24, choices=ExpenditureKind.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "刚性支出"
        ordering = ["year", "kind"]
        constraints = [models.UniqueConstraint(fields=["household", "year", "kind"], name="expenditure_once_per_year")]
        default_related_name = "expenditures"


class MonitoringLine(TimeStampedModel):
    """监测范围: the per-person yearly income line, set by the administrator per province and year."""

    province = models.ForeignKey(
        Division,
        verbose_name="省份",
        on_delete=models.PROTECT,
        limit_choices_to={"level": Level.PROVINCE},
        related_name="monitoring_lines",
    )
    year = models.PositiveSmallIntegerField("年度")
    amount = models.DecimalField("监测范围（元/人·年）", max_digits=10, decimal_places=2)
    poverty_line = models.DecimalField(
        "国家扶贫标准（元/人·年）", max_digits=10, decimal_places=2, null=True, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "监测范围（收入标准）"
        ordering = ["-year", "province"]
        constraints = [models.UniqueConstraint(fields=["province", "year"], name="monitoring_line_once_per_year")]

    def __str__(self) -> str:
        return f"{self.province} {self.year}年 {self.amount}元"


# --------------------------------------------------------------------------- personal data access log


class SensitiveAccessQuerySet(ScopedQuerySet):
    division_field = "household__village__code"


class SensitiveAccess(models.Model):
    """完整信息查看记录: a user with households.view_sensitive asked to see a household's full ID numbers
    and bank account (on its page or through the API). Everything else shows them masked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="查看人", on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField("查看时间")
    via = models.CharField("途径", max_length=16)  # 页面 / 接口
    reason = models.CharField("查看事由", max_length=128, blank=True)

    objects = SensitiveAccessQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "完整信息查看记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["household", "at"]), models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.at:%Y-%m-%d %H:%M}"
