"""Export pages: the export log (导出记录) and the download of a finished file.

Who sees what: administrators read every export of their subtree, everyone else only their own
(Export.objects.for_user); an export outside that is a 404. Pages that start an export (the statistics
table, the ledger, the standard forms) call reports.exports.runner.export_start and then hand the file over
through `export_file_response`.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fpr.keyset import keyset_page
from fpr.roles import CASE_READERS, Level
from households.models import Division
from monitoring.models import MonitoringCase
from reports.exports.forms import LedgerFilterForm, QuarterlyForm
from reports.exports.ledger import describe_filters, export_filter_chips
from reports.exports.runner import export_requeue_stalled, export_start
from reports.models import Export, ExportKind, ExportStatus


def export_file_response(export: Export) -> FileResponse:
    """The finished file of `export` as a download named after what it holds."""
    if export.file_removed_at:
        raise Http404("文件已超过保留期限并已删除，请重新导出。")
    if export.status != ExportStatus.DONE or not export.file:
        raise Http404("文件尚未生成。")
    name = export.file.name.rsplit("/", 1)[-1]
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=name)


@login_required
def export_list(request):
    """导出记录: who exported what, with which filters, when — newest first."""
    exports = Export.objects.for_user(request.user).select_related("user", "division")
    kind = request.GET.get("kind", "")
    if kind in ExportKind.values:
        exports = exports.filter(kind=kind)
    page = keyset_page(request, exports, field="created_at", descending=True)
    export_filter_chips(page["rows"])  # "乡镇：羊场镇", not "township=520521100000"
    context = {
        "page": page,
        "kinds": ExportKind.choices,
        "kind": kind,
        "keep_days": settings.FPR_EXPORT_KEEP_DAYS,
    }
    return render(request, "reports/export_list.html", context)


@login_required
def export_download(request, pk: int):
    export = get_object_or_404(Export.objects.for_user(request.user), pk=pk)
    return export_file_response(export)


# ---- the ledger page (filters → a background export), the status page of one export, and the standard
# forms: one case's 信息采集表 / 识别审批表 / 帮扶措施落实情况表 / 风险消除评估表 and a township's quarterly
# 风险评估表, written in the request and logged like every export (reports.exports.ledger, reports.exports.paper_forms).

CASE_FORMS = {
    "collection": ExportKind.COLLECTION_FORM,
    "approval": ExportKind.APPROVAL_FORM,
    "measures": ExportKind.MEASURES_FORM,
    "elimination": ExportKind.ELIMINATION_FORM,
}


def _ensure_case_reader(user) -> None:
    if not (user.is_superuser or user.has_role(*CASE_READERS)):
        raise PermissionDenied("您的角色不能导出监测对象数据。")


def _home_division(user) -> Division:
    return user.division or Division.objects.filter(level=Level.PROVINCE).order_by("code").first()


@login_required
def ledger_page(request):
    """监测对象台账: the case list's filters; "导出台账" starts a background export and goes to its status."""
    _ensure_case_reader(request.user)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = LedgerFilterForm(data, user=request.user)
    if request.method == "POST" and form.is_valid():
        filters = form.export_filters()
        division = None
        if filters.get("village"):
            division = Division.objects.for_user(request.user).filter(pk=filters["village"]).first()
        export = export_start(
            user=request.user,
            kind=ExportKind.LEDGER,
            division=division or _home_division(request.user),
            filters=filters,
            background=True,
            full_ids=form.cleaned_data.get("full_ids", False),
        )
        return redirect("reports:export_status", pk=export.pk)
    recent = Export.objects.for_user(request.user).filter(
        user=request.user, kind__in=[ExportKind.LEDGER, ExportKind.QUARTERLY_RISK]
    )[:5]
    context = {"form": form, "quarterly_form": QuarterlyForm(user=request.user), "recent": recent}
    return render(request, "reports/ledger.html", context)


@login_required
def export_status(request, pk: int):
    """One export's progress; reloads every 2 s until the file is ready, then offers the download."""
    export = get_object_or_404(Export.objects.for_user(request.user).select_related("division"), pk=pk)
    export_requeue_stalled(export)  # never queued while the broker was down: queue it now
    running = export.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)
    percent = round(100 * export.rows_written / export.rows_total) if export.rows_total else (0 if running else 100)
    if request.GET.get("format") == "json":  # what the page's poller asks while the file is written (poll.js)
        figures = {"rows_written": export.rows_written, "percent": percent}
        return JsonResponse({"done": not running, "status": export.get_status_display(), "figures": figures})
    described = describe_filters(export.filters) if export.kind == ExportKind.LEDGER else ""
    if described and export.filters.get("year"):
        described += f"；收入年度：{export.filters['year']}年"
    context = {"export": export, "running": running, "percent": percent, "described": described}
    return render(request, "reports/export_status.html", context)


@login_required
@require_POST
def case_form_download(request, pk: int, form: str):
    """One case's standard form, written now and logged; a case outside the user's area is a 404.
    POST only (with CSRF), as every export that writes: a link cannot make a user export in their name."""
    _ensure_case_reader(request.user)
    kind = CASE_FORMS.get(form)
    if kind is None:
        raise Http404
    case = get_object_or_404(MonitoringCase.objects.for_user(request.user).select_related("household"), pk=pk)
    export = export_start(
        user=request.user,
        kind=kind,
        division=case.village,
        filters={"case": case.pk, "household": case.household.number},
        background=False,
        full_ids=request.POST.get("full") == "1",
    )
    return export_file_response(export)


@login_required
@require_POST
def quarterly_download(request):
    """A township's quarterly 风险评估表 (picked on the ledger page), written now and logged (POST only)."""
    _ensure_case_reader(request.user)
    form = QuarterlyForm(request.POST, user=request.user)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{'；'.join(errors)}")
        return redirect("reports:ledger")
    township = get_object_or_404(Division.objects.for_user(request.user), pk=form.cleaned_data["township"])
    export = export_start(
        user=request.user,
        kind=ExportKind.QUARTERLY_RISK,
        division=township,
        filters={"township": township.code, "year": form.cleaned_data["year"], "quarter": form.cleaned_data["quarter"]},
        background=False,
    )
    return export_file_response(export)
