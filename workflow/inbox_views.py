"""The home page by role and 我的待办 (workflow.inbox). Here, not in households, because they compose the
registry, the department uploads and the inbox of every app."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import render

from fpr.roles import CASE_READERS, Role
from households import views as household_views
from monitoring.models import DepartmentUpload, UploadStatus
from monitoring.screening.comparison import uploadable_departments
from workflow.inbox import BUCKET_LABELS, inbox_counts, inbox_items, reads_inbox

RECENT_UPLOADS = 10


def is_department_officer_only(user) -> bool:
    """A department data officer who holds no case-reading role: the registry is not theirs to see."""
    return not user.is_superuser and user.has_role(Role.DEPARTMENT_OFFICER) and not user.has_role(*CASE_READERS)


@login_required
def home(request):
    """Case readers get the registry's counts and their inbox (households.views.home, home.html); a
    department officer gets their department's uploads and the upload link."""
    user = request.user
    if not is_department_officer_only(user):
        return household_views.home(request)
    uploads = DepartmentUpload.objects.for_user(user)
    totals = uploads.aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(status=UploadStatus.QUEUED)),
        failed=Count("pk", filter=Q(status=UploadStatus.FAILED)),
    )
    context = {
        "uploads": list(uploads.select_related("division", "uploaded_by")[:RECENT_UPLOADS]),
        "totals": totals,
        "can_upload": bool(uploadable_departments(user)),
        "department_label": user.get_department_display() if user.department else "",
    }
    return render(request, "home_department.html", context)


@login_required
def inbox_page(request):
    """我的待办: counts by kind and deadline, then the items, overdue first, each linking to its page."""
    user = request.user
    if not reads_inbox(user):
        raise PermissionDenied("部门数据专员没有监测帮扶待办；本部门的上传和比对结果见“部门数据”。")
    counts = inbox_counts(user=user)
    context = {
        "counts": counts,
        "items": inbox_items(user=user, counts=counts),
        "bucket_labels": BUCKET_LABELS,
    }
    return render(request, "workflow/inbox.html", context)
