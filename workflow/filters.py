"""Query-string filters of the case API (django-filter)."""

from django_filters import rest_framework as filters

from monitoring.models import CaseType, MonitoringCase, Stage
from workflow.selectors import case_list, case_queue


class CaseFilter(filters.FilterSet):
    """Validates and documents the list's parameters; the filtering is the selectors' (the ones the
    pages use), which start again from the cases in the user's subtree."""

    stage = filters.ChoiceFilter(choices=Stage.choices, label="环节")
    village = filters.CharFilter(label="区划代码（含全部下级）")
    case_type = filters.ChoiceFilter(choices=CaseType.choices, label="监测对象类型")
    risk = filters.CharFilter(label="风险类型代码")
    queue = filters.BooleanFilter(label="只看我的待办（等待最久的在前）")
    search = filters.CharFilter(label="成员姓名、户编号、完整身份证号或其后4–6位")

    class Meta:
        model = MonitoringCase
        fields = ("stage", "village", "case_type", "risk", "queue", "search")

    def filter_queryset(self, queryset):
        params = self.form.cleaned_data
        selector = case_queue if params.get("queue") else case_list
        return selector(
            user=self.request.user,
            village=params.get("village") or None,
            case_type=params.get("case_type") or None,
            risk=params.get("risk") or None,
            stage=params.get("stage") or None,
            search=params.get("search") or None,
        )
