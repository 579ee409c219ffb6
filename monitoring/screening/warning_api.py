"""REST API of warnings (预警线索, /api/v1/warnings/): the queue with the 48-hour countdown, one warning with
its source row, and the village's verification — include (纳入), exclude (不纳入), attach (并入在办案件).

Thin, like the case API: read through `RiskWarning.objects.for_user` (another village's warning is a
404, for reading and acting alike), check the shape, call one service in
monitoring.screening.warning_services. Refusals: a rule → 400 with a Chinese `detail`, a role → 403,
someone else verified it first → 409.
"""

from django.db.models import QuerySet
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fpr import clock
from fpr.api import ErrorSerializer
from fpr.pagination import KeysetPagination
from fpr.roles import Department
from households.id_numbers import mask_id_number
from monitoring.models import (
    WARNING_DUE_HOURS,
    CaseType,
    ContactOutcome,
    RiskColour,
    RiskWarning,
    WarningContact,
    WarningStatus,
)
from monitoring.screening import warning_services as services
from monitoring.screening.warning_selectors import (
    application_prefill,
    household_phone,
    source_rows,
    warning_contacts,
    warning_deadline,
    warning_get,
    warning_list,
)

INVALID = OpenApiResponse(ErrorSerializer, description="不能办理：detail 为中文说明（字段错误按字段给出）")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="角色或管辖范围不允许")
CONFLICT = OpenApiResponse(ErrorSerializer, description="该预警线索已被他人处理")


# --------------------------------------------------------------------------- shapes


class SourceCellSerializer(serializers.Serializer):
    column = serializers.CharField(label="列名")
    value = serializers.CharField(label="内容（身份证号按权限隐藏）")


class WarningSerializer(serializers.ModelSerializer):
    """A warning as queued: reads only what `warning_list` joins (member, household, village)."""

    department_display = serializers.CharField(source="get_department_display", read_only=True, label="部门名称")
    kind_display = serializers.CharField(source="kind_label", read_only=True, label="预警类型名称")
    grade_display = serializers.CharField(source="get_grade_display", read_only=True, label="预警等级名称")
    status_display = serializers.CharField(source="get_status_display", read_only=True, label="核实结果名称")
    member_name = serializers.CharField(source="member.name", read_only=True, label="姓名")
    id_number = serializers.SerializerMethodField(label="身份证号（按权限隐藏）")
    household_number = serializers.CharField(source="household.number", read_only=True, label="户编号")
    village_name = serializers.CharField(source="village.name", read_only=True, label="村")
    is_overdue = serializers.SerializerMethodField(label=f"已超过{WARNING_DUE_HOURS}小时核实时限")
    hours_left = serializers.SerializerMethodField(label="距核实时限的整小时数（超时为负；已核实为空）")
    time_left = serializers.SerializerMethodField(label="核实时限说明，如“剩余 31小时”“已超时 5小时”")

    class Meta:
        model = RiskWarning
        fields = (
            "id",
            "department",
            "department_display",
            "kind",
            "kind_display",
            "grade",
            "grade_display",
            "period",
            "member",
            "member_name",
            "id_number",
            "household",
            "household_number",
            "village",
            "village_name",
            "risk_category",
            "asset_kind",
            "raised_at",
            "due_at",
            "is_overdue",
            "hours_left",
            "time_left",
            "status",
            "status_display",
            "case",
            "reason",
            "handled_by",
            "handled_at",
        )
        read_only_fields = fields

    def get_id_number(self, warning: RiskWarning) -> str:
        number = warning.member.id_number
        return number if self.context.get("show_sensitive", False) else mask_id_number(number)

    def _deadline(self, warning: RiskWarning):
        return warning_deadline(warning, self.context.get("now"))

    def get_is_overdue(self, warning: RiskWarning) -> bool:
        return self._deadline(warning).overdue

    def get_hours_left(self, warning: RiskWarning) -> int | None:
        return self._deadline(warning).hours_left

    def get_time_left(self, warning: RiskWarning) -> str:
        return self._deadline(warning).text


