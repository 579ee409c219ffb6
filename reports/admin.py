"""The export log in the Django admin: read-only, scoped like the page (administrators see their
subtree's exports, everyone else their own)."""

from django.contrib import admin

from reports.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "division", "user", "unmasked", "status", "rows_written", "finished_at"]
    list_filter = ["kind", "status", "unmasked"]
    search_fields = ["user__username", "user__full_name", "division__name"]
    list_select_related = ["user", "division"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def _reads_log(self, request) -> bool:
        from fpr.roles import Role

        user = request.user
        return user.is_superuser or user.has_role(Role.ADMINISTRATOR) or user.has_perm("reports.view_export")

    def has_module_permission(self, request):
        return self._reads_log(request)

    def has_view_permission(self, request, obj=None):
        return self._reads_log(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
