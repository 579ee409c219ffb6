"""Property tests (hypothesis): the ID validator and its fast twin in the comparison pipeline, the
income accounting (算账), and the workflow — random sequences of actions by random people never reach
a state the rules forbid.

Database examples each run in a savepoint that is rolled back, so every example starts from the same
registry (hypothesis runs many examples inside one pytest-django test transaction).
"""

import contextlib
import datetime as dt
import string
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from fpr.errors import ApplicationError
from fpr.roles import Role
from households.id_numbers import check_digit, make_id_number, mask_id_number, normalize_id_number, parse_id_number
from households.models import ExpenditureKind, IncomeKind, MonitoringLine, Relationship
from households.selectors import income_summaries, income_summary
from households.services import account_items_set
from monitoring.models import MonitoringCase, Notice, Objection, ObjectionStatus, Stage
from monitoring.screening.comparison import id_cell_problem, id_number_problem
from tests.builders import CaseWalker, make_user, member_data, pdf_scan
from workflow.elimination import ELIMINATION
from workflow.identification import IDENTIFICATION
from workflow.models import TransitionEvent

TODAY = dt.date.today()
DB_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def in_rolled_back_savepoint(function):
    """Run one example in a savepoint that is always rolled back: examples never see each other's data."""
    with transaction.atomic():
        try:
            return function()
        finally:
            transaction.set_rollback(True)


# --------------------------------------------------------------------------- ID numbers (GB 11643)

regions = st.text(alphabet=string.digits, min_size=6, max_size=6)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)
valid_numbers = st.builds(make_id_number, region_code=regions, birth_date=births, sequence=sequences)


def accepted_by_validator(text: str) -> bool:
    try:
        parse_id_number(text)
    except ValidationError:
        return False
    return True


def accepted_by_pipeline(text: str) -> bool:
    # A department row's ID cell: checked as it is, and when refused normalised (normalize_id_number)
    # and checked again — what RowChecker does.
    return id_cell_problem(text)[1] == ""


@given(region=regions, birth=births, sequence=sequences)
def test_every_generated_valid_id_number_passes_both_checks(region, birth, sequence):
    number = make_id_number(region_code=region, birth_date=birth, sequence=sequence)
    info = parse_id_number(number)
    assert (info.birth_date, info.region_code) == (birth, region)
    assert info.sex == ("男" if sequence % 2 else "女")
    assert id_number_problem(number) == ""


@given(number=valid_numbers, position=st.integers(0, 17), replacement=st.sampled_from(string.digits + "X"))
def test_any_single_character_change_of_a_valid_number_is_refused_by_both(number, position, replacement):
    changed = number[:position] + replacement + number[position + 1 :]
    assume(changed != number)
    # GB 11643's check digit catches every single substitution (weights are non-zero mod 11). The
    # change may also break the birth date or the shape: refused either way.
    assert not accepted_by_validator(changed)
    assert not accepted_by_pipeline(changed)


@given(number=valid_numbers, length=st.integers(0, 40).filter(lambda n: n != 18))
def test_any_length_other_than_18_is_refused_by_both(number, length):
    text = (number * 3)[:length]
    assert not accepted_by_validator(text)
    assert not accepted_by_pipeline(text)


@given(
    number=valid_numbers,
    position=st.integers(0, 16),
    character=st.characters(exclude_characters=string.digits + " ", exclude_categories=("Zs", "Cc", "Cs")),
)
def test_a_non_digit_among_the_first_17_is_refused_by_both(number, position, character):
    text = number[:position] + character + number[position + 1 :]
    assume(len(normalize_id_number(text)) == 18)
    assume(not set(normalize_id_number(character)) & set(string.digits))  # e.g. "５" is the digit 5
    assert not accepted_by_validator(text)
    assert not accepted_by_pipeline(text)


FULL_WIDTH = str.maketrans(string.digits + "Xx", "０１２３４５６７８９Ｘｘ")
SEPARATORS = [" ", "\u3000", "\u00a0", "\t", "-", "－", "\u200b"]


