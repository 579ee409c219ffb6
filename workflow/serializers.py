"""API input and output shapes of monitoring cases and their workflow.

Input serializers check types and shapes only; every rule (who may act, the 7-day notice, two
verifiers, quorum, bulk-only transitions) is a service's or a guard's, so the API refuses what the
pages refuse, with the same Chinese messages.
"""

import datetime as dt
import json

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from fpr.api import ErrorSerializer
from households.models import Household
from households.serializers import MaskedOutputSerializer, ScopedHouseholdField
from monitoring.models import (
    APPLICATION_CHANNELS,
    Appraisal,
    CaseType,
    MonitoringCase,
    Objection,
    RiskColour,
    Stage,
    Verification,
)
from workflow.models import BulkJob, TransitionEvent
from workflow.selectors import case_timeline, notice_may_advance_on, return_request
from workflow.services import WORKFLOWS, TransitionRefused, find_transition

# --------------------------------------------------------------------------- shared pieces


class JSONListField(serializers.ListField):
    """A list of objects. A JSON body sends it as an array; a multipart form (which cannot nest)
    sends the same array JSON-encoded in one field."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            raw = dictionary.get(self.field_name)
            try:
                return json.loads(raw)
            except (TypeError, ValueError):
                return raw  # not a list: to_internal_value says so in the usual words
        return super().get_value(dictionary)


class RiskCategoryOutputSerializer(serializers.Serializer):
    code = serializers.CharField(label="代码")
    name = serializers.CharField(label="名称")


class AttachmentSerializer(serializers.Serializer):
    name = serializers.CharField(label="文件名")
    url = serializers.CharField(label="地址")


class TransitionErrorSerializer(ErrorSerializer):
    # Present when guards refused the step; an input the serializer refuses has field errors instead.
    reasons = serializers.ListField(child=serializers.CharField(), required=False, label="不能办理的全部原因")


# --------------------------------------------------------------------------- cases


class CaseSerializer(serializers.ModelSerializer):
    """A case as listed: reads only what `workflow.selectors.case_list` joins and annotates."""

    household_number = serializers.CharField(read_only=True, label="户编号")
    head_name = serializers.CharField(read_only=True, allow_null=True, label="户主姓名")
    village_name = serializers.CharField(read_only=True, label="村")
    case_type_display = serializers.CharField(source="get_case_type_display", read_only=True)
    channel_display = serializers.CharField(source="get_channel_display", read_only=True)
    colour_display = serializers.CharField(source="get_colour_display", read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    risk_categories = RiskCategoryOutputSerializer(many=True, read_only=True, label="风险类型")
    returned = serializers.BooleanField(read_only=True, label="被退回")
    days_waiting = serializers.SerializerMethodField(label="在当前环节等待天数")
    notice_starts_on = serializers.DateField(read_only=True, allow_null=True, label="公示开始日期（含风险消除公示）")
    notice_may_advance_on = serializers.SerializerMethodField(label="公示期满可报镇街审核日期")
    notice_due = serializers.BooleanField(read_only=True, label="公示期已满")

    class Meta:
        model = MonitoringCase
        fields = (
            "id",
            "household",
            "household_number",
            "head_name",
            "village",
            "village_name",
            "case_type",
            "case_type_display",
            "risk_categories",
            "colour",
            "colour_display",
            "channel",
            "channel_display",
            "stage",
            "stage_display",
            "stage_entered_at",
            "days_waiting",
            "returned",
            "last_transition",
            "is_open",
            "identified_on",
            "eliminated_on",
            "notice_starts_on",
            "notice_may_advance_on",
            "notice_due",
            "created_at",
        )
        read_only_fields = fields

    def get_days_waiting(self, case) -> int:
        return case.waiting.days

    def get_notice_may_advance_on(self, case) -> dt.date | None:
        return notice_may_advance_on(case.notice_starts_on)


class HouseholdSummarySerializer(MaskedOutputSerializer):
    """The phone is masked as everywhere (fpr.sensitive): shown to the village cadre only."""

    poverty_status_display = serializers.CharField(source="get_poverty_status_display", read_only=True)

    class Meta:
        model = Household
        fields = ("id", "number", "address", "phone", "poverty_status", "poverty_status_display")
        read_only_fields = fields


class TimelineEntrySerializer(serializers.Serializer):
    kind = serializers.CharField(label="类型", help_text="transition、verification、appraisal、notice 或 objection")
    at = serializers.DateTimeField(label="时间")
    title = serializers.CharField(label="事项")
    actor = serializers.CharField(label="办理人")
    actor_division = serializers.CharField(label="办理人单位")
    text = serializers.CharField(label="意见或内容")
    from_stage = serializers.CharField(label="原环节")
    to_stage = serializers.CharField(label="新环节")
    details = serializers.DictField(label="其他信息")
    attachments = serializers.SerializerMethodField(label="附件")

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, entry) -> list[dict]:
        return [{"name": name, "url": url} for name, url in entry.attachments]


class ReturnRequestSerializer(serializers.Serializer):
    transition = serializers.CharField(
        label="退回操作",
        help_text="township_return（补充材料）、township_verification_return（重新入户核实）、"
        "township_appraisal_return（重新评议公示）、county_return 等",
    )
    label = serializers.CharField(label="退回名称")
    opinion = serializers.CharField(label="退回原因或须补充的材料")
    asks = serializers.CharField(label="村级须办理的事项")
    actor = serializers.CharField(label="退回人")
    actor_division = serializers.CharField(label="退回人单位")
    at = serializers.DateTimeField(label="退回时间")


class CaseDetailSerializer(CaseSerializer):
    household_summary = HouseholdSummarySerializer(source="household", read_only=True, label="农户")
    authorization_scan = serializers.FileField(read_only=True, allow_null=True, label="承诺授权书扫描件")
    timeline = serializers.SerializerMethodField(label="办理过程")
    return_request = serializers.SerializerMethodField(label="退回要求（被退回时）")

    class Meta(CaseSerializer.Meta):
        fields = (
            *CaseSerializer.Meta.fields,
            "household_summary",
            "description",
            "authorization_signed_on",
            "authorization_scan",
            "stage_round",
            "closed_on",
            "close_reason",
            "updated_at",
            "return_request",
            "timeline",
        )
        read_only_fields = fields

    def _timeline(self, case) -> list:
        if self.context.get("timeline") is not None:
            return self.context["timeline"]
        cache = self.__dict__.setdefault("_timelines", {})  # read once per case for both fields
        if case.pk not in cache:
            cache[case.pk] = case_timeline(case=case)
        return cache[case.pk]

    @extend_schema_field(ReturnRequestSerializer(allow_null=True))
    def get_return_request(self, case) -> dict | None:
        request = return_request(case=case, timeline=self._timeline(case))
        return ReturnRequestSerializer(request).data if request else None

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, case) -> list[dict]:
        return TimelineEntrySerializer(self._timeline(case), many=True).data


class CaseInputSerializer(serializers.Serializer):
    """The application (提交申请) as the village fills it in."""

    case_type = serializers.ChoiceField(choices=CaseType.choices, label="监测对象类型")
    risk_categories = serializers.ListField(
        child=serializers.CharField(max_length=32), label="风险类型代码", help_text="如 illness、disability"
    )
    channel = serializers.ChoiceField(choices=APPLICATION_CHANNELS, label="发现渠道")
    description = serializers.CharField(label="困难情况描述")
    colour = serializers.ChoiceField(choices=RiskColour.choices, required=False, allow_blank=True, label="风险等级")
    authorization_signed_on = serializers.DateField(required=False, allow_null=True, label="承诺授权书签署日期")
    authorization_scan = serializers.FileField(required=False, label="承诺授权书扫描件（PDF/JPG/PNG）")


class CaseCreateSerializer(CaseInputSerializer):
    household = ScopedHouseholdField(queryset=Household.objects.all(), label="农户")

    field_order = ("household",)


# --------------------------------------------------------------------------- transitions


def _input_field(kind: str, labels: list[str]) -> serializers.Field:
    # Not required here: a missing input is the guard's reason ("请填写“复核意见”。"), named as the
    # transition names it. One field may serve several transitions under different names.
    options = {"required": False, "label": "、".join(labels)}
    if kind == "date":
        return serializers.DateField(**options)
    if kind == "file":
        return serializers.FileField(**options)
    return serializers.CharField(allow_blank=True, **options)


def _declared_inputs() -> dict[str, serializers.Field]:
    """A field for every input named in the transition tables: the API follows the table."""
    kinds: dict[str, str] = {}
    labels: dict[str, list[str]] = {}
    for workflow in WORKFLOWS:
        for transition in workflow.transitions:
            for spec in transition.inputs:
                kinds.setdefault(spec.name, spec.kind)
                if spec.label not in labels.setdefault(spec.name, []):
                    labels[spec.name].append(spec.label)
    return {name: _input_field(kind, labels[name]) for name, kind in kinds.items()}


def transition_inputs(transition: str, values: dict) -> dict:
    """The values the named transition asks for (an unknown name keeps all: the service refuses it)."""
    try:
        _, spec = find_transition(transition)
    except TransitionRefused:
        return values
    names = {field.name for field in spec.inputs}
    return {name: value for name, value in values.items() if name in names}


TransitionInputsSerializer = type(
    "TransitionInputsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "What a transition asks for (see each transition's `inputs`); the guards say what is missing.",
        **_declared_inputs(),
    },
)


class TransitionFireSerializer(TransitionInputsSerializer):
    """The inputs go at the top level (a multipart form) or as an `inputs` object (JSON)."""

    inputs = TransitionInputsSerializer(required=False, label="填写内容（JSON 时可用此对象）")
    expected_stage = serializers.CharField(
        max_length=24,
        required=False,
        label="页面显示的环节",
        help_text="环节代码，如 township_review；案件已不在此环节时返回409“已被他人处理”。",
    )
    attachments = serializers.ListField(child=serializers.FileField(), required=False, label="附件")

    def validate(self, data):
        nested = data.pop("inputs", None) or {}
        return {**nested, **data}


class TransitionInputSpecSerializer(serializers.Serializer):
    name = serializers.CharField(label="字段名")
    label = serializers.CharField(label="名称")
    kind = serializers.CharField(label="类型", help_text="text、date 或 file")
    required = serializers.BooleanField(label="必填")


class AvailableTransitionSerializer(serializers.Serializer):
    name = serializers.CharField(source="transition.name", label="操作")
    label = serializers.CharField(source="transition.label", label="名称")
    button = serializers.CharField(source="transition.button_text", label="按钮文字")
    style = serializers.CharField(source="transition.style", label="按钮样式")
    target = serializers.CharField(source="transition.target", label="办理后环节")
    target_display = serializers.SerializerMethodField(label="办理后环节名称")
    bulk = serializers.BooleanField(source="transition.bulk", label="可批量办理")
    allowed = serializers.BooleanField(label="现在可以办理")
    reasons = serializers.ListField(child=serializers.CharField(), label="不能办理的原因")
    inputs = TransitionInputSpecSerializer(source="transition.inputs", many=True, label="需填写")

    def get_target_display(self, availability) -> str:
        return Stage(availability.transition.target).label


class CaseTransitionsSerializer(serializers.Serializer):
    case = serializers.IntegerField(label="案件")
    stage = serializers.CharField(label="当前环节")
    stage_display = serializers.CharField(label="当前环节名称")
    transitions = AvailableTransitionSerializer(many=True, label="可办理的操作")


class TransitionEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor", read_only=True, label="操作人")
    from_stage_display = serializers.SerializerMethodField(label="原环节名称")
    to_stage_display = serializers.SerializerMethodField(label="新环节名称")
    attachments = serializers.SerializerMethodField(label="附件")

    class Meta:
        model = TransitionEvent
        fields = (
            "id",
            "case",
            "transition",
            "label",
            "from_stage",
            "from_stage_display",
            "to_stage",
            "to_stage_display",
            "actor",
            "actor_name",
            "actor_division",
            "at",
            "opinion",
            "data",
            "attachments",
        )
        read_only_fields = fields

    def get_from_stage_display(self, event) -> str:
        return Stage(event.from_stage).label

    def get_to_stage_display(self, event) -> str:
        return Stage(event.to_stage).label

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, event) -> list[dict]:
        return [{"name": a.name, "url": a.file.url} for a in event.attachments.all()]


# --------------------------------------------------------------------------- stage records


class VerifierInputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(required=False, allow_null=True, label="系统用户")
    name = serializers.CharField(max_length=32, label="姓名")
    unit = serializers.CharField(max_length=64, required=False, allow_blank=True, label="单位/职务")


class VerificationInputSerializer(serializers.Serializer):
    visit_date = serializers.DateField(label="入户日期")
    verifiers = JSONListField(child=VerifierInputSerializer(), label="核实人员")
    findings = serializers.CharField(label="核实情况")
    risk_points = serializers.CharField(label="风险点")
    year = serializers.IntegerField(
        min_value=2000,
        max_value=2100,
        required=False,
        label="收入核算年度",
        help_text="默认为入户日期的算账年度（3月起为当年，1—2月为上一年）",
    )


class VerifierSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id", allow_null=True, label="系统用户")
    name = serializers.CharField(label="姓名")
    unit = serializers.CharField(label="单位/职务")


class VerificationSerializer(serializers.ModelSerializer):
    verifiers = VerifierSerializer(many=True, read_only=True, label="核实人员")

    class Meta:
        model = Verification
        fields = (
            "id",
            "case",
            "round",
            "visit_date",
            "findings",
            "risk_points",
            "collected",
            "verifiers",
            "recorded_by",
            "created_at",
        )
        read_only_fields = fields


class ParticipantSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32, label="姓名")
    role = serializers.CharField(
        max_length=16, label="身份", help_text="村两委成员、驻村工作队员、党员代表、村民小组长…"
    )


class AppraisalInputSerializer(serializers.Serializer):
    meeting_date = serializers.DateField(label="评议日期")
    participants = JSONListField(child=ParticipantSerializer(), label="参会人员")
    votes_for = serializers.IntegerField(label="同意票")
    votes_against = serializers.IntegerField(label="反对票")
    votes_abstain = serializers.IntegerField(label="弃权票")
    minutes_scan = serializers.FileField(required=False, label="签字会议记录扫描件（PDF/JPG/PNG）")


class AppraisalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appraisal
        fields = (
            "id",
            "case",
            "round",
            "meeting_date",
            "participants",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "passed",
            "minutes_scan",
            "recorded_by",
            "created_at",
        )
        read_only_fields = fields


class ObjectionInputSerializer(serializers.Serializer):
    lodged_by = serializers.CharField(max_length=64, label="异议人")
    content = serializers.CharField(label="异议内容")
    lodged_on = serializers.DateField(required=False, label="提出日期", help_text="默认为今天")


class ObjectionResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(allow_blank=True, label="核查情况")


class ObjectionSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Objection
        fields = (
            "id",
            "notice",
            "lodged_on",
            "lodged_by",
            "content",
            "status",
            "status_display",
            "resolution",
            "resolved_by",
            "resolved_at",
            "created_at",
        )
        read_only_fields = fields


# --------------------------------------------------------------------------- bulk


class BulkInputSerializer(serializers.Serializer):
    case_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        # Declared for the schema and refused before any work; the service checks the live setting.
        max_length=settings.FPR_BULK_MAX_CASES,
        label="案件",
        error_messages={"max_length": f"一次最多批量办理 {settings.FPR_BULK_MAX_CASES} 件，请分批办理。"},
    )
    transition = serializers.CharField(
        max_length=48,
        label="操作",
        help_text="只能是可批量办理的操作：township_approve、county_approve（识别），"
        "township_approve_elim、county_approve_elim（风险消除）",
    )
    inputs = TransitionInputsSerializer(required=False, label="填写内容")


class BulkFailureSerializer(serializers.Serializer):
    case = serializers.IntegerField(label="案件")
    household = serializers.CharField(label="户编号")
    reasons = serializers.ListField(child=serializers.CharField(), label="原因")


class BulkResultSerializer(serializers.Serializer):
    total = serializers.IntegerField(label="总数")
    succeeded = serializers.IntegerField(label="成功")
    failures = BulkFailureSerializer(many=True, label="失败明细")


class BulkJobSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    failures = BulkFailureSerializer(source="failure_rows", many=True, read_only=True, label="失败明细")

    class Meta:
        model = BulkJob
        fields = (
            "id",
            "transition",
            "status",
            "status_display",
            "total",
            "processed",
            "succeeded",
            "failed",
            "failures",
            "created_at",
            "finished_at",
        )
        read_only_fields = fields
