"""REST API of monitoring cases and their workflows — identification and risk elimination (/api/v1/cases/,
/api/v1/bulk-jobs/).

Thin, like the registry API: read through the scoped selectors (a case outside the caller's subtree is
a 404), validate the shape, call one service, render. The services and guards refuse with Chinese
messages: a rule or a guard → 400 (`reasons` lists every guard that failed), a role or jurisdiction
→ 403, someone else moved the case first → 409 "已被他人处理".
"""

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from fpr.pagination import KeysetPagination
from fpr.periods import accounting_year
from monitoring.cases import services as monitoring_services
from monitoring.models import MonitoringCase, Objection
from workflow import services
from workflow.filters import CaseFilter
from workflow.models import BulkJob
from workflow.selectors import bulk_job_for, case_list, case_timeline
from workflow.serializers import (
    AppraisalInputSerializer,
    AppraisalSerializer,
    BulkInputSerializer,
    BulkJobSerializer,
    BulkResultSerializer,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseInputSerializer,
    CaseSerializer,
    CaseTransitionsSerializer,
    ErrorSerializer,
    ObjectionInputSerializer,
    ObjectionResolveSerializer,
    ObjectionSerializer,
    TransitionErrorSerializer,
    TransitionEventSerializer,
    TransitionFireSerializer,
    VerificationInputSerializer,
    VerificationSerializer,
    transition_inputs,
)

TRANSITION_PARAMETER = OpenApiParameter(
    "transition",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="操作名，如 submit_application、township_approve、propose_elimination（见 transitions 接口）",
)
OBJECTION_PARAMETER = OpenApiParameter("objection_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="异议")
REFUSED = OpenApiResponse(TransitionErrorSerializer, description="不能办理：reasons 列出全部原因")
INVALID = OpenApiResponse(OpenApiTypes.OBJECT, description="填写有误：按字段给出中文说明")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="角色或管辖范围不允许")
CONFLICT = OpenApiResponse(ErrorSerializer, description="已被他人处理（案件已不在页面显示的环节）")
MULTIPART = ["multipart/form-data", "application/json"]


class CasePagination(KeysetPagination):
    """Keeps the order the selector chose: a work queue pages longest waiting first."""

    def get_ordering(self, request, queryset, view):
        return tuple(queryset.query.order_by) or super().get_ordering(request, queryset, view)


