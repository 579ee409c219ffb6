"""Scheduled jobs (SPEC §6): each job's findings on hand-built data, the lock (two starts at once, a held
lock, a dead run's lock taken over), idempotency, the command, the admin's run page, and the to-do page
with its jurisdiction and query count. Data is built through the real services and the real upload."""

import datetime as dt
import io
import queue
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from assistance.models import AssistancePlan, Effect, MeasureStatus
from assistance.rules import PROPOSAL, elimination_check, evaluate, load_facts_many
from assistance.services import measure_add
from households.models import IncomeKind, Member, Relationship
from households.services import account_items_set, household_update
from monitoring.jobs import runner as jobs
from monitoring.models import (
    JobRun,
    JobStatus,
    MonitoringCase,
    RegionalAlert,
    RiskWarning,
    TodoItem,
    TodoKind,
    UploadStatus,
    WarningStatus,
)
from monitoring.screening.warning_services import warning_exclude
from tests.builders import member_data
from workflow.services import case_transition

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
VILLAGE_A = "520521100001"
TOWNSHIP = "520521100000"
COUNTY = "520521000000"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


def run(job):
    result = jobs.job_run(job=job, triggered_by="测试")
    assert result.status == JobStatus.SUCCEEDED, result.errors
    return result


def open_items(kind):
    return {item.key: item for item in TodoItem.objects.filter(kind=kind, resolved_at__isnull=True)}


def fire(case, transition, user, **inputs):
    case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)
    case.refresh_from_db()
    return case


def eliminate(case, walker):
    fire(case, "propose_elimination", walker.cadre, opinion="收入稳定，措施见效")
    walker.record_verification(case, day=dt.date(2026, 11, 11))
    fire(case, "complete_elim_verification", walker.cadre)
    walker.record_appraisal(case, day=dt.date(2026, 11, 12))
    fire(case, "start_elim_notice", walker.cadre, starts_on=dt.date(2026, 11, 13), place="村务公开栏")
    fire(case, "submit_elim_to_township", walker.cadre)
    fire(case, "township_approve_elim", walker.township, opinion="同意")
    return fire(case, "county_approve_elim", walker.county, opinion="同意消除", comparison="部门比对无新增风险")


def head(household):
    return household.members.get(relationship=Relationship.HEAD)


def medical_row(member, amount="30000"):
    return {"身份证号": member.id_number, "姓名": member.name, "个人自付金额": amount}


@pytest.fixture
def second_household(make_household, cadre_a, village_a):
    return make_household(user=cadre_a, village=village_a, address="光明村三组8号", members=[member_data("刘五")])


# --------------------------------------------------------------------------- the monthly elimination review


def test_review_proposes_a_case_that_meets_the_standard(monitored):
    result = run("elimination_review")
    item = open_items(TodoKind.ELIMINATION_PROPOSAL)[f"case:{monitored.pk}"]
    assert (
        item.division_id == VILLAGE_A and item.case_id == monitored.pk and item.household_id == monitored.household_id
    )
    assert item.detail == "风险消除条件（“七个不消”及风险消除标准、帮扶措施录入）均已符合，可按程序提出风险消除名单。"
    assert not open_items(TodoKind.INTENSIFY)
    assert result.counts["elimination_proposal"] == 1 and result.counts["cases_reviewed"] == 1


def test_review_reminds_the_village_to_visit_before_proposing(monitored, _clock):
    _clock.move_to(dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC))  # no visit yet in December
    run("elimination_review")
    detail = open_items(TodoKind.ELIMINATION_PROPOSAL)[f"case:{monitored.pk}"].detail
    assert detail.endswith("本月（2026年12月）尚未走访，提出前须入户走访（一看）。")


def walk_to_monitoring_in_july(walker, case, _clock):
    """Identification done in July: identified_on 2026-07-10, four months before TODAY."""
    _clock.move_to(dt.datetime(2026, 7, 2, 2, 0, tzinfo=dt.UTC))
    walker.to_verification(case)
    walker.record_verification(case, day=dt.date(2026, 7, 1))
    fire(case, "complete_verification", walker.cadre)
    walker.record_appraisal(case, day=dt.date(2026, 7, 1))
    fire(case, "start_notice", walker.cadre, starts_on=dt.date(2026, 7, 2), place="村务公开栏")
    _clock.move_to(dt.datetime(2026, 7, 10, 2, 0, tzinfo=dt.UTC))
    fire(case, "submit_to_township", walker.cadre)
    fire(case, "township_approve", walker.township, opinion="同意")
    fire(case, "county_approve", walker.county, opinion="同意", comparison="无")
    _clock.move_to(TODAY)
    return case


