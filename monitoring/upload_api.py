"""REST API of department uploads (/api/v1/uploads/): upload a list, follow its progress, read its
rejected rows. Scoped like the pages: DepartmentUpload.objects.for_user (a department officer sees
only their department's; another area's upload is a 404)."""

from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from fpr.api import ErrorSerializer
from fpr.errors import ApplicationError
from fpr.pagination import KeysetPagination
from fpr.roles import Department
from households.id_numbers import mask_id_number
from monitoring import comparison
from monitoring.models import DepartmentUpload, RejectedRow, UploadStatus


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
        summary="上传部门数据并开始比对",
        request={"multipart/form-data": UploadCreateSerializer},
        responses={
            202: UploadSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="文件或填写有误；同一文件已上传过时 extra.upload 为其批次"
            ),
            403: OpenApiResponse(ErrorSerializer, description="只能上传本部门的数据"),
        },
    )
    def create(self, request):
        data = UploadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = comparison.upload_create(user=request.user, **data.validated_data)
        upload.refresh_from_db()
        return Response(UploadSerializer(upload).data, status=status.HTTP_202_ACCEPTED)

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
