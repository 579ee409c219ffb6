"""Query-string filters of the measure and visit lists (django-filter). They narrow querysets that are
already scoped to the user, so a case id from another village simply matches nothing."""

import datetime as dt

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from assistance.models import Measure, Visit
from assistance.selectors import month_bounds
from assistance.serializers import MONTH_FORMAT_MESSAGE, parse_month


class MonthFormField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(MONTH_FORMAT_MESSAGE) from None


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-11"})
class MonthFilter(filters.Filter):
    field_class = MonthFormField

    def filter(self, qs, value: dt.date | None):
        if value is None:
            return qs
        start, end = month_bounds(value)
        return qs.filter(**{f"{self.field_name}__gte": start, f"{self.field_name}__lt": end})


class MeasureFilter(filters.FilterSet):
    case = filters.NumberFilter(field_name="plan__case", label="监测对象")

    class Meta:
        model = Measure
        fields = ("case",)


class VisitFilter(filters.FilterSet):
    case = filters.NumberFilter(field_name="case", label="监测对象")
    month = MonthFilter(field_name="visited_on", label="走访月份（YYYY-MM）")

    class Meta:
        model = Visit
        fields = ("case", "month")
