"""Monitoring cases (监测对象) and the records of each identification stage (SPEC §3)."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from fpr.models import ScopedQuerySet, TimeStampedModel
from fpr.roles import CASE_READERS, Department, Role
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
    # Not a way of discovery: a case brought in from the national system (workflow.onboarding.cases).
    IMPORTED = "imported", "原系统导入"


# The channels an application may name (原系统导入 is set by the import only).
APPLICATION_CHANNELS = [(code, label) for code, label in Channel.choices if code != Channel.IMPORTED]


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
    # Identification again, last so that no index of the stages above moves: returned by the township
    # for missing materials, the village supplies them and the case goes straight back to township
    # review, without a new verification, appraisal or notice.
    SUPPLEMENT = "supplement", "补充材料"


IDENTIFICATION_STAGES = (
    Stage.APPLICATION,
    Stage.VERIFICATION,
    Stage.APPRAISAL,
    Stage.NOTICE,
    Stage.TOWNSHIP_REVIEW,
    Stage.SUPPLEMENT,
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
# Followed (纳入监测, 跟踪帮扶): under monitoring, in the elimination procedure, or eliminated and still
# followed. A plan is kept and the pairing cadre visits monthly in these stages.
FOLLOWED_STAGES = (Stage.MONITORING, *ELIMINATION_STAGES, Stage.ELIMINATED)


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


# 入户核实组不少于2人: a verification needs this many different people (a system user and the same person
# typed by name count once: monitoring.cases.services.verifier_team).
MIN_VERIFIERS = 2


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


# 公示7天: a notice runs this many full days; every message, form and page states it from here.
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


# --------------------------------------------------------------------------- departmental comparison (SPEC §5)


class UploadStatus(models.TextChoices):
    PREVIEW = "preview", "待确认"  # uploaded from a page or the API: shown as read, compared once confirmed
    QUEUED = "queued", "等待比对"
    DONE = "done", "比对完成"
    FAILED = "failed", "比对失败"


class UploadQuerySet(ScopedQuerySet):
    division_field = "division__code"

    def for_user(self, user):
        """Administrators and reviewers see the uploads of their subtree; a department officer sees only
        their own department's uploads there."""
        qs = super().for_user(user)
        if user.is_authenticated and not user.is_superuser and not user.has_role(*CASE_READERS):
            qs = qs.filter(department=user.department or "-") if user.has_role(Role.DEPARTMENT_OFFICER) else qs.none()
        return qs


