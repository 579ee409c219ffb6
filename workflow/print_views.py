"""Print pages (#13 point 16): what a village posts and has signed, laid out for A4 paper — the 公示名单 of a
village, and per case the 承诺授权书, the 民主评议 sign-in sheet and the 信息采集表.

Read like the case pages: a case through `scoped_case` (`.for_user`, another village's case is a 404), a
village through `Division.objects.for_user`; the roles that read cases only (`ensure_case_reader`). ID
numbers are always masked (`fpr.sensitive`): a notice on the village board never carries a full one, and
a sheet to be signed needs none. The page's 「打印」 button is static/js/print.js (no inline script).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from fpr import clock
from fpr.periods import accounting_year
from fpr.roles import Role, ensure_case_reader
from households.models import (
    GUARANTEE_ITEMS,
    HOUSING_LABEL,
    WATER_LABEL,
    Division,
    HousingSafety,
    Level,
    Relationship,
    User,
)
from households.selectors import income_summary
from monitoring.cases.selectors import scoped_case
from monitoring.models import APPRAISAL_STAGES, ELIMINATION_STAGES, NOTICE_STAGES, MonitoringCase
from workflow.selectors import case_timeline

GUARANTEES = (*(label for _, label in GUARANTEE_ITEMS), HOUSING_LABEL, WATER_LABEL)
# seeds/002 二、3 and 三、3: who sits on the appraisal (评议代表).
IDENTIFICATION_PANEL = "村（居）“两委”成员、驻村工作队员、申请农户所在村民小组党员代表及村民小组长"
ELIMINATION_PANEL = "村支两委干部、驻村工作队、结对帮扶干部、村民代表"
SIGNIN_ROWS = 20


def _contacts(village: Division) -> dict:
    """Where to object: the village's cadres and the township's reviewers, with their work numbers."""

    def people(division, role):
        if division is None:
            return []
        users = User.objects.filter(division=division, is_active=True, groups__name=Role(role).label)
        return [(u.full_name or u.username, u.phone) for u in users.order_by("pk").distinct()]

    township = village.parent if village.parent_id else None
    return {
        "village_contacts": people(village, Role.VILLAGE_CADRE),
        "township": township,
        "township_contacts": people(township, Role.TOWNSHIP_REVIEWER),
    }


@login_required
def notice_list(request, village_pk: str):
    """公示名单: the village's cases now in 公示 (identification or elimination), one row each."""
    ensure_case_reader(request.user, "公示名单")
    village = get_object_or_404(Division.objects.for_user(request.user), pk=village_pk, level=Level.VILLAGE)
    cases = (
        MonitoringCase.objects.for_user(request.user)
        .filter(village=village, stage__in=NOTICE_STAGES)
        .select_related("household")
        .prefetch_related("risk_categories", "notices", "household__members")
        .order_by("household__number", "pk")
    )
    rows = []
    for case in cases:
        notice = case.notices.all()[0] if case.notices.all() else None  # newest first (Meta.ordering)
        head = next((m for m in case.household.members.all() if m.relationship == Relationship.HEAD), None)
        rows.append({"case": case, "head": head, "notice": notice, "elimination": case.stage in ELIMINATION_STAGES})
    context = {"village": village, "rows": rows, "today": clock.today(), **_contacts(village)}
    return render(request, "workflow/print/notice_list.html", context)


def _members(case: MonitoringCase) -> list:
    return list(case.household.members.order_by("pk"))


@login_required
def case_print(request, pk: int, doc: str):
    case = scoped_case(request, pk)
    ensure_case_reader(request.user, "监测对象")
    members = _members(case)
    head = next((m for m in members if m.relationship == Relationship.HEAD), None)
    context = {"case": case, "household": case.household, "members": members, "head": head, "today": clock.today()}
    if doc == "authorization":
        template = "workflow/print/authorization.html"
    elif doc == "signin":
        template = "workflow/print/signin.html"
        elimination = case.stage in ELIMINATION_STAGES
        appraisal = case.appraisals.filter(round=case.stage_round).first() if case.stage in APPRAISAL_STAGES else None
        context.update(
            elimination=elimination,
            panel=ELIMINATION_PANEL if elimination else IDENTIFICATION_PANEL,
            appraisal=appraisal,
            blank_rows=range(1, SIGNIN_ROWS + 1),
        )
    elif doc == "collection":
        template = "workflow/print/collection.html"
        context.update(_collection(case))
    else:
        raise Http404
    return render(request, template, context)


def _collection(case: MonitoringCase) -> dict:
    """信息采集表, as the XLSX form (reports.exports.paper_forms.write_collection_form): the figures collected at the
    identification visit when there is one, else the household's current accounting."""
    household = case.household
    visits = [e for e in case_timeline(case=case) if e.kind == "verification" and not e.title.startswith("风险消除·")]
    visit = visits[-1] if visits else None
    collected = visit.details["collected"] if visit else {}
    year = collected.get("year") or accounting_year()
    live = income_summary(household=household, year=year)

    def amount(key, fallback):
        return collected.get(key) if visit else fallback

    unmet = set(collected.get("guarantees_unmet", household.guarantees_unmet) if visit else household.guarantees_unmet)
    water = collected.get("water_problems", household.water_problems) if visit else household.water_problems
    housing = household.get_housing_safety_display() if household.housing_safety != HousingSafety.SAFE else "安全"
    guarantees = []
    for name in GUARANTEES:
        note = ""
        if name == HOUSING_LABEL:
            note = housing
        elif name == WATER_LABEL and water:
            note = f"{'、'.join(water)}不达标"
        guarantees.append((name, name not in unmet, note))
    return {
        "visit": visit,
        "year": year,
        "income": [
            ("工资性收入", amount("wage", live.wage)),
            ("生产经营性净收入", amount("business_net", live.business_net)),
            ("财产性收入", amount("property", live.property_income)),
            ("转移性收入", amount("transfers", live.transfer_total)),
            ("家庭纯收入", amount("net_total", live.net_total)),
            ("人均纯收入", amount("per_capita", live.per_capita)),
            ("监测范围", amount("monitoring_line", live.monitoring_line)),
        ],
        "guarantees": guarantees,
    }
