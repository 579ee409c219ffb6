"""未算账农户: the households of the user's subtree still without the accounting year's 算账, counted per
village and listed 50 a page (keyset on the unique 户编号), so the township can follow the villages up.

"Who must be accounted": by default the 脱贫户 and the households with an open monitoring case (those the
yearly 收入核算 covers, and whose cases the data-quality job flags, monitoring.jobs.data_quality); 全部农户
widens it to the whole registry. The year is `fpr.periods.accounting_year()` unless another is asked.
"""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import render

from fpr.periods import accounting_year
from fpr.roles import CASE_READERS, Role
from households.models import IncomeItem, PovertyStatus
from households.selectors import household_list, villages_visible
from monitoring.models import MonitoringCase

PAGE_SIZE = 50
SCOPES = {"followed": "脱贫户和监测对象", "all": "全部农户"}


@dataclass
class VillageCount:
    code: str
    name: str
    township: str
    total: int
    missing: int
    link: str = ""  # the page's query for this village's households

    @property
    def accounted(self) -> int:
        return self.total - self.missing


def households_to_account(*, user, scope: str, village: str | None = None):
    """The households of the user's subtree (or of `village` in it) that must be accounted, annotated
    with `accounted_in(year)` left to the caller; head name and member count come with household_list."""
    households = household_list(user=user, division=village)
    if scope == "followed":
        open_case = MonitoringCase.objects.open().filter(household_id=OuterRef("pk"))
        households = households.filter(Q(poverty_status=PovertyStatus.LIFTED) | Exists(open_case))
    return households


def village_counts(*, user, year: int, scope: str) -> list[VillageCount]:
    """Per village of the subtree: households that must be accounted and how many still miss `year`. One
    grouped query; villages without such households are left out."""
    accounted = IncomeItem.objects.filter(household_id=OuterRef("pk"), year=year)
    rows = (
        households_to_account(user=user, scope=scope)
        .annotate(accounted=Exists(accounted))
        .order_by()
        .values("village_id", "village__name", "village__parent__name")
        .annotate(total=Count("pk"), missing=Count("pk", filter=Q(accounted=False)))
        .order_by("village_id")
    )
    return [
        VillageCount(r["village_id"], r["village__name"], r["village__parent__name"] or "", r["total"], r["missing"])
        for r in rows
    ]


@login_required
def accounting_missing(request):
    user = request.user
    if not (user.is_superuser or user.has_role(*CASE_READERS)):
        raise PermissionDenied("您的角色不能查看未算账农户。")
    current = accounting_year()
    try:
        year = int(request.GET.get("year") or current)
    except ValueError:
        year = current
    if year not in (current, current - 1):
        year = current
    scope = request.GET.get("scope") if request.GET.get("scope") in SCOPES else "followed"
    village = request.GET.get("village", "")
    if village and not villages_visible(user=user).filter(pk=village).exists():
        village = ""

    counts = village_counts(user=user, year=year, scope=scope)
    accounted = IncomeItem.objects.filter(household_id=OuterRef("pk"), year=year)
    missing = (
        households_to_account(user=user, scope=scope, village=village or None)
        .exclude(Exists(accounted))
        .select_related("village")
        .annotate(followed=Exists(MonitoringCase.objects.open().filter(household_id=OuterRef("pk"))))
    )
    after, before = request.GET.get("after", "")[:32], request.GET.get("before", "")[:32]
    if before:
        rows = list(missing.filter(number__lt=before).order_by("-number")[: PAGE_SIZE + 1])
        has_previous, has_next = len(rows) > PAGE_SIZE, True
        rows = rows[:PAGE_SIZE][::-1]
    else:
        if after:
            missing = missing.filter(number__gt=after)
        rows = list(missing.order_by("number")[: PAGE_SIZE + 1])
        has_previous, has_next = bool(after), len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]

    def query(**changes) -> str:
        params = request.GET.copy()
        for name in ("after", "before"):
            params.pop(name, None)
        for name, value in changes.items():
            if value in (None, ""):
                params.pop(name, None)
            else:
                params[name] = value
        return params.urlencode()

    context = {
        "year": year,
        "years": [current, current - 1],
        "scope": scope,
        "scope_label": SCOPES[scope],
        "village": village,
        "village_name": next((c.name for c in counts if c.code == village), ""),
        "counts": counts,
        "total": sum(c.total for c in counts),
        "missing_total": sum(c.missing for c in counts),
        "households": rows,
        "next_query": query(after=rows[-1].number) if rows and has_next else None,
        "previous_query": query(before=rows[0].number) if rows and has_previous else None,
        "first_query": query() if has_previous else None,
        "can_account": user.has_role(Role.VILLAGE_CADRE, Role.ADMINISTRATOR),
        "year_queries": [(y, query(year=y, village=village)) for y in (current, current - 1)],
        "scope_queries": [(code, label, query(scope=code)) for code, label in SCOPES.items()],
        "all_villages_query": query(village=None),
    }
    for count in counts:
        count.link = query(village=count.code)
    return render(request, "monitoring/accounting_missing.html", context)
