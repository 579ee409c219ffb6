"""待办事项: the open to-do items the scheduled jobs found in the user's subtree, grouped by kind, and the
regional alerts (规模性返贫风险) of the subtree. A fixed number of queries however many items there are."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.shortcuts import render

from fpr.roles import CASE_READERS
from monitoring.models import TodoItem, TodoKind
from monitoring.screening.warning_selectors import regional_alerts

PREVIEW = 20  # items shown per kind on the overview; "查看全部" pages through the rest
PAGE_SIZE = 50
ALERTS_SHOWN = 20
ITEM_ORDER = [F("division_id").asc(), F("opened_at").desc(), F("pk").asc()]


@dataclass
class TodoGroup:
    kind: str
    label: str
    count: int
    items: list


def todo_groups(*, user, kind: str | None = None, page_number=None) -> tuple[list[TodoGroup], list, object]:
    """Open items of the user's subtree. Without `kind`, the first PREVIEW of every kind (one windowed
    query); with it, one page of that kind. Returns the groups, the (kind, label, count) of every kind
    with open items, and the page (or None)."""
    items = TodoItem.objects.for_user(user).open().select_related("division", "household")
    counts = dict(items.order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    summary = [(k.value, k.label, counts[k.value]) for k in TodoKind if k.value in counts]
    if kind:
        page = Paginator(items.filter(kind=kind).order_by(*ITEM_ORDER), PAGE_SIZE).get_page(page_number)
        return [TodoGroup(kind, TodoKind(kind).label, counts.get(kind, 0), list(page))], summary, page
    ranked = items.annotate(rank=Window(RowNumber(), partition_by=[F("kind")], order_by=ITEM_ORDER)).filter(
        rank__lte=PREVIEW
    )
    by_kind: dict[str, list] = {}
    for item in ranked.order_by("kind", "rank"):
        by_kind.setdefault(item.kind, []).append(item)
    groups = [TodoGroup(value, label, count, by_kind.get(value, [])) for value, label, count in summary]
    return groups, summary, None


@login_required
def todo_list(request):
    user = request.user
    if not (user.is_superuser or user.has_role(*CASE_READERS)):
        raise PermissionDenied("您的角色不能查看待办事项。")
    kind = request.GET.get("kind") or None
    if kind not in TodoKind.values:
        kind = None
    groups, summary, page = todo_groups(user=user, kind=kind, page_number=request.GET.get("page"))
    context = {
        "groups": groups,
        "summary": summary,
        "kind": kind,
        "page": page,
        "total": sum(count for _, _, count in summary),
        "alerts": regional_alerts(user=user, limit=ALERTS_SHOWN),
        "preview": PREVIEW,
    }
    return render(request, "monitoring/todos.html", context)
