"""API error shape: every 4xx carries a JSON body with a Chinese `detail` (and field errors)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from fpr.errors import ApplicationError


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        detail = {"detail": exc.message}
        if exc.field:
            detail[exc.field] = [exc.message]
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"detail": exc.messages})
    return drf_exception_handler(exc, context)
