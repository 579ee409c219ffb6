"""Forms of the warning pages (预警线索). They only turn input into Python values; the rules (a reason for
不纳入, no second case for a household, who may act) are monitoring.screening.warning_services', whose
errors are put back on these forms."""

from django import forms
from django.core.validators import RegexValidator

from fpr.roles import Department
from fpr.search import MAX_WORDS
from households.forms import search_input
from monitoring.models import CaseType, ContactOutcome, RiskCategory, RiskColour, WarningStatus

ALL = "all"


class WarningFilterForm(forms.Form):
    status = forms.ChoiceField(label="核实结果", choices=[*WarningStatus.choices, (ALL, "全部")], required=False)
    department = forms.ChoiceField(label="部门", choices=[("", "全部部门"), *Department.choices], required=False)
    period = forms.CharField(
        label="数据期间",
        required=False,
        validators=[RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "请按“年-月”填写，如 2026-11。")],
        widget=forms.TextInput(attrs={"placeholder": "如 2026-11", "inputmode": "numeric", "pattern": r"\d{4}-\d{2}"}),
    )
    q = forms.CharField(label="查找", required=False, max_length=MAX_WORDS, widget=search_input())

    def filters(self) -> dict:
        """Filters for monitoring.screening.warning_selectors.warning_list; an invalid form shows the open queue."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        status = data.get("status") or WarningStatus.OPEN
        return {
            "status": None if status == ALL else status,
            "department": data.get("department") or None,
            "period": data.get("period") or None,
            "search": data.get("q") or None,
        }

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in ("status", "department", "period", "q"))


class WarningIncludeForm(forms.Form):
    """纳入: the application the warning opens (发现渠道 is always 部门筛查预警)."""

    case_type = forms.ChoiceField(label="监测对象类型", choices=CaseType.choices, widget=forms.RadioSelect)
    risk_categories = forms.MultipleChoiceField(
        label="风险类型（可多选）", widget=forms.CheckboxSelectMultiple, required=False
    )
    colour = forms.ChoiceField(
        label="风险等级（颜色）", choices=[("", "暂不标注"), *RiskColour.choices], required=False
    )
    description = forms.CharField(label="困难情况描述", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="include", **kwargs)
        self.fields["risk_categories"].choices = list(RiskCategory.objects.values_list("code", "name"))


class WarningExcludeForm(forms.Form):
    reason = forms.CharField(
        label="不纳入原因",
        required=False,  # required by the service, which says so in its own words
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "如：经电话联系和入户了解，费用已由大病保险报销，家庭收入稳定。"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="exclude", **kwargs)


class WarningAttachForm(forms.Form):
    note = forms.CharField(
        label="说明（可不填）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：已在入户核实中一并核查。"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="attach", **kwargs)


class WarningContactForm(forms.Form):
    """联系记录: one attempt to reach the household. The time defaults to now (the service's)."""

    outcome = forms.ChoiceField(label="联系情况", choices=ContactOutcome.choices, widget=forms.RadioSelect)
    contacted_at = forms.DateTimeField(
        label="联系时间（不填为现在）",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(
        label="情况说明",
        required=False,  # required by the service when not reached, in its own words
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "如：户主本人接听，称已住院治疗，约定明天上门。"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="contact", **kwargs)
