"""REST API of the statistics (/api/v1/statistics/?division=&period=[&by=children]): the numbers of the
statistics page and table, from the same functions (reports.statistics.figures). A division outside the user's
subtree is a 404; a role that does not read case data is a 403; a bad period is a 400."""

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from fpr import clock
from fpr.api import ErrorSerializer
from fpr.errors import ApplicationError
from fpr.periods import Period
from monitoring.models import WARNING_DUE_HOURS
from reports.statistics.figures import Figures, statistics, statistics_by_child
from reports.statistics.views import _reader, division_for


class TallySerializer(serializers.Serializer):
    households = serializers.IntegerField(label="户数")
    persons = serializers.IntegerField(label="人数")


class FiguresSerializer(serializers.Serializer):
    code = serializers.CharField(label="区划代码")
    name = serializers.CharField(label="区划名称（合计行为“合计”）")
    objects = TallySerializer(label="监测对象合计（监测中+风险消除）")
    by_type = serializers.DictField(child=TallySerializer(), label="按监测对象类型")
    by_status = serializers.DictField(
        child=TallySerializer(),
        label="按状态：identifying 识别中 / monitoring 监测中 / eliminated 风险消除 / rejected 不予纳入",
    )
    by_risk = serializers.DictField(child=TallySerializer(), label="按风险类型代码（监测对象）")
    new = TallySerializer(label="本期新识别")
    eliminated = TallySerializer(label="本期风险消除")
    warnings_at_risk = serializers.IntegerField(label="本期核实为有风险的预警")
    warnings_at_risk_identified = serializers.IntegerField(label="其中已识别纳入的")
    inclusion_rate = serializers.FloatField(label="监测纳入率", allow_null=True)
    monitored_cases = serializers.IntegerField(label="监测中户数")
    covered_cases = serializers.IntegerField(label="其中每种风险都有措施的")
    coverage_rate = serializers.FloatField(label="帮扶措施到位率", allow_null=True)
    cases_without_measure = serializers.IntegerField(label="返贫人口动态清零：监测中无措施户数（目标 0）")
    visits_rated = serializers.IntegerField(label="本期有满意度的走访")
    visits_approving = serializers.IntegerField(label="其中满意或基本满意")
    approval_rate = serializers.FloatField(label="群众认可度", allow_null=True)
    warnings_raised = serializers.IntegerField(label="本期推送预警")
    warnings_on_time = serializers.IntegerField(label=f"其中{WARNING_DUE_HOURS}小时内核实")
    timeliness_rate = serializers.FloatField(label="预警核实及时率", allow_null=True)
    stage_days = serializers.DictField(
        child=serializers.FloatField(allow_null=True), label="各环节停留天数中位数（按环节代码）"
    )


class PeriodSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()


class StatisticsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    division = FiguresSerializer(label="该区划（含全部下级）")
    children = FiguresSerializer(many=True, required=False, label="各下级区划（by=children 时）")


def _figures(figures: Figures) -> dict:
    data = asdict(figures)
    for name in ("inclusion_rate", "coverage_rate", "approval_rate", "timeliness_rate"):
        data[name] = getattr(figures, name)
    return data


class StatisticsView(APIView):
    @extend_schema(
        operation_id="statistics",
        summary="统计数据（与统计报表、导出的统计表一致）",
        parameters=[
            OpenApiParameter("division", OpenApiTypes.STR, description="区划代码（默认本人所在区划）"),
            OpenApiParameter("period", OpenApiTypes.STR, description="统计期间：2026-11、2026-Q4 或 2026（默认本月）"),
            OpenApiParameter("by", OpenApiTypes.STR, enum=["children"], description="children：同时给出各下级区划"),
        ],
        responses={
            200: StatisticsSerializer,
            400: OpenApiResponse(ErrorSerializer, description="统计期间格式不对"),
            403: OpenApiResponse(ErrorSerializer, description="角色不能查看统计"),
            404: OpenApiResponse(ErrorSerializer, description="区划不存在或不在管辖范围内"),
        },
    )
    def get(self, request):
        _reader(request.user)  # Django's PermissionDenied: DRF answers 403 (and Http404: 404)
        division = division_for(request.user, request.query_params.get("division"))
        try:
            period = Period.parse(request.query_params.get("period") or Period.month_of(clock.today()).code)
        except ValueError as exc:
            raise ApplicationError(str(exc), field="period") from exc
        payload = {"period": {"code": period.code, "label": period.label, "start": period.start, "end": period.end}}
        if request.query_params.get("by") == "children":
            table = statistics_by_child(user=request.user, division=division, period=period)
            total = table.total
            total.name = division.name
            payload["division"] = _figures(total)
            payload["children"] = [_figures(row) for row in table.rows]
        else:
            payload["division"] = _figures(statistics(user=request.user, division=division, period=period))
        return Response(StatisticsSerializer(payload).data)
