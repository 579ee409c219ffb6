"""User management with rules: what a county or township administrator may do to the accounts of their
subtree, and the API tokens of every user. The one door for accounts: the accounts pages call these
functions; the Django admin is for the operators (superusers) only (fpr/admin_site.py); the API has no
operation that writes users.

The rules (issue #11):

- Only an active administrator (系统管理员 role, with a division) manages accounts, and only accounts whose
  division is inside their own subtree. Operators (superusers) are never managed here, and nobody manages
  their own account here (one's own division, roles and state are changed by the administrator above).
- An administrator manages the users of their own division except other administrators there: a peer (or
  anyone above) is never edited, deactivated, given a password or unlocked by them.
- Roles: each role only at the levels `fpr.roles.ROLE_LEVELS` allows; the administrator role only for a
  division strictly below the actor's (a county administrator appoints township administrators, never a
  second county administrator). So nobody grants a role above their own level.
- Permissions come from the role groups alone (`households.reference.ROLE_GROUPS`): `view_sensitive` goes
  with the roles that carry it, never as a per-user permission; `is_superuser` and `is_staff` are never set.
- Every change is a history row of the user (django-simple-history), the role change written as its reason.
- A deactivated account loses its API tokens at once.
"""

from dataclasses import dataclass

from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from knox import settings as knox_conf
from knox.models import AuthToken

from fpr.roles import ROLE_LEVELS, Department, Level, Role
from households.models import Division, User

USER_FIELDS = ("full_name", "phone", "division", "department", "is_active")


# --------------------------------------------------------------------------- who may manage whom


def is_account_administrator(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_role(Role.ADMINISTRATOR)
        and user.division_id
    )


def ensure_account_administrator(user) -> None:
    if not is_account_administrator(user):
        raise PermissionDenied("只有系统管理员可以管理用户账号。")


def users_managed(*, actor):
    """The accounts `actor` may see on the user pages: every account of their subtree but the operators'."""
    if not is_account_administrator(actor):
        return User.objects.none()
    return (
        User.objects.filter(division__code__startswith=actor.jurisdiction_prefix, is_superuser=False)
        .select_related("division")
        .prefetch_related("groups")
    )


def divisions_assignable(*, actor):
    if not is_account_administrator(actor):
        return Division.objects.none()
    return Division.objects.filter(code__startswith=actor.jurisdiction_prefix).order_by("code")


def can_change(*, actor, target: User) -> bool:
    try:
        ensure_can_change(actor=actor, target=target)
    except PermissionDenied:
        return False
    return True


def ensure_can_change(*, actor, target: User) -> None:
    ensure_account_administrator(actor)
    if target.pk == actor.pk:
        raise PermissionDenied(
            "不能在这里修改本人的账号：本人的区划、角色和状态由上级管理员调整；密码请在“修改密码”中修改。"
        )
    if target.is_superuser:
        raise PermissionDenied("系统运维账号不在辖区用户管理范围内。")
    if not target.division_id or not target.division.code.startswith(actor.jurisdiction_prefix):
        raise PermissionDenied("该用户不在您的辖区内。")
    if target.has_role(Role.ADMINISTRATOR) and target.division.level <= actor.division.level:
        raise PermissionDenied("同级或上级的系统管理员账号由上级管理员管理。")


def roles_grantable(*, actor, division: Division | None) -> list[str]:
    """The roles `actor` may give a user of `division`."""
    if not is_account_administrator(actor) or division is None:
        return []
    if not division.code.startswith(actor.jurisdiction_prefix):
        return []
    allowed = []
    for role in Role:
        levels = ROLE_LEVELS[role]
        if levels is not None and division.level not in levels:
            continue
        if role == Role.ADMINISTRATOR and division.level <= actor.division.level:
            continue  # never a peer or a superior administrator
        allowed.append(role.value)
    return allowed


