"""API input and output shapes of assistance (帮扶): plans, measures, visits, the risk-elimination check,
the classification helper and the monthly visit duty.

Input serializers check types and shapes only; every rule (who may write, plan stages, dates, effect
ratings, the "七个不消") is a service's or a rule's, so the API refuses what the pages refuse, with the
same Chinese messages.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assistance.advice import Advice
from assistance.models import AssistancePlan, Effect, Measure, MeasureStatus, Satisfaction, Visit
from assistance.rules import APPROVAL, NO_LABOUR_ADVICE, PROPOSAL, EliminationCheck
from assistance.selectors import pairing_cadre_candidates
from monitoring.models import CaseType, Classification, MonitoringCase, RiskColour

MONTH_FORMAT_MESSAGE = "月份格式应为 YYYY-MM，如 2026-11。"


def parse_month(value: str) -> dt.date:
    """ "2026-11" → 2026-11-01; ValueError for anything else."""
    return dt.datetime.strptime(value.strip(), "%Y-%m").date()


class MonthField(serializers.CharField):
    """A month as YYYY-MM; validated to the first day of that month."""

    default_error_messages = {"month": MONTH_FORMAT_MESSAGE}

    def to_internal_value(self, data):
        try:
            return parse_month(super().to_internal_value(data))
        except ValueError:
            self.fail("month")

    def to_representation(self, value):
        return f"{value:%Y-%m}" if isinstance(value, dt.date) else value


class ScopedCaseField(serializers.PrimaryKeyRelatedField):
    """A monitoring case inside the caller's subtree; any other id reads as nonexistent."""

    def get_queryset(self):
        return MonitoringCase.objects.for_user(self.context["request"].user).select_related("household", "village")


class PairingCadreField(serializers.PrimaryKeyRelatedField):
    """A system user of the case's county (see assistance.selectors.pairing_cadre_candidates)."""

    def get_queryset(self):
        case = self.context.get("case")
        return pairing_cadre_candidates(case=case) if case is not None else get_user_model().objects.none()


# --------------------------------------------------------------------------- measures


class MeasureSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="plan.case_id", read_only=True, label="监测对象")
    category_name = serializers.CharField(source="category.name", read_only=True, label="措施类别")
    risk_category_name = serializers.CharField(source="risk_category.name", read_only=True, label="针对风险")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    effect_display = serializers.CharField(source="get_effect_display", read_only=True)

    class Meta:
        model = Measure
        fields = (
            "id",
            "plan",
            "case",
            "category",
            "category_name",
            "risk_category",
            "risk_category_name",
            "description",
            "amount",
            "starts_on",
            "ends_on",
            "status",
            "status_display",
            "effect",
            "effect_display",
            "effect_note",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class MeasureInputSerializer(serializers.Serializer):
    category = serializers.CharField(
        max_length=32, label="措施类别代码", help_text="如 industry、employment、public_job、social_security"
    )
    risk_category = serializers.CharField(max_length=32, label="针对风险代码", help_text="如 illness、disability")
    description = serializers.CharField(label="措施内容")
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, label="金额（元）"
    )
    starts_on = serializers.DateField(label="开始日期")
    ends_on = serializers.DateField(required=False, allow_null=True, label="结束日期")
    status = serializers.ChoiceField(choices=MeasureStatus.choices, required=False, label="状态")
    effect = serializers.ChoiceField(choices=Effect.choices, required=False, allow_blank=True, label="帮扶成效")
    effect_note = serializers.CharField(max_length=200, required=False, allow_blank=True, label="成效说明")


class MeasureCreateSerializer(MeasureInputSerializer):
    case = ScopedCaseField(queryset=MonitoringCase.objects.all(), label="监测对象")

    field_order = ("case",)


# --------------------------------------------------------------------------- the elimination check


class RuleResultSerializer(serializers.Serializer):
    code = serializers.CharField(label="规则代码")
    name = serializers.CharField(label="规则", help_text="政策原文的表述，如“整户不具备或丧失劳动能力的不消”")
    condition = serializers.CharField(label="条件", help_text="须符合的条件（正面表述），如“家庭有劳动能力”")
    passed = serializers.BooleanField(label="通过")
    findings = serializers.ListField(child=serializers.CharField(), label="不通过的具体情况")


