"""Every write to the household registry goes through these functions (views, API, admin, seeding)."""

from collections.abc import Iterable
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
)


def ensure_can_edit_registry(*, user, village: Division) -> None:
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


def _duplicate_id_error(id_number: str, *, exclude_pk=None) -> ValidationError | None:
    holder = (
        Member.objects.filter(id_number=id_number).exclude(pk=exclude_pk).select_related("household__village").first()
    )
    if holder is None:
        return None
    household = holder.household
    return ValidationError(
        {
            "id_number": (
                f"身份证号已登记：{household.village.name} 户编号 {household.number} 的成员"
                f"“{holder.name}”持有该号码，同一人不能重复登记。"
            )
        },
        code="duplicate_id",
    )


def _clean_member(member: Member) -> None:
    """Field validation plus the cross-field rules of a member record."""
    member.id_number = normalize_id_number(member.id_number)
    member.disability_certificate = normalize_id_number(member.disability_certificate)
    errors: dict[str, list[str]] = {}
    try:
        member.full_clean(exclude=["household"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "id_number" not in errors:
        duplicate = _duplicate_id_error(member.id_number, exclude_pk=member.pk)
        if duplicate:
            errors.update(duplicate.message_dict)
    if member.health == Health.DISABLED:
        if not member.disability_category or not member.disability_grade:
            errors.setdefault("disability_category", []).append("残疾成员须填写残疾类别和等级。")
        if member.disability_certificate and "id_number" not in errors:
            try:
                category, grade = parse_disability_certificate(
                    member.disability_certificate, id_number=member.id_number
                )
            except ValidationError as exc:
                errors.setdefault("disability_certificate", []).extend(exc.messages)
            else:
                if member.disability_category and category != member.disability_category:
                    errors.setdefault("disability_certificate", []).append("残疾人证号中的残疾类别与所填类别不一致。")
                if member.disability_grade and grade != member.disability_grade:
                    errors.setdefault("disability_certificate", []).append("残疾人证号中的残疾等级与所填等级不一致。")
    elif member.disability_certificate or member.disability_category or member.disability_grade:
        errors.setdefault("health", []).append("填写了残疾信息的成员，健康状况应选“残疾”。")
    if member.health == Health.SERIOUS and not member.illness:
        errors.setdefault("illness", []).append("患大病的成员须填写疾病名称。")
    if errors:
        raise ValidationError(errors)


def _check_single_head(members: Iterable[Member]) -> None:
    heads = sum(1 for m in members if m.relationship == Relationship.HEAD)
    if heads != 1:
        raise ValidationError({"relationship": f"每户必须有且只有一位户主，当前为{heads}位。"})


def _save_member(member: Member) -> None:
    try:
        # The savepoint keeps the outer transaction usable when the unique index settles a race.
        with transaction.atomic():
            member.save()
    except IntegrityError:
        duplicate = _duplicate_id_error(member.id_number, exclude_pk=member.pk)
        if duplicate:
            raise duplicate from None
        raise


@transaction.atomic
def household_create(*, user, village: Division, data: dict, members: list[dict]) -> Household:
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
            _clean_member(member)
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
        _save_member(member)
    return household


def _format_member_error(error: dict) -> str:
    parts = [f"{msg}" for key, msgs in error.items() if key != "index" for msg in msgs]
    return f"第{error['index'] + 1}位成员：" + "；".join(parts)


@transaction.atomic
def household_update(*, user, household: Household, data: dict, version: int | None = None) -> Household:
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


@transaction.atomic
def member_create(*, user, household: Household, data: dict) -> Member:
    ensure_can_edit_registry(user=user, village=household.village)
    Household.objects.select_for_update().filter(pk=household.pk).first()  # serialise head checks
    member = Member(household=household, **{k: v for k, v in data.items() if k in MEMBER_FIELDS})
    _clean_member(member)
    if member.relationship == Relationship.HEAD and household.members.filter(relationship=Relationship.HEAD).exists():
        raise ValidationError({"relationship": "该户已有户主，请先修改原户主的与户主关系。"})
    _save_member(member)
    return member


@transaction.atomic
def member_update(*, user, member: Member, data: dict) -> Member:
    ensure_can_edit_registry(user=user, village=member.household.village)
    Household.objects.select_for_update().filter(pk=member.household_id).first()
    member = Member.objects.select_for_update().get(pk=member.pk)
    for field, value in data.items():
        if field in MEMBER_FIELDS:
            setattr(member, field, value)
    _clean_member(member)
    others = list(member.household.members.exclude(pk=member.pk))
    _check_single_head([*others, member])
    _save_member(member)
    return member


@transaction.atomic
def member_delete(*, user, member: Member) -> None:
    ensure_can_edit_registry(user=user, village=member.household.village)
    if member.relationship == Relationship.HEAD:
        raise ValidationError("不能删除户主。请先将其他成员设为户主。")
    member.delete()


@transaction.atomic
def account_items_set(
    *,
    user,
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


def sensitive_access_record(*, user, households: list, via: str, reason: str = "") -> None:
    """Let `user` see these households' full ID numbers and bank account, and log it (who, whose, when).
    Only holders of households.view_sensitive; everyone else sees masked values everywhere."""
    if not user.has_perm("households.view_sensitive"):
        raise PermissionDenied("您没有查看完整身份证号和银行账号的权限。")
    now = clock.now()
    SensitiveAccess.objects.bulk_create(
        SensitiveAccess(user=user, household=household, at=now, via=via, reason=reason[:128])
        for household in households
    )
