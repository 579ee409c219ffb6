"""Household pages: fetch through the user's jurisdiction, convert the form, call one service, render.

Objects are always read through `.for_user(request.user)`, so another village's household is a 404.
Edits are refused by the services (PermissionDenied → the 403 page); the pages also check up front so
a reviewer never sees a form they cannot submit.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fpr import clock
from fpr.forms import SERVICE_ERRORS, apply_service_errors, service_messages
from fpr.periods import accounting_year
from fpr.roles import CASE_READERS, ensure_case_reader
from fpr.search import search_query, search_view
from fpr.sensitive import Kind, shown_in_full
from households import services
from households.forms import (
    HOUSEHOLD_FORM_FIELDS,
    MEMBER_FORM_FIELDS,
    HouseholdEditForm,
    HouseholdFilterForm,
    HouseholdForm,
    IncomeForm,
    MemberForm,
    MemberFormSet,
    MemberIdCorrectionForm,
    hidden_values,
)
from households.models import (
    HOUSING_LABEL,
    TRANSFER_KINDS,
    WATER_LABEL,
    Division,
    Expenditure,
    ExpenditureKind,
    Household,
    IncomeItem,
    Member,
    PovertyStatus,
    SpecialGroup,
    guarantees_unmet_q,
)
from households.selectors import household_history, income_summary, income_years, villages_visible
from households.selectors import household_list as select_households

PAGE_SIZE = 50


def can_edit_registry(user, village: Division | None) -> bool:
    """Whether to show edit buttons; the service's own guard decides, so the answer never drifts."""
    try:
        services.ensure_can_edit_registry(user=user, village=village)
    except PermissionDenied:
        return False
    return True


def _village_options(user) -> list[tuple[str, str, str]]:
    return list(villages_visible(user=user).values_list("code", "name", "parent__name"))


def _scoped_household(request, pk: int) -> Household:
    return get_object_or_404(Household.objects.for_user(request.user).select_related("village__parent"), pk=pk)


def _scoped_member(request, household: Household, member_pk: int) -> Member:
    member = get_object_or_404(Member.objects.for_user(request.user), pk=member_pk, household=household)
    member.household = household  # the services read member.household.village
    return member


# --------------------------------------------------------------------------- home


@login_required
def home(request):
    user = request.user
    households = Household.objects.for_user(user).aggregate(
        total=Count("pk"),
        lifted=Count("pk", filter=Q(poverty_status=PovertyStatus.LIFTED)),
        unmet=Count("pk", filter=guarantees_unmet_q()),
    )
    context = {
        "counts": households,
        "persons": Member.objects.for_user(user).count(),
        "can_register": can_edit_registry(user, user.division),
        "special_groups": SpecialGroup.choices,
        "lifted_status": PovertyStatus.LIFTED,
    }
    return render(request, "home.html", context)


# --------------------------------------------------------------------------- list


