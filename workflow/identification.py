"""识别程序 — the identification workflow as data (SPEC §3.1, seeds/002 "防返贫监测对象识别及风险消除程序").

application → verification → appraisal → notice (7 days) → township review → county approval → monitoring
"""

from fpr import clock
from fpr.roles import Level, Role
from monitoring.models import NOTICE_DAYS, Notice, Stage
from workflow import guards
from workflow.engine import Input, Transition, Workflow

VILLAGE = frozenset({Role.VILLAGE_CADRE})
TOWNSHIP = frozenset({Role.TOWNSHIP_REVIEWER})
COUNTY = frozenset({Role.COUNTY_REVIEWER})

OPINION = Input("opinion", "意见")
REASON = Input("opinion", "原因")


# Inputs and effects shared with the elimination table (workflow/elimination.py).
NOTICE_INPUTS = (Input("starts_on", "公示开始日期", "date"), Input("place", "公示地点"))
COUNTY_APPROVAL_INPUTS = (Input("opinion", "审定意见"), Input("comparison", "部门信息比对及会商研判结果"))


def start_notice(case, ctx, event) -> None:
    """公示 starts: the notice record holds the dates the 7-day guard reads."""
    Notice.objects.create(case=case, starts_on=ctx.inputs["starts_on"], place=ctx.inputs["place"], recorded_by=ctx.user)


def _close(case, ctx, event) -> None:
    case.is_open = False
    case.closed_on = clock.today()
    case.close_reason = ctx.inputs.get("opinion", "")


def _identify(case, ctx, event) -> None:
    case.identified_on = clock.today()


IDENTIFICATION = Workflow(
    name="identification",
    label="识别程序",
    states=dict(Stage.choices),
    transitions=(
        Transition(
            "submit_application",
            "提交申请",
            sources=(Stage.APPLICATION,),
            target=Stage.VERIFICATION,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.has_description, guards.has_authorization),
            button="提交，进入入户核实",
        ),
        Transition(
            "complete_verification",
            "入户核实完成",
            sources=(Stage.VERIFICATION,),
            target=Stage.APPRAISAL,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.verification_complete,),
            button="核实完成，进入民主评议",
        ),
        Transition(
            "start_notice",
            "评议通过，开始公示",
            sources=(Stage.APPRAISAL,),
            target=Stage.NOTICE,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.appraisal_passed, guards.notice_inputs_valid),
            inputs=NOTICE_INPUTS,
            effect=start_notice,
            button="开始公示",
        ),
        Transition(
            "appraisal_reject",
            "评议未通过，不予纳入",
            sources=(Stage.APPRAISAL,),
            target=Stage.REJECTED,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.appraisal_failed,),
            inputs=(REASON,),
            effect=_close,
            style="danger",
        ),
        Transition(
            "submit_to_township",
            "公示期满，报镇街审核",
            sources=(Stage.NOTICE,),
            target=Stage.TOWNSHIP_REVIEW,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.notice_completed, guards.no_pending_objection),
            button="报镇街审核",
        ),
        Transition(
            "objection_return",
            "异议属实，退回入户核实",
            sources=(Stage.NOTICE,),
            target=Stage.VERIFICATION,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.has_substantiated_objection,),
            inputs=(OPINION,),
            style="secondary",
        ),
        Transition(
            "township_approve",
            "镇街审核通过",
            sources=(Stage.TOWNSHIP_REVIEW,),
            target=Stage.COUNTY_APPROVAL,
            roles=TOWNSHIP,
            level=Level.TOWNSHIP,
            inputs=(Input("opinion", "复核意见"),),
            button="审核通过，报县级审定",
            bulk=True,
        ),
        # 退回: the reviewer chooses what must be redone, so a small correction does not cost a new
        # verification, appraisal and 7-day notice (RETURN_REQUESTS says what the village is asked).
        Transition(
            "township_return",
            "镇街退回补充材料",
            sources=(Stage.TOWNSHIP_REVIEW,),
            target=Stage.SUPPLEMENT,
            roles=TOWNSHIP,
            level=Level.TOWNSHIP,
            inputs=(Input("opinion", "须补充的材料及原因"),),
            style="secondary",
            button="退回补充材料",
        ),
        Transition(
            "township_verification_return",
            "镇街退回重新入户核实",
            sources=(Stage.TOWNSHIP_REVIEW,),
            target=Stage.VERIFICATION,
            roles=TOWNSHIP,
            level=Level.TOWNSHIP,
            inputs=(Input("opinion", "退回原因"),),
            style="secondary",
            button="退回重新入户核实",
        ),
        Transition(
            "township_appraisal_return",
            "镇街退回重新评议公示",
            sources=(Stage.TOWNSHIP_REVIEW,),
            target=Stage.APPRAISAL,
            roles=TOWNSHIP,
            level=Level.TOWNSHIP,
            inputs=(Input("opinion", "退回原因"),),
            style="secondary",
            button="退回重新评议公示",
        ),
        Transition(
            "submit_supplement",
            "补充材料，报镇街审核",
            sources=(Stage.SUPPLEMENT,),
            target=Stage.TOWNSHIP_REVIEW,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.has_description, guards.has_authorization),
            inputs=(Input("opinion", "补充情况说明"),),
            button="已补充，报镇街审核",
        ),
        Transition(
            "township_reject",
            "镇街审核不予纳入",
            sources=(Stage.TOWNSHIP_REVIEW,),
            target=Stage.REJECTED,
            roles=TOWNSHIP,
            level=Level.TOWNSHIP,
            inputs=(Input("opinion", "不予纳入原因"),),
            effect=_close,
            style="danger",
            button="不予纳入",
        ),
        Transition(
            "county_approve",
            "县级审定，确定为监测对象",
            sources=(Stage.COUNTY_APPROVAL,),
            target=Stage.MONITORING,
            roles=COUNTY,
            level=Level.COUNTY,
            inputs=COUNTY_APPROVAL_INPUTS,
            effect=_identify,
            button="审定通过，纳入监测",
            bulk=True,
        ),
        Transition(
            "county_return",
            "县级退回镇街",
            sources=(Stage.COUNTY_APPROVAL,),
            target=Stage.TOWNSHIP_REVIEW,
            roles=COUNTY,
            level=Level.COUNTY,
            inputs=(Input("opinion", "退回原因"),),
            style="secondary",
            button="退回镇街",
        ),
        Transition(
            "county_reject",
            "县级审定不予纳入",
            sources=(Stage.COUNTY_APPROVAL,),
            target=Stage.REJECTED,
            roles=COUNTY,
            level=Level.COUNTY,
            inputs=(Input("opinion", "不予纳入原因"),),
            effect=_close,
            style="danger",
            button="不予纳入",
        ),
    ),
)

# What the village is asked to do after each kind of return, shown with the reviewer's reason on the
# case page, in the village's queue and in the API (`return_request`).
RETURN_REQUESTS = {
    "township_return": "补充镇街要求的材料（可上传附件、修改申请信息），填写补充情况说明后直接报镇街审核，"
    "无需重新入户核实、评议和公示。",
    "township_verification_return": f"重新入户核实并填写信息采集表，再经民主评议和{NOTICE_DAYS}天公示后报镇街审核。",
    "township_appraisal_return": f"重新召开民主评议会并公示{NOTICE_DAYS}天后报镇街审核，本轮入户核实无需重做。",
}
