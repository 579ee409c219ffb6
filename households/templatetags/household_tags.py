import datetime as dt
from decimal import Decimal

from django import template

from households.id_numbers import mask_id_number

register = template.Library()


@register.filter
def masked(value: str) -> str:
    """`5224**********1234`: the form an ID or account number takes on screen by default."""
    return mask_id_number(value or "")


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
    today = dt.date.today()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