@login_required
def household_list(request):
    """Households of the user's jurisdiction, 50 a page. Paging seeks on the unique 户编号
    ("after"/"before") instead of OFFSET, so page 1,000 costs what page 1 costs."""
    ensure_case_reader(request.user, "农户信息")
    # A search posted by the page: the words (often an ID number) stay in the session, never the URL.
    query = search_query(request)
    form = HouseholdFilterForm(query or None, villages=_village_options(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    households = select_households(
        user=request.user,
        division=filters.get("village") or None,
        poverty_status=filters.get("poverty_status") or None,
        special_group=filters.get("special_group") or None,
        search=filters.get("q") or None,
    )
    after, before = request.GET.get("after", ""), request.GET.get("before", "")
    if before:
        rows = list(households.filter(number__lt=before).order_by("-number")[: PAGE_SIZE + 1])
        has_previous, has_next = len(rows) > PAGE_SIZE, True
        rows = rows[:PAGE_SIZE][::-1]
    else:
        if after:
            households = households.filter(number__gt=after)
        rows = list(households.order_by("number")[: PAGE_SIZE + 1])
        has_previous, has_next = bool(after), len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
    context = {
        "form": form,
        "households": rows,
        "next_query": _page_query(request, after=rows[-1].number) if rows and has_next else None,
        "previous_query": _page_query(request, before=rows[0].number) if rows and has_previous else None,
        "first_query": _page_query(request) if has_previous else None,
        "is_filtered": any(filters.values()),
        "can_register": can_edit_registry(request.user, request.user.division),
        # 未算账农户 (monitoring.jobs.accounting_views) is for the roles that read cases.
        "can_see_accounting": request.user.is_superuser or request.user.has_role(*CASE_READERS),
    }
    return render(request, "households/list.html", context)


# The list's search form posts here (fpr.search: the words never in a URL).
household_search = search_view("households:list", keep=("village", "poverty_status", "special_group"))


def _page_query(request, **cursor) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    query.update(cursor)
    return query.urlencode()


# --------------------------------------------------------------------------- detail


@login_required
def household_detail(request, pk: int, *, revealed: bool = False):
    household = _scoped_household(request, pk)
    years = income_years(household=household)
    year = _year(request.GET.get("year"), default=accounting_year())
    if year not in years:
        years = sorted([*years, year], reverse=True)
    summary = income_summary(household=household, year=year)
    context = {
        "household": household,
        "guarantees": _guarantees(household),
        "members": household.members.all(),
        "can_edit": can_edit_registry(request.user, household.village),
        "can_view_sensitive": request.user.has_perm("households.view_sensitive"),
        # Full ID numbers and bank account only after the user asked (and it was logged).
        "revealed": revealed,
        "year": year,
        "years": years,
        "summary": summary,
        "line_gap": abs(summary.per_capita - summary.monitoring_line) if summary.above_line is not None else None,
        "transfer_rows": [(kind.label, summary.transfers.get(kind)) for kind in TRANSFER_KINDS],
        "expenditure_rows": [(kind.label, summary.expenditures.get(kind)) for kind in ExpenditureKind],
        "history": household_history(household=household, user=request.user, revealed=revealed),
        "can_see_phone": shown_in_full(Kind.PHONE, user=request.user, revealed=revealed),
    }
    return render(request, "households/detail.html", context)


@login_required
@require_POST
def household_reveal(request, pk: int):
    """查看完整信息: the household page again with full ID numbers and bank account, logged first."""
    household = _scoped_household(request, pk)
    try:
        services.sensitive_access_record(
            user=request.user, households=[household], via="页面", reason=request.POST.get("reason", "")
        )
    except SERVICE_ERRORS as exc:
        messages.error(request, "；".join(service_messages(exc)))
        return redirect("households:detail", pk=household.pk)
    return household_detail(request, pk, revealed=True)


def _guarantees(household: Household) -> list[tuple[str, bool, str]]:
    """两不愁三保障 and drinking water as (item, met, detail) rows for the page."""
    water_detail = "、".join(household.water_problems) + "不达标" if household.water_problems else ""
    details = {HOUSING_LABEL: household.get_housing_safety_display(), WATER_LABEL: water_detail}
    return [(label, met, details.get(label, "")) for label, met in household.guarantees]


def _year(value, *, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= clock.today().year + 1 else default


# --------------------------------------------------------------------------- writes


@login_required
def household_create(request):
    services.ensure_can_edit_registry(user=request.user, village=request.user.division)
    villages = _village_options(request.user)
    form = HouseholdForm(request.POST or None, villages=villages)
    formset = MemberFormSet(request.POST or None, prefix="members")
    if request.method == "POST" and all([form.is_valid(), formset.is_valid()]):
        village = villages_visible(user=request.user).get(pk=form.cleaned_data["village"])
        try:
            household = services.household_create(
                user=request.user,
                village=village,
                data=form.service_data(),
                members=[member.service_data() for member in formset.filled_forms()],
            )
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form, formset=formset)
        else:
            messages.success(request, f"已登记农户 {household.number}。")
            return redirect("households:detail", pk=household.pk)
    return render(request, "households/create.html", {"form": form, "formset": formset})


@login_required
def household_edit(request, pk: int):
    household = _scoped_household(request, pk)
    services.ensure_can_edit_registry(user=request.user, village=household.village)
    # The page never carries a value the user may not see in full (bank account; phone for reviewers).
    hidden = hidden_values(household, user=request.user)
    fields = [name for name in HOUSEHOLD_FORM_FIELDS if name not in hidden]
    initial = {**model_to_dict(household, fields=fields), "version": household.version}
    form = HouseholdEditForm(request.POST or None, initial=initial, hidden=hidden)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(
                user=request.user, household=household, data=form.service_data(), version=form.cleaned_data["version"]
            )
        except SERVICE_ERRORS as exc:  # also a ConflictError: another cadre saved it after this page was opened
            apply_service_errors(exc, form)
        else:
            messages.success(request, "农户信息已保存。")
            return redirect("households:detail", pk=household.pk)
    return render(request, "households/household_form.html", {"form": form, "household": household})


@login_required
def member_create(request, pk: int):
    household = _scoped_household(request, pk)
    services.ensure_can_edit_registry(user=request.user, village=household.village)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(user=request.user, household=household, data=form.service_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"已添加成员 {member.name}。")
            return redirect(reverse("households:detail", args=[household.pk]) + "#members")
    return render(request, "households/member_form.html", {"form": form, "household": household})


@login_required
def member_edit(request, pk: int, member_pk: int):
    household = _scoped_household(request, pk)
    member = _scoped_member(request, household, member_pk)
    services.ensure_can_edit_registry(user=request.user, village=household.village)
    # Neither the ID number nor a certificate the user may not see is put on the page.
    hidden = hidden_values(member, user=request.user)
    fields = [name for name in MEMBER_FORM_FIELDS if name not in hidden]
    form = MemberForm(request.POST or None, initial=model_to_dict(member, fields=fields), hidden=hidden)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(user=request.user, member=member, data=form.service_data())
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"成员 {form.cleaned_data['name']} 的信息已保存。")
            return redirect(reverse("households:detail", args=[household.pk]) + "#members")
    context = {
        "form": form,
        "household": household,
        "member": member,
        "can_correct_id": request.user.has_perm("households.view_sensitive"),
    }
    return render(request, "households/member_form.html", context)


@login_required
def member_id_correct(request, pk: int, member_pk: int):
    """更正身份证号: for registry editors holding households.view_sensitive, with a reason, logged."""
    household = _scoped_household(request, pk)
    member = _scoped_member(request, household, member_pk)
    services.ensure_can_edit_registry(user=request.user, village=household.village)
    if not request.user.has_perm("households.view_sensitive"):
        raise PermissionDenied("更正身份证号须由有查看完整身份证号权限的管理员办理。")
    form = MemberIdCorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_id_correct(
                user=request.user,
                member=member,
                id_number=form.cleaned_data["id_number"],
                disability_certificate=form.cleaned_data["disability_certificate"] or None,
                reason=form.cleaned_data["reason"],
            )
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"成员 {member.name} 的身份证号已更正，本次更正已记录。")
            return redirect(reverse("households:detail", args=[household.pk]) + "#members")
    context = {"form": form, "household": household, "member": member, "masked": hidden_values(member, user=None)}
    return render(request, "households/member_id_form.html", context)


