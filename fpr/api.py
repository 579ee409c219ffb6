"""API error shape: every 4xx and 5xx carries a JSON object with a Chinese `detail` (and field errors).

A refused business rule is 400 (with its `extra`, e.g. `reasons`); a role or jurisdiction refusal
(ForbiddenError) is 403 with the same shape; a conflict with someone else's change is 409."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from fpr.errors import ApplicationError, ConflictError, ForbiddenError


class ErrorSerializer(serializers.Serializer):
    """The shape of an error answer, for the schema (one component shared by every app's API)."""

    detail = serializers.CharField(label="说明", help_text="中文说明，总是有；字段错误另以字段名为键给出（消息列表）")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "已被他人处理，请刷新后查看。"
    default_code = "conflict"


CSRF_FAILED = "CSRF 校验失败（页面已过期或不是从本系统提交），请刷新页面后重试。"


def is_nul_refusal(exc) -> bool:
    """The database driver refusing a NUL character (\\x00) that reached a query: bad input, not a fault."""
    return isinstance(exc, ValueError) and "NUL (0x00)" in str(exc)


def exception_handler(exc, context):
    if is_nul_refusal(exc):
        # Authentication ran first (an anonymous caller got its 401 before any parameter was read).
        from fpr.middleware import NUL_DETAIL

        exc = exceptions.ParseError(NUL_DETAIL)
    elif isinstance(exc, exceptions.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # DRF's SessionAuthentication refuses in English ("CSRF Failed: CSRF token missing.").
        exc = exceptions.PermissionDenied(CSRF_FAILED)
    elif isinstance(exc, ConflictError):
        exc = Conflict(exc.message)
    elif isinstance(exc, ForbiddenError):
        exc = exceptions.PermissionDenied({"detail": exc.message, **exc.extra})
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
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _with_detail(response.data)
    return response


FIELD_ERRORS = "提交的内容有误，请按各字段的说明修改。"


def _with_detail(data):
    """Every error body is an object whose `detail` is one Chinese sentence: messages given as a list
    are joined, field errors alone get a summary (the fields keep their own messages)."""
    if isinstance(data, list):  # ValidationError(["…"]), or the errors of a list of objects
        data = {"detail": data} if all(isinstance(m, str) for m in data) else {"errors": data}
    if not isinstance(data, dict):
        return data
    detail = data.get("detail")
    if isinstance(detail, list) and detail and all(isinstance(m, str) for m in detail):
        detail = "；".join(detail)
    if not isinstance(detail, str) or not detail:
        non_field = data.get("non_field_errors")
        ok = isinstance(non_field, list) and non_field and all(isinstance(m, str) for m in non_field)
        detail = "；".join(non_field) if ok else FIELD_ERRORS
    return {"detail": detail, **{k: v for k, v in data.items() if k != "detail"}}


def _api_or_page(request, page_view, status_code: int, detail: str, exception):
    from django.http import JsonResponse

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=status_code, json_dumps_params={"ensure_ascii": False})
    return page_view(request, exception)


NO_ROUTE = "接口地址不存在。"


def not_found(request, exception=None):
    """handler404: an address under /api/ that no route matches (say, a transition name with capitals)
    answers in the API's error shape, not with the HTML page."""
    from django.views.defaults import page_not_found

    return _api_or_page(request, page_not_found, 404, NO_ROUTE, exception)


def server_error(request):
    """handler500: an unhandled exception in a view under /api/ answers in the API's error shape
    (JSON, no traceback or exception text); pages get the 500 page."""
    from django.http import JsonResponse
    from django.views.defaults import server_error as page_server_error

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "服务器内部错误，请稍后重试；如仍有问题，请联系系统管理员。"},
            status=500,
            json_dumps_params={"ensure_ascii": False},
        )
    return page_server_error(request)


def bad_request(request, exception=None):
    """handler400: a request Django refuses before any view (too many fields, a body over the size
    limit …) answers in the API's error shape under /api/."""
    from django.views.defaults import bad_request as page_bad_request

    return _api_or_page(request, page_bad_request, 400, "请求无效。", exception)
