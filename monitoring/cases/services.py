"""Writes of monitoring cases and their stage records. Stage changes are not here: they belong to
workflow.services.case_transition alone."""

import datetime as dt
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from fpr import clock
from fpr.roles import Role
from fpr.uploads import validate_attachment
from households.models import Household, User
from households.selectors import income_summary
from monitoring.cases.classification import suggest_classification
from monitoring.models import (
    APPRAISAL_STAGES,
    MIN_VERIFIERS,
    NOTICE_STAGES,
    VERIFICATION_STAGES,
    Appraisal,
    CaseType,
    Channel,
    Classification,
    MonitoringCase,
    Notice,
    Objection,
    ObjectionStatus,
    RiskCategory,
    RiskColour,
    Stage,
    Verification,
    Verifier,
)

APPRAISAL_ROLES = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "结对帮扶干部", "村民代表", "镇街干部"]


def ensure_village_actor(*, user: User, case: MonitoringCase) -> None:
    """The procedure puts the village steps on the village's own cadres (村两委 and 驻村工作队)."""
    if not user.has_role(Role.VILLAGE_CADRE):
        raise PermissionDenied("只有村级干部可以办理村级环节。")
    if not case.village_id.startswith(user.jurisdiction_prefix or "-"):
        raise PermissionDenied("该农户不在您的管辖范围内。")


def _ensure_stage(case: MonitoringCase, *stages: str) -> None:
    if case.stage not in stages:
        names = "、".join(dict.fromkeys(Stage(s).label.removeprefix("风险消除·") for s in stages))
        raise ValidationError(f"该监测对象当前处于“{case.get_stage_display()}”环节，只能在“{names}”环节填写此项。")


def _collect_file_errors(upload, field: str, errors: dict) -> None:
    """Add the file's problem (type, size) to `errors`, so it is told together with the others."""
    if upload is None:
        return
    try:
        validate_attachment(upload)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)


def _collect(errors: dict, check) -> None:
    """Run a check that raises ValidationError and add its messages to `errors` instead."""
    try:
        check()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)


def _risk_categories(codes: list[str]) -> list[RiskCategory]:
    categories = list(RiskCategory.objects.filter(code__in=codes))
    if not codes or len(categories) != len(set(codes)):
        raise ValidationError({"risk_categories": "请至少选择一个有效的风险类型。"})
    return categories


NOT_AN_APPLICATION_CHANNEL = "“原系统导入”不是申请的发现渠道，请选择农户自主申报、干部排查或部门预警等。"


@transaction.atomic
def case_create(
    *,
    user: User,
    household: Household,
    case_type: str,
    risk_categories: list[str],
    channel: str,
    description: str,
    colour: str = "",
    authorization_signed_on: dt.date | None = None,
    authorization_scan=None,
) -> MonitoringCase:
    """提交申请: open a case for a household (by the household, or by a cadre on its behalf)."""
    case = MonitoringCase(
        household=household,
        village_id=household.village_id,
        case_type=case_type,
        channel=channel,
        description=description,
        colour=colour,
        authorization_signed_on=authorization_signed_on,
        stage=Stage.APPLICATION,
        stage_entered_at=clock.now(),
        created_by=user,
    )
    ensure_village_actor(user=user, case=case)
    # Every problem of the form at once: the scan, the fields and the risk types in one round.
    errors: dict[str, list[str]] = {}
    _collect_file_errors(authorization_scan, "authorization_scan", errors)
    if authorization_scan is not None and not errors:
        case.authorization_scan = authorization_scan
    _collect(errors, lambda: case.full_clean(exclude=["household", "village", "created_by", "authorization_scan"]))
    if channel == Channel.IMPORTED:  # only the onboarding import creates such cases (workflow.onboarding.cases)
        errors.setdefault("channel", []).append(NOT_AN_APPLICATION_CHANNEL)
    categories: list[RiskCategory] = []
    _collect(errors, lambda: categories.extend(_risk_categories(risk_categories)))
    if errors:
        raise ValidationError(errors)
    if MonitoringCase.objects.open().filter(household=household).exists():
        raise ValidationError(f"农户 {household.number} 已有在办或监测中的案件，不能重复申请。")
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:  # a concurrent application for the same household won the race
        raise ValidationError(f"农户 {household.number} 已有在办或监测中的案件，不能重复申请。") from None
    case.risk_categories.set(categories)
    return case


