"""Monitoring cases (监测对象) and the records of each identification stage (SPEC §3)."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from fpr.models import ScopedQuerySet, TimeStampedModel
from fpr.roles import CASE_READERS
from households.models import Division, Household


class CaseType(models.TextChoices):
    UNSTABLE_LIFTED = "unstable_lifted", "脱贫不稳定户"
    MARGINAL = "marginal", "边缘易致贫户"
    SUDDEN_HARDSHIP = "sudden_hardship", "突发严重困难户"


class RiskColour(models.TextChoices):
    RED = "red", "红色"
    ORANGE = "orange", "橙色"
    YELLOW = "yellow", "黄色"
    BLUE = "blue", "蓝色"


class Channel(models.TextChoices):
    # "五个轮子一起转": the five ways a case is discovered.
    SELF_REPORT = "self_report", "农户自主申报"
    CADRE_SCREENING = "cadre_screening", "基层干部排查"
    DEPARTMENT_WARNING = "department_warning", "部门筛查预警"
    PUBLIC_SUPERVISION = "public_supervision", "社会监督/信访/媒体"
    DATA_ANALYSIS = "data_analysis", "系统数据分析"


class Stage(models.TextChoices):
    # Identification (识别程序)
    APPLICATION = "application", "提交申请"
    VERIFICATION = "verification", "入户核实"
    APPRAISAL = "appraisal", "民主评议"
    NOTICE = "notice", "公示"
    TOWNSHIP_REVIEW = "township_review", "镇街审核"
    COUNTY_APPROVAL = "county_approval", "县级审定"
    MONITORING = "monitoring", "监测中"
    REJECTED = "rejected", "不予纳入"
    # Risk elimination (风险消除程序)
    ELIM_VERIFICATION = "elim_verification", "风险消除·入户核实"
    ELIM_APPRAISAL = "elim_appraisal", "风险消除·民主评议"
    ELIM_NOTICE = "elim_notice", "风险消除·公示"
    ELIM_TOWNSHIP = "elim_township", "风险消除·镇街审核"
    ELIM_COUNTY = "elim_county", "风险消除·县级审定"
    ELIMINATED = "eliminated", "风险消除"


IDENTIFICATION_STAGES = (
    Stage.APPLICATION,
    Stage.VERIFICATION,
    Stage.APPRAISAL,
    Stage.NOTICE,
    Stage.TOWNSHIP_REVIEW,
    Stage.COUNTY_APPROVAL,
)
ELIMINATION_STAGES = (
    Stage.ELIM_VERIFICATION,
    Stage.ELIM_APPRAISAL,
    Stage.ELIM_NOTICE,
    Stage.ELIM_TOWNSHIP,
    Stage.ELIM_COUNTY,
)
VERIFICATION_STAGES = (Stage.VERIFICATION, Stage.ELIM_VERIFICATION)
APPRAISAL_STAGES = (Stage.APPRAISAL, Stage.ELIM_APPRAISAL)
NOTICE_STAGES = (Stage.NOTICE, Stage.ELIM_NOTICE)


class RiskCategory(models.Model):
    """Reference data: 因病, 因残, 因学 … (SPEC §3). Rows come from a data migration."""

    code = models.CharField("代码", max_length=32, primary_key=True)
    name = models.CharField("名称", max_length=32, unique=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "风险类型"
        ordering = ["order"]

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(ScopedQuerySet):
    division_field = "village__code"
    roles_allowed = CASE_READERS

    def open(self):
        return self.filter(is_open=True)


class MonitoringCase(TimeStampedModel):
    """A household-level case from application to monitoring. `stage` is changed only by
    workflow.services.case_transition."""

    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.PROTECT, related_name="cases")
    # Copied from the household at creation: queues and scoping filter on it without a join.
    village = models.ForeignKey(Division, verbose_name="所属村", on_delete=models.PROTECT, related_name="+")
    case_type = models.CharField("监测对象类型", max_length=24, choices=CaseType.choices)
    risk_categories = models.ManyToManyField(RiskCategory, verbose_name="风险类型", related_name="cases")
    colour = models.CharField("风险等级（颜色）", max_length=8, choices=RiskColour.choices, blank=True)
    channel = models.CharField("发现渠道", max_length=24, choices=Channel.choices)
    description = models.TextField("困难情况描述")
    # 承诺授权书: the household's signed commitment and authorisation to query family assets.
    authorization_signed_on = models.DateField("承诺授权书签署日期", null=True, blank=True)
    authorization_scan = models.FileField("承诺授权书扫描件", upload_to="authorizations/%Y/%m/", blank=True)

    stage = models.CharField("当前环节", max_length=24, choices=Stage.choices, default=Stage.APPLICATION)
    stage_entered_at = models.DateTimeField("进入当前环节时间")
    # Incremented by every transition: a stage record counts only for the round it was made in, so a
    # case sent back to verification needs a new visit, not the old one.
    stage_round = models.PositiveIntegerField("环节轮次", default=0)
    last_transition = models.CharField("最近操作", max_length=48, blank=True)
    is_open = models.BooleanField("在办", default=True)
    identified_on = models.DateField("识别纳入日期", null=True, blank=True)
    eliminated_on = models.DateField("风险消除日期", null=True, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    close_reason = models.TextField("不予纳入原因", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )

    objects = CaseQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[risk_categories])

    class Meta:
        verbose_name = verbose_name_plural = "监测对象"
        ordering = ["-created_at"]
        constraints = [
            # A household has at most one case in process or under monitoring at a time.
            models.UniqueConstraint(fields=["household"], condition=Q(is_open=True), name="one_open_case_per_household")
        ]
        indexes = [models.Index(fields=["stage", "village", "stage_entered_at"])]

    def __str__(self) -> str:
        return f"{self.household.number} {self.get_case_type_display()}"

    @property
    def returned(self) -> bool:
        return self.last_transition.endswith("_return")


class Verification(TimeStampedModel):
    """入户核实: at least two verifiers visit and fill the information collection form (信息采集表)."""

    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="verifications"
    )
    round = models.PositiveIntegerField("环节轮次")
    visit_date = models.DateField("入户日期")
    findings = models.TextField("核实情况")
    risk_points = models.TextField("风险点")
    # Snapshot of the household's accounting and 两不愁三保障 when the form was filled.
    collected = models.JSONField("信息采集表", default=dict)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "入户核实记录"
        ordering = ["-visit_date", "-id"]


class Verifier(models.Model):
    verification = models.ForeignKey(Verification, on_delete=models.CASCADE, related_name="verifiers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="系统用户", null=True, blank=True, on_delete=models.PROTECT
    )
    name = models.CharField("姓名", max_length=32)
    unit = models.CharField("单位/职务", max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "核实人员"

    def __str__(self) -> str:
        return self.name


class Appraisal(TimeStampedModel):
    """民主评议: participants by role, votes, and signed minutes; the result follows the quorum rule."""

    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="appraisals"
    )
    round = models.PositiveIntegerField("环节轮次")
    meeting_date = models.DateField("评议日期")
    participants = models.JSONField("参会人员", default=list)  # [{"name": "...", "role": "村两委"}]
    votes_for = models.PositiveSmallIntegerField("同意票")
    votes_against = models.PositiveSmallIntegerField("反对票")
    votes_abstain = models.PositiveSmallIntegerField("弃权票")
    passed = models.BooleanField("评议通过")
    minutes_scan = models.FileField("签字会议记录", upload_to="appraisals/%Y/%m/")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "民主评议记录"
        ordering = ["-meeting_date", "-id"]


NOTICE_DAYS = 7


class Notice(TimeStampedModel):
    """公示: seven full days; the case may go to the township from day 7 after the start."""

    case = models.ForeignKey(MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="notices")
    starts_on = models.DateField("公示开始日期")
    place = models.CharField("公示地点", max_length=128)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "公示记录"
        ordering = ["-starts_on", "-id"]

    @property
    def ends_on(self) -> dt.date:
        """Last day of the notice."""
        return self.starts_on + dt.timedelta(days=NOTICE_DAYS - 1)

    @property
    def may_advance_on(self) -> dt.date:
        return self.starts_on + dt.timedelta(days=NOTICE_DAYS)


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    DISMISSED = "dismissed", "经核查不属实"
    SUBSTANTIATED = "substantiated", "经核查属实"


class Objection(TimeStampedModel):
    """异议 lodged during a notice. Pending blocks the case; substantiated sends it back to verification."""

    notice = models.ForeignKey(Notice, verbose_name="公示", on_delete=models.CASCADE, related_name="objections")
    lodged_on = models.DateField("提出日期")
    lodged_by = models.CharField("异议人", max_length=64)
    content = models.TextField("异议内容")
    status = models.CharField(
        "处理结果", max_length=16, choices=ObjectionStatus.choices, default=ObjectionStatus.PENDING
    )
    resolution = models.TextField("核查情况", blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "公示异议"
        ordering = ["-lodged_on", "-id"]


class Classification(TimeStampedModel):
    """The helper's suggestion and the cadre's choice; `overridden` when they differ (with the reason)."""

    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="classifications"
    )
    suggested = models.JSONField("系统建议", default=dict)
    chosen = models.JSONField("确认结果", default=dict)
    overridden = models.BooleanField("未采纳建议", default=False)
    reason = models.TextField("调整理由", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "风险研判记录"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case} {'调整' if self.overridden else '采纳'}"