@given(
    number=valid_numbers,
    full_width=st.sets(st.integers(0, 17)),
    gaps=st.lists(st.tuples(st.integers(0, 18), st.sampled_from(SEPARATORS)), max_size=6),
    lower_x=st.booleans(),
)
def test_full_width_spaced_and_lowercase_variants_normalise_to_the_number(number, full_width, gaps, lower_x):
    chars = [c.translate(FULL_WIDTH) if i in full_width else c for i, c in enumerate(number)]
    if lower_x:
        chars[17] = chars[17].replace("X", "x").replace("Ｘ", "ｘ")
    for position, separator in sorted(gaps, reverse=True):
        chars.insert(position, separator)
    typed = "".join(chars)
    assert normalize_id_number(typed) == number
    assert parse_id_number(typed).number == number
    assert id_cell_problem(typed) == (number, "")


def _is_real_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


@given(
    region=regions,
    year=st.integers(1880, 2099),
    month=st.integers(0, 99),
    day=st.integers(0, 99),
    sequence=sequences,
)
def test_impossible_birth_dates_are_refused_by_both(region, year, month, day, sequence):
    assume(not _is_real_date(year, month, day))
    first17 = f"{region}{year:04d}{month:02d}{day:02d}{sequence:03d}"
    number = first17 + check_digit(first17)  # a correct check digit: only the date is wrong
    assert not accepted_by_validator(number)
    assert not accepted_by_pipeline(number)


def test_the_29th_of_february_1900_is_refused_by_both():
    """1900 is not a leap year (divisible by 100, not by 400)."""
    first17 = "520521" + "19000229" + "123"
    number = first17 + check_digit(first17)
    assert not accepted_by_validator(number)
    assert not accepted_by_pipeline(number)


@given(region=regions, days_ahead=st.integers(1, 3000), sequence=sequences)
def test_birth_dates_after_today_are_refused_by_both(region, days_ahead, sequence):
    number = make_id_number(region_code=region, birth_date=TODAY + dt.timedelta(days=days_ahead), sequence=sequence)
    assert not accepted_by_validator(number)
    assert not accepted_by_pipeline(number)


@given(
    st.one_of(
        st.text(max_size=24),
        st.text(alphabet=string.digits + "Xx \t-", min_size=16, max_size=20),
        valid_numbers.map(str.lower),
        # Well-formed numbers with any birth date, before 1880 and after today included.
        st.builds(
            make_id_number,
            region_code=regions,
            birth_date=st.dates(dt.date(1000, 1, 1), dt.date(2199, 12, 31)),
            sequence=sequences,
        ),
        valid_numbers.map(lambda n: f"  {n[:6]} {n[6:]}\t"),
        # Digits of other scripts (Arabic-Indic, full-width) look like digits to `\d` and to int().
        valid_numbers.map(lambda n: n.translate(str.maketrans(string.digits, "٠١٢٣٤٥٦٧٨٩"))),
        valid_numbers.map(lambda n: n.translate(str.maketrans(string.digits, "０１２３４５６７８９"))),
    )
)
def test_the_validator_and_the_pipeline_agree_on_arbitrary_text(text):
    assert accepted_by_validator(text) == accepted_by_pipeline(text), text


@given(st.text(max_size=40))
def test_a_masked_number_shows_at_most_the_first_four_and_last_four(text):
    masked = mask_id_number(text)
    assert len(masked) == len(text)
    if len(text) <= 8:
        assert set(masked) <= {"*"}
    else:
        assert masked[:4] == text[:4] and masked[-4:] == text[-4:]
        assert masked[4:-4] == "*" * (len(text) - 8)


@given(valid_numbers)
def test_a_masked_valid_number_hides_the_birth_date(number):
    masked = mask_id_number(number)
    assert masked[4:14] == "*" * 10 and number[6:14] not in masked


# --------------------------------------------------------------------------- income accounting (算账)

CENT = Decimal("0.01")
amounts = st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2, allow_nan=False, allow_infinity=False)
income_items = st.dictionaries(st.sampled_from(IncomeKind.values), amounts)
expenditure_items = st.dictionaries(st.sampled_from(ExpenditureKind.values), amounts)


