"""Demo cases (workflow.demo.seed_demo_cases): every stage of both procedures has a case for the demo
users, built through the real services, and the elimination examples pass or fail for the reasons
the demo means to show. One county is seeded for the whole module and rolled back at its end."""

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from assistance.models import AssistancePlan, Measure, Visit
from assistance.rules import APPROVAL, PROPOSAL, elimination_check
from fpr import clock
from fpr.periods import Period
from households.models import Health, User
from households.seeding import seed_county
from monitoring.models import MonitoringCase, ObjectionStatus, RiskWarning, Stage, WarningStatus
from reports.statistics.figures import monthly_trend, statistics
from tests.builders import restore_reference_data
from workflow.demo import SECOND_CADRE, seed_demo_cases
from workflow.demo.warnings import seed_demo_warnings
from workflow.selectors import case_queue
from workflow.services import TransitionRefused, case_bulk_transition, case_transition

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
TODAY = dt.date(2026, 11, 23)
HOUSEHOLDS, SEED = 300, 2026

SHOWN_STAGES = {
    Stage.APPLICATION,
    Stage.VERIFICATION,
    Stage.APPRAISAL,
    Stage.NOTICE,
    Stage.TOWNSHIP_REVIEW,
    Stage.SUPPLEMENT,
    Stage.COUNTY_APPROVAL,
    Stage.MONITORING,
    Stage.REJECTED,
    Stage.ELIM_VERIFICATION,
    Stage.ELIM_APPRAISAL,
    Stage.ELIM_NOTICE,
    Stage.ELIM_TOWNSHIP,
    Stage.ELIM_COUNTY,
    Stage.ELIMINATED,
}


def seed(seed: int = SEED, **options) -> dict[str, int]:
    seed_county(households=HOUSEHOLDS, seed=seed, current_year=2026, with_users=True, **options)
    return seed_demo_cases(seed=seed, today=clock.today())


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seeding takes seconds, so the module shares one county; each test runs in its own savepoint."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        time_machine.travel(NOW, tick=False),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        restore_reference_data()
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def users(demo, db):
    return {u.username: u for u in User.objects.all()}


def snapshot() -> list[tuple]:
    return list(MonitoringCase.objects.order_by("household__number").values_list("household__number", "stage"))


def monitored() -> list[MonitoringCase]:
    return list(MonitoringCase.objects.filter(stage=Stage.MONITORING).select_related("household"))


def failing_rules(case, moment=PROPOSAL) -> dict[str, list[str]]:
    return {r.code: r.findings for r in elimination_check(case, moment=moment).failures}


def test_every_queue_of_the_demo_users_has_cases(users):
    for username in ("cunganbu", "zhenjie", "xianji"):
        assert case_queue(user=users[username]).exists(), username
    township_queue = case_queue(user=users["zhenjie"])
    assert {Stage.TOWNSHIP_REVIEW, Stage.ELIM_TOWNSHIP} <= set(township_queue.values_list("stage", flat=True))
    assert len(set(township_queue.values_list("village_id", flat=True))) == 2
    assert case_queue(user=users[SECOND_CADRE[0]]).exists()


def test_every_stage_of_both_procedures_has_a_case(demo, db):
    assert set(demo) == SHOWN_STAGES
    assert 40 <= sum(demo.values()) <= 60
    stages = MonitoringCase.objects.values_list("stage", flat=True)
    assert set(stages) == SHOWN_STAGES and len(stages) == sum(demo.values())
    assert demo[Stage.TOWNSHIP_REVIEW] >= 3 and demo[Stage.COUNTY_APPROVAL] >= 3


def test_an_application_without_the_scan_is_refused(users):
    drafts = MonitoringCase.objects.filter(stage=Stage.APPLICATION, village=users["cunganbu"].division)
    unsigned = drafts.get(authorization_scan="")
    with pytest.raises(TransitionRefused, match="扫描件"):
        case_transition(user=users["cunganbu"], case_id=unsigned.pk, transition="submit_application")


def test_a_case_returned_for_materials_goes_straight_back_to_the_township(users):
    cadre = users["cunganbu"]
    supplement = MonitoringCase.objects.get(stage=Stage.SUPPLEMENT, village=cadre.division)
    assert supplement.last_transition == "township_return" and supplement.returned
    case_transition(user=cadre, case_id=supplement.pk, transition="submit_supplement", inputs={"opinion": "已补充"})
    supplement.refresh_from_db()
    assert supplement.stage == Stage.TOWNSHIP_REVIEW
    verification = MonitoringCase.objects.filter(stage=Stage.VERIFICATION, village=cadre.division)
    assert verification.filter(last_transition="township_verification_return").exists()  # to be verified again


