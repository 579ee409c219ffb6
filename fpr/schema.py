"""OpenAPI schema: every operation documents the error answers it can give, in the one error shape of
fpr/api.py, so a client (and the fuzzing test, tests/test_api_fuzz.py) can rely on the schema for
every status, not only the successful one.

An operation's own declarations (a 400 with `reasons`, a 409) win; the rest are added here:
401 and 403 on every operation (every API view requires a signed-in user, and a role or the CSRF check
may refuse), 404 where the path names an object, 400 where the caller sends a body or query parameters.

A read-only choice over a model field that may be blank (a case's 风险等级 before 研判, a member's
disability category) answers "": DRF drops `allow_blank` from read-only fields, so the schema is told
here, for every serializer at once.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from fpr.api import ErrorSerializer

ERROR_RESPONSES = {
    "400": OpenApiResponse(ErrorSerializer, description="请求有误：detail 为中文说明，字段错误另按字段给出"),
    "401": OpenApiResponse(ErrorSerializer, description="未登录，或 API 令牌无效、已过期"),
    "403": OpenApiResponse(ErrorSerializer, description="角色或管辖范围不允许，或缺少 CSRF 令牌（会话登录时）"),
    "404": OpenApiResponse(ErrorSerializer, description="对象不存在，或不在本辖区"),
}


def _model_field_may_be_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return bool(model._meta.get_field(field.source).blank)
    except FieldDoesNotExist:
        return False


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if (
            isinstance(field, serializers.ChoiceField)
            and field.read_only
            and not field.allow_blank
            and _model_field_may_be_blank(field)
        ):
            field.allow_blank = True  # this serializer instance serves only the schema
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        codes = ["401", "403"]
        if "{" in path:
            codes.append("404")
        if "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", [])):
            codes.append("400")
        responses = operation["responses"]
        for code in sorted(codes):
            if code not in responses:
                responses[code] = self._get_response_for_code(ERROR_RESPONSES[code], code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation
