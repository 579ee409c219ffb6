"""Reads for the case pages that belong to monitoring alone: the case of a page, the open case of a
household, who may be picked as a verifier, and a case's field history (变更记录)."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from fpr import history
from fpr.history import HistoryEntry
from households.models import Household, Member, Relationship
from monitoring.models import MonitoringCase, RiskCategory

# Bookkeeping columns every transition touches; the timeline already tells those steps.
_QUIET_FIELDS = {"created_at", "updated_at", "stage_entered_at", "stage_round", "last_transition"}


def heads(path: str = "members") -> Prefetch:
    """The household's head (户主) prefetched as `.heads` — the name every case page shows."""
    return Prefetch(path, queryset=Member.objects.filter(relationship=Relationship.HEAD), to_attr="heads")


def scoped_case(request, pk: int) -> MonitoringCase:
    """The case of a case page: within the user's subtree (another's is a 404), with its household,
    village, risks and head."""
    cases = MonitoringCase.objects.for_user(request.user).select_related("household", "village__parent")
    return get_object_or_404(cases.prefetch_related("risk_categories", heads("household__members")), pk=pk)


def household_open_case(*, household: Household | int) -> MonitoringCase | None:
    """The case in process or under monitoring, if any (at most one, by a database constraint).
    `household` is the household or its primary key."""
    return MonitoringCase.objects.open().filter(household=household).first()


def verifier_candidates(*, case: MonitoringCase) -> QuerySet:
    """System users who may be on the verification team: those of the case's village and township."""
    divisions = [case.village_id, case.village.parent_id]
    return (
        get_user_model()
        .objects.filter(division_id__in=[d for d in divisions if d], is_active=True)
        .select_related("division")
        .order_by("-division__level", "full_name", "username")
    )


def case_history(*, case: MonitoringCase, limit: int = 200) -> list[HistoryEntry]:
    """Every recorded change of the case's own fields (including its stage), newest first. Records are
    diffed against their predecessor in memory; one case has a few dozen at most. The risk categories
    (a many-to-many) of all the records are read in one query, not two per record as simple-history's
    own diff of a many-to-many would."""
    records = list(case.history.select_related("history_user").order_by("history_date", "history_id")[:limit])
    names = dict(RiskCategory.objects.values_list("code", "name"))
    risks: dict[int, list[str]] = {record.history_id: [] for record in records}
    through = MonitoringCase.history.model._meta.get_field("historicalmonitoringcase_risk_categories").related_model
    for history_id, code in (
        through.objects.filter(history_id__in=risks)
        .order_by("riskcategory_id")
        .values_list("history_id", "riskcategory_id")
    ):
        risks[history_id].append(code)
    label = str(MonitoringCase._meta.get_field("risk_categories").verbose_name)
    entries, previous = [], None
    for record in records:
        changes: list[history.Change] = []
        if previous is not None:
            changes = history.recorded_changes(record, previous, excluded=_QUIET_FIELDS | {"risk_categories"})
            old, new = risks[previous.history_id], risks[record.history_id]
            if old != new:
                changes.append((label, _codes_to_names(old, names), _codes_to_names(new, names)))
        previous = record
        if record.history_type == "~" and not changes:
            continue
        who, action = history.who(record), history.action(record)
        entries.append(HistoryEntry(when=record.history_date, who=who, action=action, changes=changes))
    return entries[::-1]


def _codes_to_names(codes: list[str], names: dict) -> str:
    """In the categories' own order (因病, 因残, 因学 …), as the case page lists them."""
    order = {code: position for position, code in enumerate(names)}
    return "、".join(names.get(code, code) for code in sorted(codes, key=lambda c: order.get(c, 99))) or "（空）"