class DepartmentUpload(TimeStampedModel):
    """One department list for one period (YYYY-MM). Matched only against the registry of `division`'s
    subtree (the uploader's division). Progress while running is in the cache (monitoring.screening.comparison)."""

    department = models.CharField("部门", max_length=24, choices=Department.choices)
    period = models.CharField("数据期间", max_length=7, help_text="YYYY-MM")
    division = models.ForeignKey(Division, verbose_name="比对范围", on_delete=models.PROTECT, related_name="+")
    file = models.FileField("文件", upload_to="department_uploads/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=255)
    size = models.PositiveBigIntegerField("文件大小（字节）")
    content_hash = models.CharField("内容摘要（SHA-256）", max_length=64)
    file_format = models.CharField("格式", max_length=8)  # csv / xlsx
    encoding = models.CharField("编码", max_length=16, blank=True)  # chosen by the user, or "" (detect)
    detected_encoding = models.CharField("实际编码", max_length=16, blank=True)
    columns = models.JSONField("文件列", default=list)
    # What table recognition found (monitoring.screening.tables): header_row, header_rows, mapping, unmapped,
    # id_position, and the rows skipped, not rejected: title_rows, blank_rows, footer_rows.
    table_layout = models.JSONField("表格结构", default=dict, blank=True)
    status = models.CharField("状态", max_length=16, choices=UploadStatus.choices, default=UploadStatus.QUEUED)
    error = models.TextField("失败原因", blank=True)
    rows_total = models.PositiveIntegerField("数据行数", default=0)
    rows_matched = models.PositiveIntegerField("匹配行数", default=0)
    rows_rejected = models.PositiveIntegerField("拒收行数", default=0)  # invalid rows, all of them
    # A person not in the registry of the area is not an error (a county 医保 list is mostly such people):
    # counted, and only the first few kept as examples.
    rows_unmatched = models.PositiveIntegerField("未登记人员行数", default=0)
    rejected_kept = models.PositiveIntegerField("逐行保存的拒收行", default=0)  # at most FPR_MAX_REJECTED_ROWS
    unmatched_kept = models.PositiveIntegerField("保存的未登记人员示例", default=0)
    warnings_created = models.PositiveIntegerField("新增预警", default=0)
    warnings_existing = models.PositiveIntegerField("已有相同预警", default=0)
    started_at = models.DateTimeField("开始比对", null=True, blank=True)
    finished_at = models.DateTimeField("完成比对", null=True, blank=True)
    rejected_report = models.FileField("拒收行报告", upload_to="rejected_reports/%Y/%m/", blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )

    objects = UploadQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "部门数据上传"
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same file for the same department and area is recognised, not processed twice.
            models.UniqueConstraint(fields=["department", "division", "content_hash"], name="upload_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_department_display()} {self.period} {self.original_name}"

    @property
    def skipped_summary(self) -> str:
        """ "已跳过标题行 1 行、合计/说明行 3 行、空行 2 行" — rows that were not data, so not rejected."""
        layout = self.table_layout or {}
        parts = [
            f"{label} {layout[key]} 行"
            for key, label in (("title_rows", "标题行"), ("footer_rows", "合计/说明行"), ("blank_rows", "空行"))
            if layout.get(key)
        ]
        return "已跳过" + "、".join(parts) if parts else ""

    @property
    def rows_kept(self) -> int:
        """Rows of the rejected-rows report: the invalid rows kept and the unmatched examples."""
        return self.rejected_kept + self.unmatched_kept

    @property
    def rejected_not_kept(self) -> int:
        """Invalid rows counted but not stored one by one (beyond FPR_MAX_REJECTED_ROWS)."""
        return max(self.rows_rejected - self.rejected_kept, 0)


class ColumnMapping(TimeStampedModel):
    """How a department's files of an area name fpr's columns (文件列 → 比对列), saved when an uploader
    maps a file's columns on the preview and applied to the next file of that department there or below
    (the nearest area's mapping wins). `mapping` is column key → the file's column name as read (two
    header rows joined: "费用情况/个人自付（元）")."""

    department = models.CharField("部门", max_length=24, choices=Department.choices)
    division = models.ForeignKey(Division, verbose_name="适用区划", on_delete=models.PROTECT, related_name="+")
    mapping = models.JSONField("列对应关系", default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="最后修改人", on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "部门数据列对应"
        constraints = [models.UniqueConstraint(fields=["department", "division"], name="one_mapping_per_area")]

    def __str__(self) -> str:
        return f"{self.get_department_display()} {self.division_id}"


class RejectedRow(models.Model):
    """A row that raised no warning: invalid (at most FPR_MAX_REJECTED_ROWS of an upload are kept), or
    one of the first few examples of a person nobody registered in the upload's area has (reason
    monitoring.screening.comparison.NOT_REGISTERED)."""

    # No database constraint: a million-row list can reject ~1,000,000 rows of one upload, and PostgreSQL
    # would check each row's key at commit (seconds for one parent row). Only the comparison run
    # inserts these, for the upload it holds locked; deleting an upload deletes them (Django cascade).
    upload = models.ForeignKey(
        DepartmentUpload, on_delete=models.CASCADE, related_name="rejected_rows", db_constraint=False
    )
    row_number = models.PositiveIntegerField("行号")
    column_label = models.CharField("问题列", max_length=128, blank=True)
    reason = models.CharField("原因", max_length=255)
    id_number = models.CharField("身份证号（原文）", max_length=64, blank=True)
    source_values = models.TextField("原始数据")  # JSON list, in the order of upload.columns

    class Meta:
        verbose_name = verbose_name_plural = "拒收行"
        ordering = ["upload", "row_number"]
        indexes = [models.Index(fields=["upload", "row_number"])]

    def __str__(self) -> str:
        return f"第{self.row_number}行：{self.reason}"


class WarningStatus(models.TextChoices):
    OPEN = "open", "待核实"
    INCLUDED = "included", "已纳入（启动识别）"
    EXCLUDED = "excluded", "不纳入"
    ATTACHED = "attached", "已并入在办案件"


class WarningQuerySet(ScopedQuerySet):
    division_field = "village__code"
    roles_allowed = CASE_READERS

    def open(self):
        return self.filter(status=WarningStatus.OPEN)


# A department warning is to be verified (the household contacted) within this many hours.
WARNING_DUE_HOURS = 48


class RiskWarning(models.Model):
    """预警线索: one person in one department list for one period. Created in bulk by the comparison run
    (never twice for the same person, kind and period); the village must verify it within 48 hours."""

    upload = models.ForeignKey(DepartmentUpload, verbose_name="来源批次", on_delete=models.PROTECT, related_name="+")
    department = models.CharField("部门", max_length=24, choices=Department.choices)
    kind = models.CharField("预警类型", max_length=32)  # monitoring.screening.departments.Source.kind
    grade = models.CharField("预警等级", max_length=8, choices=RiskColour.choices)
    period = models.CharField("数据期间", max_length=7)
    member = models.ForeignKey("households.Member", verbose_name="人员", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, verbose_name="农户", on_delete=models.PROTECT, related_name="warnings")
    village = models.ForeignKey(Division, verbose_name="所属村", on_delete=models.PROTECT, related_name="+")
    row_number = models.PositiveIntegerField("来源行号")
    source_values = models.TextField("来源数据")  # JSON list, in the order of upload.columns
    risk_category = models.ForeignKey(
        RiskCategory, verbose_name="风险类型", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    asset_kind = models.CharField("资产类型", max_length=16, blank=True)
    raised_at = models.DateTimeField("推送时间")
    due_at = models.DateTimeField("核实时限")
    status = models.CharField("核实结果", max_length=16, choices=WarningStatus.choices, default=WarningStatus.OPEN)
    # The case it opened (纳入) or was attached to; set at raise time when the household already had one.
    case = models.ForeignKey(
        MonitoringCase,
        verbose_name="关联案件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="warnings",
    )
    reason = models.TextField("核实说明", blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核实人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField("核实时间", null=True, blank=True)

    objects = WarningQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "预警线索"
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "period"], name="one_warning_per_person_kind_period")
        ]
        indexes = [
            models.Index(fields=["village", "status", "due_at"]),
            models.Index(fields=["household", "raised_at"]),
            models.Index(fields=["upload"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} {self.period} {self.household_id}"

    @property
    def kind_label(self) -> str:
        from monitoring.screening.departments import KIND_LABELS

        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_overdue(self) -> bool:
        from fpr import clock

        return self.status == WarningStatus.OPEN and clock.now() > self.due_at

    @property
    def last_contact_label(self) -> str:
        """The latest contact attempt's outcome, as annotated by warning_list ("" when none)."""
        outcome = getattr(self, "last_contact_outcome", None)
        return str(ContactOutcome(outcome).label) if outcome else ""


class ContactOutcome(models.TextChoices):
    PHONED = "phoned", "已电话联系"
    VISITED = "visited", "已上门"
    UNREACHED = "unreached", "未联系上"


# The outcomes in which the household was reached (the 48-hour duty: 与农户取得联系).
REACHED = (ContactOutcome.PHONED, ContactOutcome.VISITED)


class WarningContact(models.Model):
    """One attempt to contact the household of a warning (联系记录): the 48-hour duty is to reach it, by
    phone or at home. Attempts are only added (never edited from a page); their history is kept."""

    warning = models.ForeignKey(RiskWarning, verbose_name="预警线索", on_delete=models.CASCADE, related_name="contacts")
    outcome = models.CharField("联系情况", max_length=16, choices=ContactOutcome.choices)
    contacted_at = models.DateTimeField("联系时间")
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="联系人", on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("情况说明", blank=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "预警联系记录"
        ordering = ["-contacted_at", "-id"]
        indexes = [models.Index(fields=["warning", "contacted_at"])]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.contacted_at:%Y-%m-%d %H:%M}"

    @property
    def reached(self) -> bool:
        return self.outcome in REACHED


# --------------------------------------------------------------------------- scheduled jobs (SPEC §6)


class JobStatus(models.TextChoices):
    RUNNING = "running", "运行中"
    SUCCEEDED = "succeeded", "成功"
    FAILED = "failed", "失败"
    SKIPPED = "skipped", "跳过（已有同一任务在运行）"
    ABANDONED = "abandoned", "中断"


class JobRun(models.Model):
    """A run of a scheduled job. At most one run of a job is RUNNING (the constraint is the lock)."""

    job = models.CharField("任务", max_length=32)
    status = models.CharField("状态", max_length=16, choices=JobStatus.choices, default=JobStatus.RUNNING)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    counts = models.JSONField("统计", default=dict, blank=True)
    errors = models.TextField("错误", blank=True)
    triggered_by = models.CharField("触发方式", max_length=64, blank=True)  # beat / 手动：username / command

    class Meta:
        verbose_name = verbose_name_plural = "定时任务运行记录"
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["job"], condition=Q(status="running"), name="one_running_run_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M}"


class TodoKind(models.TextChoices):
    ELIMINATION_PROPOSAL = "elimination_proposal", "符合风险消除标准，可启动风险消除"
    INTENSIFY = "intensify", f"帮扶超过{settings.FPR_INTENSIFY_AFTER_MONTHS}个月未消除，需加大帮扶力度"
    REOPEN = "reopen", "已消除风险的农户出现新预警，需研判是否返贫致贫"
    WARNING_OVERDUE = "warning_overdue", f"预警线索超过{WARNING_DUE_HOURS}小时未核实"
    NOTICE_OVERDUE = "notice_overdue", "公示期满未推进"
    ELIMINATED_WITHOUT_MEASURES = "eliminated_without_measures", "风险消除但无帮扶措施"
    ELIMINATED_GUARANTEES_UNMET = "eliminated_guarantees_unmet", "“三保障”未达标但已消除风险"
    INCOME_MISSING = "income_missing", "缺少收入信息"
    INVALID_ID = "invalid_id", "身份证号无效"
    RISK_WITHOUT_MEASURE = "risk_without_measure", "风险类型无对应帮扶措施"


class TodoQuerySet(ScopedQuerySet):
    division_field = "division__code"
    roles_allowed = CASE_READERS

    def open(self):
        return self.filter(resolved_at__isnull=True)


class TodoItem(models.Model):
    """An item a job put on a division's to-do list. Jobs upsert by (kind, key) and resolve the items that
    no longer apply, so running a job twice changes nothing."""

    kind = models.CharField("类型", max_length=32, choices=TodoKind.choices)
    key = models.CharField("对象", max_length=64)  # "case:12", "warning:7", "member:3", …
    division = models.ForeignKey(Division, verbose_name="所属区划", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, verbose_name="农户", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    case = models.ForeignKey(
        MonitoringCase, verbose_name="监测对象", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    detail = models.TextField("说明", blank=True)
    opened_at = models.DateTimeField("发现时间")
    resolved_at = models.DateTimeField("解决时间", null=True, blank=True)
    job_run = models.ForeignKey(JobRun, verbose_name="最近确认", on_delete=models.SET_NULL, null=True, related_name="+")

    objects = TodoQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "待办事项"
        ordering = ["-opened_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="one_todo_per_kind_and_object")]
        indexes = [models.Index(fields=["division", "resolved_at", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"


class RegionalAlertQuerySet(ScopedQuerySet):
    division_field = "division__code"
    roles_allowed = CASE_READERS


class RegionalAlert(models.Model):
    """规模性返贫风险: a division's new warnings in a period well above its usual level."""

    division = models.ForeignKey(Division, verbose_name="区划", on_delete=models.PROTECT, related_name="+")
    period = models.CharField("期间", max_length=7)
    kind = models.CharField("预警类型", max_length=32, blank=True)  # "" = all kinds together
    count = models.PositiveIntegerField("本期新增预警")
    baseline = models.FloatField("往期平均")
    multiple = models.FloatField("倍数")
    raised_at = models.DateTimeField("发出时间")
    job_run = models.ForeignKey(JobRun, verbose_name="任务", on_delete=models.SET_NULL, null=True, related_name="+")

    objects = RegionalAlertQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "规模性返贫风险预警"
        ordering = ["-period", "-count"]
        constraints = [models.UniqueConstraint(fields=["division", "period", "kind"], name="one_alert_per_period")]

    def __str__(self) -> str:
        return f"{self.division} {self.period}"
