"""Forms for the household pages. They only convert input to Python values; every rule is checked by
the services, whose ValidationErrors are put back on these forms by `fpr.forms.apply_service_errors`."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.forms import fields_for_model

from fpr.search import MAX_WORDS
from fpr.sensitive import fields_of, mask, shown_in_full
from households.id_numbers import validate_id_number
from households.models import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    TRANSFER_KINDS,
    DisabilityCategory,
    DisabilityGrade,
    ExpenditureKind,
    Health,
    Household,
    IncomeKind,
    Member,
    PovertyStatus,
    Relationship,
    SpecialGroup,
)

# Field order on the pages (the services accept exactly these keys).
HOUSEHOLD_FORM_FIELDS = HOUSEHOLD_FIELDS
MEMBER_FORM_FIELDS = MEMBER_FIELDS
# Shown at once on a member card; the rest sit under "更多信息" so a phone screen stays short.
MEMBER_MAIN_FIELDS = ["name", "id_number", "relationship", "health", "labour_capacity", "schooling"]

HOUSEHOLD_WIDGETS = {
    "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    "poverty_exit_year": forms.NumberInput(attrs={"inputmode": "numeric", "min": 2013, "max": 2030}),
    "bank_account": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
}
MEMBER_WIDGETS = {
    "id_number": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "class": "mono"}),
    "disability_certificate": forms.TextInput(attrs={"autocomplete": "off", "class": "mono"}),
    "employment_months": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 12}),
}


class HouseholdForm(forms.Form):
    """The household's own fields. `village` is offered only when registering a new household."""

    def __init__(self, *args, villages=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Model fields as form fields: fields_for_model leaves the model's validators to the service.
        self.fields.update(fields_for_model(Household, fields=HOUSEHOLD_FORM_FIELDS, widgets=HOUSEHOLD_WIDGETS))
        if villages is not None:
            choices = [(code, f"{township} · {name}" if township else name) for code, name, township in villages]
            self.fields = {
                "village": forms.ChoiceField(label="所属村", choices=choices, initial=_single(choices)),
                **self.fields,
            }

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in HOUSEHOLD_FORM_FIELDS}
        return _without_unchanged(data, getattr(self, "kept", ()))


def _keep_unless_typed(form: forms.Form, name: str, masked: str) -> None:
    """A field whose current value the user may not see: empty on the page, the masked value as its
    hint, and left unchanged when it is left empty (so the page never carries the full value)."""
    field = form.fields[name]
    field.required = False
    field.widget.attrs["placeholder"] = masked
    field.help_text = f"当前为 {masked}，留空表示不修改。"
    form.kept = (*getattr(form, "kept", ()), name)


def _without_unchanged(data: dict, kept) -> dict:
    """The service treats a missing key as "unchanged"."""
    return {name: value for name, value in data.items() if not (name in kept and value in ("", None))}


def hidden_values(instance, *, user) -> dict[str, str]:
    """{field: masked value} of the instance's sensitive fields (`fpr.sensitive`) that `user` may not
    see in full: an edit form must not carry them."""
    hidden = {}
    for name, kind in fields_of(instance._meta.label).items():
        value = getattr(instance, name, "")
        if value and not shown_in_full(kind, user=user):
            hidden[name] = mask(kind, value)
    return hidden


