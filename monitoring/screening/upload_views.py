"""Pages of the departmental comparison: the uploads of a department's lists, each with its progress,
its figures and its rejected-rows report (部门数据比对).

Who sees what: administrators and county reviewers see the uploads of their area; a department data
officer sees only their own department's (DepartmentUpload.objects.for_user). Only administrators and
the department's own officers upload (monitoring.screening.comparison.may_upload).
"""

import csv
import io
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from fpr.errors import ApplicationError
from fpr.forms import SERVICE_ERRORS, apply_service_errors, service_messages
from fpr.keyset import keyset_page
from fpr.roles import Department, Role
from households.id_numbers import mask_id_number
from monitoring.models import DepartmentUpload, RejectedRow, UploadStatus
from monitoring.screening import comparison, tables
from monitoring.screening.departments import SOURCES, ColumnType, source_for
from monitoring.screening.upload_forms import UploadForm

SAMPLES = Path(__file__).resolve().parent / "samples"
PREVIEW_ROWS = 50


def reads_uploads(user) -> bool:
    return user.is_superuser or user.has_role(Role.ADMINISTRATOR, Role.COUNTY_REVIEWER, Role.DEPARTMENT_OFFICER)


def _scoped_upload(request, pk: int) -> DepartmentUpload:
    uploads = DepartmentUpload.objects.for_user(request.user).select_related("division", "uploaded_by")
    return get_object_or_404(uploads, pk=pk)


@login_required
def upload_list(request):
    if not reads_uploads(request.user):
        raise PermissionDenied("部门数据比对由部门数据专员、县级审定员和系统管理员使用。")
    uploads = DepartmentUpload.objects.for_user(request.user).select_related("division", "uploaded_by")
    department = request.GET.get("department", "")
    if department in Department.values:
        uploads = uploads.filter(department=department)
    context = {
        "page": keyset_page(request, uploads, field="created_at", descending=True),
        "can_upload": bool(comparison.uploadable_departments(request.user)),
        "departments": Department.choices,
        "department": department,
    }
    return render(request, "monitoring/upload_list.html", context)


@login_required
def upload_create(request):
    if not comparison.uploadable_departments(request.user):
        raise PermissionDenied("只有部门数据专员和系统管理员可以上传部门数据。")
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            upload = comparison.upload_create(
                user=request.user,
                department=data["department"],
                period=data["period"].strip(),
                file=data["file"],
                encoding=data["encoding"],
                start=False,  # the preview first (待确认), then 开始比对
            )
        except PermissionDenied as exc:
            form.add_error("department", str(exc))
        except SERVICE_ERRORS as exc:
            apply_service_errors(exc, form)
            if isinstance(exc, ApplicationError) and "upload" in exc.extra:
                form.existing = exc.extra["upload"]
        else:
            messages.success(request, f"已上传“{upload.original_name}”。请核对识别结果和列对应，然后点击“开始比对”。")
            return redirect("monitoring:upload", pk=upload.pk)
    context = {
        "form": form,
        "sources": [SOURCES[code] for code, _ in comparison.uploadable_departments(request.user)],
        "samples": _samples() if settings.DEMO_MODE else [],
    }
    return render(request, "monitoring/upload_form.html", context)


def _header_choice(data) -> tuple[int | None, int]:
    """The header row the uploader asked for on the preview (`header_row`, 1-based; `header_rows` 1/2)."""
    try:
        row = int(data.get("header_row") or 0)
    except ValueError:
        row = 0
    row = row if 1 <= row <= tables.HEADER_SCAN_ROWS else None
    return row, 2 if data.get("header_rows") == "2" else 1


def _preview_context(request, upload, header_row, header_rows, chosen=None) -> dict:
    preview = comparison.upload_preview(upload, header_row=header_row, header_rows=header_rows)
    if chosen is not None and not preview["error"]:  # the uploader's selections, kept after an error
        for item in preview["fields"]:
            item["position"] = chosen.get(item["key"])
    return {
        "preview": preview,
        "header_rows_range": range(1, tables.HEADER_SCAN_ROWS + 1),
        "encodings": [("", "自动识别"), *comparison.ENCODINGS.items()],
        "may_confirm": comparison.may_upload(request.user, upload.department),
    }


@login_required
def upload_detail(request, pk: int):
    upload = _scoped_upload(request, pk)
    comparison.comparison_requeue_stalled(upload)  # never queued while the broker was down: queue it now
    if request.GET.get("format") == "json":  # what the page's poller asks while the worker runs (poll.js)
        figures = comparison.upload_progress(upload)
        numbers = ("rows_read", "rows_matched", "rows_unmatched", "rows_rejected", "warnings_created")
        return JsonResponse(
            {
                "done": upload.status != UploadStatus.QUEUED,
                "status": figures["status_label"],
                "phase": figures["phase"],
                "figures": {name: figures[name] or 0 for name in numbers},
            }
        )
    context = {"upload": upload, "source": source_for(upload.department)}
    if upload.status == UploadStatus.PREVIEW:
        context.update(_preview_context(request, upload, *_header_choice(request.GET)))
    return render(request, "monitoring/upload_detail.html", {**context, **_result_context(upload)})


def _result_context(upload) -> dict:
    figures = comparison.upload_progress(upload)
    rejected = (
        [
            (row, mask_id_number(row.id_number))
            for row in RejectedRow.objects.filter(upload=upload).order_by("row_number")[:PREVIEW_ROWS]
        ]
        if upload.status == UploadStatus.DONE
        else []
    )
    return {
        "figures": figures,
        "running": upload.status == UploadStatus.QUEUED,
        "rejected": rejected,
        "preview_limit": PREVIEW_ROWS,
        "seconds": (upload.finished_at - upload.started_at).total_seconds()
        if upload.started_at and upload.finished_at
        else None,
    }


