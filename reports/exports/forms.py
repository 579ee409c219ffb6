"""Forms of the export pages: the ledger's filters (the case list's, plus colour, identification dates
and the income year) and the township + quarter picker of the quarterly 风险评估表."""

from django import forms

from fpr import clock
from fpr.forms import date_input
from fpr.periods import accounting_year
from fpr.roles import Level
from households.selectors import divisions_visible
from monitoring.models import RiskColour, Stage
from workflow.forms import CaseFilterForm


def _division_choices(user, *levels: int) -> list[tuple[str, str]]:
    rows = divisions_visible(user=user).filter(level__in=levels).values_list("code", "name", "level", "parent__name")
    return [
        (code, f"{parent} · {name}" if level == Level.VILLAGE and parent else name)
        for code, name, level, parent in rows
    ]


class LedgerFilterForm(CaseFilterForm):
    """The case list's filters (the same names, so /cases/?… carries over), a township or a village as
    the area, and the ledger's own: colour, identified between two dates, the year of the income."""

    colour = forms.ChoiceField(label="风险等级", required=False, choices=[("", "全部"), *RiskColour.choices])
    identified_from = forms.DateField(label="识别纳入起", required=False, widget=date_input())
    identified_to = forms.DateField(label="识别纳入止", required=False, widget=date_input())
    year = forms.IntegerField(label="收入年度", required=False, min_value=2015, max_value=2100)
    full_ids = forms.BooleanField(label="导出完整身份证号（将记入导出记录）", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, stages=Stage.values, **kwargs)
        # The case list's search words (often an ID number) would be kept in the export log: not here.
        del self.fields["q"]
        if not user.has_perm("households.view_sensitive"):
            del self.fields["full_ids"]
        self.fields["village"].label = "乡镇/村"
        self.fields["village"].choices = [("", "全部"), *_division_choices(user, Level.TOWNSHIP, Level.VILLAGE)]
        self.fields["year"].initial = accounting_year()

    def clean(self):
        data = super().clean()
        start, end = data.get("identified_from"), data.get("identified_to")
        if start and end and start > end:
            self.add_error("identified_to", "结束日期不能早于开始日期。")
        return data

    def export_filters(self) -> dict:
        """The filters as stored in the export log (JSON: dates as text), empty ones left out."""
        data = self.cleaned_data
        filters = {name: data.get(name) for name in ("village", "case_type", "risk", "stage", "colour")}
        for name in ("identified_from", "identified_to"):
            filters[name] = data[name].isoformat() if data.get(name) else None
        filters["year"] = data.get("year") or accounting_year()
        return {name: value for name, value in filters.items() if value}


REPORTING_DAYS = 5  # the quarterly form is reported by the 5th after the quarter


def default_quarter(today) -> tuple[int, int]:
    """The quarter the 风险评估表 is offered for: the current one (whose monitoring objects are the
    ones in the registry now), except during the first 5 days of a quarter — the reporting window —
    when the quarter just ended is the one being reported."""
    quarter = (today.month - 1) // 3 + 1
    first_month = 3 * (quarter - 1) + 1
    if today.month == first_month and today.day <= REPORTING_DAYS:
        return (today.year - 1, 4) if quarter == 1 else (today.year, quarter - 1)
    return today.year, quarter


class QuarterlyForm(forms.Form):
    township = forms.ChoiceField(label="乡镇")
    year = forms.IntegerField(label="年度", min_value=2015, max_value=2100)
    quarter = forms.TypedChoiceField(
        label="季度", coerce=int, choices=[(1, "第一季度"), (2, "第二季度"), (3, "第三季度"), (4, "第四季度")]
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].choices = _division_choices(user, Level.TOWNSHIP)
        self.fields["year"].initial, self.fields["quarter"].initial = default_quarter(clock.today())
