"""Django admin for assistance. Measure categories are reference data the administrator keeps (whether a
category is a 兜底 safety-net measure feeds the "一兜了之" advice). Plans, measures and visits are written
on the plan page through the services (village cadres of the village only), so the admin shows them
with their history and does not edit them."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from assistance.models import AssistancePlan, Measure, MeasureCategory, Visit, VisitPhoto


@admin.register(MeasureCategory)
class MeasureCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_safety_net", "order"]
    list_editable = ["name", "is_safety_net", "order"]
    list_filter = ["is_safety_net"]
    ordering = ["order"]

    def has_delete_permission(self, request, obj=None):
        return False  # measures refer to their category (PROTECT); rename or reorder instead


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """Shown with its history (历史记录), scoped to the user's jurisdiction; never edited here."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MeasureInline(ReadOnlyInline):
    model = Measure
    fields = ["category", "risk_category", "description", "amount", "starts_on", "ends_on", "status", "effect"]
    readonly_fields = fields


@admin.register(AssistancePlan)
class AssistancePlanAdmin(ReadOnlyHistoryAdmin):
    list_display = ["case", "version", "cadre", "adjustment_reason", "updated_at"]
    search_fields = ["case__household__number", "pairing_cadre_name", "pairing_cadre__full_name"]
    list_select_related = ["case__household", "pairing_cadre"]
    inlines = [MeasureInline]

    @admin.display(description="结对帮扶干部")
    def cadre(self, obj: AssistancePlan) -> str:
        return obj.cadre_display


@admin.register(Measure)
class MeasureAdmin(ReadOnlyHistoryAdmin):
    list_display = ["plan", "category", "risk_category", "amount", "starts_on", "ends_on", "status", "effect"]
    list_filter = ["category", "risk_category", "status", "effect"]
    search_fields = ["plan__case__household__number", "description"]
    list_select_related = ["plan__case__household", "category", "risk_category"]


class VisitPhotoInline(ReadOnlyInline):
    model = VisitPhoto
    fields = ["file"]
    readonly_fields = fields


@admin.register(Visit)
class VisitAdmin(ReadOnlyHistoryAdmin):
    list_display = ["case", "visited_on", "visitor", "satisfaction", "income_change"]
    list_filter = ["satisfaction", "visited_on"]
    search_fields = ["case__household__number", "findings"]
    list_select_related = ["case__household", "visitor"]
    date_hierarchy = "visited_on"
    inlines = [VisitPhotoInline]
