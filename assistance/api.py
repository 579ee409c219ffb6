"""REST API of assistance (帮扶): a case's plan, risk-elimination check and classification
(/api/v1/cases/{id}/plan/, …/elimination-check/, …/classification/), measures, visits and the monthly
visit duty.

Thin, like the case API: read through the scoped selectors (a case outside the caller's subtree is a
404), validate the shape, call one service, render. The services refuse with Chinese messages: a rule
→ 400, a role or jurisdiction → 403. Elimination itself goes through the case transitions
(/api/v1/cases/{id}/transitions/propose_elimination/ …), which evaluate the same rules.
"""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from assistance import services
from assistance.advice import plan_advice
from assistance.filters import MeasureFilter, VisitFilter
from assistance.models import AssistancePlan, Measure, Visit
from assistance.rules import PROPOSAL, elimination_check
from assistance.selectors import measures_for, plan_for, plan_versions, visit_duty, visits_for
from assistance.serializers import (
    ClassificationInputSerializer,
    ClassificationRecordSerializer,
    ClassificationSerializer,
    EliminationCheckQuerySerializer,
    EliminationCheckSerializer,
    MeasureCreateSerializer,
    MeasureInputSerializer,
    MeasureSerializer,
    MonthQuerySerializer,
    PlanAdjustSerializer,
    PlanInputSerializer,
    PlanSerializer,
    PlanVersionSerializer,
    VisitCreateSerializer,
    VisitDutySerializer,
    VisitSerializer,
    check_payload,
)
from fpr import clock
from fpr.api import ErrorSerializer
from fpr.pagination import KeysetPagination
from monitoring.cases.classification import suggest_classification
from monitoring.cases.services import case_classify
from monitoring.models import MonitoringCase

INVALID = OpenApiResponse(OpenApiTypes.OBJECT, description="填写有误：按字段给出中文说明")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="角色或管辖范围不允许")
NO_PLAN = OpenApiResponse(ErrorSerializer, description="案件不存在（或不在本辖区），或尚未制定帮扶计划")
MULTIPART = ["multipart/form-data", "application/json"]


class InputMixin:
    def validated(self, serializer_class, *, data=None, partial: bool = False, **context) -> dict:
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            partial=partial,
            context={**self.get_serializer_context(), **context},
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --------------------------------------------------------------------------- a case's assistance


