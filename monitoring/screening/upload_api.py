"""REST API of department uploads (/api/v1/uploads/): upload a list, follow its progress, read its
rejected rows. Scoped like the pages: DepartmentUpload.objects.for_user (a department officer sees
only their department's; another area's upload is a 404)."""

from django.http import FileResponse, Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from fpr.api import ErrorSerializer
from fpr.errors import ApplicationError
from fpr.pagination import KeysetPagination
from fpr.roles import Department
from households.id_numbers import mask_id_number
from monitoring.models import DepartmentUpload, RejectedRow, UploadStatus
from monitoring.screening import comparison, tables


class ProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    status_label = serializers.CharField()
    phase = serializers.CharField(help_text="比对中的阶段：读取并校验 / 匹配登记人员 / 生成预警")
    rows_read = serializers.IntegerField()
    rows_matched = serializers.IntegerField(allow_null=True)
    rows_rejected = serializers.IntegerField(allow_null=True, help_text="有误的行（全部计数）")
    rows_unmatched = serializers.IntegerField(allow_null=True, help_text="本辖区未登记人员的行（不是错误，只计数）")
    warnings_created = serializers.IntegerField()
    warnings_existing = serializers.IntegerField()
    error = serializers.CharField()
    report_ready = serializers.BooleanField()


class UploadSerializer(serializers.ModelSerializer):
    department_label = serializers.CharField(source="get_department_display", read_only=True)
    uploaded_by = serializers.StringRelatedField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = DepartmentUpload
        fields = [
            "id",
            "department",
            "department_label",
            "period",
            "division",
            "original_name",
            "size",
            "file_format",
            "encoding",
            "detected_encoding",
            "columns",
            "status",
            "error",
            "rows_total",
            "rows_matched",
            "rows_rejected",
            "rows_unmatched",
            "rejected_kept",
            "warnings_created",
            "warnings_existing",
            "created_at",
            "started_at",
            "finished_at",
            "uploaded_by",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, upload) -> dict:
        return comparison.upload_progress(upload)

    def to_representation(self, upload) -> dict:
        data = super().to_representation(upload)
        data["error"] = comparison.bounded_error(data["error"])  # uploads failed before the bound
        return data


class UploadCreateSerializer(serializers.Serializer):
    department = serializers.ChoiceField(choices=Department.choices)
    period = serializers.RegexField(r"^\d{4}-\d{2}$", help_text="数据期间 YYYY-MM")
    encoding = serializers.ChoiceField(
        choices=[("", "自动识别"), *comparison.ENCODINGS.items()], required=False, default=""
    )
    file = serializers.FileField(help_text="CSV（UTF-8/GBK/GB18030）或 XLSX；列名行自动识别（可带标题行和两行表头）")
    start = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true：识别出全部必需列时直接开始比对（202）；false（默认）或有必需列未识别：返回预览（201，待确认）",
    )


class PreviewColumnSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="文件中的列位置（从0起）")
    name = serializers.CharField(help_text="列名（两行表头合并为“上行/下行”）")
    sample = serializers.CharField(help_text="该列第一个非空值（已遮挡）")


class PreviewFieldSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="比对列代码")
    label = serializers.CharField()
    required = serializers.BooleanField()
    position = serializers.IntegerField(allow_null=True, help_text="对应的文件列位置；null 为未对应")
    name = serializers.CharField()


class PreviewProblemSerializer(serializers.Serializer):
    row_number = serializers.IntegerField()
    column = serializers.CharField()
    reason = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    ready = serializers.BooleanField(help_text="必需列都已对应，可以开始比对")
    error = serializers.CharField(help_text="文件无法读取时的原因（批次已标为比对失败）")
    encoding = serializers.CharField(required=False)
    encoding_label = serializers.CharField(required=False)
    header_row = serializers.IntegerField(required=False, help_text="列名所在行（从1起；两行表头为下一行）")
    header_rows = serializers.IntegerField(required=False)
    title_rows = serializers.IntegerField(required=False)
    columns = PreviewColumnSerializer(many=True, required=False)
    fields = PreviewFieldSerializer(many=True, required=False)
    missing = serializers.ListField(child=serializers.CharField(), required=False, help_text="未对应的必需列")
    unmapped = serializers.ListField(child=serializers.CharField(), required=False)
    rows_estimate = serializers.IntegerField(allow_null=True, required=False)
    rows = serializers.ListField(child=serializers.ListField(child=serializers.CharField()), required=False)
    rows_checked = serializers.IntegerField(required=False)
    problems = PreviewProblemSerializer(many=True, required=False)
    problem_rows = serializers.IntegerField(required=False)
    blank_rows = serializers.IntegerField(required=False)
    footer_rows = serializers.IntegerField(required=False)


class UploadPreviewSerializer(UploadSerializer):
    preview = PreviewSerializer(read_only=True)

    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "preview"]
        read_only_fields = fields


class StartSerializer(serializers.Serializer):
    header_row = serializers.IntegerField(
        required=False, min_value=1, max_value=tables.HEADER_SCAN_ROWS, help_text="列名所在行；不填用识别结果"
    )
    header_rows = serializers.ChoiceField(choices=[1, 2], required=False, default=1)
    mapping = serializers.DictField(
        child=serializers.IntegerField(min_value=0, allow_null=True),
        required=False,
        help_text="比对列代码 → 文件列位置（见预览 columns）；给出时保存为本部门本区划的列对应，下次自动应用",
    )