@login_required
@require_POST
def upload_start(request, pk: int):
    """开始比对 from the preview: the header row and the column mapping as chosen (saved for the
    department and area); 重新识别 shows the preview again with another header row or encoding."""
    upload = _scoped_upload(request, pk)
    if not comparison.may_upload(request.user, upload.department):
        raise PermissionDenied("只有该部门的数据专员和系统管理员可以确认比对。")
    header_row, header_rows = _header_choice(request.POST)
    encoding = request.POST.get("encoding", upload.encoding)
    if upload.status == UploadStatus.PREVIEW and upload.file_format == "csv" and encoding != upload.encoding:
        try:
            comparison.upload_set_encoding(upload, encoding=encoding)
        except SERVICE_ERRORS as exc:
            messages.error(request, "；".join(service_messages(exc)))
        return redirect("monitoring:upload", pk=upload.pk)
    if request.POST.get("action") == "refresh":
        query = f"?header_row={header_row}&header_rows={header_rows}" if header_row else ""
        return redirect(reverse("monitoring:upload", args=[upload.pk]) + query)
    # The mapping form's selects; none posted (a plain "开始比对"): what was detected is kept.
    chosen = (
        {
            column.key: int(value) if value.isdigit() else None
            for column in source_for(upload.department).columns
            for value in [request.POST.get(f"map_{column.key}", "")]
        }
        if any(name.startswith("map_") for name in request.POST)
        else None
    )
    try:
        comparison.upload_start(
            upload, user=request.user, header_row=header_row, header_rows=header_rows, positions=chosen
        )
    except SERVICE_ERRORS as exc:
        refusal = "；".join(service_messages(exc))
        if upload.status != UploadStatus.PREVIEW:
            messages.error(request, refusal)
            return redirect("monitoring:upload", pk=upload.pk)
        context = {"upload": upload, "source": source_for(upload.department), "start_error": refusal}
        context.update(_preview_context(request, upload, header_row, header_rows, chosen))
        return render(request, "monitoring/upload_detail.html", {**context, **_result_context(upload)})
    upload.refresh_from_db(fields=["status"])
    messages.success(request, "比对完成。" if upload.status == UploadStatus.DONE else "已开始比对，后台正在比对。")
    return redirect("monitoring:upload", pk=upload.pk)


@login_required
@require_POST
def upload_discard(request, pk: int):
    """放弃 an upload still waiting for its preview to be confirmed."""
    upload = _scoped_upload(request, pk)
    try:
        comparison.upload_discard(upload, user=request.user)
    except SERVICE_ERRORS as exc:
        messages.error(request, "；".join(service_messages(exc)))
        return redirect("monitoring:upload", pk=upload.pk)
    messages.success(request, f"已放弃“{upload.original_name}”，未作比对。")
    return redirect("monitoring:uploads")


@login_required
def upload_report(request, pk: int):
    """拒收行报告 (XLSX). Built on first request when small; a large one is built by the worker."""
    upload = _scoped_upload(request, pk)
    if upload.status != UploadStatus.DONE or not upload.rows_kept:
        raise Http404("该批次没有拒收行。")
    if not comparison.rejected_report_ready(upload):
        messages.info(request, f"拒收行共 {upload.rows_kept} 行，报告正在后台生成，请稍后再下载。")
        return redirect("monitoring:upload", pk=upload.pk)
    name = f"拒收行报告_{upload.get_department_display()}_{upload.period}_{upload.pk}.xlsx"
    return FileResponse(upload.rejected_report.open("rb"), as_attachment=True, filename=name)


@login_required
@require_POST
def upload_retry(request, pk: int):
    """Queue a failed upload again (after the cause, say a stopped worker, was fixed)."""
    upload = _scoped_upload(request, pk)
    comparison.upload_retry(upload, user=request.user)
    return redirect("monitoring:upload", pk=upload.pk)


@login_required
def upload_template(request, department: str):
    """An empty list with the department's headers: XLSX with the ID column formatted as text (so Excel
    never turns an ID into 5.22422E+17), or `?format=csv` — CSV with a BOM so Excel shows the Chinese."""
    if department not in SOURCES:
        raise Http404
    source = source_for(department)
    if request.GET.get("format") == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        csv.writer(out, lineterminator="\r\n").writerow([column.label for column in source.columns])
        response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, f"{source.label}数据模板.csv")
        return response
    response = HttpResponse(
        template_xlsx(source), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{source.label}数据模板.xlsx")
    return response


def template_xlsx(source) -> bytes:
    """The header row (required columns marked *) and the ID column formatted as text ("@"), so a
    typed or pasted ID keeps all 18 digits."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = source.label[:31]
    for position, column in enumerate(source.columns, start=1):
        cell = sheet.cell(row=1, column=position, value=column.label + ("*" if column.required else ""))
        cell.font = Font(bold=True)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 22 if column.type == ColumnType.ID else 14
        if column.type == ColumnType.ID:
            sheet.column_dimensions[letter].number_format = "@"  # the column's own format: every new cell
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _samples() -> list[str]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".csv", ".xlsx"))


@login_required
def upload_sample(request, name: str):
    """The demo's sample department files (monitoring/samples/), offered on the upload page."""
    if not settings.DEMO_MODE or name not in _samples():
        raise Http404
    return FileResponse(open(SAMPLES / name, "rb"), as_attachment=True, filename=name)  # noqa: SIM115