class CaseAssistanceViewSet(InputMixin, viewsets.GenericViewSet):
    """The assistance side of one monitoring case: its "一户一策" plan, the "七个不消" check and the
    classification helper. Shares the /api/v1/cases/{id}/ prefix with the case API."""

    queryset = MonitoringCase.objects.none()  # names the model for the schema; reads go through for_user
    serializer_class = PlanSerializer
    lookup_value_regex = r"\d+"
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[MonitoringCase]:
        return MonitoringCase.objects.for_user(self.request.user).select_related("household", "village")

    def plan_or_404(self, case: MonitoringCase) -> AssistancePlan:
        plan = plan_for(user=self.request.user, case=case)
        if plan is None:
            raise NotFound("该监测对象尚未制定帮扶计划。")
        return plan

    def plan_response(self, case: MonitoringCase, *, status_code: int = status.HTTP_200_OK) -> Response:
        plan = self.plan_or_404(case)
        context = {
            **self.get_serializer_context(),
            "advice": plan_advice(case=case),
            "check": elimination_check(case, moment=PROPOSAL),
        }
        return Response(PlanSerializer(plan, context=context).data, status=status_code)

    @extend_schema(
        methods=["GET"],
        summary="帮扶计划（一户一策）：措施、帮扶提示和风险消除检查",
        responses={200: PlanSerializer, 404: NO_PLAN},
    )
    @extend_schema(
        methods=["POST"],
        summary="制定帮扶计划（县级审定纳入监测后）",
        request=PlanInputSerializer,
        responses={201: PlanSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    @extend_schema(
        methods=["PATCH"],
        summary="动态调整帮扶计划（须填写调整原因，版本号加一）",
        request=PlanAdjustSerializer,
        responses={200: PlanSerializer, 400: INVALID, 403: FORBIDDEN, 404: NO_PLAN},
    )
    @action(detail=True, methods=["get", "post", "patch"])
    def plan(self, request, pk=None):
        case = self.get_object()
        if request.method == "POST":
            data = self.validated(PlanInputSerializer, case=case)
            services.plan_create(user=request.user, case=case, **data)
            return self.plan_response(case, status_code=status.HTTP_201_CREATED)
        if request.method == "PATCH":
            plan = self.plan_or_404(case)
            data = self.validated(PlanAdjustSerializer, partial=True, case=case)
            reason = data.pop("adjustment_reason", "")
            services.plan_adjust(user=request.user, plan=plan, reason=reason, **data)
        return self.plan_response(case)

    @extend_schema(
        summary="帮扶计划的历次版本（最早的在前）", responses={200: PlanVersionSerializer(many=True), 404: NO_PLAN}
    )
    # One plan's versions, all of them: neither paged nor filtered like the case list.
    @action(
        detail=True,
        methods=["get"],
        url_path="plan/versions",
        url_name="plan-versions",
        pagination_class=None,
        filter_backends=[],
    )
    def plan_versions(self, request, pk=None):
        plan = self.plan_or_404(self.get_object())
        return Response(PlanVersionSerializer(plan_versions(plan=plan), many=True).data)

    @extend_schema(
        summary="风险消除检查（“七个不消”）：每条规则是否通过及具体情况",
        parameters=[EliminationCheckQuerySerializer],
        responses={200: EliminationCheckSerializer, 400: INVALID},
    )
    @action(detail=True, methods=["get"], url_path="elimination-check", url_name="elimination-check")
    def elimination_check(self, request, pk=None):
        case = self.get_object()
        moment = self.validated(EliminationCheckQuerySerializer, data=request.query_params)["moment"]
        check = elimination_check(case, moment=moment)
        return Response(EliminationCheckSerializer(check_payload(check, moment=moment)).data)

    @extend_schema(
        methods=["GET"],
        summary="风险研判：系统建议的类型、风险类型和颜色及依据，当前分类和研判记录",
        responses={200: ClassificationSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="确认或调整分类（与建议不一致须填写调整理由）",
        request=ClassificationInputSerializer,
        responses={201: ClassificationRecordSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["get", "post"])
    def classification(self, request, pk=None):
        case = self.get_object()
        if request.method == "POST":
            data = self.validated(ClassificationInputSerializer)
            record = case_classify(user=request.user, case=case, **data)
            return Response(ClassificationRecordSerializer(record).data, status=status.HTTP_201_CREATED)
        payload = {
            "suggestion": suggest_classification(household=case.household).as_dict(),
            "current": {
                "case_type": case.case_type,
                "risk_categories": sorted(case.risk_categories.values_list("code", flat=True)),
                "colour": case.colour,
            },
            "records": case.classifications.select_related("decided_by")[:20],
        }
        return Response(ClassificationSerializer(payload).data)


# --------------------------------------------------------------------------- measures and visits


class MeasurePagination(KeysetPagination):
    ordering = "pk"  # the order they were entered in


@extend_schema_view(
    list=extend_schema(summary="帮扶措施列表（本辖区；case=监测对象）"),
    retrieve=extend_schema(summary="帮扶措施详情"),
)
class MeasureViewSet(InputMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Measures (帮扶措施) of the plans in the caller's subtree."""

    serializer_class = MeasureSerializer
    filterset_class = MeasureFilter
    pagination_class = MeasurePagination
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Measure]:
        return measures_for(user=self.request.user)

    def output(self, measure: Measure, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(MeasureSerializer(self.get_queryset().get(pk=measure.pk)).data, status=status_code)

    @extend_schema(
        summary="新增帮扶措施（类别、针对风险用代码）",
        request=MeasureCreateSerializer,
        responses={201: MeasureSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def create(self, request):
        data = self.validated(MeasureCreateSerializer)
        case = data.pop("case")
        plan = plan_for(user=request.user, case=case)
        if plan is None:
            raise ValidationError({"case": ["该监测对象尚未制定帮扶计划，请先制定帮扶计划。"]})
        measure = services.measure_add(user=request.user, plan=plan, **data)
        return self.output(measure, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="修改帮扶措施（状态、成效等）",
        request=MeasureInputSerializer,
        responses={200: MeasureSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def partial_update(self, request, pk=None):
        measure = self.get_object()
        data = self.validated(MeasureInputSerializer, partial=True)
        services.measure_update(user=request.user, measure=measure, **data)
        return self.output(measure)


class VisitPagination(KeysetPagination):
    ordering = ("-visited_on", "-id")


@extend_schema_view(
    list=extend_schema(summary="走访记录列表（本辖区；case=监测对象，month=YYYY-MM）"),
    retrieve=extend_schema(summary="走访记录详情"),
)
class VisitViewSet(InputMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Monthly follow-up visits (走访记录) of the cases in the caller's subtree."""

    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    pagination_class = VisitPagination
    lookup_value_regex = r"\d+"
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[Visit]:
        return visits_for(user=self.request.user)

    @extend_schema(
        summary="登记走访记录（multipart 表单，可附照片）",
        request={content_type: VisitCreateSerializer for content_type in MULTIPART},
        responses={201: VisitSerializer, 400: INVALID, 403: FORBIDDEN},
    )
    def create(self, request):
        data = self.validated(VisitCreateSerializer)
        visit = services.visit_record(user=request.user, photos=data.pop("photos", []), **data)
        visit = self.get_queryset().get(pk=visit.pk)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class VisitDutyView(APIView):
    """The month's visit duty per pairing cadre (结对帮扶干部) in the caller's subtree."""

    @extend_schema(
        summary="结对帮扶干部本月走访情况：结对户数、已走访、未走访的农户",
        parameters=[MonthQuerySerializer],
        responses={200: VisitDutySerializer, 400: INVALID},
    )
    def get(self, request):
        query = MonthQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        month = query.validated_data.get("month") or clock.today().replace(day=1)
        duties = visit_duty(user=request.user, month=month)
        return Response(VisitDutySerializer({"month": month, "cadres": duties}).data)