def test_notices_running_due_and_objected(users):
    cadre = users["cunganbu"]
    notices = {
        case: case.notices.get()
        for case in MonitoringCase.objects.filter(stage=Stage.NOTICE, village=cadre.division).prefetch_related(
            "notices"
        )
    }
    running = next(case for case, notice in notices.items() if notice.starts_on == TODAY - dt.timedelta(days=3))
    with pytest.raises(TransitionRefused, match="还需等待4天"):
        case_transition(user=cadre, case_id=running.pk, transition="submit_to_township")
    objected = next(case for case, n in notices.items() if n.objections.filter(status=ObjectionStatus.PENDING))
    with pytest.raises(TransitionRefused, match="1条异议尚未处理"):
        case_transition(user=cadre, case_id=objected.pk, transition="submit_to_township")
    due = next(case for case, n in notices.items() if n.starts_on <= TODAY - dt.timedelta(days=7))
    case_transition(user=cadre, case_id=due.pk, transition="submit_to_township")


def test_township_review_has_a_case_returned_before(demo, db):
    again = MonitoringCase.objects.filter(
        stage=Stage.TOWNSHIP_REVIEW, events__transition="township_verification_return"
    )
    assert again.count() == 1


def test_cases_meeting_the_standard_can_be_proposed_for_elimination(users):
    eligible = [case for case in monitored() if elimination_check(case, moment=PROPOSAL).passed]
    assert len(eligible) >= 2
    case = eligible[0]
    cadre = users["cunganbu"] if case.village_id == users["cunganbu"].division_id else users[SECOND_CADRE[0]]
    case_transition(user=cadre, case_id=case.pk, transition="propose_elimination", inputs={"opinion": "拟消除"})


def test_the_seriously_ill_case_is_refused_elimination(demo, db):
    ill = next(case for case in monitored() if case.household.members.filter(illness="尿毒症").exists())
    hardship = failing_rules(ill)["hardship"]
    assert len(hardship) == 1 and "患大病（尿毒症）" in hardship[0]


def test_the_case_without_a_measure_fails_the_measures_rule(demo, db):
    plans = AssistancePlan.objects.filter(case__stage=Stage.MONITORING)
    without = next(plan.case for plan in plans if not plan.measures.exists())
    assert set(failing_rules(without)) >= {"measures", "plan"}


def test_the_household_without_labour_keeps_being_monitored(demo, db):
    checks = [elimination_check(case, moment=PROPOSAL) for case in monitored()]
    assert any(check.whole_household_without_labour for check in checks)


def test_county_approval_refuses_the_case_whose_member_fell_ill(users):
    at_county = MonitoringCase.objects.filter(stage=Stage.ELIM_COUNTY).order_by("pk")
    result = case_bulk_transition(
        user=users["xianji"],
        case_ids=list(at_county.values_list("pk", flat=True)),
        transition="county_approve_elim",
        inputs={"opinion": "同意", "comparison": "部门比对无新增风险"},
    )
    assert result["succeeded"] == 1
    [failure] = result["failures"]
    assert any("患大病（肺癌）" in reason for reason in failure["reasons"])
    ill = MonitoringCase.objects.get(pk=failure["case"])
    assert ill.household.members.filter(health=Health.SERIOUS).exists()
    assert "hardship" in failing_rules(ill, moment=APPROVAL)


def test_the_eliminated_cases_went_through_the_whole_procedure(demo, db):
    eliminated = list(MonitoringCase.objects.filter(stage=Stage.ELIMINATED))
    assert len(eliminated) >= 5
    for case in eliminated:
        # Monitored for months before the elimination, which happened in the past (#13 point 23).
        assert case.identified_on + dt.timedelta(days=90) < case.eliminated_on <= TODAY
        assessment = case.events.get(transition="county_approve_elim").data["assessment"]
        assert all(row["passed"] for row in assessment)
        assert Measure.objects.filter(plan__case=case).exists()
    rejected = MonitoringCase.objects.get(stage=Stage.REJECTED)
    assert not rejected.is_open and rejected.close_reason


# ---- #13 point 23: a year of history, each step on its own day


def test_a_year_of_cases_fills_the_12_month_trend(users):
    trend = monthly_trend(user=users["xianji"], division=users["xianji"].division, last=Period.month_of(TODAY))
    assert len(trend) == 12
    assert sum(1 for point in trend if point.new) >= 9
    assert sum(1 for point in trend if point.eliminated) >= 5
    assert sum(point.new for point in trend) >= 20