@pytest.fixture
def households_by_size(cadre_a, village_a, make_household):
    """Households of one to four members, built through the real service."""
    relationships = [Relationship.HEAD, Relationship.SPOUSE, Relationship.SON, Relationship.DAUGHTER]
    built = {}
    for size in range(1, 5):
        members = [member_data(f"成员{size}{i}", relationships[i]) for i in range(size)]
        built[size] = make_household(user=cadre_a, village=village_a, members=members, address=f"光明村{size}组")
    return built


@DB_SETTINGS
@given(
    size=st.integers(1, 4),
    year=st.sampled_from([2024, 2025, 2026]),
    incomes=income_items,
    expenditures=expenditure_items,
)
def test_income_summary_totals_are_the_sums_and_per_capita_is_net_over_members(
    households_by_size, cadre_a, size, year, incomes, expenditures
):
    household = households_by_size[size]

    def example():
        account_items_set(user=cadre_a, household=household, year=year, incomes=incomes, expenditures=expenditures)
        summary = income_summary(household=household, year=year)
        transfers = {k: v for k, v in incomes.items() if k in IncomeKind.values[4:]}
        net = sum((v for k, v in incomes.items() if k != IncomeKind.BUSINESS_COST), Decimal(0)) - incomes.get(
            IncomeKind.BUSINESS_COST, Decimal(0)
        )
        spent = sum(expenditures.values(), Decimal(0))
        assert summary.size == size
        assert summary.transfer_total == sum(transfers.values(), Decimal(0))
        assert summary.business_net == incomes.get(IncomeKind.BUSINESS, 0) - incomes.get(IncomeKind.BUSINESS_COST, 0)
        assert summary.net_total == net
        assert summary.expenditure_total == spent
        assert summary.per_capita == (net / size).quantize(CENT, rounding=ROUND_HALF_UP)
        assert abs(summary.per_capita * size - net) <= CENT * size / 2
        assert summary.per_capita_after_expenditure == ((net - spent) / size).quantize(CENT, rounding=ROUND_HALF_UP)
        line = MonitoringLine.objects.filter(year=year).values_list("amount", flat=True).first()
        assert summary.monitoring_line == line
        assert summary.above_line == (None if line is None else summary.per_capita > line)
        # The jobs' bulk version agrees with the one-household version.
        bulk = income_summaries(households=[household], year=year)[household.pk]
        assert (bulk.net_total, bulk.per_capita, bulk.above_line, bulk.expenditure_total) == (
            summary.net_total,
            summary.per_capita,
            summary.above_line,
            summary.expenditure_total,
        )

    in_rolled_back_savepoint(example)


@DB_SETTINGS
@given(first=income_items, second=income_items, negative=st.sampled_from(IncomeKind.values))
def test_accounting_with_a_negative_amount_is_refused_and_changes_nothing(
    households_by_size, cadre_a, first, second, negative
):
    household = households_by_size[2]

    def example():
        account_items_set(user=cadre_a, household=household, year=2026, incomes=first)
        before = income_summary(household=household, year=2026)
        with pytest.raises(ValidationError):
            account_items_set(
                user=cadre_a, household=household, year=2026, incomes={**second, negative: Decimal("-0.01")}
            )
        after = income_summary(household=household, year=2026)
        assert (after.net_total, after.transfers, after.per_capita) == (
            before.net_total,
            before.transfers,
            before.per_capita,
        )

    in_rolled_back_savepoint(example)


@DB_SETTINGS
@given(incomes=income_items)
def test_a_cadre_of_another_village_cannot_set_the_accounting(households_by_size, cadre_b, incomes):
    household = households_by_size[1]

    def example():
        with pytest.raises(PermissionDenied):
            account_items_set(user=cadre_b, household=household, year=2026, incomes=incomes)
        assert income_summary(household=household, year=2026).net_total == 0

    in_rolled_back_savepoint(example)


# --------------------------------------------------------------------------- the workflow

START = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Beijing
TABLE = {t.name: t for wf in (IDENTIFICATION, ELIMINATION) for t in wf.transitions}
POST_NOTICE = {Stage.TOWNSHIP_REVIEW, Stage.COUNTY_APPROVAL, Stage.MONITORING, *Stage.values[8:]}
ELIMINATION_STAGES = {Stage.ELIM_VERIFICATION, Stage.ELIM_APPRAISAL, Stage.ELIM_NOTICE, Stage.ELIM_TOWNSHIP}
REFUSALS = (ApplicationError, ValidationError, PermissionDenied)


