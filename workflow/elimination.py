"""风险消除程序 — the risk-elimination workflow as data, on the same engine as identification
(SPEC §3.2; seeds/002 "风险消除程序"; seeds/004 §五 "七个不消").

监测中 → 提出名单 → 入户核实 (帮扶措施落实情况表) → 民主评议 → 公示 7 天 (风险消除评估表) → 镇街审核 → 县级审定
→ 风险消除; 风险消除 → (new risk) reopened into 入户核实 of the identification chain.
The "七个不消" rules are evaluated at the proposal and again at county approval.
"""

from assistance.models import Measure
from assistance.rules import APPROVAL, PROPOSAL, EliminationCheck, elimination_check
from fpr import clock
from fpr.roles import Level
from monitoring.models import Stage
from workflow import guards
from workflow.engine import GuardContext, Input, Transition, Workflow
from workflow.identification import COUNTY, COUNTY_APPROVAL_INPUTS, NOTICE_INPUTS, TOWNSHIP, VILLAGE, start_notice


def rules_check(case, ctx: GuardContext, moment: str) -> EliminationCheck:
    """The "七个不消" rules at `moment`, evaluated once per guard context (kept in `ctx.memo`)."""
    key = ("elimination_check", case.pk, moment)
    if key not in ctx.memo:
        ctx.memo[key] = elimination_check(case, moment=moment, today=ctx.today)
    return ctx.memo[key]


def rules_pass_at_proposal(case, ctx):
    return rules_check(case, ctx, PROPOSAL).reasons


def rules_pass_at_approval(case, ctx):
    return rules_check(case, ctx, APPROVAL).reasons


def _snapshot_measures(case, ctx, event) -> None:
    """帮扶措施落实情况表: the measures as the verification team found them, kept with the event."""
    rows = Measure.objects.filter(plan__case=case).select_related("category", "risk_category")
    event.data["measures"] = [
        {
            "category": m.category.name,
            "risk": m.risk_category.name,
            "description": m.description,
            "amount": str(m.amount),
            "starts_on": m.starts_on.isoformat(),
            "status": m.get_status_display(),
            "effect": m.get_effect_display(),
        }
        for m in rows
    ]
    event.save(update_fields=["data"])


def _snapshot_assessment(case, ctx, event) -> None:
    """风险消除评估表: every rule and its result, as the county decided on them."""
    check = elimination_check(case, moment=APPROVAL, today=ctx.today)
    event.data["assessment"] = [
        {"code": r.code, "rule": r.name, "condition": r.condition, "passed": r.passed, "findings": r.findings}
        for r in check.results
    ]
    event.save(update_fields=["data"])
    case.eliminated_on = clock.today()


def _reopen(case, ctx, event) -> None:
    case.eliminated_on = None


ELIMINATION = Workflow(
    name="elimination",
    label="风险消除程序",
    states=dict(Stage.choices),
    transitions=(
        Transition(
            "propose_elimination",
            "提出风险消除",
            sources=(Stage.MONITORING,),
            target=Stage.ELIM_VERIFICATION,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(rules_pass_at_proposal,),
            inputs=(Input("opinion", "研判意见"),),
            button="提出拟消除风险名单",
        ),
        Transition(
            "complete_elim_verification",
            "风险消除入户核实完成",
            sources=(Stage.ELIM_VERIFICATION,),
            target=Stage.ELIM_APPRAISAL,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.verification_complete,),
            effect=_snapshot_measures,
            button="核实完成，进入民主评议",
        ),
        Transition(
            "start_elim_notice",
            "评议通过，开始风险消除公示",
            sources=(Stage.ELIM_APPRAISAL,),
            target=Stage.ELIM_NOTICE,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.appraisal_passed, guards.notice_inputs_valid),
            inputs=NOTICE_INPUTS,
            effect=start_notice,
            button="开始公示",
        ),
        Transition(
            "elim_appraisal_reject",
            "评议未通过，继续监测帮扶",
            sources=(Stage.ELIM_APPRAISAL,),
            target=Stage.MONITORING,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.appraisal_failed,),
            inputs=(Input("opinion", "原因"),),
            style="secondary",
        ),
        Transition(
            "submit_elim_to_township",
            "公示期满，报镇街审核",
            sources=(Stage.ELIM_NOTICE,),
            target=Stage.ELIM_TOWNSHIP,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.notice_completed, guards.no_pending_objection),
            button="报镇街审核",
        ),
        Transition(
            "elim_objection_return",
            "异议属实，退回入户核实",
            sources=(Stage.ELIM_NOTICE,),
            target=Stage.ELIM_VERIFICATION,
            roles=VILLAGE,
            level=Level.VILLAGE,
            guards=(guards.has_substantiated_objection,),
            inputs=(Input("opinion", "意见"),),
            style="secondary",
        ),
        Transition(
            "township_approve_elim",
            "镇街审核同意消除",
            sources=(Stage.ELIM_TOWNSHIP,),
            target=Stage.ELIM_COUNTY,
            roles=TOWNSHIP,
            level=Level.TOWNSHIP,
            inputs=(Input("opinion", "审核意见"),),
            button="审核同意，报县级审定",
            bulk=True,
        ),
        Transition(
            "township_return_elim",
            "镇街退回，继续监测帮扶",
            sources=(Stage.ELIM_TOWNSHIP,),
            target=Stage.MONITORING,
            roles=TOWNSHIP,
            level=Level.TOWNSHIP,
            inputs=(Input("opinion", "退回原因"),),
            style="secondary",
            button="退回村级",
        ),
        Transition(
            "county_approve_elim",
            "县级审定，标注风险消除",
            sources=(Stage.ELIM_COUNTY,),
            target=Stage.ELIMINATED,
            roles=COUNTY,
            level=Level.COUNTY,
            guards=(rules_pass_at_approval,),
            inputs=COUNTY_APPROVAL_INPUTS,
            effect=_snapshot_assessment,
            button="审定通过，标注风险消除",
            bulk=True,
        ),
        Transition(
            "county_return_elim",
            "县级退回镇街",
            sources=(Stage.ELIM_COUNTY,),
            target=Stage.ELIM_TOWNSHIP,
            roles=COUNTY,
            level=Level.COUNTY,
            inputs=(Input("opinion", "退回原因"),),
            style="secondary",
            button="退回镇街",
        ),
        Transition(
            "county_refuse_elim",
            "县级不同意消除，继续监测帮扶",
            sources=(Stage.ELIM_COUNTY,),
            target=Stage.MONITORING,
            roles=COUNTY,
            level=Level.COUNTY,
            inputs=(Input("opinion", "不同意原因"),),
            style="danger",
            button="不同意消除",
        ),
        Transition(
            "reopen",
            "出现新风险，重新纳入监测",
            sources=(Stage.ELIMINATED,),
            target=Stage.VERIFICATION,
            roles=VILLAGE,
            level=Level.VILLAGE,
            inputs=(Input("opinion", "新的风险情况"),),
            effect=_reopen,
            style="secondary",
            button="重新纳入（返贫致贫风险）",
        ),
    ),
)
