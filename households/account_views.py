"""Accounts pages, mounted at /accounts/ (namespace "accounts").

For every signed-in user: 修改密码 and 我的API令牌. For administrators: the users of their subtree (list,
new, edit, password, deactivate, revoke tokens), login lockouts (解除锁定); for the province's
administrators: the monitoring line. Each page reads through households.accounts and calls one service;
a user outside the actor's subtree is a 404, a refused change the 403 page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeDoneView, PasswordChangeView
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from fpr.forms import SERVICE_ERRORS, apply_service_errors, service_messages
from fpr.keyset import keyset_page
from households import accounts, services
from households.account_forms import (
    MonitoringLineForm,
    OwnPasswordChangeForm,
    SetPasswordForm,
    UserCreateForm,
    UserForm,
)
from households.models import MonitoringLine, SensitiveAccess, User

# --------------------------------------------------------------------------- every signed-in user


class OwnPasswordChange(PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = OwnPasswordChangeForm
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        # The view saves the user (one history row, with this reason) and keeps this session signed in.
        form.user._change_reason = "本人修改密码"
        form.user.must_change_password = False  # an initial password (bulk import) is replaced: free to go
        return super().form_valid(form)


password_change = OwnPasswordChange.as_view()
password_change_done = PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html")


@login_required
def token_list(request):
    """我的API令牌: create (the token is shown once, on this response only), list by prefix, revoke."""
    new_token = None
    if request.method == "POST":
        try:
            instance, new_token = accounts.token_create(user=request.user)
        except SERVICE_ERRORS as exc:
            messages.error(request, "；".join(service_messages(exc)))
            return redirect("accounts:tokens")
    response = render(
        request,
        "accounts/tokens.html",
        {"tokens": accounts.tokens_of(user=request.user), "new_token": new_token},
    )
    return response


@login_required
@require_POST
def token_revoke(request):
    if accounts.token_revoke(user=request.user, digest=request.POST.get("digest", "")):
        messages.success(request, "令牌已撤销，使用它的程序将无法再访问接口。")
    else:
        messages.error(request, "没有找到这个令牌。")
    return redirect("accounts:tokens")


# --------------------------------------------------------------------------- administrators


def _require_administrator(request) -> None:
    if not accounts.is_account_administrator(request.user):
        raise PermissionDenied("只有系统管理员可以管理用户账号。")


def _managed_user(request, pk: int) -> User:
    _require_administrator(request)
    return get_object_or_404(accounts.users_managed(actor=request.user), pk=pk)


@login_required
def user_list(request):
    _require_administrator(request)
    users = accounts.users_managed(actor=request.user).order_by("division__code", "username")
    q = request.GET.get("q", "").strip()[:50]
    if q:
        from django.db.models import Q

        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(division__name__icontains=q))
    rows = [(user, accounts.can_change(actor=request.user, target=user)) for user in users[:500]]
    return render(request, "accounts/user_list.html", {"rows": rows, "q": q})


ROLES_HELP = "只能授予与所属区划层级相符、且不高于本人层级的角色；系统管理员角色只能授予下级区划的用户。"


@login_required
def user_create(request):
    _require_administrator(request)
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ("full_name", "phone", "division", "department")}
        try:
            user = accounts.user_create(
                actor=request.user,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                roles=form.cleaned_data["roles"],
                data=data,
            )
        except SERVICE_ERRORS as exc:
            if hasattr(exc, "error_dict") and "password" in exc.error_dict:
                exc.error_dict["password1"] = exc.error_dict.pop("password")
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已创建账号“{user.username}”。请把初始密码当面告知本人，并提醒其登录后修改。")
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "target": None, "roles_help": ROLES_HELP})


@login_required
def user_detail(request, pk: int):
    target = _managed_user(request, pk)
    context = {
        "target": target,
        "can_change": accounts.can_change(actor=request.user, target=target),
        "tokens": accounts.tokens_of(user=target),
        "history": user_history(target),
        "password_form": SetPasswordForm(),
    }
    return render(request, "accounts/user_detail.html", context)


@login_required
def user_edit(request, pk: int):
    target = _managed_user(request, pk)
    accounts.ensure_can_change(actor=request.user, target=target)
    initial = {
        "full_name": target.full_name,
        "phone": target.phone,
        "division": target.division,
        "department": target.department,
        "roles": sorted(target.roles),
        "is_active": target.is_active,
    }
    form = UserForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ("full_name", "phone", "division", "department", "is_active")}
        try:
            accounts.user_update(actor=request.user, target=target, roles=form.cleaned_data["roles"], data=data)
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "账号信息已保存，并记入变更记录。")
            return redirect("accounts:user_detail", pk=target.pk)
    return render(request, "accounts/user_form.html", {"form": form, "target": target, "roles_help": ROLES_HELP})


@login_required
@require_POST
def user_password(request, pk: int):
    target = _managed_user(request, pk)
    form = SetPasswordForm(request.POST)
    if form.is_valid():
        try:
            accounts.user_set_password(actor=request.user, target=target, password=form.cleaned_data["password1"])
        except SERVICE_ERRORS as exc:
            for message in service_messages(exc):
                messages.error(request, message)
        else:
            messages.success(request, "密码已重置，该用户的API令牌已全部撤销。请把新密码当面告知本人。")
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("accounts:user_detail", pk=target.pk)


@login_required
@require_POST
def user_deactivate(request, pk: int):
    target = _managed_user(request, pk)
    accounts.user_deactivate(actor=request.user, target=target)
    messages.success(request, f"账号“{target.username}”已停用，其API令牌已全部撤销。")
    return redirect("accounts:user_detail", pk=target.pk)


@login_required
@require_POST
def user_tokens_revoke(request, pk: int):
    target = _managed_user(request, pk)
    count = accounts.tokens_revoke_all(actor=request.user, user=target)
    messages.success(request, f"已撤销 {count} 个API令牌。")
    return redirect("accounts:user_detail", pk=target.pk)


@login_required
def lockouts(request):
    _require_administrator(request)
    return render(request, "accounts/lockouts.html", {"rows": accounts.lockouts_visible(actor=request.user)})


@login_required
@require_POST
def lockout_reset(request):
    _require_administrator(request)
    username = request.POST.get("username", "")[:150]
    if not accounts.users_managed(actor=request.user).filter(username=username).exists():
        raise PermissionDenied("该用户不在您的辖区内。")
    accounts.lockout_reset(actor=request.user, username=username)
    messages.success(request, f"已解除账号“{username}”的登录锁定。")
    return redirect("accounts:lockouts")


@login_required
def monitoring_lines(request):
    if not accounts.can_edit_monitoring_line(request.user):
        raise PermissionDenied("监测范围（监测线）由省级系统管理员设置。")
    form = MonitoringLineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            line = accounts.monitoring_line_set(actor=request.user, **form.cleaned_data)
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已保存{line.year}年监测范围：{line.amount}元/人·年。")
            return redirect("accounts:monitoring_lines")
    lines = MonitoringLine.objects.filter(province=request.user.division).order_by("-year")
    return render(request, "accounts/monitoring_lines.html", {"form": form, "lines": lines})


# --------------------------------------------------------------------------- a user's change history


def user_history(target: User) -> list[dict]:
    """The account's changes, newest first: what changed (never the password), who did it, and the
    recorded reason (the role change)."""
    records = list(target.history.select_related("history_user").order_by("history_date", "history_id"))
    shown = ["username", "full_name", "phone", "division", "department", "is_active", "is_staff", "is_superuser"]
    entries, prior = [], None
    for record in records:
        changes = []
        if record.history_type == "~" and prior is not None:
            for change in record.diff_against(prior, included_fields=shown).changes:
                field = User._meta.get_field(change.field)
                changes.append((str(field.verbose_name), _shown(field, change.old), _shown(field, change.new)))
        prior = record
        action = {"+": "新增", "~": "修改", "-": "删除"}[record.history_type]
        reason = record.history_change_reason or ""
        if record.history_type == "~" and not changes and not reason:
            continue
        entries.append(
            {
                "when": record.history_date,
                "who": str(record.history_user) if record.history_user else "系统",
                "action": action,
                "subject": reason,
                "changes": changes,
            }
        )
    return entries[::-1]


def _shown(field, value) -> str:
    if value in (None, ""):
        return "（空）"
    if field.name == "division":
        from households.models import Division

        division = Division.objects.filter(pk=value).first()
        return f"{division.name}（{value}）" if division else str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


@login_required
def sensitive_accesses(request):
    """完整信息查看记录: who saw which household's full ID numbers or bank account, when, how and why —
    and who tried to register an ID number that a household of this subtree holds (重复身份证号). For the
    administrators of the subtree (the Django admin is the operators' only)."""
    _require_administrator(request)
    records = SensitiveAccess.objects.for_user(request.user).select_related("user", "household__village")
    via = request.GET.get("via", "")[:16]
    if via:
        records = records.filter(via=via)
    page = keyset_page(request, records, field="at", descending=True)
    return render(request, "accounts/sensitive_accesses.html", {"page": page, "via": via, "vias": VIA_CHOICES})


VIA_CHOICES = ["页面", "接口", services.CORRECTION_VIA, services.DUPLICATE_VIA]