def _check_assignment(*, actor, division: Division | None, roles: list[str], department: str) -> None:
    errors: dict[str, list[str]] = {}
    if division is None:
        errors["division"] = ["请选择所属区划。"]
    elif not division.code.startswith(actor.jurisdiction_prefix):
        errors["division"] = ["只能把用户设在本辖区内的区划。"]
    else:
        grantable = set(roles_grantable(actor=actor, division=division))
        refused = [Role(code).label for code in roles if code not in grantable]
        if refused:
            errors["roles"] = [f"不能在{division.name}授予以下角色：{'、'.join(refused)}。"]
    unknown = [code for code in roles if code not in Role.values]
    if unknown:
        errors["roles"] = ["没有这个角色。"]
    if Role.DEPARTMENT_OFFICER in roles and department not in Department.values:
        errors["department"] = ["部门数据专员须选择所属部门。"]
    if department and department not in Department.values:
        errors["department"] = ["没有这个部门。"]
    if errors:
        raise ValidationError(errors)


def _role_groups(roles: list[str]) -> list[Group]:
    labels = [Role(code).label for code in roles]
    groups = list(Group.objects.filter(name__in=labels))
    if len(groups) != len(set(labels)):
        raise ValidationError({"roles": ["角色配置缺失，请联系系统运维人员。"]})
    return groups


def _roles_note(before: set[str], after: set[str]) -> str:
    if before == after:
        return ""
    label = lambda codes: "、".join(Role(c).label for c in sorted(codes)) or "无"  # noqa: E731
    return f"角色：{label(before)} → {label(after)}"


