"""How the pages word the risk-elimination rules (assistance.rules): each as the condition that must hold."""

from django import template

from assistance.rules import rule_wording

register = template.Library()


@register.simple_tag
def rule_text(rule) -> dict:
    """{condition, source} of a rule result or of a stored snapshot."""
    return rule_wording(rule)
