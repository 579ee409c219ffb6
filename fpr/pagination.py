from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    """Keyset ("seek") paging: constant cost at any depth, unlike OFFSET (see MEASURED.md)."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 200