def test_review_flags_cases_over_three_months_without_elimination(
    case_a, walker, open_case, second_household, cadre_a, _clock
):
    old = walk_to_monitoring_in_july(walker, case_a, _clock)
    recent = walker.to_monitoring(open_case(user=cadre_a, household=second_household))
    assert old.identified_on == dt.date(2026, 7, 10) and recent.identified_on == dt.date(2026, 11, 23)
    run("elimination_review")
    items = open_items(TodoKind.INTENSIFY)
    assert set(items) == {f"case:{old.pk}"}  # the recent one has had less than three months
    detail = items[f"case:{old.pk}"].detail
    assert detail.startswith("2026-07-10纳入监测，帮扶超过3个月仍未达到消除标准，以下条件不符合：")
    assert "已制定并实施“一户一策”帮扶计划；" in detail
    assert "程序" not in detail  # the procedure is the village's next step, not a shortfall
    assert not open_items(TodoKind.ELIMINATION_PROPOSAL)


def test_eliminated_case_with_a_new_warning_is_flagged_and_cleared_by_reopening(
    monitored, walker, department_upload, _clock
):
    case = eliminate(monitored, walker)
    department_upload([medical_row(head(case.household))], period="2026-11")  # the day of elimination
    run("elimination_review")
    assert not open_items(TodoKind.REOPEN)

    _clock.move_to(dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC))
    department_upload([medical_row(head(case.household), amount="60000")], period="2026-12")
    run("elimination_review")
    item = open_items(TodoKind.REOPEN)[f"case:{case.pk}"]
    assert item.detail == "2026-11-23风险消除后出现1条新的预警线索，请研判是否存在返贫致贫风险，需要时重新纳入监测。"

    fire(case, "reopen", walker.cadre, opinion="户主大额医疗自付")
    result = run("elimination_review")
    assert not open_items(TodoKind.REOPEN)
    assert TodoItem.objects.get(kind=TodoKind.REOPEN).resolved_at is not None
    assert result.counts["reopen.resolved"] == 1


def test_batched_facts_give_the_same_verdict_as_the_single_check(monitored, cadre_a):
    household_update(user=cadre_a, household=monitored.household, data={"housing_safety": "d"})
    other = MonitoringCase.objects.get(pk=monitored.pk)
    facts = load_facts_many([other], today=dt.date(2026, 11, 23))
    batched = evaluate(facts[other.pk])
    single = elimination_check(other, moment=PROPOSAL)
    assert [(r.code, r.findings) for r in batched.results] == [(r.code, r.findings) for r in single.results]
    assert not batched.passed


# --------------------------------------------------------------------------- the daily overdue scan


def test_warning_not_verified_within_48_hours_is_listed_until_handled(household_a, cadre_a, department_upload, _clock):
    department_upload([medical_row(head(household_a))])
    warning = RiskWarning.objects.get()
    _clock.move_to(dt.datetime(2026, 11, 25, 1, 59, tzinfo=dt.UTC))  # 47 h 59 min
    run("overdue_scan")
    assert not open_items(TodoKind.WARNING_OVERDUE)

    _clock.move_to(dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC))
    run("overdue_scan")
    item = open_items(TodoKind.WARNING_OVERDUE)[f"warning:{warning.pk}"]
    assert item.division_id == VILLAGE_A and item.household_id == household_a.pk
    assert item.detail == "大额医疗费用个人自付（2026-11）预警线索，核实时限2026-11-25 10:00，已超过48小时未核实。"

    warning_exclude(user=cadre_a, warning=warning, reason="已入户核实，医保报销后自付不高，无返贫风险。")
    result = run("overdue_scan")
    assert not open_items(TodoKind.WARNING_OVERDUE)
    assert result.counts["warning_overdue.resolved"] == 1


