"""Transition events (the case timeline) and bulk jobs."""

from django.conf import settings
from django.db import models

from fpr.models import ScopedQuerySet
from fpr.roles import CASE_READERS, Role
from monitoring.models import MonitoringCase


class EventQuerySet(ScopedQuerySet):
    division_field = "case__village__code"
    roles_allowed = CASE_READERS


class TransitionEvent(models.Model):
    """One fired transition: who, when, from, to, opinion and attachments. Written only by
    workflow.services.case_transition, never edited."""

    case = models.ForeignKey(MonitoringCase, verbose_name="监测对象", on_delete=models.CASCADE, related_name="events")
    workflow = models.CharField("流程", max_length=32)
    transition = models.CharField("操作", max_length=48)
    label = models.CharField("操作名称", max_length=64)
    from_stage = models.CharField("原环节", max_length=24)
    to_stage = models.CharField("新环节", max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    actor_division = models.CharField("操作人单位", max_length=64, blank=True)
    at = models.DateTimeField("操作时间")
    opinion = models.TextField("意见", blank=True)
    data = models.JSONField("其他信息", default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "流程记录"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self) -> str:
        return f"{self.label}（{self.actor}）"


class EventAttachment(models.Model):
    event = models.ForeignKey(TransitionEvent, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("附件", upload_to="events/%Y/%m/")
    name = models.CharField("文件名", max_length=128)

    class Meta:
        verbose_name = verbose_name_plural = "流程附件"

    def __str__(self) -> str:
        return self.name


class BulkJobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "处理中"
    DONE = "done", "已完成"
    FAILED = "failed", "出错"


class BulkJob(models.Model):
    """A bulk action over many cases, run in the background; progress is visible while it runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    transition = models.CharField("操作", max_length=48)
    inputs = models.JSONField("填写内容", default=dict)
    case_ids = models.JSONField("案件", default=list)
    total = models.PositiveIntegerField("总数", default=0)
    processed = models.PositiveIntegerField("已处理", default=0)
    succeeded = models.PositiveIntegerField("成功", default=0)
    failed = models.PositiveIntegerField("未办理", default=0)  # the rows of BulkJobFailure, counted as they go in
    status = models.CharField("状态", max_length=16, choices=BulkJobStatus.choices, default=BulkJobStatus.QUEUED)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量操作"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.transition} × {self.total}"


class BulkJobFailure(models.Model):
    """One case a bulk job could not act on, and why. A row per failure, inserted with each progress
    write, so a progress write costs the same whatever the number of failures before it (a list
    rewritten whole every 50 cases made 20,000 cases write 88 MB of WAL)."""

    job = models.ForeignKey(BulkJob, verbose_name="批量操作", on_delete=models.CASCADE, related_name="failure_rows")
    position = models.PositiveIntegerField("序号")  # the case's place in the job's list: the order shown
    case = models.BigIntegerField("案件")  # the id asked for: it may not exist or be outside the jurisdiction
    household = models.CharField("户编号", max_length=20, blank=True)
    reasons = models.JSONField("原因", default=list)

    class Meta:
        verbose_name = verbose_name_plural = "批量操作未办理明细"
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="bulk_failure_once_per_position")]

    def __str__(self) -> str:
        return f"{self.household or self.case}：{'；'.join(self.reasons)}"


class ImportKind(models.TextChoices):
    DIVISIONS = "divisions", "区划代码"
    USERS = "users", "干部账号"
    REGISTRY = "registry", "农户和家庭成员"
    CASES = "cases", "监测对象（原系统）"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", "检查中"
    CHECKED = "checked", "待确认导入"
    REFUSED = "refused", "检查未通过"
    RUNNING = "running", "导入中"
    DONE = "done", "导入完成"
    FAILED = "failed", "导入失败"


class ImportQuerySet(ScopedQuerySet):
    """An administrator sees the imports made in their subtree; only administrators see any."""

    division_field = "division__code"
    roles_allowed = frozenset({Role.ADMINISTRATOR})


class ImportJob(models.Model):
    """One file a county brings in (workflow.onboarding, #15): checked in full first (the dry run's report
    is kept), imported only when the administrator confirms, in the background, with its result kept."""

    kind = models.CharField("导入内容", max_length=16, choices=ImportKind.choices)
    file = models.FileField("文件", upload_to="imports/%Y/%m/")
    file_name = models.CharField("文件名", max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        "households.Division", verbose_name="导入人所属区划", on_delete=models.PROTECT, null=True, related_name="+"
    )
    status = models.CharField("状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.CHECKING)
    check_report = models.JSONField("检查结果", default=dict, blank=True)
    result = models.JSONField("导入结果", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    # 干部账号: the initial passwords, one printable XLSX per division in a ZIP, downloadable once by the
    # importer (then deleted); never served by URL, never shown again.
    passwords = models.FileField("初始密码清单", upload_to="private/imports/", blank=True)
    passwords_taken_at = models.DateTimeField("初始密码清单下载时间", null=True, blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    started_at = models.DateTimeField("开始导入时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = ImportQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "数据导入"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def done(self) -> bool:
        return self.status not in (ImportStatus.CHECKING, ImportStatus.RUNNING)
