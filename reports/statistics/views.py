"""The statistics page (统计报表), its Excel export, and the dashboard (数据看板).

Both pages read reports.statistics.figures, the same functions the XLSX and the API use, so a number on the
screen is the number in the file. A division outside the user's subtree is a 404; roles that do not
read case data (department data officers) get a 403.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from fpr import clock
from fpr.periods import Period
from fpr.roles import CASE_READERS, PREFIX_LENGTH, Level, Role
from households.models import Division
from monitoring.models import WARNING_DUE_HOURS, CaseType
from reports.exports.runner import export_start
from reports.exports.views import export_file_response
from reports.models import ExportKind
from reports.statistics.figures import (
    STAGE_LABELS,
    STATUSES,
    monthly_trend,
    overdue_items,
    regional_alerts,
    statistics,
    statistics_by_child,
    warnings_by_department,
)
from reports.statistics.table import display, header_cells, table_columns
from workflow.selectors import STATUS_GROUPS, case_queue


def _reader(user) -> None:
    if not (user.is_superuser or user.has_role(*CASE_READERS)):
        raise PermissionDenied("统计报表由村、镇、县各级工作人员和系统管理员使用。")


def division_for(user, code: str | None) -> Division:
    """The division asked for (default: the user's own), only within the user's subtree — else 404."""
    divisions = Division.objects.for_user(user)
    if code:
        division = divisions.filter(code=code).first()
    elif user.division_id:
        division = user.division
    else:  # a superuser without a division: the top of the tree
        division = divisions.order_by("level", "code").first()
    if division is None:
        raise Http404("该区划不存在或不在您的管辖范围内。")
    return division


def period_for(text: str | None) -> tuple[Period, str]:
    """The period asked for (default: this month) and an error message when the text was not valid."""
    if text:
        try:
            return Period.parse(text), ""
        except ValueError as exc:
            return Period.month_of(clock.today()), str(exc)
    return Period.month_of(clock.today()), ""


def _breadcrumbs(user, division: Division) -> list[Division]:
    """The divisions from the user's own down to `division` (one query)."""
    top = user.division.level if user.division_id else Level.PROVINCE
    codes = [division.code[: PREFIX_LENGTH[Level(level)]].ljust(12, "0") for level in range(top, division.level + 1)]
    found = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [found[code] for code in codes if code in found]


def _picker(user, division: Division) -> list[tuple[str, str]]:
    """The divisions to choose from: the user's subtree down to the townships (villages are reached by
    drilling down), plus the division shown."""
    rows = (
        Division.objects.for_user(user)
        .filter(level__lt=Level.VILLAGE)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    choices = [
        (code, "　" * max(level - (user.division.level if user.division_id else 1), 0) + name)
        for code, name, level in rows
    ]
    if division.code not in {code for code, _ in choices}:
        choices.append((division.code, division.name))
    return choices


def _stats_url(division_code: str, period: Period) -> str:
    return f"{reverse('reports:statistics')}?{urlencode({'division': division_code, 'period': period.code})}"


def _cases_url(village_code: str, filters: dict) -> str:
    return f"{reverse('cases:list')}?{urlencode({'village': village_code, **filters})}"


@login_required
def statistics_page(request):
    """统计报表: the children of a division, every number a link — down to the child's own statistics,
    or, in a village's row, to the list of the cases behind the number."""
    _reader(request.user)
    division = division_for(request.user, request.GET.get("division"))
    period, period_error = period_for(request.GET.get("period"))
    table = statistics_by_child(user=request.user, division=division, period=period)
    columns = table_columns(risks=table.risks, period_code=period.code)

    rows = []
    for figures in table.rows:
        village = figures.level == Level.VILLAGE
        own = _stats_url(figures.code, period)
        cells = []
        for column in columns:
            value = column.value(figures)
            if not village:
                href = own
            elif column.cases is not None:
                href = _cases_url(figures.code, column.cases)
            else:
                href = None
            cells.append(
                {"text": display(value, column.kind), "href": href, "kind": column.kind, "label": " ".join(column.path)}
            )
        rows.append({"figures": figures, "href": own if figures.code != division.code else None, "cells": cells})
    total = [
        {"text": display(c.value(table.total), c.kind), "kind": c.kind, "label": " ".join(c.path)} for c in columns
    ]

    context = {
        "division": division,
        "period": period,
        "period_error": period_error,
        "period_text": request.GET.get("period") or period.code,
        "picker": _picker(request.user, division),
        "breadcrumbs": _breadcrumbs(request.user, division),
        "header": header_cells(columns),
        "rows": rows,
        "total": total,
        "figures": table.total,
        "stage_days": [(STAGE_LABELS[stage], days) for stage, days in table.total.stage_days.items()],
        "child_level": Level(min(division.level + 1, Level.VILLAGE)).label,
        "is_admin": request.user.is_superuser or request.user.has_role(Role.ADMINISTRATOR),
    }
    # A bad period shows the page of this month with the reason, answered as 400 (a bad request).
    return render(request, "reports/statistics.html", context, status=400 if period_error else 200)


@login_required
@require_POST
def statistics_export(request):
    """导出Excel: the table on the page as an XLSX, logged in the export log, written in this request."""
    _reader(request.user)
    division = division_for(request.user, request.POST.get("division"))
    try:
        period = Period.parse(request.POST.get("period", ""))
    except ValueError as exc:
        raise Http404(str(exc)) from exc
    export = export_start(
        user=request.user,
        kind=ExportKind.STATISTICS,
        division=division,
        filters={"division": division.code, "period": period.code},
        background=False,
    )
    return export_file_response(export)


@login_required
def dashboard(request):
    """数据看板: the user's area at a glance — the same numbers as the statistics table."""
    _reader(request.user)
    user = request.user
    division = division_for(user, request.GET.get("division"))
    period, period_error = period_for(request.GET.get("period"))
    figures = statistics(user=user, division=division, period=period)
    trend = monthly_trend(user=user, division=division, last=period)
    departments = warnings_by_department(user=user, division=division, period=period)
    overdue = overdue_items(user=user, division=division)
    alerts = regional_alerts(user=user, division=division)
    risks = {code: name for code, name in _risk_names()}
    charts = {
        "types": [{"name": label, "value": figures.by_type[value].households} for value, label in CaseType.choices],
        "statuses": [{"name": STATUS_GROUPS[s][0], "value": figures.by_status[s].households} for s in STATUSES],
        "risks": [
            {"name": risks.get(code, code), "value": tally.households}
            for code, tally in sorted(figures.by_risk.items(), key=lambda item: -item[1].households)
            if tally.households
        ],
        "trend": {
            "months": [point.period.code for point in trend],
            "new": [point.new for point in trend],
            "eliminated": [point.eliminated for point in trend],
        },
        "departments": {
            "names": [d.label for d in departments],
            "raised": [d.raised for d in departments],
            "open": [d.open for d in departments],
            "overdue": [d.overdue for d in departments],
        },
        "todos": [{"name": label, "value": n} for _, label, n in overdue.todos],
    }
    context = {
        "division": division,
        "period": period,
        "period_error": period_error,
        "period_text": request.GET.get("period") or period.code,
        "picker": _picker(user, division),
        "figures": figures,
        "rates": [
            (
                "监测纳入率",
                display(figures.inclusion_rate, "rate"),
                f"{figures.warnings_at_risk_identified}/{figures.warnings_at_risk} 条预警",
            ),
            (
                "帮扶措施到位率",
                display(figures.coverage_rate, "rate"),
                f"{figures.covered_cases}/{figures.monitored_cases} 户",
            ),
            (
                "群众认可度",
                display(figures.approval_rate, "rate"),
                f"{figures.visits_approving}/{figures.visits_rated} 次走访",
            ),
            (
                f"{WARNING_DUE_HOURS}小时内核实率",
                display(figures.timeliness_rate, "rate"),
                f"{figures.warnings_on_time}/{figures.warnings_raised} 条预警",
            ),
        ],
        "trend": trend,
        "departments": departments,
        "overdue": overdue,
        "alerts": alerts,
        "queue_count": case_queue(user=user).count() if not user.is_superuser else None,
        "charts": charts,
        "stats_url": _stats_url(division.code, period),
    }
    return render(request, "reports/dashboard.html", context, status=400 if period_error else 200)


def _risk_names():
    from monitoring.models import RiskCategory

    return RiskCategory.objects.values_list("code", "name")