def test_notice_past_its_seven_days_and_not_advanced_is_listed(
    case_a, walker, open_case, second_household, cadre_a, _clock
):
    _clock.move_to(dt.datetime(2026, 11, 4, 2, 0, tzinfo=dt.UTC))
    late = walker.to_notice(case_a, starts_on=dt.date(2026, 11, 4))  # may go up from 11-11
    _clock.move_to(dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC))
    in_time = walker.to_notice(open_case(user=cadre_a, household=second_household), starts_on=dt.date(2026, 11, 16))
    _clock.move_to(TODAY)  # in_time may go up today, 11-23: not overdue yet
    run("overdue_scan")
    items = open_items(TodoKind.NOTICE_OVERDUE)
    assert set(items) == {f"case:{late.pk}"}
    assert items[f"case:{late.pk}"].detail == "公示自2026-11-04开始，2026-11-11起可报送镇街审核，至今未推进。"

    _clock.move_to(dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC))
    fire(late, "submit_to_township", walker.cadre)
    run("overdue_scan")
    assert set(open_items(TodoKind.NOTICE_OVERDUE)) == {f"case:{in_time.pk}"}


# --------------------------------------------------------------------------- the weekly data-quality checks


def test_data_quality_finds_eliminated_cases_without_measures_or_with_guarantees_unmet(monitored, walker, cadre_a):
    case = eliminate(monitored, walker)
    run("data_quality")
    assert not open_items(TodoKind.ELIMINATED_WITHOUT_MEASURES)
    assert not open_items(TodoKind.ELIMINATED_GUARANTEES_UNMET)

    household_update(user=cadre_a, household=case.household, data={"housing_safety": "d", "water_quality_ok": False})
    # Data from before the rules (or a deleted plan): what the check exists to catch.
    AssistancePlan.objects.get(case=case).measures.all().delete()
    run("data_quality")
    assert open_items(TodoKind.ELIMINATED_WITHOUT_MEASURES)[f"case:{case.pk}"].detail == (
        "2026-11-23已风险消除，但没有录入任何帮扶措施（逻辑错误）。"
    )
    assert open_items(TodoKind.ELIMINATED_GUARANTEES_UNMET)[f"case:{case.pk}"].detail == (
        "已风险消除，但“两不愁三保障”及饮水安全未达标：住房安全有保障、饮水安全有保障。"
    )


def test_data_quality_finds_missing_income_and_invalid_id_numbers(case_a, household_a, household_b, cadre_a):
    run("data_quality")
    assert not open_items(TodoKind.INCOME_MISSING) and not open_items(TodoKind.INVALID_ID)

    account_items_set(user=cadre_a, household=household_a, year=2026, incomes={IncomeKind.WAGE: None})
    member = head(household_b)
    # An ID imported before the GB 11643 check existed: the service would refuse it.
    Member.objects.filter(pk=member.pk).update(
        id_number=member.id_number[:17] + ("0" if member.id_number[17] != "0" else "1")
    )
    run("data_quality")
    income = open_items(TodoKind.INCOME_MISSING)[f"household:{household_a.pk}"]
    assert income.case_id == case_a.pk and income.detail == f"{household_a.number}户尚未核算2026年家庭收入（算账）。"
    invalid = open_items(TodoKind.INVALID_ID)[f"member:{member.pk}"]
    assert invalid.division_id == "520521100002" and invalid.household_id == household_b.pk
    assert invalid.detail.endswith("无效：身份证号码校验位错误，请核对后重新输入。")


def test_data_quality_finds_risk_categories_without_a_measure(case_a, make_monitored, cadre_a):
    case = make_monitored(case_a)
    case.risk_categories.add("schooling", "housing")
    run("data_quality")
    item = open_items(TodoKind.RISK_WITHOUT_MEASURE)[f"case:{case.pk}"]
    assert item.detail == "风险类型“因学、住房安全”还没有对应的帮扶措施（缺什么补什么）。"

    plan = AssistancePlan.objects.get(case=case)
    for risk, category in (("schooling", "education"), ("housing", "housing")):
        measure_add(
            user=cadre_a,
            plan=plan,
            category=category,
            risk_category=risk,
            description="补齐措施",
            amount=Decimal("0"),
            starts_on=dt.date(2026, 11, 20),
            status=MeasureStatus.ACTIVE,
            effect=Effect.FAIR,
        )
    run("data_quality")
    assert not open_items(TodoKind.RISK_WITHOUT_MEASURE)


