"""Pages of the onboarding imports (数据导入, /imports/): upload a file, see its check (every problem,
row by row), confirm the import, see the result. Administrators only, each seeing the imports of their
subtree (ImportJob.objects.for_user); the import runs as the administrator who confirmed it."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from fpr.errors import ApplicationError
from fpr.keyset import keyset_page
from workflow.models import ImportJob
from workflow.onboarding.jobs import KINDS, ensure_importer, import_create, import_passwords_take, import_start


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="导入内容", choices=[(key, kind.label) for key, kind in KINDS.items()])
    file = forms.FileField(
        label="文件",
        help_text="Excel（.xlsx）或 CSV/TXT（UTF-8、GBK 或 GB18030）；标题行、表头行和多余的列会自动识别。",
        widget=forms.FileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
        error_messages={"required": "请选择要导入的文件。", "empty": "文件是空的，请检查后重新选择。"},
    )


@login_required
def import_list(request):
    ensure_importer(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_create(user=request.user, kind=form.cleaned_data["kind"], file=form.cleaned_data["file"])
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已上传“{job.file_name}”，正在检查文件，检查结果出来前不会写入任何数据。")
            return redirect("imports:detail", pk=job.pk)
    jobs = ImportJob.objects.for_user(request.user).select_related("user")
    page = keyset_page(request, jobs, field="created_at", descending=True)
    return render(request, "workflow/imports.html", {"form": form, "page": page})


def _scoped_job(request, pk: int) -> ImportJob:
    ensure_importer(request.user)
    return get_object_or_404(ImportJob.objects.for_user(request.user).select_related("user"), pk=pk)


@login_required
def import_detail(request, pk: int):
    job = _scoped_job(request, pk)
    if request.GET.get("format") == "json":  # what the page's poller asks while the worker runs (poll.js)
        return JsonResponse({"done": job.done, "status": job.get_status_display(), "figures": {}})
    return render(request, "workflow/import_detail.html", {"job": job})


@login_required
@require_POST
def import_confirm(request, pk: int):
    job = _scoped_job(request, pk)
    try:
        import_start(user=request.user, job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    except PermissionDenied:
        raise
    else:
        messages.success(request, f"已开始导入“{job.file_name}”。")
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_POST
def import_passwords(request, pk: int):
    """The new accounts' initial passwords (a ZIP of printable lists), once, to the importer."""
    job = _scoped_job(request, pk)
    try:
        data = import_passwords_take(user=request.user, job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("imports:detail", pk=job.pk)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, f"初始密码清单-{job.pk}.zip")
    return response
