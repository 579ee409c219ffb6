"""REST API of the onboarding imports (/api/v1/imports/): upload a file (its check starts in the
background), follow the job, confirm the import of a file that passed. Administrators only, each in
their subtree (ImportJob.objects.for_user: another area's job is a 404). The new accounts' initial
passwords are not in the API: they are downloaded once, on the import's page."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from fpr.api import ErrorSerializer
from fpr.pagination import KeysetPagination
from workflow.models import ImportJob, ImportKind
from workflow.onboarding.jobs import ensure_importer, import_create, import_start


class ReportSerializer(serializers.Serializer):
    lines = serializers.ListField(child=serializers.CharField(), help_text="检查或导入结果（中文，逐行）")
    refused = serializers.BooleanField(help_text="有行未通过检查：未写入任何数据")


class ImportJobSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    user = serializers.StringRelatedField()
    check_report = serializers.SerializerMethodField(help_text="检查结果（试运行，不写入）；检查完成前为 null")
    result = serializers.SerializerMethodField(help_text="导入结果；导入完成前为 null")
    passwords_ready = serializers.SerializerMethodField(help_text="有待下载的初始密码清单（只能在导入页面下载一次）")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "kind_label",
            "file_name",
            "user",
            "status",
            "status_label",
            "check_report",
            "result",
            "error",
            "passwords_ready",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_passwords_ready(self, job) -> bool:
        return bool(job.passwords)

    @extend_schema_field(ReportSerializer(allow_null=True))
    def get_check_report(self, job) -> dict | None:
        return job.check_report or None

    @extend_schema_field(ReportSerializer(allow_null=True))
    def get_result(self, job) -> dict | None:
        return job.result or None


class ImportCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices, help_text="导入内容")
    file = serializers.FileField(help_text="XLSX 或 CSV/TXT（UTF-8、GBK、GB18030）；标题行和表头行自动识别")


@extend_schema_view(
    list=extend_schema(summary="数据导入记录（本辖区；系统管理员）"),
    retrieve=extend_schema(
        summary="导入任务：状态、检查结果与导入结果",
        responses={200: ImportJobSerializer, 404: OpenApiResponse(ErrorSerializer, description="不存在或不在本辖区")},
    ),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ImportJobSerializer
    pagination_class = KeysetPagination
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        return ImportJob.objects.for_user(self.request.user).select_related("user")

    @extend_schema(
        summary="上传文件并检查（后台逐行检查，不写入任何数据）",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={
            201: OpenApiResponse(ImportJobSerializer, description="已上传，正在检查（status=checking）"),
            400: OpenApiResponse(ErrorSerializer, description="未选择导入内容或文件，或文件过大"),
            403: OpenApiResponse(ErrorSerializer, description="只有系统管理员可以导入数据"),
        },
    )
    def create(self, request):
        ensure_importer(request.user)
        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = import_create(user=request.user, **data.validated_data)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="确认导入（检查通过的文件；在一个事务中导入，任何一行出错都不写入）",
        request=None,
        responses={
            202: OpenApiResponse(ImportJobSerializer, description="已开始导入（status=running）"),
            400: OpenApiResponse(ErrorSerializer, description="文件尚未检查完成、未通过检查或已导入"),
            403: OpenApiResponse(ErrorSerializer, description="只有系统管理员可以导入数据"),
            404: OpenApiResponse(ErrorSerializer, description="不存在或不在本辖区"),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def confirm(self, request, pk=None):
        job = import_start(user=request.user, job=self.get_object())
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