# --------------------------------------------------------------------------- the regional alert


@pytest.fixture
def alert_settings(settings):
    settings.FPR_REGIONAL_ALERT_MULTIPLE = 2.0
    settings.FPR_REGIONAL_ALERT_MIN_COUNT = 4
    settings.FPR_REGIONAL_ALERT_BASELINE_PERIODS = 3
    return settings


@pytest.fixture
def people(make_household, cadre_a, village_a, village_c):
    """Five single-member households in village A (羊场镇) and one in village C (黄泥塘镇)."""
    from fpr.roles import Role
    from tests.builders import make_user

    cadre_c = make_user("cadre_c", village_c, Role.VILLAGE_CADRE)
    in_a = [
        head(make_household(user=cadre_a, village=village_a, address=f"光明村{i}组", members=[member_data(f"甲{i}")]))
        for i in range(5)
    ]
    in_c = head(make_household(user=cadre_c, village=village_c, address="新华村一组", members=[member_data("丙")]))
    return in_a, in_c


def test_regional_alert_when_new_warnings_exceed_the_usual_level(alert_settings, people, department_upload):
    in_a, in_c = people
    department_upload([medical_row(m) for m in in_a[:2]], period="2026-09")  # the usual level: 2 a month
    department_upload([medical_row(m) for m in in_a] + [medical_row(in_c)], period="2026-11")
    result = run("regional_alert")
    alerts = {(a.division_id, a.period, a.kind): a for a in RegionalAlert.objects.all()}
    # Township 羊场镇: 5 > 2 × 2; county: 6 > 2 × 2. 黄泥塘镇 has 1 (below the minimum); 2026-09 has 2.
    assert set(alerts) == {
        (TOWNSHIP, "2026-11", ""),
        (TOWNSHIP, "2026-11", "medical_cost"),
        (COUNTY, "2026-11", ""),
        (COUNTY, "2026-11", "medical_cost"),
    }
    township = alerts[(TOWNSHIP, "2026-11", "")]
    assert (township.count, township.baseline, township.multiple) == (5, 2.0, 2.5)
    county = alerts[(COUNTY, "2026-11", "")]
    assert (county.count, county.baseline, county.multiple) == (6, 2.0, 3.0)
    assert result.counts == {"periods": 2, "alerts": 4}


def test_no_regional_alert_within_the_multiple_or_without_history(alert_settings, people, department_upload):
    in_a, _ = people
    department_upload([medical_row(m) for m in in_a], period="2026-11")
    run("regional_alert")
    assert not RegionalAlert.objects.exists()  # no earlier period with data: nothing to compare with

    department_upload([medical_row(m) for m in in_a[:3]], period="2026-10")
    run("regional_alert")
    assert not RegionalAlert.objects.exists()  # 5 is not more than 2 × 3


# --------------------------------------------------------------------------- the lock, failures, idempotency


def test_a_running_run_holds_the_lock_and_a_second_start_is_skipped(divisions):
    holder = JobRun.objects.create(job="overdue_scan", status=JobStatus.RUNNING, started_at=TODAY)
    skipped = jobs.job_run(job="overdue_scan", triggered_by="测试")
    assert skipped.status == JobStatus.SKIPPED and skipped.finished_at == TODAY
    assert "同一任务正在运行（开始于 2026-11-23 10:00:00）" in skipped.errors
    holder.refresh_from_db()
    assert holder.status == JobStatus.RUNNING
    assert run("data_quality").status == JobStatus.SUCCEEDED  # the lock is per job


def test_a_dead_runs_lock_is_taken_over_after_the_limit(divisions, settings):
    settings.FPR_JOB_LOCK_MINUTES = 120
    dead = JobRun.objects.create(
        job="overdue_scan", status=JobStatus.RUNNING, started_at=TODAY - dt.timedelta(minutes=121)
    )
    taken_over = run("overdue_scan")
    dead.refresh_from_db()
    assert dead.status == JobStatus.ABANDONED and dead.finished_at == TODAY and "120分钟" in dead.errors
    assert taken_over.status == JobStatus.SUCCEEDED


