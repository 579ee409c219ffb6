import datetime as dt
from decimal import Decimal

from django import template

from fpr import clock
from fpr.sensitive import Kind, mask, shown_in_full

register = template.Library()


@register.filter
def masked(value: str, kind: str = Kind.ID_NUMBER) -> str:
    """`5224**********1234` (or `138****5678` for "phone"): the form a value of the sensitive-field
    list (`fpr.sensitive`) takes on screen by default."""
    return mask(kind, value or "")


@register.simple_tag(takes_context=True)
def sensitive(context, value, kind: str, revealed: bool = False) -> str:
    """A value of the sensitive-field list as this user may see it: in full after a logged reveal
    (or a phone for the village cadre), else masked; "—" when empty."""
    if not value:
        return "—"
    user = context.get("user") or getattr(context.get("request"), "user", None)
    return str(value) if shown_in_full(kind, user=user, revealed=revealed) else mask(kind, value)


@register.filter
def yuan(value) -> str:
    """12345.6 → "12,345.60"; blank for no amount."""
    if value in (None, ""):
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def age(birth_date: dt.date | None) -> int | str:
    """Full years of age today."""
    if not birth_date:
        return ""
    today = clock.today()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
