"""Who may fire each step: every transition of both tables (识别程序 and 风险消除程序) × every role.

The rows come from the tables the service fires (`workflow.services.WORKFLOWS`), the columns from
`fpr.roles.Role`. Who may fire each transition is written out below, not read back from the tables, so
a new transition, a new role or a changed `roles`/`level` fails here until MAY_FIRE says who may fire
it. For each row the case is carried to the transition's source stage through the real services; the
permitted persona passes the permission check, and every other persona — the wrong role, or the right
role outside the case's village or township — is refused with the 403 (TransitionForbidden) and the
case is left as it was.
"""

import datetime as dt

import pytest
import time_machine

from fpr.roles import Level, Role
from monitoring.models import Stage
from tests.builders import make_user
from workflow.services import WORKFLOWS, TransitionForbidden, authorise, case_transition

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing; make_monitored needs late November

VILLAGE = (Role.VILLAGE_CADRE, Level.VILLAGE)
TOWNSHIP = (Role.TOWNSHIP_REVIEWER, Level.TOWNSHIP)
COUNTY = (Role.COUNTY_REVIEWER, Level.COUNTY)

# transition → (the one role that may fire it, the division level it must be held at).
MAY_FIRE = {
    # 识别程序 (workflow/identification.py)
    "submit_application": VILLAGE,
    "complete_verification": VILLAGE,
    "start_notice": VILLAGE,
    "appraisal_reject": VILLAGE,
    "submit_to_township": VILLAGE,
    "objection_return": VILLAGE,
    "township_approve": TOWNSHIP,
    "township_return": TOWNSHIP,
    "township_verification_return": TOWNSHIP,
    "township_appraisal_return": TOWNSHIP,
    "submit_supplement": VILLAGE,
    "township_reject": TOWNSHIP,
    "county_approve": COUNTY,
    "county_return": COUNTY,
    "county_reject": COUNTY,
    # 风险消除程序 (workflow/elimination.py)
    "propose_elimination": VILLAGE,
    "complete_elim_verification": VILLAGE,
    "start_elim_notice": VILLAGE,
    "elim_appraisal_reject": VILLAGE,
    "submit_elim_to_township": VILLAGE,
    "elim_objection_return": VILLAGE,
    "township_approve_elim": TOWNSHIP,
    "township_return_elim": TOWNSHIP,
    "county_approve_elim": COUNTY,
    "county_return_elim": COUNTY,
    "county_refuse_elim": COUNTY,
    "reopen": VILLAGE,
}

# persona (a fixture) → (its role, whether its division contains case A's village 光明村).
PERSONAS = {
    "cadre_a": (Role.VILLAGE_CADRE, True),
    "cadre_b": (Role.VILLAGE_CADRE, False),  # 红岩村, the neighbouring village
    "township_reviewer": (Role.TOWNSHIP_REVIEWER, True),
    "township_b": (Role.TOWNSHIP_REVIEWER, False),  # 黄泥塘镇, the other township
    "county_reviewer": (Role.COUNTY_REVIEWER, True),
    "administrator": (Role.ADMINISTRATOR, True),
    "department_officer": (Role.DEPARTMENT_OFFICER, True),
}

ROWS = [(workflow, transition) for workflow in WORKFLOWS for transition in workflow.transitions]

# Every input any transition asks for, so a refusal is never about a missing input.
ALL_INPUTS = {"opinion": "x", "comparison": "x", "starts_on": dt.date(2026, 11, 14), "place": "x"}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def township_b(divisions):
    return make_user("township_b", divisions["520521101000"], Role.TOWNSHIP_REVIEWER, full_name="冯审核")


def _fire(case, transition, user, **inputs):
    case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)
    case.refresh_from_db()
    return case