@login_required
@require_POST
def member_delete(request, pk: int, member_pk: int):
    household = _scoped_household(request, pk)
    member = _scoped_member(request, household, member_pk)
    try:
        services.member_delete(user=request.user, member=member)
    except SERVICE_ERRORS as exc:
        messages.error(request, "；".join(service_messages(exc)))
        return redirect("households:member_edit", pk=household.pk, member_pk=member.pk)
    messages.success(request, f"已删除成员 {member.name}。")
    return redirect(reverse("households:detail", args=[household.pk]) + "#members")


@login_required
def income_edit(request, pk: int, year: int):
    household = _scoped_household(request, pk)
    services.ensure_can_edit_registry(user=request.user, village=household.village)
    initial = {
        f"{IncomeForm.INCOME_PREFIX}{kind}": amount
        for kind, amount in IncomeItem.objects.filter(household=household, year=year).values_list("kind", "amount")
    }
    initial.update(
        (f"{IncomeForm.EXPENDITURE_PREFIX}{kind}", amount)
        for kind, amount in Expenditure.objects.filter(household=household, year=year).values_list("kind", "amount")
    )
    form = IncomeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_items_set(
                user=request.user,
                household=household,
                year=year,
                incomes=form.incomes(),
                expenditures=form.expenditures(),
            )
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, f"{year}年收支已保存。")
            return redirect(reverse("households:detail", args=[household.pk]) + f"?year={year}#income")
    context = {"form": form, "household": household, "year": year}
    return render(request, "households/income_form.html", context)
