"""Pages of assistance (帮扶): a monitoring object's "一户一策" plan with its measures, the advice and the
风险消除 check, follow-up visits (走访记录) with photos, and the monthly visit duty (走访任务).

Thin like the case pages: the case is read through `.for_user(request.user)` (another village's case is a
404), a form converts the input, one service writes. Only the village's own cadres write: every POST (and
the measure edit page) asks `ensure_village_actor` first, so a reviewer gets the 403 page with the reason;
the services check it again. Reviewers read the same page without the forms.
"""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from assistance import services
from assistance.advice import plan_advice
from assistance.forms import PLAN_FIELDS, MeasureForm, PlanAdjustForm, PlanForm, VisitForm
from assistance.models import AssistancePlan, MeasureStatus, VisitPhoto
from assistance.rules import NO_LABOUR_ADVICE, PROPOSAL, elimination_check
from assistance.selectors import (
    measure_risks,
    measures_for,
    pairing_cadre_candidates,
    plan_for,
    plan_versions,
    visit_duty,
    visits_for,
)
from fpr import clock
from fpr.forms import SERVICE_ERRORS, apply_service_errors
from fpr.history import differences
from fpr.roles import CASE_READERS, Role
from fpr.uploads import attachment_response
from monitoring.cases.selectors import scoped_case
from monitoring.cases.services import ensure_village_actor
from monitoring.models import MonitoringCase

VERSION_FIELDS = (
    ("situation", "家庭基本情况"),
    ("risk_analysis", "风险分析"),
    ("needs", "农户需求"),
    ("pairing_cadre", "结对帮扶干部"),
)


def _anchor(case: MonitoringCase, section: str) -> str:
    return reverse("assistance:plan", args=[case.pk]) + f"#{section}"


def _may_write(user, case: MonitoringCase) -> bool:
    """Whether to offer the forms; the services decide again when they are posted."""
    try:
        ensure_village_actor(user=user, case=case)
    except PermissionDenied:
        return False
    return case.stage in services.PLAN_STAGES


# --------------------------------------------------------------------------- the plan page


@login_required
def plan_page(request, pk: int):
    return _plan_page(request, scoped_case(request, pk))


def _plan_page(request, case: MonitoringCase, *, bound: dict | None = None):
    """Render the plan page; `bound` holds the form just posted (with its errors), by form key."""
    bound = bound or {}
    user = request.user
    plan = plan_for(user=user, case=case)
    can_write = _may_write(user, case)
    in_plan_stage = case.stage in services.PLAN_STAGES
    check = elimination_check(case, moment=PROPOSAL) if in_plan_stage else None
    candidates = pairing_cadre_candidates(case=case)
    visits = list(visits_for(user=user, case=case))
    today = clock.today()
    context = {
        "case": case,
        "household": case.household,
        "head": next((m.name for m in case.household.heads), ""),
        "risks": list(case.risk_categories.all()),
        "plan": plan,
        "measures": list(plan.measures.all()) if plan else [],
        "versions": _versions(plan) if plan else [],
        "visits": visits,
        "visited_this_month": any(
            v.visited_on.year == today.year and v.visited_on.month == today.month for v in visits
        ),
        "today": today,
        "in_plan_stage": in_plan_stage,
        "can_write": can_write,
        "advice": plan_advice(case=case) if in_plan_stage else [],
        "check": check,
        "failing": check.failures if check else [],
        "no_labour_advice": NO_LABOUR_ADVICE,
    }
    if can_write:
        context["visit_form"] = bound.get("visit") or VisitForm(initial={"visited_on": today})
        if plan is None:
            context["plan_form"] = bound.get("plan") or PlanForm(candidates=candidates)
        else:
            initial = {name: getattr(plan, name) for name in PLAN_FIELDS}
            context["adjust_form"] = bound.get("adjust") or PlanAdjustForm(initial=initial, candidates=candidates)
            context["measure_form"] = bound.get("measure") or MeasureForm(
                risks=measure_risks(case=case), initial={"starts_on": today, "status": MeasureStatus.ACTIVE}
            )
    context["open_form"] = next(iter(bound), "")
    return render(request, "assistance/plan.html", context)


def _versions(plan: AssistancePlan) -> list[dict]:
    """Every version, newest first, each with what its adjustment changed: (label, before, after)."""
    shown, previous = [], None
    for version in plan_versions(plan=plan):
        changes = []
        if previous is not None:
            labels = dict(VERSION_FIELDS)
            changes = [(labels[name], old, new) for name, old, new in differences(previous, version, labels)]
        shown.append({"version": version, "changes": changes})
        previous = version
    return shown[::-1]