@pytest.fixture
def people(divisions, cadre_a, cadre_b, township_reviewer, county_reviewer, administrator, department_officer):
    """Insiders of case A's village chain, and outsiders who must always be refused."""
    other_township = make_user("township_c", divisions["520521101000"], Role.TOWNSHIP_REVIEWER, full_name="冯镇")
    other_county_cadre = make_user("cadre_c", divisions["520521101001"], Role.VILLAGE_CADRE, full_name="陈村干")
    return {
        "insiders": {"cadre": cadre_a, "township": township_reviewer, "county": county_reviewer},
        "outsiders": {
            "cadre_b": cadre_b,
            "cadre_c": other_county_cadre,
            "township_c": other_township,
            "administrator": administrator,
            "department_officer": department_officer,
        },
    }


def _inputs(draw_from, today: dt.date) -> dict:
    """Random inputs: all, some or none of the fields any transition asks for, dates around today."""
    full = {
        "opinion": draw_from(st.sampled_from(["同意", "情况属实", "", "   "]), label="opinion"),
        "comparison": draw_from(st.sampled_from(["部门比对无异常", ""]), label="comparison"),
        "place": draw_from(st.sampled_from(["村务公开栏", ""]), label="place"),
        "starts_on": today + dt.timedelta(days=draw_from(st.integers(-12, 3), label="starts_on offset")),
    }
    keep = draw_from(st.sets(st.sampled_from(sorted(full))), label="inputs kept")
    return {k: v for k, v in full.items() if k in keep}


def _snapshot(case: MonitoringCase) -> tuple:
    case.refresh_from_db()
    return (case.stage, case.stage_round, case.is_open, case.identified_on, case.eliminated_on, case.last_transition)


class Scenario:
    """One case of village A and the helpers the cadres use around the transitions."""

    def __init__(self, people, household, case, traveller):
        self.people, self.household, self.case, self.traveller = people, household, case, traveller
        cadre = people["insiders"]["cadre"]
        self.walker = CaseWalker(cadre, people["insiders"]["township"], people["insiders"]["county"])
        self.cadre = cadre

    def today(self) -> dt.date:
        from fpr import clock

        return clock.today()

    def helper(self, name: str, draw) -> None:
        """Record what a stage needs (or try to, at the wrong stage): these may be refused too."""
        from monitoring.cases.services import objection_dismiss, objection_lodge

        case = self.case
        if name == "wait":
            self.traveller.shift(dt.timedelta(days=draw(st.integers(1, 8), label="days")))
        elif name == "record_verification":
            self.walker.record_verification(case, day=self.today())
        elif name == "record_appraisal":
            votes = draw(st.sampled_from([5, 2]), label="votes for")
            self.walker.record_appraisal(case, votes_for=votes, votes_against=5 - votes, day=self.today())
        elif name == "lodge_objection":
            objection_lodge(user=self.cadre, case=case, lodged_by="村民甲", content="反映家中有车")
        elif name in ("dismiss_objection", "substantiate_objection"):
            pending = Objection.objects.filter(notice__case=case, status=ObjectionStatus.PENDING).first()
            if pending is None:
                return
            if name == "dismiss_objection":
                objection_dismiss(user=self.cadre, objection=pending, resolution="经核查不属实")
            else:
                from workflow.services import objection_substantiate

                objection_substantiate(user=self.cadre, objection=pending, resolution="经核查属实")
        elif name == "open_another_case":
            from monitoring.cases.services import case_create

            case_create(
                user=self.cadre,
                household=self.household,
                case_type="marginal",
                risk_categories=["illness"],
                channel="self_report",
                description="再次申请",
                authorization_signed_on=self.today(),
                authorization_scan=pdf_scan(),
            )
        elif name == "prepare_elimination":
            self._prepare_elimination()

    def _prepare_elimination(self) -> None:
        from assistance.models import AssistancePlan, Effect, MeasureStatus
        from assistance.services import measure_add, plan_create, visit_record

        case = self.case
        account_items_set(user=self.cadre, household=self.household, year=2026, incomes={IncomeKind.WAGE: "18000"})
        plan = AssistancePlan.objects.filter(case=case).first() or plan_create(
            user=self.cadre,
            case=case,
            situation="两口之家。",
            risk_analysis="因病支出大。",
            needs="稳定就业。",
            pairing_cadre=self.cadre,
        )
        measure_add(
            user=self.cadre,
            plan=plan,
            category="employment",
            risk_category="illness",
            description="推荐务工",
            amount=Decimal("0"),
            starts_on=dt.date(2026, 6, 1),
            status=MeasureStatus.ACTIVE,
            effect=Effect.CLEAR,
        )
        visit_record(user=self.cadre, case=case, visited_on=self.today(), findings="务工稳定", satisfaction="satisfied")


