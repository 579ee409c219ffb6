"""Guards of the identification workflow. Each returns None or the reason, in Chinese, that the step
cannot be taken yet — the same text the page, the API and a bulk result show."""

from monitoring.cases.services import current_notice, distinct_verifiers
from monitoring.models import MIN_VERIFIERS, NOTICE_DAYS, ObjectionStatus


def has_authorization(case, ctx) -> str | None:
    missing = []
    if not case.authorization_signed_on:
        missing.append("签署日期")
    if not case.authorization_scan:
        missing.append("扫描件")
    if missing:
        return f"缺少《防止返贫监测对象个人申请及承诺授权书》的{'和'.join(missing)}，不能进入下一环节。"
    return None


def has_description(case, ctx) -> str | None:
    return None if case.description.strip() else "请填写困难情况描述。"


def _this_round(records, case):
    return records.filter(round=case.stage_round).order_by("-id")


def verification_complete(case, ctx) -> str | None:
    verification = _this_round(case.verifications, case).prefetch_related("verifiers").first()
    if verification is None:
        return "尚未填写本次入户核实记录（信息采集表）。"
    team = [{"user_id": v.user_id, "name": v.name} for v in verification.verifiers.all()]
    if distinct_verifiers(team) < MIN_VERIFIERS:  # a user and the same person typed by name count once
        return f"入户核实组不少于{MIN_VERIFIERS}名不同的人员。"
    if not verification.collected.get("has_income_items"):
        return f"信息采集表缺少{verification.collected.get('year')}年收入测算，请先填写收入明细后重新核实。"
    return None


def _latest_appraisal(case):
    return _this_round(case.appraisals, case).first()


def appraisal_passed(case, ctx) -> str | None:
    appraisal = _latest_appraisal(case)
    if appraisal is None:
        return "尚未填写民主评议记录。"
    if not appraisal.passed:
        return "民主评议未通过，不能进入公示。"
    return None


def appraisal_failed(case, ctx) -> str | None:
    appraisal = _latest_appraisal(case)
    if appraisal is None:
        return "尚未填写民主评议记录。"
    if appraisal.passed:
        return "民主评议已通过，应进入公示。"
    return None


def notice_inputs_valid(case, ctx) -> str | None:
    starts_on = ctx.inputs.get("starts_on")
    if starts_on and ctx.today and starts_on > ctx.today:
        return "公示开始日期不能晚于今天。"
    appraisal = _latest_appraisal(case)
    if starts_on and appraisal and starts_on < appraisal.meeting_date:
        return "公示开始日期不能早于民主评议日期。"
    return None


def notice_completed(case, ctx) -> str | None:
    notice = current_notice(case)
    if notice is None:
        return "尚未公示。"
    remaining = (notice.may_advance_on - ctx.today).days
    if remaining > 0:
        return (
            f"公示期为{NOTICE_DAYS}天（{notice.starts_on:%Y-%m-%d} 至 {notice.ends_on:%Y-%m-%d}），"
            f"还需等待{remaining}天，{notice.may_advance_on:%Y-%m-%d} 起可报镇街审核。"
        )
    return None


def no_pending_objection(case, ctx) -> str | None:
    notice = current_notice(case)
    if notice is None:
        return None
    pending = notice.objections.filter(status=ObjectionStatus.PENDING).count()
    return f"公示期间有{pending}条异议尚未处理。" if pending else None


def has_substantiated_objection(case, ctx) -> str | None:
    notice = current_notice(case)
    if notice and notice.objections.filter(status=ObjectionStatus.SUBSTANTIATED).exists():
        return None
    return "没有经核查属实的异议。"