def test_a_failing_job_is_recorded_and_releases_the_lock(divisions, monkeypatch):
    def broken(run):
        raise RuntimeError("数据库连接中断")

    monkeypatch.setitem(jobs.JOBS, "overdue_scan", jobs.Job("overdue_scan", "逾期扫描", "每日", broken))
    failed = jobs.job_run(job="overdue_scan")
    assert failed.status == JobStatus.FAILED and "RuntimeError: 数据库连接中断" in failed.errors
    assert failed.finished_at is not None
    monkeypatch.undo()
    assert run("overdue_scan").status == JobStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_run_once_and_skip_once(monkeypatch):
    """Two threads, two database connections, one job: the first holds the lock until released; the
    other must come back skipped meanwhile."""
    entered, release, finished = threading.Event(), threading.Event(), queue.Queue()
    real = jobs.JOBS["overdue_scan"]

    def slow(run):
        entered.set()
        assert release.wait(30)
        return real.function(run)

    monkeypatch.setitem(jobs.JOBS, "overdue_scan", jobs.Job("overdue_scan", real.label, real.cadence, slow))
    start = threading.Barrier(2)

    def start_job():
        try:
            start.wait(10)
            finished.put(jobs.job_run(job="overdue_scan", triggered_by=threading.current_thread().name))
        finally:
            connection.close()

    threads = [threading.Thread(target=start_job, name=f"线程{i}") for i in (1, 2)]
    for thread in threads:
        thread.start()
    first = finished.get(timeout=30)  # the one that did not get the lock returns at once
    assert first.status == JobStatus.SKIPPED
    assert entered.is_set()
    release.set()
    second = finished.get(timeout=30)
    for thread in threads:
        thread.join(10)
    assert second.status == JobStatus.SUCCEEDED
    assert sorted(JobRun.objects.values_list("status", flat=True)) == [JobStatus.SKIPPED, JobStatus.SUCCEEDED]


def snapshot():
    todos = sorted(
        TodoItem.objects.values_list(
            "kind", "key", "division_id", "household_id", "case_id", "detail", "opened_at", "resolved_at"
        )
    )
    alerts = sorted(
        RegionalAlert.objects.values_list("division_id", "period", "kind", "count", "baseline", "multiple", "raised_at")
    )
    return todos, alerts


def test_running_every_job_twice_changes_nothing(
    monitored, walker, case_a, household_b, department_upload, alert_settings, people, _clock
):
    in_a, _ = people
    department_upload([medical_row(m) for m in in_a[:2]], period="2026-09")
    department_upload([medical_row(m) for m in in_a], period="2026-11")
    member = head(household_b)
    Member.objects.filter(pk=member.pk).update(id_number="52052119900101123")  # 17 digits, imported
    _clock.move_to(dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC))  # the warnings are overdue
    for job in jobs.JOBS:
        run(job)
    first = snapshot()
    assert {kind for kind, *_ in first[0]} >= {
        TodoKind.ELIMINATION_PROPOSAL,
        TodoKind.WARNING_OVERDUE,
        TodoKind.INVALID_ID,
    }
    assert first[1]
    for job in jobs.JOBS:
        second = run(job)
        assert not any(value for key, value in second.counts.items() if key.endswith(".resolved"))
    assert snapshot() == first


# --------------------------------------------------------------------------- comparison of waiting uploads


def test_comparison_pending_compares_uploads_left_waiting(household_a, divisions):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fpr.roles import Role
    from monitoring.screening.comparison import upload_create
    from tests.builders import department_csv, make_user

    officer = make_user("admin_up", divisions[COUNTY], Role.ADMINISTRATOR)
    data = department_csv([medical_row(head(household_a))], department="medical_insurance").encode()
    # The broker was down: the upload's own task never ran (on_commit callbacks are not executed here).
    upload = upload_create(
        user=officer,
        department="medical_insurance",
        period="2026-11",
        file=SimpleUploadedFile("医保.csv", data, content_type="text/csv"),
    )
    assert upload.status == UploadStatus.QUEUED
    result = run("comparison_pending")
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE and RiskWarning.objects.filter(upload=upload).count() == 1
    assert result.counts == {"uploads": 1, "uploads.done": 1, "uploads.failed": 0}
    assert run("comparison_pending").counts["uploads"] == 0
    assert RiskWarning.objects.get().status == WarningStatus.OPEN


