"""API error shape: every 4xx carries a JSON body with a Chinese `detail` (and field errors).

A refused business rule is 400 (with its `extra`, e.g. `reasons`); a conflict with someone else's
change is 409."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from fpr.errors import ApplicationError, ConflictError


class ErrorSerializer(serializers.Serializer):
    """The shape of an error answer, for the schema (one component shared by every app's API)."""

    detail = serializers.CharField(label="说明")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "已被他人处理，请刷新后查看。"
    default_code = "conflict"


def exception_handler(exc, context):
    if isinstance(exc, ConflictError):
        exc = Conflict(exc.message)
    elif isinstance(exc, ApplicationError):
        # `extra` carries structured detail, e.g. every reason a transition was refused.
        detail = {"detail": exc.message, **exc.extra}
        if exc.field:
            detail[exc.field] = [exc.message]
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"detail": exc.messages})
    return drf_exception_handler(exc, context)


def _api_or_page(request, page_view, status_code: int, detail: str, exception):
    from django.http import JsonResponse

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=status_code, json_dumps_params={"ensure_ascii": False})
    return page_view(request, exception)


def not_found(request, exception=None):
    """handler404: an address under /api/ that no route matches (say, a transition name with capitals)
    answers in the API's error shape, not with the HTML page."""
    from django.views.defaults import page_not_found

    return _api_or_page(request, page_not_found, 404, "接口地址不存在。", exception)


def bad_request(request, exception=None):
    """handler400: a request Django refuses before any view (too many fields, a body over the size
    limit …) answers in the API's error shape under /api/."""
    from django.views.defaults import bad_request as page_bad_request

    return _api_or_page(request, page_bad_request, 400, "请求无效。", exception)
