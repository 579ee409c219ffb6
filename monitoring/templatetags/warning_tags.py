"""The warnings of a household on the household and case pages, with the property-check notice (富人戴穷帽)
when a department found assets — kept here so households and workflow need no view change for it."""

from django import template

from monitoring.screening.warning_selectors import household_warnings, warning_deadline

register = template.Library()


@register.inclusion_tag("monitoring/_household_warnings.html", takes_context=True)
def household_warning_panel(context, household):
    """Two queries: the latest warnings, and the asset hits among all of them."""
    found = household_warnings(user=context["request"].user, household_id=household.pk)
    return {
        "found": found,
        "rows": [(warning, warning_deadline(warning)) for warning in found.warnings],
    }