class WarningContactSerializer(serializers.ModelSerializer):
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True, label="联系情况名称")
    contacted_by_name = serializers.CharField(source="contacted_by.__str__", read_only=True, label="联系人")

    class Meta:
        model = WarningContact
        fields = ("id", "outcome", "outcome_display", "contacted_at", "contacted_by", "contacted_by_name", "note")
        read_only_fields = fields


class WarningContactCreateSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ContactOutcome.choices, label="联系情况")
    contacted_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, label="联系时间（默认现在）"
    )
    # Blank is let through: the service asks for it (when not reached) in its own words.
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500, label="情况说明")


class ApplicationPrefillSerializer(serializers.Serializer):
    """What the warning page's 纳入 form starts from; a client may post it to include/ as it is or edited."""

    case_type = serializers.ChoiceField(choices=CaseType.choices, label="监测对象类型")
    risk_categories = serializers.ListField(child=serializers.CharField(), label="风险类型代码")
    colour = serializers.CharField(label="风险等级（颜色，取预警等级）")
    description = serializers.CharField(label="困难情况描述")


class WarningDetailSerializer(WarningSerializer):
    source = serializers.SerializerMethodField(label="部门数据原始行（按文件列顺序）")
    application_prefill = serializers.SerializerMethodField(label="纳入时的申请预填内容（与页面一致）")
    household_phone = serializers.SerializerMethodField(
        label="农户联系电话（村级干部可见完整号码，其他角色隐藏中间四位）"
    )
    contacts = serializers.SerializerMethodField(label="联系记录（最近的在前）")
    row_number = serializers.IntegerField(read_only=True, label="来源行号")
    upload = serializers.PrimaryKeyRelatedField(read_only=True, label="来源批次")

    class Meta(WarningSerializer.Meta):
        fields = (
            *WarningSerializer.Meta.fields,
            "upload",
            "row_number",
            "source",
            "household_phone",
            "contacts",
            "application_prefill",
        )
        read_only_fields = fields

    def get_household_phone(self, warning: RiskWarning) -> str:
        return household_phone(user=self.context["request"].user, warning=warning)

    @extend_schema_field(WarningContactSerializer(many=True))
    def get_contacts(self, warning: RiskWarning) -> list[dict]:
        return WarningContactSerializer(warning_contacts(warning=warning), many=True).data

    @extend_schema_field(ApplicationPrefillSerializer)
    def get_application_prefill(self, warning: RiskWarning) -> dict:
        return ApplicationPrefillSerializer(application_prefill(warning)).data

    @extend_schema_field(SourceCellSerializer(many=True))
    def get_source(self, warning: RiskWarning) -> list[dict]:
        rows = source_rows(warning, show_sensitive=self.context.get("show_sensitive", False))
        return [{"column": column, "value": value} for column, value in rows]


class WarningIncludeSerializer(serializers.Serializer):
    case_type = serializers.ChoiceField(choices=CaseType.choices, label="监测对象类型")
    risk_categories = serializers.ListField(child=serializers.CharField(), label="风险类型代码（至少一个）")
    description = serializers.CharField(label="困难情况描述")
    colour = serializers.ChoiceField(
        choices=RiskColour.choices, required=False, allow_blank=True, label="风险等级（颜色）"
    )


class WarningExcludeSerializer(serializers.Serializer):
    # Blank is let through: the service refuses it with its own Chinese message.
    reason = serializers.CharField(allow_blank=True, label="不纳入原因（必填）")


class WarningAttachSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", label="说明")


class WarningFilter(filters.FilterSet):
    """Validates and documents the list's parameters; the filtering is the selector's (the queue page's)."""

    status = filters.ChoiceFilter(choices=[*WarningStatus.choices, ("all", "全部")], label="核实结果（默认待核实）")
    department = filters.ChoiceFilter(choices=Department.choices, label="部门")
    period = filters.CharFilter(label="数据期间（YYYY-MM）")
    overdue = filters.BooleanFilter(label=f"已超过{WARNING_DUE_HOURS}小时核实时限（true）或未超时（false）")
    search = filters.CharFilter(label="成员姓名、户编号、完整身份证号或其后4–6位")

    class Meta:
        model = RiskWarning
        fields = ("status", "department", "period", "overdue", "search")

    def filter_queryset(self, queryset):
        params = self.form.cleaned_data
        chosen = params.get("status") or WarningStatus.OPEN
        return warning_list(
            user=self.request.user,
            status=None if chosen == "all" else chosen,
            department=params.get("department") or None,
            period=params.get("period") or None,
            overdue=params.get("overdue"),
            search=params.get("search") or None,
        )


