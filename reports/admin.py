"""The export log in the Django admin (operators only, fpr/admin_site.py): read-only. Administrators read
their subtree's exports on the export log page."""

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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
