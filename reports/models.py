"""Exports (导出): every file the system writes for a user is one row here — the export log that
administrators read (who, what, which filters, when) and, for large exports, the background job with
its progress and its file."""

from django.conf import settings
from django.db import models

from fpr.models import ScopedQuerySet
from households.models import Division


class ExportKind(models.TextChoices):
    LEDGER = "ledger", "监测对象台账"
    STATISTICS = "statistics", "统计表"
    COLLECTION_FORM = "collection_form", "信息采集表"
    APPROVAL_FORM = "approval_form", "识别审批表"
    MEASURES_FORM = "measures_form", "帮扶措施落实情况表"
    ELIMINATION_FORM = "elimination_form", "风险消除评估表"
    QUARTERLY_RISK = "quarterly_risk", "季度风险评估表"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class ExportQuerySet(ScopedQuerySet):
    """Administrators read the log of their subtree; everyone else sees only their own exports."""

    division_field = "division__code"

    def for_user(self, user):
        from fpr.roles import Role

        qs = super().for_user(user)
        if user.is_authenticated and not (user.is_superuser or user.has_role(Role.ADMINISTRATOR)):
            qs = qs.filter(user=user)
        return qs


class Export(models.Model):
    kind = models.CharField("导出内容", max_length=24, choices=ExportKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导出人", on_delete=models.PROTECT, related_name="+"
    )
    # The area the export covers (within the user's jurisdiction).
    division = models.ForeignKey(Division, verbose_name="范围", on_delete=models.PROTECT, related_name="+")
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    # True when the file holds full ID numbers / bank accounts (the user had households.view_sensitive).
    unmasked = models.BooleanField("含完整身份证号", default=False)
    status = models.CharField("状态", max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_written = models.PositiveIntegerField("已写行数", default=0)
    file = models.FileField("文件", upload_to="exports/%Y/%m/", blank=True)
    # Files are deleted after FPR_EXPORT_KEEP_DAYS (reports.exports.runner.export_files_prune); the log row stays.
    file_removed_at = models.DateTimeField("文件删除时间", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("导出时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "导出记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"]), models.Index(fields=["division", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
