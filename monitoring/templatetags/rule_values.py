"""The rule values the pages state in words ("公示7天", "48小时内核实", "不少于2人", "帮扶超过3个月"), read from
the one constant that the rule itself uses, so a page never states a different number than the code
applies: `{% load rule_values %}` then `{% notice_days %}` and the like."""

from django import template
from django.conf import settings

from monitoring.models import MIN_VERIFIERS, NOTICE_DAYS, WARNING_DUE_HOURS

register = template.Library()


@register.simple_tag
def notice_days() -> int:
    """公示 runs this many days (monitoring.models.NOTICE_DAYS)."""
    return NOTICE_DAYS


@register.simple_tag
def warning_due_hours() -> int:
    """A warning is to be verified within this many hours (monitoring.models.WARNING_DUE_HOURS)."""
    return WARNING_DUE_HOURS


@register.simple_tag
def min_verifiers() -> int:
    """入户核实组不少于 this many different people (monitoring.models.MIN_VERIFIERS)."""
    return MIN_VERIFIERS


@register.simple_tag
def intensify_after_months() -> int:
    """加大帮扶力度 after this many months under monitoring (settings.FPR_INTENSIFY_AFTER_MONTHS)."""
    return settings.FPR_INTENSIFY_AFTER_MONTHS
