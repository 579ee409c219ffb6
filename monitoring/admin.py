"""Django admin for monitoring cases and their stage records: read-mostly.

No door but workflow.services.case_transition changes a case's stage, so the stage and everything a
transition writes (round, open flag, identification and closing dates, last transition) are read-only
here. The application's own fields are saved through `case_update_application`, with the rules the
case page applies (village cadres of the village, in the application stage). Visits, appraisals,
notices and objections are recorded on the case page and only shown here.
"""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from households.admin import ServiceAdminMixin
from monitoring import services
from monitoring.models import (
    Appraisal,
    MonitoringCase,
    Notice,
    Objection,
    RiskCategory,
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