class EliminationCheckSerializer(serializers.Serializer):
    """Every risk-elimination rule ("七个不消" and two more) with its result; built from an EliminationCheck
    by `check_payload`."""

    moment = serializers.ChoiceField(choices=[(PROPOSAL, "提出名单"), (APPROVAL, "县级审定")], label="环节")
    passed = serializers.BooleanField(label="全部通过")
    results = RuleResultSerializer(many=True, label="各条规则")
    reasons = serializers.ListField(child=serializers.CharField(), label="不能消除的全部原因")
    whole_household_without_labour = serializers.BooleanField(label="整户无劳动能力")
    advice = serializers.CharField(
        allow_blank=True, label="建议", help_text="整户无劳动能力时为“落实社会保障后持续跟踪监测”"
    )


def check_payload(check: EliminationCheck, *, moment: str) -> dict:
    return {
        "moment": moment,
        "passed": check.passed,
        "results": [
            {"code": r.code, "name": r.name, "condition": r.condition, "passed": r.passed, "findings": r.findings}
            for r in check.results
        ],
        "reasons": check.reasons,
        "whole_household_without_labour": check.whole_household_without_labour,
        "advice": NO_LABOUR_ADVICE if check.whole_household_without_labour else "",
    }


class EliminationCheckQuerySerializer(serializers.Serializer):
    moment = serializers.ChoiceField(
        choices=[(PROPOSAL, "提出名单（村级）"), (APPROVAL, "县级审定")],
        default=PROPOSAL,
        label="环节",
        help_text="proposal：村级提出名单时的检查；approval：县级审定时的检查（须完整履行消除程序）",
    )


# --------------------------------------------------------------------------- plans


class AdviceSerializer(serializers.Serializer):
    code = serializers.CharField(label="代码", help_text="gap、safety_net_only、welfare_trap 或 no_visit")
    title = serializers.CharField(label="提示")
    detail = serializers.CharField(label="说明")


class PlanSerializer(serializers.ModelSerializer):
    """The plan with its measures, the advice shown beside it and the elimination check at proposal.
    The view puts `advice` (list of Advice) and `check` (an EliminationCheck) in the context."""

    pairing_cadre_display = serializers.CharField(source="cadre_display", read_only=True, label="结对帮扶干部")
    measures = MeasureSerializer(many=True, read_only=True, label="帮扶措施")
    advice = serializers.SerializerMethodField(label="帮扶提示")
    elimination_check = serializers.SerializerMethodField(label="风险消除检查（提出名单时）")

    class Meta:
        model = AssistancePlan
        fields = (
            "id",
            "case",
            "situation",
            "risk_analysis",
            "needs",
            "pairing_cadre",
            "pairing_cadre_name",
            "pairing_cadre_display",
            "version",
            "adjustment_reason",
            "created_at",
            "updated_at",
            "measures",
            "advice",
            "elimination_check",
        )
        read_only_fields = fields

    @extend_schema_field(AdviceSerializer(many=True))
    def get_advice(self, plan) -> list[dict]:
        advice: list[Advice] = self.context.get("advice", [])
        return AdviceSerializer(advice, many=True).data

    @extend_schema_field(EliminationCheckSerializer)
    def get_elimination_check(self, plan) -> dict | None:
        check = self.context.get("check")
        return check_payload(check, moment=PROPOSAL) if check is not None else None


class PlanInputSerializer(serializers.Serializer):
    situation = serializers.CharField(label="家庭基本情况")
    risk_analysis = serializers.CharField(label="风险分析")
    needs = serializers.CharField(label="农户需求")
    pairing_cadre = PairingCadreField(
        queryset=get_user_model().objects.none(),
        required=False,
        allow_null=True,
        label="结对帮扶干部（系统用户）",
        help_text="本县的系统用户；不是系统用户时填写 pairing_cadre_name",
    )
    pairing_cadre_name = serializers.CharField(
        max_length=32, required=False, allow_blank=True, label="结对帮扶干部（非系统用户）"
    )


class PlanAdjustSerializer(PlanInputSerializer):
    """动态调整: any plan field, and the reason for the adjustment (required by the service)."""

    adjustment_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, label="调整原因")


class PlanVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(label="版本")
    situation = serializers.CharField(label="家庭基本情况")
    risk_analysis = serializers.CharField(label="风险分析")
    needs = serializers.CharField(label="农户需求")
    pairing_cadre = serializers.CharField(label="结对帮扶干部")
    adjustment_reason = serializers.CharField(label="调整原因")
    changed_at = serializers.DateTimeField(label="时间")
    changed_by = serializers.CharField(label="操作人")


# --------------------------------------------------------------------------- visits


class VisitPhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="file.name", label="文件名")
    url = serializers.CharField(source="file.url", label="地址")


