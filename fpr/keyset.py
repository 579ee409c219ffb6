"""Keyset paging for the list pages (the API has fpr.pagination): seek past the last row shown instead
of OFFSET, so a deep page costs what the first one does."""

import datetime as dt

from django.db.models import Q

PAGE_SIZE = 50


def keyset_page(request, queryset, *, field: str, descending: bool, size: int = PAGE_SIZE) -> dict:
    """One page of `size` rows in (field, pk) order, `field` being a datetime column. The cursors are the
    last row shown ("after") or the first ("before"); rows with an equal `field` are told apart by pk."""
    after, before = _cursor(request.GET.get("after")), _cursor(request.GET.get("before"))
    backwards = before is not None
    cursor = before if backwards else after
    ascending = descending == backwards  # the direction rows are read in
    if cursor is not None:
        op = "gt" if ascending else "lt"
        value, pk = cursor
        queryset = queryset.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk}))
    ordering = (field, "pk") if ascending else (f"-{field}", "-pk")
    rows = list(queryset.order_by(*ordering)[: size + 1])
    more, rows = len(rows) > size, rows[:size]
    if backwards:
        rows.reverse()
    has_previous, has_next = (more, True) if backwards else (cursor is not None, more)

    def query(**cursor) -> str:
        params = request.GET.copy()
        params.pop("after", None)
        params.pop("before", None)
        params.update(cursor)
        return params.urlencode()

    def key(row) -> str:
        return f"{getattr(row, field).isoformat()}|{row.pk}"

    return {
        "rows": rows,
        "next_query": query(after=key(rows[-1])) if rows and has_next else None,
        "previous_query": query(before=key(rows[0])) if rows and has_previous else None,
        "first_query": query() if has_previous else None,
    }


MAX_PK = 2**63 - 1  # PostgreSQL bigint: a larger number in a cursor would be a database error


def _cursor(raw: str | None) -> tuple[dt.datetime, int] | None:
    """The cursor written by `key`; anything else (edited by hand, truncated) is ignored: the first page."""
    if not raw:
        return None
    try:
        stamp, pk = raw.rsplit("|", 1)
        value, pk = dt.datetime.fromisoformat(stamp), int(pk)
    except (ValueError, OverflowError):
        return None
    if value.tzinfo is None or not 0 < pk <= MAX_PK:
        return None
    return value, pk
