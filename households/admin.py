"""Django admin for divisions, users and the registry — for the system's operators (superusers) only.

The whole admin site refuses everyone else (fpr/admin_site.py); county and township administrators
manage their users on the accounts pages (households/accounts.py). Even for operators the admin is one
more door to the same rules: household and member changes go through the services (checked first in a
rolled-back dry run so errors show on the form, then saved for real). New households are registered on
the household pages, where the head and members are entered together; income accounting is edited there.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from households import services
from households.models import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    Division,
    Expenditure,
    Household,
    IncomeItem,
    Member,
    MonitoringLine,
    Relationship,
    SensitiveAccess,
    User,
)


class _DryRun(Exception):
    """Raised inside a savepoint to undo a service call that was made only to validate."""


class ServiceCheckedForm(forms.ModelForm):
    """A ModelForm whose `clean()` asks the service whether the change is acceptable.

    `run_service(form)` is set by the admin; it performs the write. Here it runs inside a savepoint
    that is always rolled back, so the service's Chinese messages land on the form's fields."""

    request = None
    run_service = None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                type(self).run_service(self)
                raise _DryRun
        except _DryRun:
            pass
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from exc
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


class ServiceAdminMixin:
    """Route saves through `run_service` (a function of the bound form) instead of `obj.save()`."""

    form = ServiceCheckedForm

    def run_service(self, form):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_run = self.run_service
        return type(
            form_class.__name__,
            (form_class,),
            {"request": request, "run_service": staticmethod(admin_run)},
        )

    def save_model(self, request, obj, form, change):
        saved = self.run_service(form)
        obj.refresh_from_db()
        return saved


# --------------------------------------------------------------------------- divisions and users


@admin.register(Division)
class DivisionAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    ordering = ["code"]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    list_display = ["username", "full_name", "division", "role_list", "is_active", "is_staff", "last_login"]
    list_filter = ["groups", "division__level", "department", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "full_name", "phone", "division__name", "division__code"]
    autocomplete_fields = ["division"]
    list_select_related = ["division"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("工作信息", {"fields": ["full_name", "phone", "email", "division", "department", "groups"]}),
        ("账号状态", {"fields": ["is_active", "is_staff", "is_superuser", "user_permissions"]}),
        ("登录记录", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "password1", "password2"]}),
        ("工作信息", {"classes": ["wide"], "fields": ["full_name", "phone", "division", "department", "groups"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="角色")
    def role_list(self, obj: User) -> str:
        return "、".join(obj.role_labels) or "—"

    actions = ["revoke_api_tokens"]

    @admin.action(description="撤销所选用户的 API 令牌")
    def revoke_api_tokens(self, request, queryset):
        """A lost phone or a departed officer: their API tokens stop working at once (they can still log
        in to the pages unless the account is also deactivated)."""
        from households.accounts import tokens_revoke_all

        deleted = sum(tokens_revoke_all(actor=request.user, user=user) for user in queryset)
        self.message_user(request, f"已撤销 {deleted} 个 API 令牌。")


# --------------------------------------------------------------------------- households and members


class MemberInline(admin.TabularInline):
    """Members shown on the household page; each is changed on its own page (through the service)."""

    model = Member
    fields = ["name", "relationship", "masked_id", "health", "labour_capacity"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    @admin.display(description="身份证号")
    def masked_id(self, obj: Member) -> str:
        return obj.masked_id_number

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "number",
        "village",
        "address",
        "poverty_status",
        "poverty_exit_year",
        "housing_safety",
        "relocated",
    ]
    list_filter = ["poverty_status", "housing_safety", "relocated", "single_parent", "food_secure", "medical_secured"]
    search_fields = ["number", "address", "members__name", "=members__id_number"]
    list_select_related = ["village"]
    readonly_fields = ["number", "village", "created_at", "updated_at"]
    inlines = [MemberInline]
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def run_service(self, form):
        data = {name: form.cleaned_data[name] for name in HOUSEHOLD_FIELDS if name in form.cleaned_data}
        return services.household_update(user=form.request.user, household=form.instance, data=data)

    def has_add_permission(self, request):
        return False  # registered on the household pages, with its members

    def has_delete_permission(self, request, obj=None):
        return False  # a household's record is kept; there is no deletion rule to follow


@admin.register(Member)
class MemberAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "household", "relationship", "masked_id", "health", "labour_capacity", "schooling"]
    list_filter = ["relationship", "health", "labour_capacity", "schooling", "is_dibao", "is_tekun"]
    search_fields = ["name", "=id_number", "household__number"]
    list_select_related = ["household"]
    readonly_fields = ["household", "created_at", "updated_at"]
    actions = None

    @admin.display(description="身份证号")
    def masked_id(self, obj: Member) -> str:
        return obj.masked_id_number

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user).select_related("household__village")

    def run_service(self, form):
        data = {name: form.cleaned_data[name] for name in MEMBER_FIELDS if name in form.cleaned_data}
        return services.member_update(user=form.request.user, member=form.instance, data=data)

    def delete_model(self, request, obj):
        services.member_delete(user=request.user, member=obj)

    def has_add_permission(self, request):
        return False  # added on the household's page

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.relationship == Relationship.HEAD:
            return False  # the service refuses to delete the head
        return super().has_delete_permission(request, obj)


class ReadOnlyAccountAdmin(SimpleHistoryAdmin):
    """Income accounting is entered on the household's 算账 page; the admin only looks."""

    list_display = ["household", "year", "kind", "amount", "note"]
    list_filter = ["year", "kind"]
    search_fields = ["household__number"]
    list_select_related = ["household"]

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(IncomeItem, ReadOnlyAccountAdmin)
admin.site.register(Expenditure, ReadOnlyAccountAdmin)


@admin.register(MonitoringLine)
class MonitoringLineAdmin(SimpleHistoryAdmin):
    list_display = ["province", "year", "amount", "poverty_line", "updated_at"]
    list_filter = ["year", "province"]
    search_fields = ["province__name", "province__code"]
    ordering = ["-year", "province"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("province")


@admin.register(SensitiveAccess)
class SensitiveAccessAdmin(admin.ModelAdmin):
    """完整信息查看记录: read-only."""

    list_display = ["at", "user", "household", "via", "reason"]
    list_filter = ["via"]
    search_fields = ["user__username", "user__full_name", "household__number"]
    list_select_related = ["user", "household"]
    date_hierarchy = "at"

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