@transaction.atomic
def case_update_application(*, user: User, case: MonitoringCase, **fields) -> MonitoringCase:
    """Complete or correct the application while it is still with the village, or when the township
    returned it for missing materials (补充材料)."""
    case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
    ensure_village_actor(user=user, case=case)
    _ensure_stage(case, Stage.APPLICATION, Stage.SUPPLEMENT)
    scan = fields.pop("authorization_scan", None)
    errors: dict[str, list[str]] = {}
    _collect_file_errors(scan, "authorization_scan", errors)
    codes = fields.pop("risk_categories", None)
    for name in ("case_type", "channel", "description", "colour", "authorization_signed_on"):
        if name in fields:
            setattr(case, name, fields[name])
    if scan is not None and not errors:
        case.authorization_scan = scan
    _collect(errors, lambda: case.full_clean(exclude=["household", "village", "created_by", "authorization_scan"]))
    if fields.get("channel") == Channel.IMPORTED:
        errors.setdefault("channel", []).append(NOT_AN_APPLICATION_CHANNEL)
    categories: list[RiskCategory] = []
    if codes is not None:
        _collect(errors, lambda: categories.extend(_risk_categories(codes)))
    if errors:
        raise ValidationError(errors)
    case.save()
    if codes is not None:
        case.risk_categories.set(categories)
    return case