def test_every_case_has_its_steps_in_order_and_in_the_past(demo, db):
    now = clock.now()
    for case in MonitoringCase.objects.prefetch_related("events"):
        moments = [case.created_at, *(event.at for event in sorted(case.events.all(), key=lambda e: e.pk))]
        assert moments == sorted(moments), case.pk
        assert moments[-1] <= now and abs(case.stage_entered_at - moments[-1]) < dt.timedelta(seconds=1)
        history = list(case.history.order_by("history_id").values_list("history_date", flat=True))
        assert history == sorted(history) and history[0] < now - dt.timedelta(days=4)


def test_queues_show_cases_waiting_for_days_and_stages_take_days(users):
    waits = {
        (TODAY - case.stage_entered_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()).days
        for case in MonitoringCase.objects.filter(stage__in=[Stage.TOWNSHIP_REVIEW, Stage.COUNTY_APPROVAL])
    }
    assert len(waits) >= 3 and max(waits) >= 5
    figures = statistics(user=users["xianji"], division=users["xianji"].division, period=Period.month_of(TODAY))
    medians = [days for days in figures.stage_days.values() if days is not None]
    assert len(medians) >= 3 and max(medians) >= 3  # 中位天数, not all zero


def test_some_notices_are_overdue_and_visits_go_back_months(demo, db):
    overdue = [
        case
        for case in MonitoringCase.objects.filter(stage=Stage.NOTICE).prefetch_related("notices")
        if case.notices.get().starts_on + dt.timedelta(days=8) < TODAY  # 公示期满未推进
    ]
    assert overdue
    months = {(v.year, v.month) for v in Visit.objects.values_list("visited_on", flat=True)}
    assert len(months) >= 10


def test_demo_warnings_are_raised_days_ago_some_overdue_some_handled(users):
    cadre = users["cunganbu"]
    seed_demo_warnings(seed=SEED, administrator=users["guanli"], first_village=cadre.division)
    warnings = RiskWarning.objects.all()
    now = clock.now()
    open_ = warnings.filter(status=WarningStatus.OPEN)
    assert open_.filter(due_at__lt=now).count() >= 3  # 已超时
    assert open_.filter(due_at__gt=now).exists()  # 医保's list of this morning: still in time
    assert warnings.filter(status=WarningStatus.EXCLUDED, handled_by=cadre).count() == 1
    contacted = open_.get(contacts__isnull=False)
    assert contacted.raised_at < contacted.contacts.get().contacted_at < now
    assert all(w.raised_at < now - dt.timedelta(days=2) for w in warnings.filter(department="civil_affairs"))


def test_same_seed_gives_the_same_households_in_the_same_stages(demo, db):
    first = snapshot()
    assert seed(reset=True) == demo
    assert snapshot() == first


def test_seed_demo_prints_cases_per_stage(demo, db, capsys):
    call_command("seed_demo", households=HOUSEHOLDS, seed=5, year=2026, with_users=True, reset=True)
    out = capsys.readouterr().out
    assert "演示案件" in out and "风险消除·县级审定：2 件" in out and SECOND_CADRE[0] in out
    with pytest.raises(CommandError, match="--with-users"):
        call_command("seed_demo", households=HOUSEHOLDS, seed=5, year=2026, with_users=False, with_cases=True)


def test_seed_demo_without_cases_then_if_empty_adds_them_once(demo, db, capsys):
    call_command("seed_demo", households=HOUSEHOLDS, seed=5, year=2026, with_users=True, with_cases=False, reset=True)
    assert not MonitoringCase.objects.exists()
    assert "演示案件" not in capsys.readouterr().out
    # scripts/demo on a demo database seeded before there were demo cases: they are added once.
    call_command("seed_demo", households=HOUSEHOLDS, seed=5, with_users=True, if_empty=True)
    assert "演示案件" in capsys.readouterr().out
    count = MonitoringCase.objects.count()
    call_command("seed_demo", households=HOUSEHOLDS, seed=5, with_users=True, if_empty=True)
    assert "演示案件" not in capsys.readouterr().out
    assert MonitoringCase.objects.count() == count


def test_seed_demo_skips_cases_in_a_county_too_small_unless_asked(demo, db, capsys):
    call_command("seed_demo", households=40, seed=5, year=2026, with_users=True, reset=True)
    assert "未生成演示案件" in capsys.readouterr().err
    assert not MonitoringCase.objects.exists()
    with pytest.raises(CommandError, match="农户不足"):
        call_command("seed_demo", households=40, seed=5, year=2026, with_users=True, with_cases=True, reset=True)
