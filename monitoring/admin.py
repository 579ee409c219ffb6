"""Django admin for monitoring cases and their stage records: read-mostly.

No door but workflow.services.case_transition changes a case's stage, so the stage and everything a
transition writes (round, open flag, identification and closing dates, last transition) are read-only
here. The application's own fields are saved through `case_update_application`, with the rules the
case page applies (village cadres of the village, in the application stage). Visits, appraisals,
notices and objections are recorded on the case page and only shown here.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from simple_history.admin import SimpleHistoryAdmin

from households.admin import ServiceAdminMixin
from monitoring.cases import services
from monitoring.jobs import runner
from monitoring.jobs.views import job_start
from monitoring.models import (
    Appraisal,
    DepartmentUpload,
    JobRun,
    MonitoringCase,
    Notice,
    Objection,
    RegionalAlert,
    RejectedRow,
    RiskCategory,
    RiskWarning,
    TodoItem,
    Verification,
    Verifier,
)

APPLICATION_FIELDS = ["case_type", "risk_categories", "colour", "channel", "description", "authorization_signed_on"]
# Written by the workflow (case_transition and its effects) or at creation; never typed in.
WORKFLOW_FIELDS = [
    "stage",
    "stage_entered_at",
    "stage_round",
    "last_transition",
    "is_open",
    "identified_on",
    "closed_on",
    "close_reason",
]


@admin.register(RiskCategory)
class RiskCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order"]
    list_editable = ["name", "order"]
    ordering = ["order"]


@admin.register(MonitoringCase)
class MonitoringCaseAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ["household", "village", "case_type", "stage", "colour", "channel", "is_open", "identified_on"]
    list_filter = ["stage", "case_type", "is_open", "channel", "colour", "risk_categories"]
    search_fields = ["household__number"]
    list_select_related = ["household", "village"]
    fieldsets = [
        (None, {"fields": ["household", "village", "created_by", "created_at", "updated_at"]}),
        ("申请信息", {"fields": [*APPLICATION_FIELDS, "authorization_scan"]}),
        ("办理环节（只能通过流程办理改变）", {"fields": WORKFLOW_FIELDS}),
    ]
    readonly_fields = ["household", "village", "created_by", "created_at", "updated_at", "authorization_scan"]
    readonly_fields += WORKFLOW_FIELDS
    actions = None

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "risk_categories":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def run_service(self, form):
        data = {name: form.cleaned_data[name] for name in APPLICATION_FIELDS if name in form.cleaned_data}
        if "risk_categories" in data:
            data["risk_categories"] = [category.code for category in data["risk_categories"]]
        return services.case_update_application(user=form.request.user, case=form.instance, **data)

    def save_related(self, request, form, formsets, change):
        # The service already set the risk categories; form.save_m2m() would write them past it.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_add_permission(self, request):
        return False  # applications are made from the household's page, with the signed 承诺授权书

    def has_delete_permission(self, request, obj=None):
        return False  # a case's record is kept; a wrong one is closed by the workflow (不予纳入)


class RecordAdmin(SimpleHistoryAdmin):
    """Stage records are made on the case page through the services; the admin only looks."""

    case_path = "case"
    list_select_related = True

    def get_queryset(self, request):
        cases = MonitoringCase.objects.for_user(request.user)
        return super().get_queryset(request).filter(**{f"{self.case_path}__in": cases})

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VerifierInline(admin.TabularInline):
    model = Verifier
    fields = ["name", "unit", "user"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Verification)
class VerificationAdmin(RecordAdmin):
    list_display = ["case", "round", "visit_date", "recorded_by", "created_at"]
    list_filter = ["visit_date"]
    search_fields = ["case__household__number"]
    inlines = [VerifierInline]


@admin.register(Appraisal)
class AppraisalAdmin(RecordAdmin):
    list_display = ["case", "round", "meeting_date", "votes_for", "votes_against", "votes_abstain", "passed"]
    list_filter = ["passed", "meeting_date"]
    search_fields = ["case__household__number"]


@admin.register(Notice)
class NoticeAdmin(RecordAdmin):
    list_display = ["case", "starts_on", "ends_on", "place", "recorded_by"]
    list_filter = ["starts_on"]
    search_fields = ["case__household__number"]

    @admin.display(description="公示截止日期")
    def ends_on(self, obj: Notice):
        return obj.ends_on


@admin.register(Objection)
class ObjectionAdmin(RecordAdmin):
    case_path = "notice__case"
    list_display = ["notice", "lodged_on", "lodged_by", "status", "resolved_by", "resolved_at"]
    list_filter = ["status", "lodged_on"]
    search_fields = ["notice__case__household__number", "lodged_by"]


# --------------------------------------------------------------------------- departmental comparison and jobs
# Everything below is written by the comparison and the scheduled jobs: the admin only looks, scoped to
# the user's subtree where the rows belong to a division. The jobs themselves are run from the "立即运行"
# page of the job records.


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedReadOnlyAdmin(ReadOnlyAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)


@admin.register(DepartmentUpload)
class DepartmentUploadAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "original_name",
        "department",
        "period",
        "division",
        "status",
        "rows_total",
        "rows_matched",
        "rows_rejected",
        "warnings_created",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["status", "department", "period"]
    search_fields = ["original_name", "content_hash"]
    list_select_related = ["division", "uploaded_by"]
    date_hierarchy = "created_at"


@admin.register(RejectedRow)
class RejectedRowAdmin(ReadOnlyAdmin):
    list_display = ["upload", "row_number", "column_label", "reason"]
    list_select_related = ["upload"]
    search_fields = ["reason", "upload__original_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(upload__in=DepartmentUpload.objects.for_user(request.user))


@admin.register(RiskWarning)
class RiskWarningAdmin(ScopedReadOnlyAdmin):
    list_display = ["household", "village", "department", "kind", "grade", "period", "raised_at", "due_at", "status"]
    list_filter = ["status", "department", "grade", "period"]
    search_fields = ["household__number"]
    list_select_related = ["household", "village"]
    date_hierarchy = "raised_at"
    exclude = ["source_values"]


@admin.register(TodoItem)
class TodoItemAdmin(ScopedReadOnlyAdmin):
    list_display = ["kind", "division", "household", "case", "detail", "opened_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "household__number", "detail"]
    list_select_related = ["division", "household", "case__household"]


@admin.register(RegionalAlert)
class RegionalAlertAdmin(ScopedReadOnlyAdmin):
    list_display = ["division", "period", "kind_display", "count", "baseline", "multiple", "raised_at"]
    list_filter = ["period"]
    list_select_related = ["division"]

    @admin.display(description="预警类型")
    def kind_display(self, obj: RegionalAlert) -> str:
        from monitoring.screening.departments import KIND_LABELS

        return KIND_LABELS.get(obj.kind, obj.kind) if obj.kind else "全部类型"


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    """Run records of the scheduled jobs (all divisions: a job runs for the whole database). The
    administrators' own page is monitoring:jobs; here the operators' "立即运行" starts a job by hand, under
    the same lock as the schedule (monitoring.jobs.views.job_start)."""

    list_display = ["job_label", "status", "started_at", "finished_at", "counts_display", "triggered_by", "has_errors"]
    list_filter = ["job", "status"]
    date_hierarchy = "started_at"
    fields = ["job", "status", "started_at", "finished_at", "counts_display", "errors", "triggered_by"]
    readonly_fields = fields
    change_list_template = "admin/monitoring/jobrun/change_list.html"

    @admin.display(description="任务", ordering="job")
    def job_label(self, obj: JobRun) -> str:
        spec = runner.JOBS.get(obj.job)
        return spec.label if spec else obj.job

    @admin.display(description="统计")
    def counts_display(self, obj: JobRun) -> str:
        return "；".join(f"{label} {value}" for label, value in runner.labelled_counts(obj.counts)) or "—"

    @admin.display(description="有错误", boolean=True)
    def has_errors(self, obj: JobRun) -> bool:
        return bool(obj.errors)

    def get_urls(self):
        run = path("run/", self.admin_site.admin_view(self.run_view), name="monitoring_jobrun_run")
        return [run, *super().get_urls()]

    def run_view(self, request):
        """立即运行: a button per job. Runs it here when Celery runs in-process (demo), else queues it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        result = queued = None
        if request.method == "POST":
            name = request.POST.get("job", "")
            if name not in runner.JOBS:
                messages.error(request, "没有这个任务。")
                return redirect("admin:monitoring_jobrun_run")
            result, queued = job_start(user=request.user, job=name)
        last_runs = {name: JobRun.objects.filter(job=name).first() for name in runner.JOBS}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "立即运行定时任务",
            "rows": [(spec, last_runs.get(name)) for name, spec in runner.JOBS.items()],
            "result": result,
            "result_counts": runner.labelled_counts(result.counts) if result else [],
            "queued": queued,
        }
        return TemplateResponse(request, "admin/monitoring/jobrun/run.html", context)