class HouseholdEditForm(HouseholdForm):
    """The edit page also carries the version it showed, so a save based on an older one is refused.
    (Not required, like the API's: a post without it — a script — is applied to the current version.)
    `hidden`: fields whose value the user may not see in full ({name: masked}, see hidden_values)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args, hidden: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, masked in (hidden or {}).items():
            _keep_unless_typed(self, name, masked)

    def clean(self):
        cleaned = super().clean()
        if "version" in self.errors:  # a hidden field: say it where the user looks
            self.add_error(None, "页面已过期，请刷新后重新修改。")
        return cleaned


ID_INPUT_LENGTH = 64  # an 18-character number typed with spaces or dashes; normalised, then checked


def _allow_separators(field: forms.CharField) -> None:
    """The model column holds the 18 normalised characters; what is typed may be longer (spaces,
    dashes, full-width digits). Drop the 18-character limit so the browser does not cut a pasted
    number and the reason shown is the real one (normalize_id_number then GB 11643)."""
    field.max_length = ID_INPUT_LENGTH
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.widget.attrs["maxlength"] = str(ID_INPUT_LENGTH)


class MemberForm(forms.Form):
    """A member's fields. Editing an existing member (`hidden` given, see hidden_values), the ID number
    is not a field at all — it is shown masked, and correcting it is its own logged action for holders
    of households.view_sensitive (`MemberIdCorrectionForm`) — and a certificate the user may not see
    is left unchanged unless a new one is typed."""

    def __init__(self, *args, hidden: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Member, fields=MEMBER_FORM_FIELDS, widgets=MEMBER_WIDGETS))
        # The ID check is the model field's own validator, run here too so that a mistyped number is
        # reported under the field together with the other fields' errors.
        self.fields["id_number"].validators.append(validate_id_number)
        _allow_separators(self.fields["id_number"])
        self.fields["relationship"].choices = [("", "请选择"), *Relationship.choices]
        self.fields["disability_category"].choices = [("", "无"), *DisabilityCategory.choices]
        self.fields["disability_grade"].choices = [("", "无"), *DisabilityGrade.choices]
        self.locked: list[tuple[str, str]] = []  # (label, masked value) shown read-only
        if hidden is not None:
            self.locked.append((self.fields["id_number"].label, hidden.get("id_number", "")))
            del self.fields["id_number"]
            if "disability_certificate" in hidden:
                _keep_unless_typed(self, "disability_certificate", hidden["disability_certificate"])

    def clean(self):
        from households.services import member_rule_errors

        cleaned = super().clean()
        if cleaned:  # an untouched blank row stays blank
            for field, messages in member_rule_errors(cleaned).items():
                if field in self.fields and field not in self.errors:
                    for message in messages:
                        self.add_error(field, message)
        return cleaned

    def main_fields(self):
        return [self[name] for name in MEMBER_MAIN_FIELDS if name in self.fields]

    def more_fields(self):
        return [self[name] for name in MEMBER_FORM_FIELDS if name not in MEMBER_MAIN_FIELDS and name in self.fields]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in MEMBER_FORM_FIELDS if name in self.fields}
        if data.get("health") != Health.DISABLED:
            return data  # no longer disabled: an empty certificate clears it (the service requires that)
        return _without_unchanged(data, getattr(self, "kept", ()))


class MemberIdCorrectionForm(forms.Form):
    """更正身份证号: a new ID number (and certificate, which begins with it) with the reason, logged."""

    id_number = forms.CharField(
        label="正确的身份证号",
        max_length=ID_INPUT_LENGTH,
        widget=MEMBER_WIDGETS["id_number"],
        validators=[validate_id_number],
    )
    disability_certificate = forms.CharField(
        label="正确的残疾人证号",
        max_length=32,
        required=False,
        widget=MEMBER_WIDGETS["disability_certificate"],
        help_text="持证成员须同时更正（证号前18位即身份证号）；留空表示不修改。",
    )
    reason = forms.CharField(
        label="更正事由",
        max_length=128,
        widget=forms.TextInput(attrs={"placeholder": "如：登记时录错一位，已核对户口簿"}),
    )


class BaseMemberFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index == 0 and not self.is_bound:
            kwargs["initial"] = {"relationship": Relationship.HEAD}
        return kwargs

    def filled_forms(self) -> list[MemberForm]:
        """The member rows the user filled in; untouched blank rows are ignored."""
        return [form for form in self.forms if form.cleaned_data]


# Two rows to start (head and, usually, spouse); "添加成员" adds more in the browser, and without
# JavaScript a cadre saves and adds further members from the household page.
MemberFormSet = forms.formset_factory(
    MemberForm, formset=BaseMemberFormSet, extra=1, min_num=1, validate_min=True, max_num=30, validate_max=True
)


class IncomeForm(forms.Form):
    """One amount per income and expenditure item for a year (算账). Every item is listed, including
    耕地地力保护补贴 and 生态补偿金, which cadres were fined for forgetting (seeds/002)."""

    INCOME_PREFIX = "income_"
    EXPENDITURE_PREFIX = "expenditure_"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in IncomeKind:
            self.fields[self.INCOME_PREFIX + kind] = _amount_field(kind.label)
        for kind in ExpenditureKind:
            self.fields[self.EXPENDITURE_PREFIX + kind] = _amount_field(kind.label)

    def earned_fields(self):
        return [self[self.INCOME_PREFIX + kind] for kind in IncomeKind if kind not in TRANSFER_KINDS]

    def transfer_fields(self):
        return [self[self.INCOME_PREFIX + kind] for kind in TRANSFER_KINDS]

    def expenditure_fields(self):
        return [self[self.EXPENDITURE_PREFIX + kind] for kind in ExpenditureKind]

    def incomes(self) -> dict:
        return {kind.value: self.cleaned_data[self.INCOME_PREFIX + kind] for kind in IncomeKind}

    def expenditures(self) -> dict:
        return {kind.value: self.cleaned_data[self.EXPENDITURE_PREFIX + kind] for kind in ExpenditureKind}

    def field_for_kind(self, kind: str) -> str | None:
        for prefix in (self.INCOME_PREFIX, self.EXPENDITURE_PREFIX):
            if prefix + kind in self.fields:
                return prefix + kind
        return None


def search_input() -> forms.TextInput:
    """The search box of every list that finds a person (households.selectors.household_search)."""
    return forms.TextInput(attrs={"placeholder": "姓名、户编号、身份证号或其后4–6位", "type": "search"})


class HouseholdFilterForm(forms.Form):
    """Filters of the household list. Choices come from the user's own villages only."""

    village = forms.ChoiceField(label="村", required=False)
    poverty_status = forms.ChoiceField(
        label="脱贫状态", required=False, choices=[("", "全部")] + list(PovertyStatus.choices)
    )
    special_group = forms.ChoiceField(
        label="重点人群", required=False, choices=[("", "全部")] + list(SpecialGroup.choices)
    )
    q = forms.CharField(label="查找", required=False, max_length=MAX_WORDS, widget=search_input())

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "全部")] + [
            (code, f"{township} · {name}" if township else name) for code, name, township in villages
        ]


def _amount_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "placeholder": "0"}),
    )


def _single(choices):
    return choices[0][0] if len(choices) == 1 else None