HELPERS = [
    "wait",
    "record_verification",
    "record_appraisal",
    "lodge_objection",
    "dismiss_objection",
    "substantiate_objection",
    "open_another_case",
    "prepare_elimination",
]


def _check_invariants(scenario: Scenario) -> None:
    case = scenario.case
    case.refresh_from_db()
    if case.stage in (Stage.MONITORING, *ELIMINATION_STAGES, Stage.ELIM_COUNTY, Stage.ELIMINATED):
        assert case.identified_on is not None, f"{case.stage} without identified_on"
    if case.stage in POST_NOTICE:
        assert Notice.objects.filter(case=case).exists(), f"{case.stage} without any 公示"
    assert (case.stage == Stage.REJECTED) == (not case.is_open) or case.stage == Stage.ELIMINATED
    assert MonitoringCase.objects.filter(household=scenario.household, is_open=True).count() <= 1
    # The history is a chain: each event starts where the previous one ended, by a transition of the table.
    previous = None
    for event in TransitionEvent.objects.filter(case=case).order_by("at", "id"):
        spec = TABLE[event.transition]
        assert event.from_stage in spec.sources and event.to_stage == spec.target
        if previous is not None:
            assert event.from_stage == previous.to_stage
        previous = event
    if previous is not None:
        assert previous.to_stage == case.stage


def _check_transition_outcome(scenario, spec, actor, before, events_before, notice_before, refused) -> None:
    case = scenario.case
    after = _snapshot(case)
    events = TransitionEvent.objects.filter(case=case).count()
    if refused:
        assert after == before, f"refused {spec.name} changed the case: {before} → {after}"
        assert events == events_before
        return
    assert actor in scenario.people["insiders"].values(), f"outsider {actor.username} fired {spec.name}"
    assert actor.has_role(*spec.roles)
    assert before[0] in spec.sources and after[0] == spec.target, f"{spec.name}: {before[0]} → {after[0]}"
    assert events == events_before + 1
    if spec.name in ("submit_to_township", "submit_elim_to_township"):
        # Never past 公示 without the notice of this round having run its full seven days, unopposed.
        assert notice_before is not None, f"{spec.name} without a notice"
        assert notice_before.may_advance_on <= scenario.today(), f"{spec.name} before the 7 days of {notice_before}"
        assert not notice_before.objections.filter(status=ObjectionStatus.PENDING).exists()
    if spec.target == Stage.MONITORING and spec.name == "county_approve":
        assert after[3] == scenario.today()


@settings(
    max_examples=60,
    deadline=None,
    stateful_step_count=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), start=st.sampled_from(["application", "verification", "appraisal", "notice", "monitoring"]))
