"""Assistance (帮扶): the "一户一策" plan of each monitoring object, its measures, and follow-up visits
(SPEC §4, seeds/004 §四)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from fpr.models import ScopedQuerySet, TimeStampedModel
from fpr.roles import CASE_READERS
from monitoring.models import MonitoringCase, RiskCategory


class MeasureCategory(models.Model):
    """Reference data, editable by the administrator: 产业帮扶, 就业帮扶, 综合保障 …"""

    code = models.CharField("代码", max_length=32, primary_key=True)
    name = models.CharField("名称", max_length=32, unique=True)
    # 兜底 (social assistance) measures: a household with labour given only these is "一兜了之".
    is_safety_net = models.BooleanField("兜底保障类", default=False)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "帮扶措施类别"
        ordering = ["order"]

    def __str__(self) -> str:
        return self.name


class PlanQuerySet(ScopedQuerySet):
    division_field = "case__village__code"
    roles_allowed = CASE_READERS


class AssistancePlan(TimeStampedModel):
    """一户一策. Each adjustment bumps `version`; earlier versions stay in the history."""

    case = models.OneToOneField(MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="plan")
    situation = models.TextField("家庭基本情况")
    risk_analysis = models.TextField("风险分析")
    needs = models.TextField("农户需求")
    pairing_cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="结对帮扶干部",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="paired_plans",
    )
    pairing_cadre_name = models.CharField("结对帮扶干部（非系统用户）", max_length=32, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    adjustment_reason = models.CharField("调整原因", max_length=200, blank=True)

    objects = PlanQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "帮扶计划（一户一策）"

    def __str__(self) -> str:
        return f"{self.case} 帮扶计划 v{self.version}"

    @property
    def cadre_display(self) -> str:
        if self.pairing_cadre_id:
            return str(self.pairing_cadre)
        return self.pairing_cadre_name


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", "计划"
    ACTIVE = "active", "实施中"
    DONE = "done", "已完成"
    STOPPED = "stopped", "已终止"


class Effect(models.TextChoices):
    CLEAR = "clear", "明显"
    FAIR = "fair", "一般"
    UNCLEAR = "unclear", "不明显"


class MeasureQuerySet(ScopedQuerySet):
    division_field = "plan__case__village__code"
    roles_allowed = CASE_READERS


class Measure(TimeStampedModel):
    plan = models.ForeignKey(AssistancePlan, verbose_name="帮扶计划", on_delete=models.CASCADE, related_name="measures")
    category = models.ForeignKey(MeasureCategory, verbose_name="措施类别", on_delete=models.PROTECT)
    risk_category = models.ForeignKey(RiskCategory, verbose_name="针对风险", on_delete=models.PROTECT)
    description = models.TextField("措施内容")
    amount = models.DecimalField(
        "金额（元）",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED)
    effect = models.CharField("帮扶成效", max_length=16, choices=Effect.choices, blank=True)
    effect_note = models.CharField("成效说明", max_length=200, blank=True)

    objects = MeasureQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "帮扶措施"
        ordering = ["starts_on", "id"]

    def __str__(self) -> str:
        return f"{self.category}：{self.description[:20]}"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    FAIR = "fair", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class VisitQuerySet(ScopedQuerySet):
    division_field = "case__village__code"
    roles_allowed = CASE_READERS


class Visit(TimeStampedModel):
    """走访记录: the pairing cadre's monthly follow-up visit."""

    case = models.ForeignKey(MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField("走访日期")
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="走访人", on_delete=models.PROTECT, related_name="+"
    )
    findings = models.TextField("走访情况")
    income_change = models.CharField("收入变化情况", max_length=200, blank=True)
    satisfaction = models.CharField("群众满意度", max_length=16, choices=Satisfaction.choices, blank=True)

    objects = VisitQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["visited_on", "case"])]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.visitor}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField("照片", upload_to="visits/%Y/%m/")

    class Meta:
        verbose_name = verbose_name_plural = "走访照片"

    def __str__(self) -> str:
        return self.file.name
