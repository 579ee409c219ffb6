"""Django admin for the workflow's records: read-only. Transition events are written by
case_transition alone and never edited; bulk jobs are started from the queue page."""

from django.contrib import admin

from monitoring.models import Stage
from workflow.models import BulkJob, EventAttachment, TransitionEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventAttachmentInline(admin.TabularInline):
    model = EventAttachment
    fields = ["name", "file"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TransitionEvent)
class TransitionEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "label", "moved", "actor", "actor_division", "at"]
    list_filter = ["transition", "to_stage", "at"]
    search_fields = ["case__household__number", "actor__username", "actor__full_name", "opinion"]
    list_select_related = ["case__household", "actor"]
    date_hierarchy = "at"
    inlines = [EventAttachmentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    @admin.display(description="环节")
    def moved(self, obj: TransitionEvent) -> str:
        return f"{Stage(obj.from_stage).label} → {Stage(obj.to_stage).label}"


@admin.register(BulkJob)
class BulkJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "transition",
        "user",
        "status",
        "total",
        "processed",
        "succeeded",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "transition"]
    list_select_related = ["user"]

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        if request.user.is_superuser:
            return jobs
        return jobs.filter(user__division__code__startswith=request.user.jurisdiction_prefix or "-")
