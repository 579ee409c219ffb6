"""Forms of the workflow pages: one form per transition, built from the transition's `inputs` in the
table, the bulk form of the queue, and the filters of the queue and the case list.

Inputs are not marked required here: the engine names what is missing ("请填写“复核意见”。") together
with every guard that fails, so the page shows the same reasons the API and a bulk result give.
"""

from django import forms

from fpr import clock
from fpr.errors import ApplicationError
from fpr.forms import SCAN_TYPES, MultipleFileField, date_input, scan_help
from fpr.periods import Period
from fpr.search import MAX_WORDS
from households.forms import search_input
from monitoring.models import CaseType, RiskCategory, Stage
from workflow.elimination import ELIMINATION
from workflow.engine import Input, Transition
from workflow.services import ensure_bulk_size


def input_field(spec: Input) -> forms.Field:
    if spec.kind == "date":
        return forms.DateField(label=spec.label, required=False, widget=date_input())
    if spec.kind == "file":
        return forms.FileField(label=spec.label, required=False, widget=forms.FileInput(attrs={"accept": SCAN_TYPES}))
    if spec.name in ("opinion", "comparison"):
        return forms.CharField(label=spec.label, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    return forms.CharField(label=spec.label, required=False, max_length=200)


class TransitionForm(forms.Form):
    """The inputs one transition asks for, plus optional attachments (scans of signed forms)."""

    attachments = MultipleFileField(
        label="附件（可选，可多选）", required=False, help_text=scan_help(), accept=SCAN_TYPES
    )

    def __init__(self, *args, transition: Transition, **kwargs):
        kwargs.setdefault("prefix", transition.name)
        super().__init__(*args, **kwargs)
        self.transition = transition
        attachments = self.fields.pop("attachments")
        for spec in transition.inputs:
            self.fields[spec.name] = input_field(spec)
        if "starts_on" in self.fields:
            # 公示开始日期: most notices are posted the day they are recorded; the cadre changes it if not.
            self.fields["starts_on"].initial = clock.today
        self.fields["attachments"] = attachments

    def inputs(self) -> dict:
        values = {spec.name: self.cleaned_data.get(spec.name) for spec in self.transition.inputs}
        return {name: value for name, value in values.items() if value not in (None, "")}

    def uploads(self) -> list:
        files = [
            self.cleaned_data[s.name]
            for s in self.transition.inputs
            if s.kind == "file" and self.cleaned_data.get(s.name)
        ]
        return files + list(self.cleaned_data.get("attachments") or [])


class CaseIdsField(forms.Field):
    """The ids of the cases ticked in the queue (checkboxes named `cases`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            return [int(v) for v in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError("勾选的案件编号有误，请刷新页面后重试。") from None


def bulk_button(transition: Transition) -> str:
    """A reviewer's queue holds both procedures; the elimination buttons say which one they act on."""
    if transition in ELIMINATION.transitions:
        return f"风险消除：{transition.button_text}"
    return transition.button_text


class BulkForm(forms.Form):
    """One opinion (and for the county the comparison result) for every case ticked in the queue."""

    cases = CaseIdsField(required=False)
    transition = forms.ChoiceField(label="操作")

    def __init__(self, *args, transitions: list[Transition], **kwargs):
        super().__init__(*args, **kwargs)
        self.transitions = {t.name: t for t in transitions}
        self.fields["transition"].choices = [(t.name, bulk_button(t)) for t in transitions]
        if len(transitions) == 1:
            self.fields["transition"].initial = transitions[0].name
            self.fields["transition"].widget = forms.HiddenInput()
        for transition in transitions:
            for spec in transition.inputs:
                self.fields.setdefault(spec.name, input_field(spec))

    def clean_cases(self):
        ids = list(dict.fromkeys(self.cleaned_data["cases"]))  # a case ticked twice is done once
        if not ids:
            raise forms.ValidationError("请先勾选要办理的案件。")
        try:
            ensure_bulk_size(ids)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message, code="too_many") from None
        return ids

    def inputs(self) -> dict:
        transition = self.transitions[self.cleaned_data["transition"]]
        values = {spec.name: self.cleaned_data.get(spec.name) for spec in transition.inputs}
        return {name: value for name, value in values.items() if value not in (None, "")}


class CaseFilterForm(forms.Form):
    """Filters of the queue and the case list; the choices come from the user's own villages and stages."""

    village = forms.ChoiceField(label="村", required=False)
    case_type = forms.ChoiceField(label="类型", required=False, choices=[("", "全部"), *CaseType.choices])
    risk = forms.ChoiceField(label="风险", required=False)
    stage = forms.ChoiceField(label="环节", required=False)
    q = forms.CharField(label="查找", required=False, max_length=MAX_WORDS, widget=search_input())

    def __init__(self, *args, villages=(), stages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "全部")] + [
            (code, f"{township} · {name}" if township else name) for code, name, township in villages
        ]
        self.fields["risk"].choices = [("", "全部"), *RiskCategory.objects.values_list("code", "name")]
        self.fields["stage"].choices = [("", "全部"), *[(s, Stage(s).label) for s in stages]]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        filters = {name: data.get(name) or None for name in ("village", "case_type", "risk", "stage")}
        return {**filters, "search": data.get("q") or None}


class CaseListFilterForm(CaseFilterForm):
    """The case list's filters: the queue's, plus the status group and the periods the statistics pages
    link with ("the cases behind a number")."""

    status = forms.ChoiceField(label="状态", required=False)
    identified_in = forms.CharField(label="纳入期间", required=False, max_length=7)
    eliminated_in = forms.CharField(label="消除期间", required=False, max_length=7)

    def __init__(self, *args, **kwargs):
        from workflow.selectors import STATUS_GROUPS

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "全部"), *((key, label) for key, (label, _) in STATUS_GROUPS.items())]
        for name in ("identified_in", "eliminated_in"):
            self.fields[name].widget.attrs["placeholder"] = "2026-11 / 2026-Q4 / 2026"

    def _clean_period(self, name: str):
        text = self.cleaned_data.get(name, "").strip()
        if not text:
            return None
        try:
            period = Period.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return (period.start, period.end)

    def clean_identified_in(self):
        return self._clean_period("identified_in")

    def clean_eliminated_in(self):
        return self._clean_period("eliminated_in")

    def filters(self) -> dict:
        filters = super().filters()
        data = self.cleaned_data if self.is_valid() else {}
        filters.update({name: data.get(name) or None for name in ("status", "identified_in", "eliminated_in")})
        return filters
