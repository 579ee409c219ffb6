"""Issue #13: one accounting year (算账年度) everywhere, the 算账 headline that counts rigid expenditure,
and the township's list of households still without the year's 算账 (未算账农户)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from assistance.rules import PROPOSAL, load_facts
from fpr.periods import accounting_year
from fpr.roles import Role
from households.models import IncomeKind, PovertyStatus
from households.selectors import income_summary
from households.services import account_items_set
from monitoring.cases.classification import suggest_classification
from monitoring.jobs import accounting_views
from monitoring.jobs import runner as jobs
from monitoring.models import JobStatus, TodoItem, TodoKind
from reports.exports.forms import LedgerFilterForm
from reports.exports.ledger import ledger_year
from tests.builders import make_user, member_data

pytestmark = pytest.mark.django_db

DECEMBER = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
FEBRUARY = dt.datetime(2027, 2, 10, 2, 0, tzinfo=dt.UTC)
MARCH = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)


def missing_income() -> dict:
    result = jobs.job_run(job="data_quality", triggered_by="测试")
    assert result.status == JobStatus.SUCCEEDED, result.errors
    items = TodoItem.objects.filter(kind=TodoKind.INCOME_MISSING, resolved_at__isnull=True)
    return {item.household_id: item.detail for item in items}


# --------------------------------------------------------------------------- the rule


def test_the_accounting_year_is_this_year_from_march_and_last_year_before():
    assert accounting_year(dt.date(2026, 12, 31)) == 2026
    assert accounting_year(dt.date(2027, 1, 1)) == 2026
    assert accounting_year(dt.date(2027, 2, 28)) == 2026
    assert accounting_year(dt.date(2027, 3, 1)) == 2027
    with time_machine.travel(DECEMBER, tick=False):
        assert accounting_year() == 2026


def test_every_door_uses_the_same_year_in_december(client, case_a, household_a, cadre_a, township_reviewer):
    """The issue: the page invited 2025 while the ledger, the job and the rules read 2026."""
    with time_machine.travel(DECEMBER, tick=False):
        account_items_set(user=cadre_a, household=household_a, year=2026, incomes={IncomeKind.WAGE: None})
        client.force_login(cadre_a)
        response = client.get(reverse("households:detail", args=[household_a.pk]))
        assert response.context["year"] == 2026
        content = response.content.decode()
        assert reverse("households:income_edit", args=[household_a.pk, 2026]) in content
        assert "2026年算账" in content and "2025年算账" not in content
        verification = client.get(reverse("cases:verification", args=[case_a.pk]))
        assert verification.context["form"].initial["year"] == 2026

        assert missing_income() == {household_a.pk: f"{household_a.number}户尚未核算2026年家庭收入（算账）。"}
        # The cadre follows the page's invitation: the job, the rules and the ledger are satisfied.
        response = client.post(reverse("households:income_edit", args=[household_a.pk, 2026]), {"income_wage": "20000"})
        assert response.status_code == 302
        assert missing_income() == {}
        facts = load_facts(case_a, moment=PROPOSAL)
        assert facts.income.year == 2026 and facts.income.has_items
        assert suggest_classification(household=household_a).reasons  # reads 2026 (per capita 10,000)
        assert ledger_year({}) == 2026
        assert LedgerFilterForm(user=township_reviewer).fields["year"].initial == 2026


def test_in_february_the_previous_year_is_still_accounted(client, case_a, household_a, cadre_a):
    with time_machine.travel(FEBRUARY, tick=False):
        # case_a's household has its 2026 accounting (conftest open_case)
        assert missing_income() == {}
        assert load_facts(case_a, moment=PROPOSAL).income.year == 2026
        client.force_login(cadre_a)
        assert client.get(reverse("households:detail", args=[household_a.pk])).context["year"] == 2026
    with time_machine.travel(MARCH, tick=False):
        assert missing_income() == {household_a.pk: f"{household_a.number}户尚未核算2027年家庭收入（算账）。"}
        client.force_login(cadre_a)  # a new session: the February one has expired
        assert client.get(reverse("households:detail", args=[household_a.pk])).context["year"] == 2027


def test_the_api_defaults_to_the_accounting_year(household_a, cadre_a):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(cadre_a)
    with time_machine.travel(DECEMBER, tick=False):
        body = api.get(f"/api/v1/households/{household_a.pk}/").json()
    assert body["income_summary"]["year"] == 2026


# --------------------------------------------------------------------------- the headline


def test_rigid_expenditure_that_eats_the_income_is_the_headline(client, household_a, cadre_a):
    """Issue: green "高于监测范围" (10,250 vs 7,300) while per capita after rigid expenditure is −7,250."""
    account_items_set(
        user=cadre_a,
        household=household_a,
        year=2026,
        incomes={IncomeKind.WAGE: Decimal("20500")},
        expenditures={"medical": Decimal("35000")},
    )
    summary = income_summary(household=household_a, year=2026)
    assert summary.above_line is True and summary.per_capita_after_expenditure == Decimal("-7250.00")
    assert summary.rigid_expenditure_heavy is True and summary.at_risk is True
    client.force_login(cadre_a)
    content = client.get(reverse("households:detail", args=[household_a.pk]) + "?year=2026").content.decode()
    assert "verdict--risk" in content and "verdict--ok" not in content
    assert "<strong>刚性支出较大</strong>" in content and "<strong>高于监测范围</strong>" not in content
    assert "扣除刚性支出 35,000.00 元后人均 -7,250.00 元，不高于监测范围" in content


def test_rigid_expenditure_the_income_carries_stays_green(client, household_a, cadre_a):
    account_items_set(
        user=cadre_a,
        household=household_a,
        year=2026,
        incomes={IncomeKind.WAGE: Decimal("20500")},
        expenditures={"medical": Decimal("3000")},
    )
    summary = income_summary(household=household_a, year=2026)
    assert summary.rigid_expenditure_heavy is False and summary.at_risk is False
    client.force_login(cadre_a)
    content = client.get(reverse("households:detail", args=[household_a.pk]) + "?year=2026").content.decode()
    assert "verdict--ok" in content
    assert "<strong>高于监测范围</strong> 2,950.00 元；扣除刚性支出后人均仍高于监测范围。" in content


# --------------------------------------------------------------------------- 未算账农户


@pytest.fixture
def registry(make_household, cadre_a, cadre_b, village_a, village_b, village_c, case_a, household_a):
    """光明村: household_a (脱贫户, case_a, accounted 2026), a 脱贫户 and a 一般农户 without any
    accounting; 红岩村: one 脱贫户 without; 新华村 (another township): one without."""
    lifted = make_household(user=cadre_a, village=village_a, members=[member_data("王五")])
    ordinary = make_household(
        user=cadre_a,
        village=village_a,
        members=[member_data("赵六")],
        poverty_status=PovertyStatus.ORDINARY,
        poverty_exit_year=None,
    )
    red_rock = make_household(user=cadre_b, village=village_b, members=[member_data("钱七")])
    cadre_c = make_user("cadre_c", village_c, Role.VILLAGE_CADRE)
    other_township = make_household(user=cadre_c, village=village_c, members=[member_data("孙八")])
    return {"lifted": lifted, "ordinary": ordinary, "red_rock": red_rock, "other": other_township}


def page(client, **query):
    return client.get(reverse("monitoring:accounting_missing"), query)


def test_township_sees_per_village_counts_and_the_missing_households(client, registry, township_reviewer):
    client.force_login(township_reviewer)
    with time_machine.travel(DECEMBER, tick=False):
        response = page(client)
    assert response.status_code == 200 and response.context["year"] == 2026
    counts = {c.name: (c.total, c.missing) for c in response.context["counts"]}
    assert counts == {"光明村": (2, 1), "红岩村": (1, 1)}  # 新华村 is another township's
    assert [h.number for h in response.context["households"]] == sorted(
        [registry["lifted"].number, registry["red_rock"].number]
    )
    content = response.content.decode()
    assert "未算账农户" in content and "按村统计" in content

    with time_machine.travel(DECEMBER, tick=False):
        everyone = page(client, scope="all", village="520521100001")
    counts = {c.name: (c.total, c.missing) for c in everyone.context["counts"]}
    assert counts == {"光明村": (3, 2), "红岩村": (1, 1)}
    assert {h.number for h in everyone.context["households"]} == {
        registry["lifted"].number,
        registry["ordinary"].number,
    }


def test_the_list_is_scoped_to_the_users_subtree(client, registry, cadre_b, cadre_a):
    client.force_login(cadre_b)
    with time_machine.travel(DECEMBER, tick=False):
        response = page(client, village="520521100001")  # not hers: ignored
    assert {c.name for c in response.context["counts"]} == {"红岩村"}
    assert [h.number for h in response.context["households"]] == [registry["red_rock"].number]
    client.force_login(cadre_a)
    with time_machine.travel(DECEMBER, tick=False):
        content = page(client).content.decode()
    assert reverse("households:income_edit", args=[registry["lifted"].pk, 2026]) in content


def test_the_list_is_keyset_paged(client, registry, county_reviewer, monkeypatch):
    monkeypatch.setattr(accounting_views, "PAGE_SIZE", 2)
    client.force_login(county_reviewer)
    with time_machine.travel(DECEMBER, tick=False):
        first = page(client)
        numbers = [h.number for h in first.context["households"]]
        assert len(numbers) == 2 and first.context["next_query"]
        second = client.get(reverse("monitoring:accounting_missing") + "?" + first.context["next_query"])
    rest = [h.number for h in second.context["households"]]
    assert sorted(numbers + rest) == sorted(
        h.number for h in (registry["lifted"], registry["red_rock"], registry["other"])
    )
    assert second.context["next_query"] is None and second.context["previous_query"]


def test_the_households_list_links_to_it(client, registry, township_reviewer, department_officer):
    client.force_login(township_reviewer)
    assert reverse("monitoring:accounting_missing") in client.get(reverse("households:list")).content.decode()
    client.force_login(department_officer)
    assert page(client).status_code == 403