def _person_name(name: str) -> str:
    """A name as typed, compared: full-width made half-width, spaces removed ("陈 志强" is 陈志强)."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def verifier_team(verifiers: list[dict]) -> tuple[int, list[str]]:
    """(how many distinct people, the names entered more than once). A system user is one person
    however often picked; a typed name is that user when it is the user's name (full name, or the
    username when there is none) or the name given with the user; two typed entries of one name are
    one person (nothing else tells them apart). Two users who share a full name stay two people."""
    user_ids = list(dict.fromkeys(v["user_id"] for v in verifiers if v.get("user_id")))
    display = {pk: str(user) for pk, user in get_user_model().objects.in_bulk(user_ids).items()}
    known = {}  # name → user id, for the typed entries
    duplicates: list[str] = []
    picked: set = set()
    for v in verifiers:
        if not v.get("user_id"):
            continue
        name = display.get(v["user_id"]) or v.get("name", "")
        if v["user_id"] in picked:
            duplicates.append(name.strip())
        picked.add(v["user_id"])
        for alias in (display.get(v["user_id"], ""), v.get("name", "")):
            if _person_name(alias):
                known[_person_name(alias)] = v["user_id"]
    typed: set[str] = set()
    for v in verifiers:
        name = _person_name(v.get("name", ""))
        if v.get("user_id") or not name:
            continue
        if name in known or name in typed:
            duplicates.append(v["name"].strip())
        typed.add(name)
    return len(picked) + len(typed - set(known)), list(dict.fromkeys(duplicates))


def distinct_verifiers(verifiers: list[dict]) -> int:
    return verifier_team(verifiers)[0]


def verifier_team_problem(verifiers: list[dict]) -> str | None:
    """Why this team cannot verify, in Chinese, or None: one person entered twice, or fewer than two."""
    people, duplicates = verifier_team(verifiers)
    if duplicates:
        enough = (
            "请删除重复的一项。"
            if people >= MIN_VERIFIERS
            else f"入户核实组不少于{MIN_VERIFIERS}人，请删除重复的一项并补充其他核实人员。"
        )
        return (
            f"核实人员“{'”“'.join(duplicates)}”重复填写：勾选的系统用户与手填的同名人员、或同一人填写两次，"
            f"都只算一人。{enough}"
        )
    if people < MIN_VERIFIERS:
        return f"入户核实组不少于{MIN_VERIFIERS}人，请填写至少两名不同的核实人员。"
    return None


def collect_information(*, household: Household, year: int) -> dict:
    """信息采集表: income accounting for the year, 两不愁三保障 and water, as they stand now."""
    summary = income_summary(household=household, year=year)
    return {
        "year": year,
        "size": summary.size,
        "wage": str(summary.wage),
        "business_net": str(summary.business_net),
        "property": str(summary.property_income),
        "transfers": str(summary.transfer_total),
        "net_total": str(summary.net_total),
        "per_capita": str(summary.per_capita) if summary.per_capita is not None else None,
        "monitoring_line": str(summary.monitoring_line) if summary.monitoring_line is not None else None,
        "expenditure_total": str(summary.expenditure_total),
        "has_income_items": summary.has_items,
        "guarantees_unmet": household.guarantees_unmet,
        "water_problems": household.water_problems,
    }


@transaction.atomic
def verification_record(
    *,
    user: User,
    case: MonitoringCase,
    visit_date: dt.date,
    verifiers: list[dict],
    findings: str,
    risk_points: str,
    year: int,
) -> Verification:
    """入户核实: a team of at least two distinct people; verifiers are users (user_id) or named cadres."""
    case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
    ensure_village_actor(user=user, case=case)
    _ensure_stage(case, *VERIFICATION_STAGES)
    errors: dict[str, list[str]] = {}  # every problem at once, not one round each
    if problem := verifier_team_problem(verifiers):
        errors["verifiers"] = [problem]
    if visit_date > clock.today():
        errors["visit_date"] = ["入户日期不能晚于今天。"]
    if errors:
        raise ValidationError(errors)
    verification = Verification(
        case=case,
        round=case.stage_round,
        visit_date=visit_date,
        findings=findings,
        risk_points=risk_points,
        collected=collect_information(household=case.household, year=year),
        recorded_by=user,
    )
    verification.full_clean(exclude=["case", "recorded_by", "round"])
    verification.save()
    Verifier.objects.bulk_create(
        Verifier(verification=verification, user_id=v.get("user_id"), name=v["name"].strip(), unit=v.get("unit", ""))
        for v in verifiers
        if v.get("name", "").strip()
    )
    return verification


def appraisal_passes(*, participants: int, votes_for: int) -> bool:
    return participants >= settings.FPR_APPRAISAL_QUORUM and votes_for > settings.FPR_APPRAISAL_MAJORITY * participants


@transaction.atomic
def appraisal_record(
    *,
    user: User,
    case: MonitoringCase,
    meeting_date: dt.date,
    participants: list[dict],
    votes_for: int,
    votes_against: int,
    votes_abstain: int,
    minutes_scan,
) -> Appraisal:
    """民主评议: the result is derived from the quorum and majority, never typed in."""
    case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
    ensure_village_actor(user=user, case=case)
    _ensure_stage(case, *APPRAISAL_STAGES)
    participants = [p for p in participants if p.get("name", "").strip()]
    errors: dict[str, str | list[str]] = {}
    unknown = sorted({p.get("role", "") for p in participants} - set(APPRAISAL_ROLES))
    if unknown:
        errors["participants"] = f"参会人员身份不正确：{'、'.join(unknown) or '未填写'}。"
    if min(votes_for, votes_against, votes_abstain) < 0:
        errors["votes_for"] = "票数不能为负数。"
    elif votes_for + votes_against + votes_abstain != len(participants):
        errors["votes_for"] = (
            f"同意、反对、弃权票合计{votes_for + votes_against + votes_abstain}票，"
            f"与参会人数{len(participants)}人不一致。"
        )
    if minutes_scan is None:
        errors["minutes_scan"] = "请上传参会人员签字的会议记录扫描件。"
    if meeting_date > clock.today():
        errors["meeting_date"] = "评议日期不能晚于今天。"
    file_errors: dict[str, list[str]] = {}
    _collect_file_errors(minutes_scan, "minutes_scan", file_errors)
    errors.update(file_errors)  # the scan's type or size is told with the other problems
    if errors:
        raise ValidationError(errors)
    appraisal = Appraisal.objects.create(
        case=case,
        round=case.stage_round,
        meeting_date=meeting_date,
        participants=[{"name": p["name"].strip(), "role": p["role"]} for p in participants],
        votes_for=votes_for,
        votes_against=votes_against,
        votes_abstain=votes_abstain,
        passed=appraisal_passes(participants=len(participants), votes_for=votes_for),
        minutes_scan=minutes_scan,
        recorded_by=user,
    )
    return appraisal


def current_notice(case: MonitoringCase) -> Notice | None:
    return case.notices.order_by("-starts_on", "-id").first()


@transaction.atomic
def objection_lodge(
    *, user: User, case: MonitoringCase, lodged_by: str, content: str, lodged_on: dt.date | None = None
):
    """异议 during the notice; it blocks the case until it is resolved."""
    case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
    ensure_village_actor(user=user, case=case)
    _ensure_stage(case, *NOTICE_STAGES)
    notice = current_notice(case)
    lodged_on = lodged_on or clock.today()
    if notice is None or not notice.starts_on <= lodged_on <= notice.ends_on:
        raise ValidationError("异议须在公示期内提出。")
    if not content.strip() or not lodged_by.strip():
        raise ValidationError("请填写异议人和异议内容。")
    return Objection.objects.create(notice=notice, lodged_on=lodged_on, lodged_by=lodged_by.strip(), content=content)


@transaction.atomic
def objection_dismiss(*, user: User, objection: Objection, resolution: str) -> Objection:
    """经核查不属实: the objection no longer blocks the case."""
    objection = Objection.objects.select_for_update().select_related("notice__case").get(pk=objection.pk)
    case = objection.notice.case
    ensure_village_actor(user=user, case=case)
    _ensure_stage(case, *NOTICE_STAGES)
    if objection.status != ObjectionStatus.PENDING:
        raise ValidationError("该异议已处理。")
    if not resolution.strip():
        raise ValidationError({"resolution": "请填写核查情况。"})
    objection.status = ObjectionStatus.DISMISSED
    objection.resolution = resolution
    objection.resolved_by = user
    objection.resolved_at = clock.now()
    objection.save()
    return objection


CLASSIFY_STAGES = (Stage.APPLICATION, Stage.VERIFICATION, Stage.MONITORING)


@transaction.atomic
def case_classify(
    *, user: User, case: MonitoringCase, case_type: str, risk_categories: list[str], colour: str, reason: str = ""
):
    """Confirm or override the classification helper's suggestion; an override needs a reason, and both
    the suggestion and the choice are kept (研判记录)."""
    case = MonitoringCase.objects.select_for_update().select_related("household").get(pk=case.pk)
    ensure_village_actor(user=user, case=case)
    _ensure_stage(case, *CLASSIFY_STAGES)
    categories = _risk_categories(risk_categories)
    if colour and colour not in RiskColour.values:
        raise ValidationError({"colour": "风险等级（颜色）不正确。"})
    if case_type not in CaseType.values:
        raise ValidationError({"case_type": "监测对象类型不正确。"})
    suggestion = suggest_classification(household=case.household).as_dict()
    chosen = {"case_type": case_type, "risk_categories": sorted(risk_categories), "colour": colour}
    overridden = (
        chosen["case_type"] != suggestion["case_type"]
        or chosen["risk_categories"] != sorted(suggestion["risk_categories"])
        or chosen["colour"] != suggestion["colour"]
    )
    if overridden and not reason.strip():
        raise ValidationError({"reason": "与系统建议不一致，请填写调整理由。"})
    case.case_type, case.colour = case_type, colour
    case.save()
    case.risk_categories.set(categories)
    return Classification.objects.create(
        case=case, suggested=suggestion, chosen=chosen, overridden=overridden, reason=reason, decided_by=user
    )
