"""Template helpers of the case pages, and the monitoring panel on the household page (so the household
app needs no import of monitoring)."""

import datetime as dt

from django import template
from django.core.exceptions import PermissionDenied

from monitoring.cases.selectors import household_open_case
from monitoring.cases.services import ensure_village_actor
from monitoring.models import FOLLOWED_STAGES, MonitoringCase, Notice, Stage

register = template.Library()


@register.filter
def stage_label(code: str) -> str:
    try:
        return Stage(code).label
    except ValueError:
        return code or ""


@register.filter
def days(value) -> int | str:
    """Whole days of a duration (the queue's waiting time)."""
    return value.days if isinstance(value, dt.timedelta) else ""


@register.filter
def notice_ends_on(starts_on: dt.date | None) -> dt.date | None:
    """Last day of a notice that started on this day (the model's rule, not a copy of it)."""
    return Notice(starts_on=starts_on).ends_on if starts_on else None


@register.filter
def notice_may_advance_on(starts_on: dt.date | None) -> dt.date | None:
    return Notice(starts_on=starts_on).may_advance_on if starts_on else None


@register.inclusion_tag("monitoring/_household_case_panel.html", takes_context=True)
def household_case_panel(context, household):
    """The household's open case with its stage, or — for a village cadre of the village — the button
    to apply for monitoring (申请纳入监测)."""
    user = context["request"].user
    case = household_open_case(household=household)
    can_apply = False
    if case is None:
        try:
            ensure_village_actor(user=user, case=MonitoringCase(village_id=household.village_id))
            can_apply = True
        except PermissionDenied:
            pass
    # Identified: under monitoring, in the elimination procedure, or eliminated and still followed.
    identified = case is not None and case.stage in FOLLOWED_STAGES
    return {"case": case, "household": household, "can_apply": can_apply, "identified": identified}
