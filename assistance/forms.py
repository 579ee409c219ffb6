"""Forms of the plan page (帮扶计划). They only turn input into Python values; the rules (who may write,
in which stage, a reason for an adjustment, dates, effects, file types) are the services', whose errors
are put back on these forms by `fpr.forms.apply_service_errors`."""

from django import forms
from django.conf import settings

from assistance.models import Effect, MeasureCategory, MeasureStatus, Satisfaction
from fpr.forms import MultipleFileField, date_input
from monitoring.models import RiskCategory

PHOTO_TYPES = "image/jpeg,image/png,.jpg,.jpeg,.png"
PLAN_FIELDS = ("situation", "risk_analysis", "needs", "pairing_cadre", "pairing_cadre_name")


def _text(label: str, rows: int = 3, **attrs) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows, **attrs}))


class CadreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return f"{user}（{user.division.name}）" if user.division_id else str(user)


class PlanForm(forms.Form):
    """一户一策: the household's situation, the analysis of its risks, its needs and the pairing cadre
    (a system user of the village or township, or a name typed in)."""

    situation = _text("家庭基本情况", placeholder="家庭人口、主要收入来源和收入水平、刚性支出、三保障及饮水现状")
    risk_analysis = _text("风险分析", placeholder="致贫返贫风险点及原因")
    needs = _text("农户需求", rows=2, placeholder="农户本人提出的帮扶需求")
    pairing_cadre = CadreChoiceField(
        label="结对帮扶干部",
        queryset=None,
        required=False,
        empty_label="（不是系统用户，填写下方姓名）",
    )
    pairing_cadre_name = forms.CharField(
        label="结对帮扶干部姓名（非系统用户）",
        max_length=32,
        required=False,
        help_text="结对帮扶干部没有系统账号时，填写其姓名和单位。",
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pairing_cadre"].queryset = candidates

    def plan_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in PLAN_FIELDS}


class PlanAdjustForm(PlanForm):
    """动态调整: the same fields and the reason, which the service requires."""

    adjustment_reason = forms.CharField(
        label="调整原因",
        max_length=200,
        required=False,
        help_text="必填。如：户主已在县城稳定务工，调整为就业巩固措施。",
    )

    field_order = ["adjustment_reason", *PLAN_FIELDS]


class MeasureForm(forms.Form):
    category = forms.ModelChoiceField(label="措施类别", queryset=MeasureCategory.objects.all(), empty_label="请选择")
    risk_category = forms.ModelChoiceField(
        label="针对的风险", queryset=RiskCategory.objects.none(), empty_label="请选择"
    )
    description = _text("措施内容", rows=2, placeholder="如：推荐到县城工业园区务工，月工资约3000元")
    amount = forms.DecimalField(
        label="金额（元）",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="资金类措施填写金额，其他填0或不填。",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    starts_on = forms.DateField(label="开始日期", widget=date_input())
    ends_on = forms.DateField(label="结束日期", required=False, widget=date_input())
    status = forms.ChoiceField(label="状态", choices=MeasureStatus.choices, initial=MeasureStatus.ACTIVE)
    effect = forms.ChoiceField(label="帮扶成效", choices=[("", "尚未评估"), *Effect.choices], required=False)
    effect_note = forms.CharField(
        label="成效说明",
        max_length=200,
        required=False,
        help_text="成效不明显时必填：原因和下一步打算。",
    )

    def __init__(self, *args, risks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["risk_category"].queryset = risks

    def measure_data(self) -> dict:
        return dict(self.cleaned_data)


class VisitForm(forms.Form):
    """走访记录: one visit of the pairing cadre, with photos taken on the phone."""

    visited_on = forms.DateField(label="走访日期", widget=date_input())
    findings = _text("走访情况", placeholder="家庭生产生活、帮扶措施落实、存在困难")
    income_change = forms.CharField(
        label="收入变化情况",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "如：务工月收入由2000元增至3000元"}),
    )
    satisfaction = forms.ChoiceField(
        label="群众满意度", choices=Satisfaction.choices, required=False, widget=forms.RadioSelect
    )
    photos = MultipleFileField(label="走访照片（可多选）", required=False, accept=PHOTO_TYPES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        photos = self.fields["photos"]
        photos.help_text = f"JPG 或 PNG，每张不超过 {settings.FPR_MAX_ATTACHMENT_MB}MB；手机上可直接拍照。"
        photos.widget.attrs["data-pick-label"] = "拍照或选择照片"

    def visit_data(self) -> dict:
        return {**self.cleaned_data, "photos": self.cleaned_data.get("photos") or []}