# --------------------------------------------------------------------------- services


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    roles: list[str],
    data: dict,
    must_change_password: bool = False,
    reason: str = "",
) -> User:
    """A new account of `actor`'s subtree. `must_change_password`: the password is an initial one that
    someone else knows (the bulk import), so the owner must set their own at the first login; `reason`
    goes before the history row's own ("批量导入：<file>")."""
    ensure_account_administrator(actor)
    division = data.get("division")
    department = data.get("department") or ""
    _check_assignment(actor=actor, division=division, roles=roles, department=department)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": ["该用户名已被使用。"]})
    user = User(
        username=username,
        full_name=data.get("full_name", ""),
        phone=data.get("phone", ""),
        division=division,
        department=department,
        is_active=True,
        is_staff=False,
        is_superuser=False,
        must_change_password=must_change_password,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    note = f"新建账号；{_roles_note(set(), set(roles))}"
    user._change_reason = (f"{reason}；{note}" if reason else note)[:100]  # the history's column is 100 long
    user._history_user = actor  # also from a management command, where no request names the actor
    user.save()
    user.groups.set(_role_groups(roles))
    return user


@transaction.atomic
def user_update(*, actor, target: User, roles: list[str], data: dict) -> User:
    """Change a managed user's name, phone, division, department, roles and state."""
    target = User.objects.select_for_update(of=("self",)).select_related("division").get(pk=target.pk)
    ensure_can_change(actor=actor, target=target)
    division = data.get("division", target.division)
    department = data.get("department", target.department) or ""
    _check_assignment(actor=actor, division=division, roles=roles, department=department)
    before = set(target.roles)
    target.full_name = data.get("full_name", target.full_name)
    target.phone = data.get("phone", target.phone)
    target.division = division
    target.department = department
    was_active = target.is_active
    target.is_active = bool(data.get("is_active", target.is_active))
    target._change_reason = _roles_note(before, set(roles)) or "修改账号信息"
    target.save()
    target.groups.set(_role_groups(roles))
    target.__dict__.pop("roles", None)
    if was_active and not target.is_active:
        tokens_revoke_all(actor=actor, user=target)
    return target


@transaction.atomic
def user_deactivate(*, actor, target: User) -> User:
    target = User.objects.select_for_update(of=("self",)).select_related("division").get(pk=target.pk)
    ensure_can_change(actor=actor, target=target)
    target.is_active = False
    target._change_reason = "停用账号"
    target.save()
    tokens_revoke_all(actor=actor, user=target)
    return target


@transaction.atomic
def user_set_password(*, actor, target: User, password: str) -> User:
    """An administrator sets a managed user's password (a forgotten password); the project's validators
    apply. The user's tokens are revoked, as after any password reset."""
    target = User.objects.select_for_update(of=("self",)).select_related("division").get(pk=target.pk)
    ensure_can_change(actor=actor, target=target)
    try:
        validate_password(password, target)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    target.set_password(password)
    target._change_reason = "管理员重置密码"
    target.save()
    tokens_revoke_all(actor=actor, user=target)
    return target


# --------------------------------------------------------------------------- login lockouts


@dataclass
class Lockout:
    username: str
    user: User | None
    failures: int
    addresses: list[str]
    last_attempt: object
    locked: bool


def lockouts_visible(*, actor) -> list[Lockout]:
    """Failed-login records (django-axes) of the accounts `actor` manages, most recent first."""
    from django.conf import settings

    ensure_account_administrator(actor)
    users = {u.username: u for u in users_managed(actor=actor)}
    threshold = timezone.now() - settings.AXES_COOLOFF_TIME
    rows: dict[str, Lockout] = {}
    for attempt in AccessAttempt.objects.filter(username__in=list(users), attempt_time__gte=threshold).order_by(
        "-attempt_time"
    ):
        row = rows.setdefault(
            attempt.username,
            Lockout(attempt.username, users.get(attempt.username), 0, [], attempt.attempt_time, False),
        )
        row.failures += attempt.failures_since_start
        if attempt.ip_address and attempt.ip_address not in row.addresses:
            row.addresses.append(attempt.ip_address)
    for row in rows.values():
        row.locked = row.failures >= settings.AXES_FAILURE_LIMIT
    return list(rows.values())


def lockout_reset(*, actor, username: str) -> int:
    """解除锁定: forget the failed logins of a managed account (every address)."""
    target = User.objects.filter(username=username).select_related("division").first()
    if target is None:
        raise PermissionDenied("该用户不在您的辖区内。")
    ensure_can_change(actor=actor, target=target)
    count, _ = AccessAttempt.objects.filter(username=username).delete()
    return count


# --------------------------------------------------------------------------- API tokens (django-rest-knox)


def tokens_of(*, user: User):
    """A user's live tokens, newest first: never the token itself, which is stored only as a digest."""
    return AuthToken.objects.filter(user=user).filter(expiry__gt=timezone.now()).order_by("-created")


def token_create(*, user: User) -> tuple[AuthToken, str]:
    """A new token for the signed-in user; the returned text is shown once and never again."""
    if not user.is_active:
        raise PermissionDenied("账号已停用。")
    limit = knox_conf.knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and tokens_of(user=user).count() >= limit:
        raise ValidationError(f"每个账号最多同时持有{limit}个API令牌，请先撤销不再使用的令牌。")
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    return AuthToken.objects.create(user=user, expiry=knox_conf.knox_settings.TOKEN_TTL)


def token_revoke(*, user: User, digest: str) -> bool:
    deleted, _ = AuthToken.objects.filter(user=user, digest=digest).delete()
    return bool(deleted)


def tokens_revoke_all(*, actor, user: User) -> int:
    """Revoke every token of `user`: the user themself, their administrator, or an operator."""
    if not (actor.pk == user.pk or actor.is_superuser):
        ensure_can_change(actor=actor, target=user)
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


# --------------------------------------------------------------------------- the province's monitoring line


def can_edit_monitoring_line(user) -> bool:
    """Shared reference data: the province's administrators (and the operators in the admin) only."""
    return is_account_administrator(user) and user.division.level == Level.PROVINCE


@transaction.atomic
def monitoring_line_set(*, actor, year: int, amount, poverty_line):
    from households.models import MonitoringLine

    if not can_edit_monitoring_line(actor):
        raise PermissionDenied("监测范围（监测线）由省级系统管理员设置。")
    line, created = MonitoringLine.objects.select_for_update().get_or_create(
        province=actor.division, year=year, defaults={"amount": amount, "poverty_line": poverty_line}
    )
    if not created:
        line.amount, line.poverty_line = amount, poverty_line
        line.full_clean()
        line.save()
    return line
