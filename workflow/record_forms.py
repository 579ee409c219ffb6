"""Forms of the case pages. They only turn input into Python values; every rule (at least two verifiers,
the quorum, file types, who may act, in which stage) is the services', whose errors are put back on these
forms by `fpr.forms.apply_service_errors`."""

from django import forms

from fpr.forms import date_input, scan_field
from fpr.pending import KeepsFiles
from monitoring.cases.services import APPRAISAL_ROLES
from monitoring.models import APPLICATION_CHANNELS, CaseType, RiskCategory, RiskColour


class CaseForm(KeepsFiles, forms.Form):
    """提交申请 (and its later corrections): the case's own fields and the 承诺授权书 (kept across a failed
    submission: `fpr.pending`)."""

    kept_fields = ("authorization_scan",)

    case_type = forms.ChoiceField(label="监测对象类型", choices=CaseType.choices, widget=forms.RadioSelect)
    risk_categories = forms.MultipleChoiceField(
        label="风险类型（可多选）", widget=forms.CheckboxSelectMultiple, required=False
    )
    channel = forms.ChoiceField(label="发现渠道", choices=[("", "请选择"), *APPLICATION_CHANNELS])
    colour = forms.ChoiceField(
        label="风险等级（颜色）", choices=[("", "暂不标注"), *RiskColour.choices], required=False
    )
    description = forms.CharField(
        label="困难情况描述",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "如：户主患病住院，自付医疗费用较高，家庭收入骤减。"}),
    )
    authorization_signed_on = forms.DateField(label="承诺授权书签署日期", required=False, widget=date_input())
    authorization_scan = scan_field("承诺授权书扫描件")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["risk_categories"].choices = list(RiskCategory.objects.values_list("code", "name"))

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.fields if name != "authorization_scan"}
        if self.cleaned_data.get("authorization_scan"):
            data["authorization_scan"] = self.cleaned_data["authorization_scan"]
        return data


class VerificationForm(forms.Form):
    """入户核实: the team is picked from system users and/or typed in the rows of `VerifierFormSet`."""

    visit_date = forms.DateField(label="入户日期", widget=date_input())
    team = forms.MultipleChoiceField(label="核实人员（系统用户）", widget=forms.CheckboxSelectMultiple, required=False)
    findings = forms.CharField(label="核实情况", widget=forms.Textarea(attrs={"rows": 4}))
    risk_points = forms.CharField(label="风险点", widget=forms.Textarea(attrs={"rows": 3}))
    year = forms.IntegerField(
        label="收入核算年度",
        min_value=2000,
        max_value=2100,
        help_text="信息采集表按该年度的收支核算（算账）生成。",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(user.pk): user for user in candidates}
        self.fields["team"].choices = [
            (str(user.pk), f"{user}（{user.division.name if user.division_id else ''}）") for user in candidates
        ]

    def chosen_verifiers(self) -> list[dict]:
        chosen = [self.candidates[pk] for pk in self.cleaned_data["team"]]
        return [
            {"user_id": user.pk, "name": str(user), "unit": user.division.name if user.division_id else ""}
            for user in chosen
        ]


class VerifierRowForm(forms.Form):
    name = forms.CharField(
        label="姓名", max_length=32, required=False, widget=forms.TextInput(attrs={"placeholder": "姓名"})
    )
    unit = forms.CharField(
        label="单位/职务",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "单位/职务"}),
    )


VerifierFormSet = forms.formset_factory(VerifierRowForm, extra=2, max_num=10, validate_max=True)


def typed_verifiers(formset) -> list[dict]:
    return [
        {"name": row.cleaned_data["name"], "unit": row.cleaned_data.get("unit", "")}
        for row in formset.forms
        if row.cleaned_data.get("name", "").strip()
    ]


class AppraisalForm(KeepsFiles, forms.Form):
    """民主评议: the result is derived by the service from the quorum and the votes. The minutes scan is
    kept across a failed submission (`fpr.pending`)."""

    kept_fields = ("minutes_scan",)

    meeting_date = forms.DateField(label="评议日期", widget=date_input())
    votes_for = forms.IntegerField(
        label="同意票", min_value=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    votes_against = forms.IntegerField(
        label="反对票", min_value=0, initial=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    votes_abstain = forms.IntegerField(
        label="弃权票", min_value=0, initial=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    minutes_scan = scan_field("签字会议记录扫描件")


class ParticipantForm(forms.Form):
    name = forms.CharField(
        label="姓名", max_length=32, required=False, widget=forms.TextInput(attrs={"placeholder": "姓名"})
    )
    role = forms.ChoiceField(label="身份", choices=[("", "请选择"), *[(r, r) for r in APPRAISAL_ROLES]], required=False)


ParticipantFormSet = forms.formset_factory(ParticipantForm, extra=5, max_num=60, validate_max=True)


def participants(formset) -> list[dict]:
    return [
        {"name": row.cleaned_data["name"], "role": row.cleaned_data.get("role", "")}
        for row in formset.forms
        if row.cleaned_data.get("name", "").strip()
    ]


class ObjectionForm(forms.Form):
    """异议 lodged during the notice."""

    lodged_by = forms.CharField(label="异议人", max_length=64)
    lodged_on = forms.DateField(label="提出日期", widget=date_input())
    content = forms.CharField(label="异议内容", widget=forms.Textarea(attrs={"rows": 3}))


class ResolutionForm(forms.Form):
    """The finding on an objection: dismissed (不属实) or substantiated (属实)."""

    resolution = forms.CharField(label="核查情况", widget=forms.Textarea(attrs={"rows": 2}))


class ClassificationForm(forms.Form):
    """风险研判: the helper's suggestion, confirmed as it is or changed (with the reason)."""

    case_type = forms.ChoiceField(label="监测对象类型", choices=CaseType.choices, widget=forms.RadioSelect)
    risk_categories = forms.MultipleChoiceField(
        label="风险类型（可多选）", widget=forms.CheckboxSelectMultiple, required=False
    )
    colour = forms.ChoiceField(
        label="风险等级（颜色）", choices=[("", "暂不标注"), *RiskColour.choices], required=False
    )
    reason = forms.CharField(
        label="调整理由",
        required=False,
        help_text="与系统建议不一致时必填，如：入户核实发现冰雹灾害致房屋受损。",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["risk_categories"].choices = list(RiskCategory.objects.values_list("code", "name"))