# --------------------------------------------------------------------------- the command and the schedules


def test_run_job_command_prints_the_run_record(divisions):
    out = io.StringIO()
    call_command("run_job", "data_quality", stdout=out)
    text = out.getvalue()
    assert "任务：data_quality（数据质量检查）" in text and "状态：成功" in text and "开始：2026-11-23 10:00:00" in text
    assert JobRun.objects.get().triggered_by == "命令行"

    out = io.StringIO()
    call_command("run_job", "--list", stdout=out)
    listing = out.getvalue()
    assert all(name in listing for name in jobs.JOBS)
    assert "data_quality" in listing and "成功" in listing and "从未运行" in listing


def test_run_job_command_fails_loudly_when_the_job_fails(divisions, monkeypatch):
    def broken(run):
        raise RuntimeError("boom")

    monkeypatch.setitem(jobs.JOBS, "data_quality", jobs.Job("data_quality", "数据质量检查", "每周", broken))
    with pytest.raises(CommandError, match="运行失败"):
        call_command("run_job", "data_quality", stdout=io.StringIO())


def test_default_schedules_exist_for_every_job_in_beijing_time(db):
    from django_celery_beat.models import PeriodicTask

    from fpr.celery import app

    tasks = {task.task: task for task in PeriodicTask.objects.filter(task__startswith="monitoring.jobs.")}
    assert set(tasks) == {f"monitoring.jobs.{name}" for name in jobs.JOBS}
    assert all(str(task.crontab.timezone) == "Asia/Shanghai" and task.enabled for task in tasks.values())
    assert tasks["monitoring.jobs.overdue_scan"].crontab.day_of_month == "*"
    assert tasks["monitoring.jobs.data_quality"].crontab.day_of_week == "1"
    assert all(name in app.tasks for name in tasks)


# --------------------------------------------------------------------------- the admin


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator(administrator):
    """The Django admin is for the operators (superusers) only; administrators use monitoring:jobs."""
    administrator.is_superuser = True
    administrator.save()
    return administrator