def _elimination_steps(walker):
    """The elimination path as in tests/test_elimination.py, from a monitoring object to each stage."""

    def to_elim_verification(case):
        return _fire(case, "propose_elimination", walker.cadre, opinion="收入稳定，措施见效")

    def to_elim_appraisal(case):
        to_elim_verification(case)
        walker.record_verification(case, day=dt.date(2026, 11, 11))
        return _fire(case, "complete_elim_verification", walker.cadre)

    def to_elim_notice(case):
        to_elim_appraisal(case)
        walker.record_appraisal(case, day=dt.date(2026, 11, 12))
        return _fire(case, "start_elim_notice", walker.cadre, starts_on=dt.date(2026, 11, 13), place="村务公开栏")

    def to_elim_township(case):
        to_elim_notice(case)
        return _fire(case, "submit_elim_to_township", walker.cadre)

    def to_elim_county(case):
        to_elim_township(case)
        return _fire(case, "township_approve_elim", walker.township, opinion="同意")

    def to_eliminated(case):
        to_elim_county(case)
        return _fire(case, "county_approve_elim", walker.county, opinion="同意", comparison="部门比对无新增风险")

    return {
        Stage.ELIM_VERIFICATION: to_elim_verification,
        Stage.ELIM_APPRAISAL: to_elim_appraisal,
        Stage.ELIM_NOTICE: to_elim_notice,
        Stage.ELIM_TOWNSHIP: to_elim_township,
        Stage.ELIM_COUNTY: to_elim_county,
        Stage.ELIMINATED: to_eliminated,
    }


def _reach(stage, case, walker, make_monitored):
    """Case A carried to `stage` the way the users do."""
    identification = {
        Stage.APPLICATION: lambda c: c,
        Stage.VERIFICATION: walker.to_verification,
        Stage.APPRAISAL: walker.to_appraisal,
        Stage.NOTICE: walker.to_notice,
        Stage.TOWNSHIP_REVIEW: walker.to_township,
        Stage.SUPPLEMENT: lambda c: walker.fire(
            walker.to_township(c), "township_return", walker.township, opinion="补充"
        ),
        Stage.COUNTY_APPROVAL: walker.to_county,
        Stage.MONITORING: make_monitored,
    }
    if stage in identification:
        return identification[stage](case)
    return _elimination_steps(walker)[stage](make_monitored(case))


def test_every_transition_of_both_tables_says_who_may_fire_it():
    names = [transition.name for _, transition in ROWS]
    assert len(names) == len(set(names)), "a transition name is in both tables"
    assert {w.name for w in WORKFLOWS} == {"identification", "elimination"}
    assert sorted(set(names) - set(MAY_FIRE)) == [], "transitions without a row in MAY_FIRE"
    assert sorted(set(MAY_FIRE) - set(names)) == [], "rows of MAY_FIRE no table has"


def test_every_role_has_a_persona_in_the_matrix():
    assert {role for role, _ in PERSONAS.values()} == set(Role)


@pytest.mark.parametrize(("workflow", "spec"), ROWS, ids=[f"{w.name}.{t.name}" for w, t in ROWS])
def test_only_the_right_role_in_the_right_place_may_fire(request, workflow, spec, case_a, walker, make_monitored):
    if spec.name not in MAY_FIRE:
        pytest.fail(f"{workflow.name}.{spec.name}: say in MAY_FIRE who may fire it")
    role, level = MAY_FIRE[spec.name]
    assert (spec.roles, spec.level) == (frozenset({role}), level), f"{spec.name}: the table says otherwise"

    case = _reach(spec.sources[0], case_a, walker, make_monitored)
    assert case.stage == spec.sources[0]
    before = case.events.count()
    wrong = []
    for persona, (persona_role, in_scope) in PERSONAS.items():
        user = request.getfixturevalue(persona)
        if persona_role == role and in_scope:
            if (denied := authorise(spec, case, user)) is not None:
                wrong.append(f"{persona} may fire it but was refused: {denied}")
            continue
        try:
            _fire(case, spec.name, user, **ALL_INPUTS)
        except TransitionForbidden as refused:  # a ForbiddenError: the API's 403, the page's refusal
            reasons = "；".join(refused.reasons)
            if not any(word in reasons for word in ("您的角色不能办理", "不在您的管辖范围内", "级用户办理")):
                wrong.append(f"{persona} refused, but not for permission: {reasons}")
        except Exception as other:  # any other outcome is a wrong cell of the matrix
            wrong.append(f"{persona} got {type(other).__name__} instead of the 403: {other}")
        else:
            wrong.append(f"{persona} fired it")
        case.refresh_from_db()
        if case.stage != spec.sources[0] or case.events.count() != before:
            wrong.append(f"{persona}'s refused attempt changed the case")
    assert wrong == [], f"{workflow.name}.{spec.name}"
