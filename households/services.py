"""Every write to the household registry goes through these functions (views, API, admin, seeding)."""

import functools
import logging
from collections.abc import Iterable
from contextvars import ContextVar
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.timezone import localtime

from fpr import clock
from fpr.errors import ConflictError
from fpr.roles import REGISTRY_EDITORS, Level
from households.id_numbers import normalize_id_number, parse_disability_certificate
from households.models import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    Division,
    Expenditure,
    ExpenditureKind,
    Health,
    Household,
    IncomeItem,
    IncomeKind,
    Member,
    Relationship,
    SensitiveAccess,
    User,
)

logger = logging.getLogger(__name__)


def ensure_can_edit_registry(*, user: User, village: Division) -> None:
    """Only village cadres and administrators keep the registry, and only inside their own subtree."""
    if user.is_superuser:
        return
    if not user.has_role(*REGISTRY_EDITORS):
        raise PermissionDenied("您的角色不能修改农户信息。")
    if not user.division_id or not village.code.startswith(user.jurisdiction_prefix):
        raise PermissionDenied("该村不在您的管辖范围内。")


def _next_household_number(village: Division) -> str:
    # 户编号 = village code + 4-digit sequence; the unique constraint settles concurrent creates.
    last = (
        Household.objects.filter(village=village, number__startswith=village.code)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(village.code) :]) + 1 if last else 1
    return f"{village.code}{sequence:04d}"


OUTSIDE_DUPLICATE = "该身份证号已在其他辖区登记，请联系县级管理员核实。"
DUPLICATE_VIA = "重复身份证号"  # SensitiveAccess.via of a refused registration of someone else's number

# Households outside the user's subtree whose member's number a refused write tried to register; the
# public services record them after their transaction has rolled back (`_logs_outside_duplicates`).
_outside_holders: ContextVar[list | None] = ContextVar("outside_holders", default=None)


def _duplicate_id_error(id_number: str, *, user: User, exclude_pk=None) -> ValidationError | None:
    """The holder is named only to a user whose subtree holds them; anyone else learns only that the
    number is registered elsewhere (no oracle for finding people), and the attempt is logged for the
    holder's county."""
    holder = (
        Member.objects.filter(id_number=id_number).exclude(pk=exclude_pk).select_related("household__village").first()
    )
    if holder is None:
        return None
    household = holder.household
    if not (user.is_superuser or (user.division_id and household.village_id.startswith(user.jurisdiction_prefix))):
        pending = _outside_holders.get()
        if pending is not None:
            pending.append(household)
        return ValidationError({"id_number": OUTSIDE_DUPLICATE}, code="duplicate_id")
    return ValidationError(
        {
            "id_number": (
                f"身份证号已登记：{household.village.name} 户编号 {household.number} 的成员"
                f"“{holder.name}”持有该号码，同一人不能重复登记。"
            )
        },
        code="duplicate_id",
    )


def _logs_outside_duplicates(service):
    """Run a registry write; when it was refused because a number belongs to a household outside the
    user's subtree, record the attempt (SensitiveAccess, via 重复身份证号, scoped to that household's
    county) after the write's own transaction rolled back, so the record stays."""

    @functools.wraps(service)
    def wrapper(*, user: User, **kwargs):
        if _outside_holders.get() is not None:  # called by another service: the outermost one records
            return service(user=user, **kwargs)
        token = _outside_holders.set([])
        try:
            return service(user=user, **kwargs)
        except ValidationError:
            holders = _outside_holders.get()
            if holders:
                now = clock.now()
                SensitiveAccess.objects.bulk_create(
                    SensitiveAccess(
                        user=user, household=household, at=now, via=DUPLICATE_VIA, reason="登记他人辖区已登记的身份证号"
                    )
                    for household in {h.pk: h for h in holders}.values()
                )
                logger.warning(
                    "registry write by %s refused: ID number registered outside their subtree (households %s)",
                    user,
                    ", ".join(str(h.number) for h in holders),
                )
            raise
        finally:
            _outside_holders.reset(token)

    return wrapper


