"""Pages of warnings (预警线索): the village queue with the 48-hour countdown, and one warning with its
source row, the three ways to verify it (纳入 / 不纳入 / 并入在办案件) and its history.

Thin like the case pages: warnings are read through `RiskWarning.objects.for_user` (another village's
warning is a 404, for reading and acting alike), a form converts the input, one service in
monitoring.screening.warning_services acts. A refusal comes back on the form that was posted; a warning someone else
verified first redirects with "该预警线索已被他人处理".
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fpr import clock
from fpr.errors import ConflictError
from fpr.forms import SERVICE_ERRORS, apply_service_errors
from fpr.keyset import keyset_page
from fpr.roles import CASE_READERS, Role
from fpr.search import search_query, search_view
from fpr.sensitive import Kind, shown_in_full
from monitoring.cases.selectors import household_open_case
from monitoring.models import RiskWarning, WarningStatus
from monitoring.screening import warning_services as services
from monitoring.screening.warning_forms import (
    WarningAttachForm,
    WarningContactForm,
    WarningExcludeForm,
    WarningFilterForm,
    WarningIncludeForm,
)
from monitoring.screening.warning_selectors import (
    application_prefill,
    household_phone,
    source_rows,
    warning_contacts,
    warning_deadline,
    warning_get,
    warning_history,
    warning_list,
)


def _ensure_reader(user) -> None:
    if not (user.is_superuser or user.has_role(*CASE_READERS)):
        raise PermissionDenied("预警线索由村级核实；部门数据专员请在数据上传结果中查看本部门的比对情况。")


def _scoped_warning(request, pk: int) -> RiskWarning:
    warning = warning_get(user=request.user, pk=pk)
    if warning is None:
        raise Http404
    return warning


# --------------------------------------------------------------------------- the queue


@login_required
def warning_list_page(request):
    """Open warnings of the user's area, earliest deadline first: the overdue ones lead, marked red."""
    _ensure_reader(request.user)
    query = search_query(request)  # the words of a posted search come back from the session
    form = WarningFilterForm(query or None)
    filters = form.filters()
    page = keyset_page(request, warning_list(user=request.user, **filters), field="due_at", descending=False)
    now = clock.now()
    totals = RiskWarning.objects.for_user(request.user).aggregate(
        open=Count("pk", filter=Q(status=WarningStatus.OPEN)),
        overdue=Count("pk", filter=Q(status=WarningStatus.OPEN, due_at__lt=now)),
    )
    context = {
        "form": form,
        "page": page,
        "rows": [(warning, warning_deadline(warning, now)) for warning in page["rows"]],
        "totals": totals,
        "status": filters["status"],
        "is_filtered": form.is_filtered,
        "search_url": reverse("monitoring:warning_search"),
        "show_village": len(request.user.jurisdiction_prefix or "") < 12,
        # Masked for everyone: full numbers are seen on the household page, on request, and logged.
        "show_sensitive": False,
    }
    return render(request, "monitoring/warning_list.html", context)


# The list's search form posts here: the words (a name, an ID number) never go into a URL.
warning_search = search_view("monitoring:warnings", keep=("status", "department", "period"))


# --------------------------------------------------------------------------- one warning


@login_required
def warning_detail(request, pk: int):
    _ensure_reader(request.user)
    return _detail_page(request, _scoped_warning(request, pk))


def _may_act(user, warning: RiskWarning) -> bool:
    """Whether to offer the forms; the service's own check decides."""
    try:
        services.ensure_warning_actor(user=user, warning=warning)
    except PermissionDenied:
        return False
    return warning.status == WarningStatus.OPEN


def _detail_page(request, warning: RiskWarning, *, bound: dict | None = None):
    """Render the warning page; `bound` holds the form just posted (with its errors), by action."""
    bound = bound or {}
    user = request.user
    show_sensitive = False  # masked for everyone (the household page reveals on request, logged)
    open_case = household_open_case(household=warning.household_id)  # the case the warning would join
    may_act = _may_act(user, warning)
    context = {
        "warning": warning,
        "deadline": warning_deadline(warning),
        "rows": source_rows(warning, show_sensitive=show_sensitive),
        "show_sensitive": show_sensitive,
        "open_case": open_case,
        "may_act": may_act,
        # 纳入 opens an application: a village step (the household must have no case yet).
        "may_include": may_act and open_case is None and user.has_role(Role.VILLAGE_CADRE),
        "may_attach": may_act and open_case is not None,
        "include_form": bound.get("include") or WarningIncludeForm(initial=application_prefill(warning)),
        "exclude_form": bound.get("exclude") or WarningExcludeForm(),
        "attach_form": bound.get("attach") or WarningAttachForm(),
        "contact_form": bound.get("contact") or WarningContactForm(),
        "contacts": warning_contacts(warning=warning),
        # The cadre who must call sees the number in full; the others masked (fpr.sensitive).
        "phone": household_phone(user=user, warning=warning),
        "phone_in_full": shown_in_full(Kind.PHONE, user=user),
        "posted": next(iter(bound), ""),
        "history": warning_history(warning=warning),
    }
    return render(request, "monitoring/warning_detail.html", context)


def _act(request, pk: int, *, key: str, form_class, act, done):
    """Validate the posted form, call the service, and either go on (`done`) or show the page again with
    the service's reasons on the form."""
    _ensure_reader(request.user)
    warning = _scoped_warning(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            handled = act(warning, form.cleaned_data)
        except ConflictError as exc:  # someone verified it while this page was open
            messages.error(request, exc.message)
            return redirect("monitoring:warning", pk=warning.pk)
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
        else:
            return done(handled)
    return _detail_page(request, warning, bound={key: form})


@login_required
@require_POST
def warning_include(request, pk: int):
    def done(warning):
        messages.success(
            request,
            f"已纳入：已代农户登记监测申请（发现渠道：部门筛查预警）。请补充承诺授权书后提交入户核实（{warning.household.number}）。",
        )
        return redirect("cases:detail", pk=warning.case_id)

    return _act(
        request,
        pk,
        key="include",
        form_class=WarningIncludeForm,
        act=lambda warning, data: services.warning_include(user=request.user, warning=warning, **data),
        done=done,
    )


@login_required
@require_POST
def warning_exclude(request, pk: int):
    def done(warning):
        messages.success(request, "已记录：不纳入，原因已保存。")
        return redirect("monitoring:warning", pk=warning.pk)

    return _act(
        request,
        pk,
        key="exclude",
        form_class=WarningExcludeForm,
        act=lambda warning, data: services.warning_exclude(user=request.user, warning=warning, **data),
        done=done,
    )


@login_required
@require_POST
def warning_attach(request, pk: int):
    def done(warning):
        messages.success(request, "已并入在办案件，请在该案件办理中一并核实。")
        return redirect("monitoring:warning", pk=warning.pk)

    return _act(
        request,
        pk,
        key="attach",
        form_class=WarningAttachForm,
        act=lambda warning, data: services.warning_attach(user=request.user, warning=warning, **data),
        done=done,
    )


@login_required
@require_POST
def warning_contact(request, pk: int):
    def done(contact):
        messages.success(request, f"已记录联系情况：{contact.get_outcome_display()}。")
        return redirect("monitoring:warning", pk=pk)

    return _act(
        request,
        pk,
        key="contact",
        form_class=WarningContactForm,
        act=lambda warning, data: services.warning_contact_record(user=request.user, warning=warning, **data),
        done=done,
    )
