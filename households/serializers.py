"""API input and output shapes of the household registry.

Input serializers only check types and choices; every business rule (ID number checksum, duplicate
persons, one head per household, jurisdiction) is the service's, so the API, the pages and the admin
refuse the same things with the same Chinese messages.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fpr.sensitive import REVEAL_ONLY, mask, output_kinds, shown_in_full
from households.models import HOUSEHOLD_FIELDS, MEMBER_FIELDS, Division, Household, IncomeItem, Member
from households.selectors import income_summary

HOUSEHOLD_INPUT_FIELDS = HOUSEHOLD_FIELDS
MEMBER_INPUT_FIELDS = MEMBER_FIELDS


class MaskedOutputSerializer(serializers.ModelSerializer):
    """Masks the model's sensitive fields (`fpr.sensitive`: ID and certificate numbers, bank account,
    phone) unless the view put `show_sensitive=True` in the context after checking the permission and
    the reason; a phone is also shown to the roles that call the household. Masking is the default,
    so a serializer used without that context never leaks."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        revealed = self.context.get("show_sensitive", False)
        shown = False
        for name, kind in output_kinds(self.Meta.model._meta.label).items():
            if not data.get(name):
                continue
            if not shown_in_full(kind, user=user, revealed=revealed):
                data[name] = mask(kind, data[name])
            elif revealed and kind in REVEAL_ONLY:
                shown = True
        if shown and (households := self.context.get("revealed_households")) is not None:
            households.add(getattr(instance, "household_id", None) or instance.pk)  # logged by the view
        return data


class ScopedHouseholdField(serializers.PrimaryKeyRelatedField):
    """A household inside the caller's subtree; any other id reads as nonexistent, so the answer
    does not reveal that a household exists in another village."""

    def get_queryset(self):
        return super().get_queryset().for_user(self.context["request"].user).select_related("village")


# --------------------------------------------------------------------------- divisions


class DivisionSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True, label="层级名称")

    class Meta:
        model = Division
        fields = ("code", "name", "level", "level_display", "parent")


# --------------------------------------------------------------------------- members


class MemberSerializer(MaskedOutputSerializer):
    sex = serializers.CharField(read_only=True, label="性别")
    birth_date = serializers.DateField(read_only=True, label="出生日期")
    relationship_display = serializers.CharField(source="get_relationship_display", read_only=True)
    health_display = serializers.CharField(source="get_health_display", read_only=True)
    labour_capacity_display = serializers.CharField(source="get_labour_capacity_display", read_only=True)
    schooling_display = serializers.CharField(source="get_schooling_display", read_only=True)
    special_groups = serializers.ListField(child=serializers.CharField(), read_only=True, label="特殊群体")

    class Meta:
        model = Member
        fields = (
            "id",
            "household",
            *MEMBER_INPUT_FIELDS,
            "sex",
            "birth_date",
            "relationship_display",
            "health_display",
            "labour_capacity_display",
            "schooling_display",
            "special_groups",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class MemberInputSerializer(serializers.ModelSerializer):
    # No validators here: normalising and checking the number (GB 11643) and refusing a person
    # already registered elsewhere are member rules in the service. The length allows spaces, dashes
    # and full-width digits; trim_whitespace off so that the service, not DRF, normalises.
    id_number = serializers.CharField(label="身份证号", max_length=64, trim_whitespace=False)
    disability_certificate = serializers.CharField(label="残疾人证号", max_length=32, required=False, allow_blank=True)

    class Meta:
        model = Member
        fields = MEMBER_INPUT_FIELDS


class MemberCreateSerializer(MemberInputSerializer):
    household = ScopedHouseholdField(queryset=Household.objects.all(), label="所属农户")

    class Meta(MemberInputSerializer.Meta):
        fields = ("household", *MEMBER_INPUT_FIELDS)


# --------------------------------------------------------------------------- households


class IncomeSummarySerializer(serializers.Serializer):
    """算账: the year's income and rigid expenditure of one household, against the monitoring line."""

    year = serializers.IntegerField(label="年度")
    size = serializers.IntegerField(label="家庭人口")
    wage = serializers.DecimalField(max_digits=14, decimal_places=2, label="工资性收入")
    business = serializers.DecimalField(max_digits=14, decimal_places=2, label="生产经营性收入")
    business_cost = serializers.DecimalField(max_digits=14, decimal_places=2, label="生产经营支出")
    business_net = serializers.DecimalField(max_digits=14, decimal_places=2, label="生产经营性净收入")
    property_income = serializers.DecimalField(max_digits=14, decimal_places=2, label="财产性收入")
    transfers = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2), label="转移性收入明细"
    )
    transfer_total = serializers.DecimalField(max_digits=14, decimal_places=2, label="转移性收入")
    net_total = serializers.DecimalField(max_digits=14, decimal_places=2, label="家庭纯收入")
    per_capita = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, label="人均纯收入")
    expenditures = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2), label="刚性支出明细"
    )
    expenditure_total = serializers.DecimalField(max_digits=14, decimal_places=2, label="刚性支出合计")
    per_capita_after_expenditure = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, label="扣除刚性支出后人均纯收入"
    )
    monitoring_line = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True, label="监测范围")
    above_line = serializers.BooleanField(allow_null=True, label="高于监测范围")
    rigid_expenditure_heavy = serializers.BooleanField(
        label="刚性支出较大", help_text="扣除刚性支出后人均纯收入不高于监测范围"
    )
    at_risk = serializers.BooleanField(
        allow_null=True, label="存在风险", help_text="人均纯收入不高于监测范围，或刚性支出较大；无法判断时为空"
    )