def _clean_member(member: Member, *, user: User) -> None:
    """Field validation plus the cross-field rules of a member record."""
    member.id_number = normalize_id_number(member.id_number)
    member.disability_certificate = normalize_id_number(member.disability_certificate)
    errors: dict[str, list[str]] = {}
    try:
        member.full_clean(exclude=["household"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "id_number" not in errors:
        duplicate = _duplicate_id_error(member.id_number, user=user, exclude_pk=member.pk)
        if duplicate:
            errors.update(duplicate.message_dict)
    for field, messages in member_rule_errors(vars(member)).items():
        errors.setdefault(field, []).extend(messages)
    if member.health == Health.DISABLED and member.disability_certificate and "id_number" not in errors:
        try:
            category, grade = parse_disability_certificate(member.disability_certificate, id_number=member.id_number)
        except ValidationError as exc:
            errors.setdefault("disability_certificate", []).extend(exc.messages)
        else:
            if member.disability_category and category != member.disability_category:
                errors.setdefault("disability_certificate", []).append("残疾人证号中的残疾类别与所填类别不一致。")
            if member.disability_grade and grade != member.disability_grade:
                errors.setdefault("disability_certificate", []).append("残疾人证号中的残疾等级与所填等级不一致。")
    if errors:
        raise ValidationError(errors)


def member_rule_errors(data) -> dict[str, list[str]]:
    """The rules between a member's health fields, by field. The member form runs them too, so that
    a missing illness name is told in the same round as a mistyped ID number."""
    errors: dict[str, list[str]] = {}
    health = data.get("health")
    if health == Health.DISABLED:
        if not data.get("disability_category") or not data.get("disability_grade"):
            errors["disability_category"] = ["残疾成员须填写残疾类别和等级。"]
    elif data.get("disability_certificate") or data.get("disability_category") or data.get("disability_grade"):
        errors["health"] = ["填写了残疾信息的成员，健康状况应选“残疾”。"]
    if health == Health.SERIOUS and not (data.get("illness") or "").strip():
        errors["illness"] = ["患大病的成员须填写疾病名称。"]
    return errors


def _check_single_head(members: Iterable[Member]) -> None:
    heads = sum(1 for m in members if m.relationship == Relationship.HEAD)
    if heads != 1:
        raise ValidationError({"relationship": f"每户必须有且只有一位户主，当前为{heads}位。"})


def _save_member(member: Member, *, user: User) -> None:
    try:
        # The savepoint keeps the outer transaction usable when the unique index settles a race.
        with transaction.atomic():
            member.save()
    except IntegrityError:
        duplicate = _duplicate_id_error(member.id_number, user=user, exclude_pk=member.pk)
        if duplicate:
            raise duplicate from None
        raise


@_logs_outside_duplicates
@transaction.atomic
def household_create(*, user: User, village: Division, data: dict, members: list[dict]) -> Household:
    """Register a household with its members. All or nothing: an invalid member leaves no row behind."""
    ensure_can_edit_registry(user=user, village=village)
    if village.level != Level.VILLAGE:
        raise ValidationError({"village": "农户只能登记在村一级。"})
    household = Household(village=village, **{k: v for k, v in data.items() if k in HOUSEHOLD_FIELDS})
    household.number = _next_household_number(village)
    household.full_clean(exclude=["number"])
    if not members:
        raise ValidationError({"members": "至少登记一名家庭成员（户主）。"})
    built = [Member(**{k: v for k, v in m.items() if k in MEMBER_FIELDS}) for m in members]
    seen: dict[str, int] = {}
    member_errors: list[dict] = []
    for index, member in enumerate(built):
        try:
            _clean_member(member, user=user)
        except ValidationError as exc:
            member_errors.append({"index": index, **exc.message_dict})
            continue
        if member.id_number in seen:
            member_errors.append(
                {"index": index, "id_number": [f"与第{seen[member.id_number] + 1}位成员的身份证号重复。"]}
            )
        seen.setdefault(member.id_number, index)
    if member_errors:
        raise ValidationError({"members": [_format_member_error(e) for e in member_errors]})
    _check_single_head(built)
    household.save()
    for member in built:
        member.household = household
        _save_member(member, user=user)
    return household


def _format_member_error(error: dict) -> str:
    parts = [f"{msg}" for key, msgs in error.items() if key != "index" for msg in msgs]
    return f"第{error['index'] + 1}位成员：" + "；".join(parts)


@transaction.atomic
def household_update(*, user: User, household: Household, data: dict, version: int | None = None) -> Household:
    """Change the household's own fields. `version` is the one the editor's page (or API client) read:
    when someone saved in between, nothing is saved and ConflictError says who and when. Without it
    (the admin, scripts) the change is applied to the current version."""
    ensure_can_edit_registry(user=user, village=household.village)
    # The row lock makes check-and-increment one step: of two saves based on the same version, the
    # second waits here and then sees the first's version (no lost update).
    household = Household.objects.select_for_update().get(pk=household.pk)
    if version is not None and version != household.version:
        raise ConflictError(f"该农户信息已被他人修改（{_last_change(household)}），请刷新后重新修改。")
    for field, value in data.items():
        if field in HOUSEHOLD_FIELDS:
            setattr(household, field, value)
    household.full_clean()
    household.version += 1
    household.save()
    return household


def _last_change(household: Household) -> str:
    record = household.history.select_related("history_user").order_by("-history_date", "-history_id").first()
    if record is None:
        return f"当前为第{household.version}版"
    who = f"{record.history_user} " if record.history_user else ""
    return f"{who}于 {localtime(record.history_date):%Y-%m-%d %H:%M} 保存"


@_logs_outside_duplicates
@transaction.atomic
def member_create(*, user: User, household: Household, data: dict) -> Member:
    ensure_can_edit_registry(user=user, village=household.village)
    Household.objects.select_for_update().filter(pk=household.pk).first()  # serialise head checks
    member = Member(household=household, **{k: v for k, v in data.items() if k in MEMBER_FIELDS})
    _clean_member(member, user=user)
    if member.relationship == Relationship.HEAD and household.members.filter(relationship=Relationship.HEAD).exists():
        raise ValidationError({"relationship": "该户已有户主，请先修改原户主的与户主关系。"})
    _save_member(member, user=user)
    return member


@_logs_outside_duplicates
@transaction.atomic
def member_update(*, user: User, member: Member, data: dict) -> Member:
    """Change a member's fields (a missing key is unchanged). The ID number is not changed here:
    nobody editing sees it in full, so a correction is `member_id_correct` (permission, reason, log);
    sending the same number again is fine."""
    return _member_write(user=user, member=member, data=data, id_correction=False)


CORRECTION_REFUSED = "身份证号不能在此修改：更正身份证号须由有权限的管理员通过“更正身份证号”办理（将被记录）。"


def _member_write(*, user: User, member: Member, data: dict, id_correction: bool) -> Member:
    ensure_can_edit_registry(user=user, village=member.household.village)
    Household.objects.select_for_update().filter(pk=member.household_id).first()
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not id_correction and "id_number" in data and normalize_id_number(data["id_number"] or "") != member.id_number:
        raise ValidationError({"id_number": CORRECTION_REFUSED})
    for field, value in data.items():
        if field in MEMBER_FIELDS:
            setattr(member, field, value)
    _clean_member(member, user=user)
    others = list(member.household.members.exclude(pk=member.pk))
    _check_single_head([*others, member])
    _save_member(member, user=user)
    return member


CORRECTION_VIA = "更正身份证号"


@_logs_outside_duplicates
@transaction.atomic
def member_id_correct(
    *, user: User, member: Member, id_number: str, reason: str, disability_certificate: str | None = None
) -> Member:
    """更正身份证号: change a member's ID number (and the certificate, which begins with it). Only for a
    registry editor who holds households.view_sensitive, with a reason, logged as a SensitiveAccess —
    the edit page never carries the full number, so correcting it is this separate action."""
    ensure_can_edit_registry(user=user, village=member.household.village)
    if not user.has_perm("households.view_sensitive"):
        raise PermissionDenied("更正身份证号须由有查看完整身份证号权限的管理员办理。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写更正事由，更正将被记录。"})
    data = {"id_number": id_number}
    if disability_certificate:
        data["disability_certificate"] = disability_certificate
    member = _member_write(user=user, member=member, data=data, id_correction=True)
    SensitiveAccess.objects.create(
        user=user, household=member.household, at=clock.now(), via=CORRECTION_VIA, reason=reason[:128]
    )
    return member


@transaction.atomic
def member_delete(*, user: User, member: Member) -> None:
    ensure_can_edit_registry(user=user, village=member.household.village)
    if member.relationship == Relationship.HEAD:
        raise ValidationError("不能删除户主。请先将其他成员设为户主。")
    member.delete()


@transaction.atomic
def account_items_set(
    *,
    user: User,
    household: Household,
    year: int,
    incomes: dict[str, Decimal | None],
    expenditures: dict[str, Decimal | None] | None = None,
) -> None:
    """Record the year's income accounting (算账): one amount per item; None or blank removes the item."""
    ensure_can_edit_registry(user=user, village=household.village)
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年度不正确。"})
    for model, kinds, values in (
        (IncomeItem, IncomeKind, incomes),
        (Expenditure, ExpenditureKind, expenditures or {}),
    ):
        for kind, amount in values.items():
            if kind not in kinds.values:
                raise ValidationError({"kind": f"未知的项目：{kind}"})
            if amount in (None, ""):
                model.objects.filter(household=household, year=year, kind=kind).delete()
                continue
            amount = Decimal(amount)
            if amount < 0:
                raise ValidationError({kind: f"{kinds(kind).label}不能为负数。"})
            item = model.objects.filter(household=household, year=year, kind=kind).first()
            if item is None:
                model.objects.create(household=household, year=year, kind=kind, amount=amount)
            elif item.amount != amount:
                item.amount = amount
                item.save(update_fields=["amount", "updated_at"])


# --------------------------------------------------------------------------- personal data


def sensitive_access_record(*, user: User, households: list, via: str, reason: str) -> None:
    """Let `user` see these households' full ID numbers, certificates, bank account and phone, and log
    it (who, whose, when, why). Only holders of households.view_sensitive, and only with a reason;
    everyone else sees masked values everywhere (`fpr.sensitive`)."""
    if not user.has_perm("households.view_sensitive"):
        raise PermissionDenied("您没有查看完整身份证号和银行账号的权限。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写查看事由，查看完整信息将被记录。"})
    now = clock.now()
    SensitiveAccess.objects.bulk_create(
        SensitiveAccess(user=user, household=household, at=now, via=via, reason=reason[:128])
        for household in households
    )