def test_random_actions_by_random_people_never_reach_a_forbidden_state(
    people, household_a, open_case, make_monitored, data, start
):
    """A random walk over the transition table (and the records around it) on a real case: after every
    step the case is in a stage the table allows, reached by the accepted transition; refused steps
    change nothing; outsiders are always refused."""
    from workflow.services import case_transition

    draw = data.draw

    def example():
        with time_machine.travel(START, tick=False) as traveller:
            case = open_case(user=people["insiders"]["cadre"], household=household_a)
            scenario = Scenario(people, household_a, case, traveller)
            # Start from a later stage reached the users' way, so the elimination table gets walked too.
            if start == "monitoring":
                case = make_monitored(case)
            elif start != "application":
                getattr(scenario.walker, f"to_{start}")(case)
            scenario.case = case
            note_event(f"start {case.stage}")
            everyone = {**people["insiders"], **people["outsiders"]}
            for _ in range(draw(st.integers(5, 25), label="steps")):
                stage = scenario.case.stage
                plausible = sorted(t.name for t in TABLE.values() if stage in t.sources)
                kind = draw(st.sampled_from(["plausible", "plausible", "any", "helper"]), label="kind")
                if kind == "helper":
                    with contextlib.suppress(*REFUSALS):  # a helper at the wrong stage is refused: fine
                        scenario.helper(draw(st.sampled_from(HELPERS), label="helper"), draw)
                    _check_invariants(scenario)
                    continue
                name = draw(st.sampled_from(plausible if kind == "plausible" and plausible else sorted(TABLE)))
                spec = TABLE[name]
                # Half the time the one insider whose role the step needs, with every input filled in:
                # otherwise the walk would rarely get past the first refusals.
                fitting = [k for k, u in people["insiders"].items() if u.has_role(*spec.roles)]
                if fitting and draw(st.booleans(), label="fitting actor"):
                    actor = people["insiders"][fitting[0]]
                    inputs = {
                        "opinion": "同意",
                        "comparison": "部门比对无异常",
                        "place": "村务公开栏",
                        "starts_on": scenario.today() - dt.timedelta(days=draw(st.integers(0, 3), label="back")),
                    }
                else:
                    actor = everyone[draw(st.sampled_from(sorted(everyone)), label="actor")]
                    inputs = _inputs(draw, scenario.today())
                before = _snapshot(scenario.case)
                events_before = TransitionEvent.objects.filter(case=scenario.case).count()
                notice_before = Notice.objects.filter(case=scenario.case).order_by("-id").first()
                refused = False
                try:
                    case_transition(user=actor, case_id=scenario.case.pk, transition=name, inputs=inputs)
                except REFUSALS:
                    refused = True
                if not refused:
                    note_event(f"accepted {name}")  # shown by --hypothesis-show-statistics: what the walks reached
                _check_transition_outcome(scenario, spec, actor, before, events_before, notice_before, refused)
                _check_invariants(scenario)

    in_rolled_back_savepoint(example)


def test_outsiders_are_refused_every_transition_at_every_stage_they_meet(people, household_a, open_case):
    """The exhaustive companion of the random walk: at each identification stage up to 监测中, every
    outsider tries every transition of the table and is refused without a trace."""
    from workflow.services import case_transition

    cadre, township, county = (people["insiders"][k] for k in ("cadre", "township", "county"))
    walker = CaseWalker(cadre, township, county)
    with time_machine.travel(START, tick=False) as traveller:
        case = open_case(user=cadre, household=household_a)
        advance = [
            lambda: walker.to_verification(case),
            lambda: (
                walker.record_verification(case, day=START.date()),
                walker.fire(case, "complete_verification", cadre),
            ),
            lambda: (
                walker.record_appraisal(case, day=START.date()),
                walker.fire(case, "start_notice", cadre, starts_on=START.date(), place="村务公开栏"),
            ),
            lambda: (traveller.shift(dt.timedelta(days=7)), walker.fire(case, "submit_to_township", cadre)),
            lambda: walker.fire(case, "township_approve", township, opinion="同意"),
            lambda: walker.fire(case, "county_approve", county, opinion="同意", comparison="无异常"),
        ]
        seen = []
        for step in [lambda: None, *advance]:
            step()
            case.refresh_from_db()
            seen.append(case.stage)
            for name in TABLE:
                for outsider in people["outsiders"].values():
                    before = _snapshot(case)
                    with pytest.raises(REFUSALS):
                        case_transition(
                            user=outsider,
                            case_id=case.pk,
                            transition=name,
                            inputs={
                                "opinion": "同意",
                                "starts_on": START.date(),
                                "place": "公示栏",
                                "comparison": "无",
                            },
                        )
                    assert _snapshot(case) == before
        assert seen == [
            Stage.APPLICATION,
            Stage.VERIFICATION,
            Stage.APPRAISAL,
            Stage.NOTICE,
            Stage.TOWNSHIP_REVIEW,
            Stage.COUNTY_APPROVAL,
            Stage.MONITORING,
        ]
