"""Query-string filters of the registry API (django-filter)."""

from django_filters import rest_framework as filters

from fpr.roles import Level
from households.models import Division, Household, IncomeItem, IncomeKind, Member, PovertyStatus, SpecialGroup
from households.selectors import household_list


class DivisionFilter(filters.FilterSet):
    level = filters.ChoiceFilter(choices=Level.choices, label="层级")
    parent = filters.CharFilter(field_name="parent_id", label="上级区划代码")

    class Meta:
        model = Division
        fields = ("level", "parent")


class HouseholdFilter(filters.FilterSet):
    """Validates and documents the list's parameters. The filtering itself is `household_list`'s (the
    selector the pages use too, so both find the same households): it starts again from the
    selector, already scoped to the user, instead of narrowing the view's queryset."""

    division = filters.CharFilter(label="区划代码（含全部下级）")
    village = filters.CharFilter(label="村区划代码")
    poverty_status = filters.ChoiceFilter(choices=PovertyStatus.choices, label="脱贫状态")
    special_group = filters.ChoiceFilter(choices=SpecialGroup.choices, label="特殊群体")
    search = filters.CharFilter(label="成员姓名、户编号、完整身份证号或其后4–6位")

    class Meta:
        model = Household
        fields = ("division", "village", "poverty_status", "special_group", "search")

    def filter_queryset(self, queryset):
        params = self.form.cleaned_data
        households = household_list(
            user=self.request.user,
            division=params.get("division") or None,
            poverty_status=params.get("poverty_status") or None,
            special_group=params.get("special_group") or None,
            search=params.get("search") or None,
        )
        if params.get("village"):
            households = households.filter(village_id=params["village"])
        return households


class MemberFilter(filters.FilterSet):
    household = filters.NumberFilter(field_name="household_id", label="所属农户")

    class Meta:
        model = Member
        fields = ("household",)


class IncomeItemFilter(filters.FilterSet):
    household = filters.NumberFilter(field_name="household_id", label="所属农户")
    year = filters.NumberFilter(label="年度")
    kind = filters.ChoiceFilter(choices=IncomeKind.choices, label="收入项目")

    class Meta:
        model = IncomeItem
        fields = ("household", "year", "kind")