@extend_schema_view(
    list=extend_schema(
        summary="监测对象列表（本辖区；queue=1 为我的待办）",
        description="queue=1：村级为申请、核实、评议、公示中的案件（含风险消除的核实、评议、公示）；"
        "镇街为待镇街审核（含风险消除·镇街审核）；县级为待县级审定（含风险消除·县级审定）；"
        "按在当前环节等待时间排序，等待最久的在前。",
    ),
    retrieve=extend_schema(summary="监测对象详情（含农户、风险类型和办理过程）", responses=CaseDetailSerializer),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monitoring cases (监测对象) in the caller's subtree and the steps of their workflows (识别程序 and
    风险消除程序, one transition table each)."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = CasePagination
    lookup_value_regex = r"\d+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[MonitoringCase]:
        return case_list(user=self.request.user)

    def filter_queryset(self, queryset: QuerySet[MonitoringCase]) -> QuerySet[MonitoringCase]:
        # The filters choose cases for the list; a single case is found by its id in the scoped list.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def validated(self, serializer_class, *, partial: bool = False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def detail_response(self, case: MonitoringCase, *, status_code: int = status.HTTP_200_OK) -> Response:
        context = {**self.get_serializer_context(), "timeline": case_timeline(case=case)}
        return Response(CaseDetailSerializer(case, context=context).data, status=status_code)

    def retrieve(self, request, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(
        summary="提交申请：登记监测对象",
        request={content_type: CaseCreateSerializer for content_type in MULTIPART},
        responses={201: CaseDetailSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def create(self, request):
        data = self.validated(CaseCreateSerializer)
        case = monitoring_services.case_create(user=request.user, **data)
        return self.detail_response(self.get_queryset().get(pk=case.pk), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="补充或修改申请（提交申请环节），如上传承诺授权书",
        request={content_type: CaseInputSerializer for content_type in MULTIPART},
        responses={200: CaseDetailSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def partial_update(self, request, pk=None):
        case = self.get_object()
        data = self.validated(CaseInputSerializer, partial=True)
        monitoring_services.case_update_application(user=request.user, case=case, **data)
        return self.detail_response(self.get_queryset().get(pk=case.pk))

    # ----------------------------------------------------------------------- transitions

    @extend_schema(summary="当前可办理的操作及不能办理的原因", responses=CaseTransitionsSerializer)
    @action(detail=True, methods=["get"])
    def transitions(self, request, pk=None):
        case = self.get_object()
        options = services.case_available_transitions(user=request.user, case=case)
        payload = {
            "case": case.pk,
            "stage": case.stage,
            "stage_display": case.get_stage_display(),
            "transitions": options,
        }
        return Response(CaseTransitionsSerializer(payload).data)

    @extend_schema(
        summary="办理一个操作（流转到下一环节）",
        description="填写内容放在请求体顶层（multipart 表单），或 JSON 的 inputs 对象中。"
        "expected_stage 为页面显示的环节：案件已被他人处理时返回409。",
        parameters=[TRANSITION_PARAMETER],
        request={content_type: TransitionFireSerializer for content_type in MULTIPART},
        responses={200: TransitionEventSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path=r"transitions/(?P<transition>[a-z_]+)", url_name="fire")
    def fire(self, request, pk=None, transition=None):
        case = self.get_object()
        data = self.validated(TransitionFireSerializer)
        expected_stage = data.pop("expected_stage", None)
        attachments = data.pop("attachments", [])
        event = services.case_transition(
            user=request.user,
            case_id=case.pk,
            transition=transition,
            inputs=transition_inputs(transition, data),
            expected_stage=expected_stage,
            attachments=attachments,
        )
        return Response(TransitionEventSerializer(event, context=self.get_serializer_context()).data)

    # ----------------------------------------------------------------------- stage records

    @extend_schema(
        summary="入户核实：填写核实记录（信息采集表）",
        request=VerificationInputSerializer,
        responses={201: VerificationSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"])
    def verification(self, request, pk=None):
        case = self.get_object()
        data = self.validated(VerificationInputSerializer)
        year = data.pop("year", None) or accounting_year(data["visit_date"])
        verifiers = [dict(verifier) for verifier in data.pop("verifiers")]
        record = monitoring_services.verification_record(
            user=request.user, case=case, verifiers=verifiers, year=year, **data
        )
        return Response(VerificationSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="民主评议：填写评议记录并上传签字会议记录",
        description="multipart 表单中 participants 为 JSON 数组字符串。",
        request={content_type: AppraisalInputSerializer for content_type in MULTIPART},
        responses={201: AppraisalSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"])
    def appraisal(self, request, pk=None):
        case = self.get_object()
        data = self.validated(AppraisalInputSerializer)
        record = monitoring_services.appraisal_record(
            user=request.user,
            case=case,
            meeting_date=data["meeting_date"],
            participants=[dict(participant) for participant in data["participants"]],
            votes_for=data["votes_for"],
            votes_against=data["votes_against"],
            votes_abstain=data["votes_abstain"],
            minutes_scan=data.get("minutes_scan"),
        )
        return Response(
            AppraisalSerializer(record, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="公示期间登记异议",
        request=ObjectionInputSerializer,
        responses={201: ObjectionSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"])
    def objections(self, request, pk=None):
        case = self.get_object()
        data = self.validated(ObjectionInputSerializer)
        objection = monitoring_services.objection_lodge(user=request.user, case=case, **data)
        return Response(ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="异议经核查不属实",
        parameters=[OBJECTION_PARAMETER],
        request=ObjectionResolveSerializer,
        responses={200: ObjectionSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"], url_path=r"objections/(?P<objection_id>\d+)/dismiss", url_name="dismiss")
    def dismiss_objection(self, request, pk=None, objection_id=None):
        objection = self.objection(objection_id)
        data = self.validated(ObjectionResolveSerializer)
        objection = monitoring_services.objection_dismiss(
            user=request.user, objection=objection, resolution=data["resolution"]
        )
        return Response(ObjectionSerializer(objection).data)

    @extend_schema(
        summary="异议经核查属实：退回入户核实",
        parameters=[OBJECTION_PARAMETER],
        request=ObjectionResolveSerializer,
        responses={200: ObjectionSerializer, 400: INVALID, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"objections/(?P<objection_id>\d+)/substantiate",
        url_name="substantiate",
    )
    def substantiate_objection(self, request, pk=None, objection_id=None):
        objection = self.objection(objection_id)
        data = self.validated(ObjectionResolveSerializer)
        services.objection_substantiate(user=request.user, objection=objection, resolution=data["resolution"])
        objection.refresh_from_db()
        return Response(ObjectionSerializer(objection).data)

    def objection(self, objection_id) -> Objection:
        return get_object_or_404(Objection, pk=objection_id, notice__case=self.get_object())

    # ----------------------------------------------------------------------- bulk

    @extend_schema(
        summary="批量办理（如镇街批量审核通过）",
        description=f"不超过 FPR_BULK_INLINE_LIMIT（默认{settings.FPR_BULK_INLINE_LIMIT}）件时立即办理，返回200及"
        "每件失败的原因；超过时转为后台任务，返回202及任务编号，进度见 /api/v1/bulk-jobs/{id}/。"
        f"一次最多 FPR_BULK_MAX_CASES（默认{settings.FPR_BULK_MAX_CASES}）件，超过返回400。",
        request=BulkInputSerializer,
        responses={200: BulkResultSerializer, 202: BulkJobSerializer, 400: INVALID},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        data = self.validated(BulkInputSerializer)
        case_ids = list(dict.fromkeys(data["case_ids"]))  # a case listed twice is done once
        name = data["transition"]
        inputs = transition_inputs(name, dict(data.get("inputs") or {}))
        done = services.case_bulk_action(user=request.user, case_ids=case_ids, transition=name, inputs=inputs)
        if not isinstance(done, BulkJob):
            return Response(BulkResultSerializer({"total": len(case_ids), **done}).data)
        job = done
        location = reverse("bulk-job-detail", args=[job.pk], request=request)
        return Response(BulkJobSerializer(job).data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class BulkJobViewSet(viewsets.GenericViewSet):
    """Progress of a background bulk action; visible to the user who started it."""

    serializer_class = BulkJobSerializer
    queryset = BulkJob.objects.none()  # names the model for the schema; reads go through bulk_job_for
    lookup_value_regex = r"\d+"

    @extend_schema(summary="批量办理进度")
    def retrieve(self, request, pk=None):
        job = bulk_job_for(user=request.user, job_id=int(pk))
        if job is None:
            raise Http404
        return Response(BulkJobSerializer(job).data)
