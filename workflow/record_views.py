"""Pages of the village steps that fill a case's own records: the application (申请纳入监测), the
on-site verification (入户核实) and the democratic appraisal (民主评议).

Thin like the household pages: fetch through `.for_user(request.user)` (another village's case is a
404), convert the form, call one service, render. The services decide who may act and in which stage;
their ValidationErrors go back on the form, their PermissionDenied shows the 403 page with the reason.
The case page itself, with its timeline and the transitions, is workflow's (workflow.views).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404, redirect, render

from fpr import clock
from fpr.forms import SERVICE_ERRORS, apply_service_errors
from fpr.periods import accounting_year
from households.models import Household, Relationship
from monitoring.cases import services
from monitoring.cases.selectors import heads, household_open_case, scoped_case, verifier_candidates
from monitoring.models import APPRAISAL_STAGES, VERIFICATION_STAGES, MonitoringCase
from workflow.record_forms import (
    AppraisalForm,
    CaseForm,
    ParticipantFormSet,
    VerificationForm,
    VerifierFormSet,
    participants,
    typed_verifiers,
)

CASE_FIELDS = ["case_type", "channel", "colour", "description", "authorization_signed_on"]


def _record_page(request, template: str, case: MonitoringCase, **context):
    context.update(case=case, head=_head_name(case.household))
    return render(request, template, context)


def _head_name(household: Household) -> str:
    heads = getattr(household, "heads", None)
    if heads is None:
        heads = household.members.filter(relationship=Relationship.HEAD)
    return next((member.name for member in heads), "")


@login_required
def case_create(request, household_pk: int):
    """申请纳入监测, from the household's page."""
    household = get_object_or_404(
        Household.objects.for_user(request.user).select_related("village__parent").prefetch_related(heads()),
        pk=household_pk,
    )
    services.ensure_village_actor(user=request.user, case=MonitoringCase(village_id=household.village_id))
    existing = household_open_case(household=household)
    if existing is not None and request.method != "POST":
        messages.info(request, f"该户已有在办或监测中的案件（{existing.get_stage_display()}），不能重复申请。")
        return redirect("cases:detail", pk=existing.pk)
    form = CaseForm(
        request.POST or None,
        request.FILES or None,
        initial={"channel": "self_report"},
        user=request.user,
        scope=f"household:{household.pk}:application",
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(user=request.user, household=household, **form.service_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            form.discard_kept()
            messages.success(request, f"已登记监测申请（{household.number}），请核对后提交进入入户核实。")
            return redirect("cases:detail", pk=case.pk)
    form.keep_files()
    context = {"form": form, "household": household, "head": _head_name(household)}
    return render(request, "monitoring/case_form.html", context)


@login_required
def application_edit(request, pk: int):
    """Complete or correct the application while it is with the village, e.g. upload the 承诺授权书."""
    case = scoped_case(request, pk)
    services.ensure_village_actor(user=request.user, case=case)
    initial = model_to_dict(case, fields=CASE_FIELDS)
    initial["risk_categories"] = [category.code for category in case.risk_categories.all()]
    form = CaseForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        user=request.user,
        scope=f"case:{case.pk}:application",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update_application(user=request.user, case=case, **form.service_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            form.discard_kept()
            messages.success(request, "申请信息已保存。")
            return redirect("cases:detail", pk=case.pk)
    form.keep_files()
    return _record_page(request, "monitoring/case_form.html", case, form=form, household=case.household)


@login_required
def verification_record(request, pk: int):
    """入户核实: the team (at least two), findings, risk points and the 信息采集表 snapshot."""
    case = scoped_case(request, pk)
    services.ensure_village_actor(user=request.user, case=case)
    candidates = list(verifier_candidates(case=case))
    # Nobody is ticked in advance: a pre-ticked self plus one's own name typed below made one person
    # look like a team of two. Whoever went ticks themselves.
    initial = {"visit_date": clock.today(), "year": accounting_year()}
    form = VerificationForm(request.POST or None, initial=initial, candidates=candidates)
    rows = VerifierFormSet(request.POST or None, prefix="verifiers")
    if request.method == "POST" and all([form.is_valid(), rows.is_valid()]):
        try:
            services.verification_record(
                user=request.user,
                case=case,
                visit_date=form.cleaned_data["visit_date"],
                verifiers=form.chosen_verifiers() + typed_verifiers(rows),
                findings=form.cleaned_data["findings"],
                risk_points=form.cleaned_data["risk_points"],
                year=form.cleaned_data["year"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, "入户核实记录已保存。核对信息采集表无误后，请点击“核实完成”。")
            return redirect("cases:detail", pk=case.pk)
    context = {
        "form": form,
        "rows": rows,
        "wrong_stage": case.stage not in VERIFICATION_STAGES,
        "income_year": initial["year"],
    }
    return _record_page(request, "monitoring/verification_form.html", case, **context)


@login_required
def appraisal_record(request, pk: int):
    """民主评议: participants with their roles, the votes and the signed minutes."""
    case = scoped_case(request, pk)
    services.ensure_village_actor(user=request.user, case=case)
    form = AppraisalForm(
        request.POST or None,
        request.FILES or None,
        initial={"meeting_date": clock.today()},
        user=request.user,
        scope=f"case:{case.pk}:appraisal",
    )
    rows = ParticipantFormSet(request.POST or None, prefix="participants")
    if request.method == "POST" and all([form.is_valid(), rows.is_valid()]):
        try:
            services.appraisal_record(
                user=request.user,
                case=case,
                participants=participants(rows),
                minutes_scan=form.cleaned_data["minutes_scan"],
                **{
                    name: form.cleaned_data[name]
                    for name in ("meeting_date", "votes_for", "votes_against", "votes_abstain")
                },
            )
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            form.discard_kept()
            messages.success(request, "民主评议记录已保存。")
            return redirect("cases:detail", pk=case.pk)
    form.keep_files()
    context = {"form": form, "rows": rows, "wrong_stage": case.stage not in APPRAISAL_STAGES}
    return _record_page(request, "monitoring/appraisal_form.html", case, **context)