@login_required
@require_POST
def plan_create(request, pk: int):
    case = scoped_case(request, pk)
    ensure_village_actor(user=request.user, case=case)
    form = PlanForm(request.POST, candidates=pairing_cadre_candidates(case=case))
    if form.is_valid():
        try:
            services.plan_create(user=request.user, case=case, **form.plan_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "已制定帮扶计划（第1版）。请逐项录入帮扶措施。")
            return redirect(_anchor(case, "measures"))
    return _plan_page(request, case, bound={"plan": form})


@login_required
@require_POST
def plan_adjust(request, pk: int):
    case = scoped_case(request, pk)
    ensure_village_actor(user=request.user, case=case)
    plan = plan_for(user=request.user, case=case)
    if plan is None:
        raise Http404
    form = PlanAdjustForm(request.POST, candidates=pairing_cadre_candidates(case=case))
    if form.is_valid():
        try:
            plan = services.plan_adjust(
                user=request.user, plan=plan, reason=form.cleaned_data["adjustment_reason"], **form.plan_data()
            )
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"帮扶计划已调整为第{plan.version}版，原计划保留在调整记录中。")
            return redirect(_anchor(case, "plan"))
    return _plan_page(request, case, bound={"adjust": form})


# --------------------------------------------------------------------------- measures


@login_required
@require_POST
def measure_add(request, pk: int):
    case = scoped_case(request, pk)
    ensure_village_actor(user=request.user, case=case)
    plan = plan_for(user=request.user, case=case)
    if plan is None:
        raise Http404
    form = MeasureForm(request.POST, risks=measure_risks(case=case))
    if form.is_valid():
        try:
            measure = services.measure_add(user=request.user, plan=plan, **form.measure_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已添加帮扶措施：{measure.category.name}（针对{measure.risk_category.name}）。")
            return redirect(_anchor(case, "measures"))
    return _plan_page(request, case, bound={"measure": form})


@login_required
def measure_edit(request, pk: int, measure_id: int):
    """A measure on its own page (status, dates and the effect assessment change as it runs)."""
    case = scoped_case(request, pk)
    measure = get_object_or_404(measures_for(user=request.user, case=case), pk=measure_id)
    ensure_village_actor(user=request.user, case=case)
    fields = ("category", "risk_category", "description", "amount", "starts_on", "ends_on", "status", "effect")
    initial = {name: getattr(measure, name) for name in (*fields, "effect_note")}
    form = MeasureForm(request.POST or None, risks=measure_risks(case=case), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_update(user=request.user, measure=measure, **form.measure_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "帮扶措施已保存。")
            return redirect(_anchor(case, "measures"))
    context = {
        "case": case,
        "head": next((m.name for m in case.household.heads), ""),
        "measure": measure,
        "form": form,
        "effect_months": settings.FPR_MEASURE_EFFECT_MONTHS,
    }
    return render(request, "assistance/measure_form.html", context)


# --------------------------------------------------------------------------- visits (走访记录)


@login_required
@require_POST
def visit_add(request, pk: int):
    case = scoped_case(request, pk)
    ensure_village_actor(user=request.user, case=case)
    form = VisitForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.visit_record(user=request.user, case=case, **form.visit_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "走访记录已保存。")
            return redirect(_anchor(case, "visits"))
    return _plan_page(request, case, bound={"visit": form})


@login_required
def visit_photo(request, pk: int, photo_id: int):
    """A visit photo, served only to users who may read the case (media is not public)."""
    case = scoped_case(request, pk)
    photo = get_object_or_404(VisitPhoto, pk=photo_id, visit__case=case)
    if not photo.file:
        raise Http404
    return attachment_response(photo.file, name=photo.file.name)  # type from the content, never the name


@login_required
def visit_duty_page(request):
    """走访任务: per pairing cadre, the households followed and those not visited in the month."""
    if not (request.user.is_superuser or request.user.has_role(*CASE_READERS)):
        raise PermissionDenied("您的角色不能查看走访任务。")
    month = _month(request.GET.get("month"))
    duties = visit_duty(user=request.user, month=month)
    this_month = clock.today().replace(day=1)
    context = {
        "month": month,
        "duties": duties,
        "households": sum(d.households for d in duties),
        "unvisited": sum(d.unvisited_count for d in duties),
        "previous_month": (month - dt.timedelta(days=1)).replace(day=1),
        "next_month": (month + dt.timedelta(days=32)).replace(day=1) if month < this_month else None,
        "is_this_month": month == this_month,
        "can_visit": request.user.has_role(Role.VILLAGE_CADRE),
    }
    return render(request, "assistance/visit_duty.html", context)


def _month(value: str | None) -> dt.date:
    """`YYYY-MM` from the query string; this month when absent, malformed or in the future."""
    this_month = clock.today().replace(day=1)
    try:
        month = dt.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return this_month
    return min(month, this_month)