class HouseholdSerializer(MaskedOutputSerializer):
    """A household as listed: reads only what `household_list` annotates and joins."""

    village_name = serializers.CharField(source="village.name", read_only=True, label="村")
    township_name = serializers.CharField(source="village.parent.name", read_only=True, label="乡镇")
    poverty_status_display = serializers.CharField(source="get_poverty_status_display", read_only=True)
    housing_safety_display = serializers.CharField(source="get_housing_safety_display", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True, label="户主姓名")
    head_id_number = serializers.CharField(read_only=True, allow_null=True, label="户主身份证号")
    member_count = serializers.IntegerField(read_only=True, allow_null=True, label="家庭人口")
    guarantees_unmet = serializers.ListField(
        child=serializers.CharField(), read_only=True, label="未达标的两不愁三保障及饮水项"
    )

    class Meta:
        model = Household
        fields = (
            "id",
            "number",
            "village",
            "village_name",
            "township_name",
            *HOUSEHOLD_INPUT_FIELDS,
            "poverty_status_display",
            "housing_safety_display",
            "head_name",
            "head_id_number",
            "member_count",
            "guarantees_unmet",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = fields


class HouseholdDetailSerializer(HouseholdSerializer):
    members = MemberSerializer(many=True, read_only=True)
    income_summary = serializers.SerializerMethodField(label="收入核算")

    class Meta(HouseholdSerializer.Meta):
        fields = (*HouseholdSerializer.Meta.fields, "members", "income_summary")
        read_only_fields = fields

    @extend_schema_field(IncomeSummarySerializer)
    def get_income_summary(self, household: Household) -> dict:
        summary = income_summary(household=household, year=self.context["income_year"])
        return IncomeSummarySerializer(summary).data


class HouseholdInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = HOUSEHOLD_INPUT_FIELDS


class HouseholdUpdateSerializer(HouseholdInputSerializer):
    # Optional for clients written before it existed; a client that sends it gets 409 instead of
    # overwriting someone else's change.
    version = serializers.IntegerField(
        required=False, min_value=1, label="版本号", help_text="读取时的 version；他人已修改时返回 409"
    )

    class Meta(HouseholdInputSerializer.Meta):
        fields = (*HOUSEHOLD_INPUT_FIELDS, "version")


class HouseholdCreateSerializer(HouseholdInputSerializer):
    # Any division: whether the caller may register there, and at which level, is the service's rule.
    village = serializers.PrimaryKeyRelatedField(queryset=Division.objects.all(), label="所属村")
    members = MemberInputSerializer(many=True, label="家庭成员")

    class Meta(HouseholdInputSerializer.Meta):
        fields = ("village", *HOUSEHOLD_INPUT_FIELDS, "members")

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and "members" in detail:
                detail["members"] = member_error_lines(detail["members"], self.fields["members"].child)
            raise serializers.ValidationError(detail) from None


def member_error_lines(errors, child: serializers.Serializer):
    """Per-member errors as one line per member, in the service's shape ("第2位成员：…"), so a client
    can show them as they are. DRF keys them by position ({1: {...}}) or lists them ([{}, {...}]);
    an error about the list as a whole is returned unchanged."""
    if isinstance(errors, list):
        if not all(isinstance(member_errors, dict) for member_errors in errors):
            return errors  # about the field itself, e.g. missing
        errors = dict(enumerate(errors))
    elif not all(isinstance(index, int) for index in errors):
        # {"non_field_errors": [...]}: the value is not a list at all.
        return [message for messages in errors.values() for message in messages]
    lines = []
    for index, member_errors in sorted(errors.items()):
        if not member_errors:
            continue
        parts = []
        for name, messages in member_errors.items():
            field = child.fields.get(name)
            prefix = f"{field.label}：" if field is not None and field.label else ""
            parts.extend(f"{prefix}{message}".rstrip("。") for message in messages)
        lines.append(f"第{index + 1}位成员：" + "；".join(parts) + "。")
    return lines


class YearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False, label="核算年度")


# --------------------------------------------------------------------------- income items


class IncomeItemSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = IncomeItem
        fields = ("id", "household", "year", "kind", "kind_display", "amount", "note", "created_at", "updated_at")
        read_only_fields = fields


class IncomeItemCreateSerializer(serializers.ModelSerializer):
    household = ScopedHouseholdField(queryset=Household.objects.all(), label="所属农户")

    class Meta:
        model = IncomeItem
        fields = ("household", "year", "kind", "amount")
        # Posting an item that exists sets its amount (the service keeps one per kind and year),
        # so the unique constraint is not a validation error here.
        validators = []


class IncomeItemUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncomeItem
        fields = ("amount",)