class WarningPagination(KeysetPagination):
    # Earliest deadline first: the overdue ones lead.
    ordering = ("due_at", "id")


# --------------------------------------------------------------------------- the viewset


@extend_schema_view(
    list=extend_schema(
        summary="预警线索列表（本辖区；默认待核实，核实时限最早的在前）",
        description="status=all 显示全部核实结果；"
        f"overdue=true 只看已超过{WARNING_DUE_HOURS}小时核实时限的待核实线索。",
    ),
    retrieve=extend_schema(summary="预警线索详情（含部门数据原始行）", responses=WarningDetailSerializer),
)
class WarningViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Warnings (预警线索) raised by the departmental comparison in the caller's subtree."""

    serializer_class = WarningSerializer
    filterset_class = WarningFilter
    pagination_class = WarningPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[RiskWarning]:
        return warning_list(user=self.request.user, status=None)

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        # Masked for everyone; full numbers come from /households/?reveal=1, which logs the viewing.
        context["show_sensitive"] = False
        context["now"] = clock.now()
        return context

    def get_object(self) -> RiskWarning:
        # The detail joins the upload (its columns) and more; the same scope as the list.
        warning = warning_get(user=self.request.user, pk=int(self.kwargs["pk"]))
        if warning is None:
            raise Http404
        self.check_object_permissions(self.request, warning)
        return warning

    def detail_response(self, warning: RiskWarning) -> Response:
        warning = warning_get(user=self.request.user, pk=warning.pk)
        return Response(WarningDetailSerializer(warning, context=self.get_serializer_context()).data)

    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(
        summary="登记联系农户情况（已电话联系 / 已上门 / 未联系上）",
        description=f"{WARNING_DUE_HOURS}小时内与农户取得联系；每次联系登记一条，未联系上须说明情况。只能在待核实时登记。",
        request=WarningContactCreateSerializer,
        responses={201: WarningDetailSerializer, 400: INVALID, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="contacts")
    def contact(self, request, pk=None):
        warning = self.get_object()
        data = self.validated(WarningContactCreateSerializer)
        services.warning_contact_record(user=request.user, warning=warning, **data)
        response = self.detail_response(warning)
        response.status_code = 201
        return response

    @extend_schema(
        summary="纳入：代农户登记监测申请（发现渠道：部门筛查预警）",
        description="该户已有在办或监测中的案件时返回400，应改用 attach（并入在办案件）。",
        request=WarningIncludeSerializer,
        responses={200: WarningDetailSerializer, 400: INVALID, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def include(self, request, pk=None):
        warning = self.get_object()  # another village's warning is a 404 before anything else
        data = self.validated(WarningIncludeSerializer)
        data["colour"] = data.get("colour") or ""
        warning = services.warning_include(user=request.user, warning=warning, **data)
        return self.detail_response(warning)

    @extend_schema(
        summary="不纳入（须填写原因）",
        request=WarningExcludeSerializer,
        responses={200: WarningDetailSerializer, 400: INVALID, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def exclude(self, request, pk=None):
        warning = self.get_object()
        data = self.validated(WarningExcludeSerializer)
        warning = services.warning_exclude(user=request.user, warning=warning, reason=data["reason"])
        return self.detail_response(warning)

    @extend_schema(
        summary="并入在办案件（该户已有在办或监测中的案件时）",
        request=WarningAttachSerializer,
        responses={200: WarningDetailSerializer, 400: INVALID, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def attach(self, request, pk=None):
        warning = self.get_object()
        data = self.validated(WarningAttachSerializer)
        warning = services.warning_attach(user=request.user, warning=warning, note=data["note"])
        return self.detail_response(warning)
