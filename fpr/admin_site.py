"""The Django admin is the system operators' tool (superusers) and nobody else's (issue #11).

County and township administrators manage users, lockouts and jobs on fpr's own pages (accounts:…),
under the same scoping and services as everything else. Here every admin URL — index, changelists,
change, add, delete, history and history revert, any app's pages — asks `has_permission` first
(`admin_view`), so a signed-in non-superuser is sent to the admin login like a stranger and no view
code runs for them.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError


class OperatorAuthenticationForm(AdminAuthenticationForm):
    """The admin's login: right password or not, only an operator gets through."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError(
                "运维管理后台仅限系统运维人员登录。辖区用户管理请使用“用户管理”页面。", code="invalid_login"
            )


class OperatorAdminSite(AdminSite):
    site_header = "防返贫动态监测和帮扶系统 · 运维管理后台"
    site_title = "fpr 运维管理后台"
    index_title = "系统运维（仅限系统运维人员）"
    login_form = OperatorAuthenticationForm

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def get_app_list(self, request, app_label=None):
        # The login page builds the menu too: never ask a model admin about a stranger.
        if not self.has_permission(request):
            return []
        return super().get_app_list(request, app_label)
