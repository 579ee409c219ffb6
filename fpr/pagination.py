from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    """Keyset ("seek") paging: constant cost at any depth, unlike OFFSET (see MEASURED.md)."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        # DRF answers a cursor it cannot read with 404, as if the list did not exist: it is a bad
        # query parameter, so a 400 saying what to do.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ParseError("翻页参数 cursor 无效，请从第一页重新查看。") from None