def test_operator_runs_a_job_from_the_admin_and_sees_the_result(operator, monitored, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = client_for(operator)
    page = client.get("/admin/monitoring/jobrun/run/")
    assert page.status_code == 200
    assert "风险消除月度研判" in page.content.decode() and "从未运行" in page.content.decode()
    response = client.post("/admin/monitoring/jobrun/run/", {"job": "elimination_review"})
    html = response.content.decode()
    assert response.status_code == 200 and "运行结果：elimination_review · 成功" in html
    assert "符合风险消除标准，可启动风险消除" in html
    record = JobRun.objects.get()
    assert record.triggered_by == "手动：admin_user"
    listing = client.get("/admin/monitoring/jobrun/").content.decode()
    assert "立即运行" in listing and "风险消除月度研判" in listing
    assert client.get(f"/admin/monitoring/jobrun/{record.pk}/change/").status_code == 200


def test_admin_queues_the_job_when_celery_runs_a_worker(operator, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(jobs.TASKS["overdue_scan"], "delay", lambda **kwargs: sent.append(kwargs))
    response = client_for(operator).post("/admin/monitoring/jobrun/run/", {"job": "overdue_scan"})
    assert "已提交后台运行" in response.content.decode()
    assert sent == [{"triggered_by": "手动：admin_user"}]
    assert not JobRun.objects.exists()


def test_only_operators_see_the_job_runs_in_the_admin(cadre_a, township_reviewer, administrator, divisions):
    from django.contrib.auth.models import Permission

    township_reviewer.is_staff = True
    township_reviewer.save()
    township_reviewer.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    for user in (township_reviewer, administrator, cadre_a):
        client = client_for(user)
        assert client.get("/admin/monitoring/jobrun/run/").status_code == 302  # to the admin login
        assert client.get("/admin/monitoring/jobrun/").status_code == 302
    # The administrators' own page (tests/test_accounts.py runs a job there).
    assert client_for(administrator).get("/monitoring/jobs/").status_code == 200
    assert client_for(township_reviewer).get("/monitoring/jobs/").status_code == 403


# --------------------------------------------------------------------------- the to-do page


def test_todo_page_lists_the_subtrees_items_and_nothing_of_other_villages(
    monitored, cadre_a, cadre_b, township_reviewer, alert_settings, people, department_upload
):
    in_a, _ = people
    department_upload([medical_row(m) for m in in_a[:2]], period="2026-09")
    department_upload([medical_row(m) for m in in_a], period="2026-11")
    run("elimination_review")
    run("regional_alert")

    page = client_for(cadre_a).get("/monitoring/todos/")
    html = page.content.decode()
    assert page.status_code == 200 and "符合风险消除标准，可启动风险消除" in html
    assert f'href="/cases/{monitored.pk}/"' in html
    assert "规模性返贫风险预警" not in html  # alerts are for townships and counties, above a village

    html = client_for(cadre_b).get("/monitoring/todos/").content.decode()
    assert "辖区内暂无待办事项" in html and f"/cases/{monitored.pk}/" not in html

    html = client_for(township_reviewer).get("/monitoring/todos/").content.decode()
    assert f"/cases/{monitored.pk}/" in html and "规模性返贫风险预警" in html and "羊场镇" in html
    assert "待办事项" in html  # the menu item


def test_todo_page_links_household_items_and_pages_one_kind(household_b, cadre_b):
    member = head(household_b)
    Member.objects.filter(pk=member.pk).update(id_number="520521199001011231")  # wrong check digit
    run("data_quality")
    client = client_for(cadre_b)
    html = client.get("/monitoring/todos/").content.decode()
    assert f'href="/households/{household_b.pk}/"' in html and "身份证号无效" in html
    one_kind = client.get("/monitoring/todos/", {"kind": "invalid_id"})
    assert one_kind.status_code == 200 and "‹ 全部待办事项" in one_kind.content.decode()


def test_todo_page_costs_the_same_queries_for_few_or_many_items(cadre_a, village_a, django_assert_max_num_queries):
    client = client_for(cadre_a)

    def add(n, start):
        TodoItem.objects.bulk_create(
            TodoItem(kind=kind, key=f"member:{start + i}", division=village_a, detail="测试", opened_at=TODAY)
            for i in range(n)
            for kind in (TodoKind.INVALID_ID, TodoKind.INCOME_MISSING)
        )

    add(2, 0)
    with django_assert_max_num_queries(12):
        assert client.get("/monitoring/todos/").status_code == 200
    add(40, 100)
    with django_assert_max_num_queries(12):
        html = client.get("/monitoring/todos/").content.decode()
    assert "查看全部 42 项" in html


def test_admin_lists_of_uploads_warnings_todos_and_alerts_are_read_only_and_scoped(
    administrator, cadre_b, household_a, department_upload
):
    department_upload([medical_row(head(household_a))])
    run("overdue_scan")
    administrator.is_superuser = True  # the admin is the operators'
    administrator.save()
    client = client_for(administrator)
    for model in ("departmentupload", "rejectedrow", "riskwarning", "todoitem", "regionalalert", "jobrun"):
        assert client.get(f"/admin/monitoring/{model}/").status_code == 200, model
        assert client.get(f"/admin/monitoring/{model}/add/").status_code == 403, model
    warning = RiskWarning.objects.get()
    assert client.get(f"/admin/monitoring/riskwarning/{warning.pk}/change/").status_code == 200
    # An administrator of another county sees none of it.
    from fpr.roles import Role
    from households.models import Division
    from tests.builders import make_user

    other = Division.objects.create(code="520522000000", name="黔西市", level=3, parent_id="520500000000")
    outsider = make_user("admin_other", other, Role.ADMINISTRATOR, is_staff=True)
    assert client_for(outsider).get(f"/admin/monitoring/riskwarning/{warning.pk}/change/").status_code == 302