class RejectedRowSerializer(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField()

    class Meta:
        model = RejectedRow
        fields = ["id", "row_number", "column_label", "reason", "id_number"]

    def get_id_number(self, row) -> str:
        return mask_id_number(row.id_number)


class RowPagination(KeysetPagination):
    ordering = "row_number"


@extend_schema_view(
    list=extend_schema(summary="部门数据上传批次（本辖区；部门数据专员只见本部门）"),
    retrieve=extend_schema(summary="上传批次详情与比对进度"),
)
class UploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = UploadSerializer
    pagination_class = KeysetPagination
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return DepartmentUpload.objects.for_user(self.request.user).select_related("uploaded_by")

    @extend_schema(
        summary="上传部门数据（预览待确认，或直接开始比对）",
        request={"multipart/form-data": UploadCreateSerializer},
        responses={
            201: OpenApiResponse(UploadPreviewSerializer, description="已上传，待确认：preview 为识别结果"),
            202: OpenApiResponse(UploadSerializer, description="start=true 且必需列都已识别：已开始比对"),
            400: OpenApiResponse(
                ErrorSerializer, description="文件或填写有误；同一文件已上传过时 extra.upload 为其批次"
            ),
            403: OpenApiResponse(ErrorSerializer, description="只能上传本部门的数据"),
        },
    )
    def create(self, request):
        data = UploadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        start = values.pop("start")
        upload = comparison.upload_create(user=request.user, start=False, **values)
        preview = comparison.upload_preview(upload)
        if start and preview["ready"]:
            upload = comparison.upload_start(upload, user=request.user)
            upload.refresh_from_db()
            return Response(UploadSerializer(upload).data, status=status.HTTP_202_ACCEPTED)
        upload.refresh_from_db()
        upload.preview = preview
        return Response(UploadPreviewSerializer(upload).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="预览（待确认的批次）：识别的编码、列名行、列对应、前几行与问题",
        parameters=[
            OpenApiParameter("header_row", int, description="按指定的列名所在行识别（从1起）"),
            OpenApiParameter("header_rows", int, description="表头行数：1 或 2"),
        ],
        responses={200: PreviewSerializer, 400: OpenApiResponse(ErrorSerializer, description="批次已不是待确认")},
    )
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        upload = self.get_object()
        if upload.status != UploadStatus.PREVIEW:
            raise ApplicationError(f"该批次{upload.get_status_display()}，没有待确认的预览。")
        try:
            header_row = int(request.query_params.get("header_row") or 0) or None
        except ValueError:
            raise ApplicationError("header_row 应为行号（整数）。", field="header_row") from None
        if header_row is not None and not 1 <= header_row <= tables.HEADER_SCAN_ROWS:
            raise ApplicationError(f"列名所在行应在第1至{tables.HEADER_SCAN_ROWS}行之间。", field="header_row")
        header_rows = 2 if request.query_params.get("header_rows") == "2" else 1
        return Response(comparison.upload_preview(upload, header_row=header_row, header_rows=header_rows))

    @extend_schema(
        summary="开始比对（确认列名行与列对应；列对应保存后下次自动应用）",
        request=StartSerializer,
        responses={
            202: UploadSerializer,
            400: OpenApiResponse(ErrorSerializer, description="必需列未对应（extra.missing）或批次已不是待确认"),
            403: OpenApiResponse(ErrorSerializer, description="只有该部门的数据专员和系统管理员可以确认"),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def start(self, request, pk=None):
        upload = self.get_object()
        data = StartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        upload = comparison.upload_start(
            upload,
            user=request.user,
            header_row=values.get("header_row"),
            header_rows=int(values.get("header_rows") or 1),
            positions=values.get("mapping"),
        )
        upload.refresh_from_db()
        return Response(UploadSerializer(upload).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="放弃待确认的批次（删除文件，不比对）",
        request=None,
        responses={
            204: None,
            400: OpenApiResponse(ErrorSerializer, description="批次已不是待确认"),
            403: OpenApiResponse(ErrorSerializer, description="只有该部门的数据专员和系统管理员可以放弃"),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def discard(self, request, pk=None):
        comparison.upload_discard(self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="拒收行（按行号）", responses=RejectedRowSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="rejected-rows")
    def rejected_rows(self, request, pk=None):
        upload = self.get_object()
        paginator = RowPagination()
        page = paginator.paginate_queryset(RejectedRow.objects.filter(upload=upload), request, view=self)
        return paginator.get_paginated_response(RejectedRowSerializer(page, many=True).data)

    @extend_schema(
        summary="下载拒收行报告（XLSX）",
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes},
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        upload = self.get_object()
        if upload.status != UploadStatus.DONE or not upload.rows_kept:
            raise Http404("该批次没有拒收行。")
        if not comparison.rejected_report_ready(upload):
            raise ApplicationError(f"拒收行共 {upload.rows_kept} 行，报告正在后台生成，请稍后再下载。")
        return FileResponse(
            upload.rejected_report.open("rb"), as_attachment=True, filename=f"rejected_{upload.pk}.xlsx"
        )