class VisitSerializer(serializers.ModelSerializer):
    household_number = serializers.CharField(source="case.household.number", read_only=True, label="户编号")
    visitor_name = serializers.CharField(source="visitor", read_only=True, label="走访人")
    satisfaction_display = serializers.CharField(source="get_satisfaction_display", read_only=True)
    photos = VisitPhotoSerializer(many=True, read_only=True, label="照片")

    class Meta:
        model = Visit
        fields = (
            "id",
            "case",
            "household_number",
            "visited_on",
            "visitor",
            "visitor_name",
            "findings",
            "income_change",
            "satisfaction",
            "satisfaction_display",
            "photos",
            "created_at",
        )
        read_only_fields = fields


class VisitCreateSerializer(serializers.Serializer):
    case = ScopedCaseField(queryset=MonitoringCase.objects.all(), label="监测对象")
    visited_on = serializers.DateField(label="走访日期")
    findings = serializers.CharField(allow_blank=True, label="走访情况")
    income_change = serializers.CharField(max_length=200, required=False, allow_blank=True, label="收入变化情况")
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_blank=True, label="群众满意度"
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, label="照片（JPG/PNG）", help_text="multipart 表单，可多张"
    )


# --------------------------------------------------------------------------- classification


class SuggestionSerializer(serializers.Serializer):
    case_type = serializers.ChoiceField(choices=CaseType.choices, label="监测对象类型")
    case_type_display = serializers.SerializerMethodField(label="监测对象类型名称")
    risk_categories = serializers.ListField(child=serializers.CharField(), label="风险类型代码")
    colour = serializers.ChoiceField(choices=RiskColour.choices, label="风险等级（颜色）")
    colour_display = serializers.SerializerMethodField(label="风险等级名称")
    reasons = serializers.ListField(child=serializers.CharField(), label="依据")

    def get_case_type_display(self, data) -> str:
        return CaseType(data["case_type"]).label

    def get_colour_display(self, data) -> str:
        return RiskColour(data["colour"]).label if data["colour"] else ""


class ClassificationRecordSerializer(serializers.ModelSerializer):
    decided_by_name = serializers.CharField(source="decided_by", read_only=True, label="确认人")

    class Meta:
        model = Classification
        fields = (
            "id",
            "case",
            "suggested",
            "chosen",
            "overridden",
            "reason",
            "decided_by",
            "decided_by_name",
            "created_at",
        )
        read_only_fields = fields


class CurrentClassificationSerializer(serializers.Serializer):
    case_type = serializers.CharField(label="监测对象类型")
    risk_categories = serializers.ListField(child=serializers.CharField(), label="风险类型代码")
    colour = serializers.CharField(label="风险等级（颜色）")


class ClassificationSerializer(serializers.Serializer):
    suggestion = SuggestionSerializer(label="系统建议")
    current = CurrentClassificationSerializer(label="当前分类")
    records = ClassificationRecordSerializer(many=True, label="研判记录（最近的在前）")


class ClassificationInputSerializer(serializers.Serializer):
    case_type = serializers.ChoiceField(choices=CaseType.choices, label="监测对象类型")
    risk_categories = serializers.ListField(child=serializers.CharField(max_length=32), label="风险类型代码")
    colour = serializers.ChoiceField(
        choices=RiskColour.choices, required=False, allow_blank=True, default="", label="风险等级（颜色）"
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", label="调整理由", help_text="与系统建议不一致时必填"
    )


# --------------------------------------------------------------------------- visit duty


class MonthQuerySerializer(serializers.Serializer):
    month = MonthField(required=False, label="月份", help_text="YYYY-MM，默认为本月")


class UnvisitedHouseholdSerializer(serializers.Serializer):
    case_id = serializers.IntegerField(label="监测对象")
    household_id = serializers.IntegerField(label="农户")
    household_number = serializers.CharField(label="户编号")
    head_name = serializers.CharField(label="户主姓名")
    village_name = serializers.CharField(label="村")
    stage = serializers.CharField(label="当前环节")
    stage_display = serializers.CharField(label="当前环节名称")
    last_visited_on = serializers.DateField(allow_null=True, label="最近走访日期")


class CadreDutySerializer(serializers.Serializer):
    cadre_id = serializers.IntegerField(allow_null=True, label="结对帮扶干部（系统用户）")
    cadre_name = serializers.CharField(label="结对帮扶干部")
    households = serializers.IntegerField(label="结对户数")
    visited = serializers.IntegerField(label="本月已走访户数")
    unvisited_count = serializers.IntegerField(label="本月未走访户数")
    unvisited = UnvisitedHouseholdSerializer(many=True, label="本月未走访的农户")


class VisitDutySerializer(serializers.Serializer):
    month = MonthField(label="月份")
    cadres = CadreDutySerializer(many=True, label="结对帮扶干部")
