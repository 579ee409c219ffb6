"""Statistics (统计报表): every number against a small world counted by hand, per child division and in
total; jurisdiction (a cadre never sees the neighbouring village, a division outside the subtree is a
404); a fixed number of queries whatever the number of cases; the statistics table (XLSX) opened back
and checked cell by cell; the export log; the API and the pages.

The world (period 2026-11, statistics taken on 26 November; members in brackets):

村 A 光明村 (cadre_a)   A1 边缘易致贫户 因病, 监测中, measure for 因病 — covered; visit 满意 (2)
                      A2 脱贫不稳定户 因病+因学, 监测中, a measure for 因病 only — not covered; visit 不满意 (3)
                      A3 边缘易致贫户 因病, 风险消除 on 23 Nov; visit 满意 (2)
                      A4 突发严重困难户, 镇街审核不予纳入 (1)
                      A5 突发严重困难户, 提交申请 (2)
                      A6 no case (2)
村 B 红岩村 (cadre_b)   B1 边缘易致贫户 因残, 监测中, no measure (2);  B2 no case (2)
村 C 新华村 (cadre_c)   C1 脱贫不稳定户 因病, walked day by day in November to 监测中 on 20 Nov, no measure (4)
                      C2 脱贫不稳定户 因病, submitted on 5 Nov after 4 days, 入户核实 (1)
Warnings, raised 23 Nov 10:00 (due 25 Nov 10:00): A1 attached on 24 Nov (at risk, identified, on time);
A5 attached on 26 Nov (at risk, not identified, late); B2 excluded on 24 Nov (on time); A6 left open.
"""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from assistance.models import MeasureStatus
from assistance.services import measure_add, plan_create, visit_record
from fpr.periods import Period
from fpr.roles import Role
from households.models import Relationship
from monitoring.models import MonitoringCase, RiskWarning
from monitoring.screening import warning_services
from reports.models import Export, ExportKind, ExportStatus
from reports.statistics.figures import statistics, statistics_by_child
from reports.statistics.table import table_columns
from tests.builders import CaseWalker, make_user, member_data

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
NOVEMBER = Period.parse("2026-11")
A, B, C = "520521100001", "520521100002", "520521101001"
COUNTY, TOWNSHIP_AB, TOWNSHIP_C = "520521000000", "520521100000", "520521101000"


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=BEIJING)


def members(*names: str) -> list[dict]:
    rows = [member_data(names[0])]
    rows += [member_data(name, Relationship.SON) for name in names[1:]]
    return rows


def fire(case, transition, user, **inputs):
    from workflow.services import case_transition

    case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)
    case.refresh_from_db()
    return case


def head(household):
    return household.members.get(relationship=Relationship.HEAD)


def medical_row(member):
    return {"身份证号": member.id_number, "姓名": member.name, "个人自付金额": "60000", "就诊机构": "大方县人民医院"}


@pytest.fixture
def world(
    divisions,
    cadre_a,
    cadre_b,
    township_reviewer,
    county_reviewer,
    administrator,
    make_household,
    open_case,
    walker,
    make_monitored,
    department_upload,
):
    village_a, village_b, village_c = divisions[A], divisions[B], divisions[C]
    cadre_c = make_user("cadre_c", village_c, Role.VILLAGE_CADRE, full_name="陈村干")
    township_c = make_user("township_c", divisions[TOWNSHIP_C], Role.TOWNSHIP_REVIEWER, full_name="冯审核")
    walker_b = CaseWalker(cadre_b, township_reviewer, county_reviewer)
    walker_c = CaseWalker(cadre_c, township_c, county_reviewer)
    w = {}
    with time_machine.travel(at(1), tick=False) as clock:
        # Village C, day by day: C1 stays 2 days in 提交申请, 1 in 入户核实, 1 in 民主评议, 7 in 公示,
        # 3 in 镇街审核, 5 in 县级审定; C2 stays 4 days in 提交申请.
        c1_household = make_household(user=cadre_c, village=village_c, members=members("赵一", "赵二", "赵三", "赵四"))
        c2_household = make_household(user=cadre_c, village=village_c, members=members("钱一"))
        c1 = open_case(user=cadre_c, household=c1_household, case_type="unstable_lifted")
        c2 = open_case(user=cadre_c, household=c2_household, case_type="unstable_lifted")
        clock.move_to(at(3))
        walker_c.to_verification(c1)
        walker_c.record_verification(c1, day=dt.date(2026, 11, 3))
        clock.move_to(at(4))
        fire(c1, "complete_verification", cadre_c)
        walker_c.record_appraisal(c1, day=dt.date(2026, 11, 4))
        clock.move_to(at(5))
        fire(c1, "start_notice", cadre_c, starts_on=dt.date(2026, 11, 5), place="村务公开栏")
        walker_c.to_verification(c2)
        clock.move_to(at(12))
        fire(c1, "submit_to_township", cadre_c)
        clock.move_to(at(15))
        fire(c1, "township_approve", township_c, opinion="同意")
        clock.move_to(at(20))
        w["C1"] = fire(c1, "county_approve", county_reviewer, opinion="同意", comparison="无异常")
        w["C2"] = c2

        clock.move_to(at(23))
        a1 = make_monitored(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
        w["A1"] = a1
        a2_household = make_household(user=cadre_a, village=village_a, members=members("孙一", "孙二", "孙三"))
        a2 = walker.to_monitoring(
            open_case(
                user=cadre_a,
                household=a2_household,
                case_type="unstable_lifted",
                risk_categories=["illness", "schooling"],
            )
        )
        plan = plan_create(
            user=cadre_a,
            case=a2,
            situation="三口之家",
            risk_analysis="因病因学",
            needs="医疗救助",
            pairing_cadre=cadre_a,
        )
        measure_add(
            user=cadre_a,
            plan=plan,
            category="health",
            risk_category="illness",
            description="大病救助",
            amount=Decimal("3000"),
            starts_on=dt.date(2026, 11, 1),
            status=MeasureStatus.ACTIVE,
        )
        visit_record(
            user=cadre_a, case=a2, visited_on=dt.date(2026, 11, 15), findings="仍困难", satisfaction="unsatisfied"
        )
        w["A2"] = a2
        a3 = make_monitored(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
        fire(a3, "propose_elimination", cadre_a, opinion="收入稳定")
        walker.record_verification(a3, day=dt.date(2026, 11, 11))
        fire(a3, "complete_elim_verification", cadre_a)
        walker.record_appraisal(a3, day=dt.date(2026, 11, 12))
        fire(a3, "start_elim_notice", cadre_a, starts_on=dt.date(2026, 11, 13), place="村务公开栏")
        fire(a3, "submit_elim_to_township", cadre_a)
        fire(a3, "township_approve_elim", township_reviewer, opinion="同意")
        w["A3"] = fire(a3, "county_approve_elim", county_reviewer, opinion="同意消除", comparison="无")
        a4_household = make_household(user=cadre_a, village=village_a, members=members("李一"))
        a4 = walker.to_township(open_case(user=cadre_a, household=a4_household, case_type="sudden_hardship"))
        w["A4"] = fire(a4, "township_reject", township_reviewer, opinion="家庭收入较高，不予纳入")
        a5_household = make_household(user=cadre_a, village=village_a)
        w["A5"] = open_case(
            user=cadre_a, household=a5_household, case_type="sudden_hardship", risk_categories=["disaster"]
        )
        a6_household = make_household(user=cadre_a, village=village_a)
        b1_household = make_household(user=cadre_b, village=village_b, address="红岩村一组")
        w["B1"] = walker_b.to_monitoring(
            open_case(user=cadre_b, household=b1_household, risk_categories=["disability"])
        )
        b2_household = make_household(user=cadre_b, village=village_b, address="红岩村二组")

        upload = department_upload(
            [medical_row(head(h)) for h in (a1.household, a5_household, b2_household, a6_household)]
        )
        warnings = {w_.household_id: w_ for w_ in RiskWarning.objects.filter(upload=upload)}
        clock.move_to(at(24, 9))
        warning_services.warning_attach(user=cadre_a, warning=warnings[a1.household_id], note="已在监测")
        warning_services.warning_exclude(user=cadre_b, warning=warnings[b2_household.pk], reason="医疗费用已报销")
        clock.move_to(at(26))
        warning_services.warning_attach(user=cadre_a, warning=warnings[a5_household.pk], note="并入申请")
        clock.move_to(at(26, 12))
        yield w


def tally(t):
    return (t.households, t.persons)


# --------------------------------------------------------------------------- every number, by hand


def test_county_figures_equal_the_hand_count(world, county_reviewer):
    f = statistics(user=county_reviewer, division=county_reviewer.division, period=NOVEMBER)
    assert tally(f.by_status["identifying"]) == (2, 3)  # A5 (2), C2 (1)
    assert tally(f.by_status["monitoring"]) == (4, 11)  # A1 2, A2 3, B1 2, C1 4
    assert tally(f.by_status["eliminated"]) == (1, 2)  # A3
    assert tally(f.by_status["rejected"]) == (1, 1)  # A4
    assert tally(f.objects) == (5, 13)  # 监测中 + 风险消除
    assert tally(f.by_type["marginal"]) == (3, 6)  # A1, A3, B1
    assert tally(f.by_type["unstable_lifted"]) == (2, 7)  # A2, C1
    assert tally(f.by_type["sudden_hardship"]) == (0, 0)  # A4 rejected and A5 in process do not count
    assert tally(f.by_risk["illness"]) == (4, 11)  # A1, A2, A3, C1
    assert tally(f.by_risk["schooling"]) == (1, 3)  # A2
    assert tally(f.by_risk["disability"]) == (1, 2)  # B1
    assert tally(f.by_risk["disaster"]) == (0, 0)  # A5 is not identified
    assert tally(f.new) == (5, 13)  # A1, A2, A3, B1 on 23 Nov, C1 on 20 Nov
    assert tally(f.eliminated) == (1, 2)  # A3
    # 三率一度
    assert (f.warnings_at_risk, f.warnings_at_risk_identified, f.inclusion_rate) == (2, 1, 0.5)
    assert (f.monitored_cases, f.covered_cases, f.coverage_rate) == (4, 1, 0.25)
    assert f.cases_without_measure == 2  # B1, C1
    assert (f.visits_rated, f.visits_approving) == (3, 2) and f.approval_rate == pytest.approx(2 / 3)
    assert (f.warnings_raised, f.warnings_on_time, f.timeliness_rate) == (4, 2, 0.5)
    # Stays ending in November: A/B cases were walked in one instant (0 days), C1 and C2 day by day.
    assert f.stage_days["application"] == 0.0  # [0, 0, 0, 0, 0, 2, 4]
    assert f.stage_days["county_approval"] == 0.0  # [0, 0, 0, 5]
    assert f.stage_days["elim_county"] == 0.0  # A3, eliminated in one instant
    assert f.stage_days["township_review"] == 0.0  # [0 (A1), 0 (A2), 0 (A3), 0 (A4 rejected), 0 (B1), 3]


def test_stage_medians_of_the_township_walked_day_by_day(world, county_reviewer):
    table = statistics_by_child(user=county_reviewer, division=county_reviewer.division, period=NOVEMBER)
    township_c = next(row for row in table.rows if row.code == TOWNSHIP_C)
    assert township_c.stage_days["application"] == 3.0  # median of C1's 2 and C2's 4 days
    assert township_c.stage_days["verification"] == 1.0
    assert township_c.stage_days["appraisal"] == 1.0
    assert township_c.stage_days["notice"] == 7.0
    assert township_c.stage_days["township_review"] == 3.0
    assert township_c.stage_days["county_approval"] == 5.0
    assert township_c.stage_days["elim_verification"] is None


def test_rows_per_township_and_the_total_row(world, county_reviewer):
    table = statistics_by_child(user=county_reviewer, division=county_reviewer.division, period=NOVEMBER)
    assert [(row.code, row.name) for row in table.rows] == [(TOWNSHIP_AB, "羊场镇"), (TOWNSHIP_C, "黄泥塘镇")]
    ab, c = table.rows
    assert tally(ab.objects) == (4, 9) and tally(c.objects) == (1, 4)
    assert tally(ab.by_status["identifying"]) == (1, 2) and tally(c.by_status["identifying"]) == (1, 1)
    assert tally(ab.by_status["monitoring"]) == (3, 7) and tally(c.by_status["monitoring"]) == (1, 4)
    assert tally(ab.new) == (4, 9) and tally(c.new) == (1, 4)
    assert (ab.monitored_cases, ab.covered_cases, ab.cases_without_measure) == (3, 1, 1)
    assert (c.monitored_cases, c.covered_cases, c.cases_without_measure) == (1, 0, 1)
    assert (ab.warnings_raised, ab.warnings_on_time, c.warnings_raised) == (4, 2, 0)
    assert c.inclusion_rate is None and c.approval_rate is None  # nothing to count: "—"
    # The total row is the county's own figures, and each count is the sum of the rows.
    county = statistics(user=county_reviewer, division=county_reviewer.division, period=NOVEMBER)
    assert table.total.objects == county.objects and table.total.by_status == county.by_status
    assert table.total.stage_days == county.stage_days and table.total.coverage_rate == county.coverage_rate
    for column in table_columns(risks=table.risks, period_code="2026-11"):
        if column.kind == "count":
            assert column.value(table.total) == sum(column.value(row) for row in table.rows), column.path


def test_rows_per_village_of_a_township(world, township_reviewer):
    table = statistics_by_child(user=township_reviewer, division=township_reviewer.division, period=NOVEMBER)
    assert [row.name for row in table.rows] == ["光明村", "红岩村"]
    a, b = table.rows
    assert tally(a.objects) == (3, 7) and tally(b.objects) == (1, 2)
    assert tally(a.by_status["rejected"]) == (1, 1) and tally(b.by_status["rejected"]) == (0, 0)
    assert tally(a.eliminated) == (1, 2)
    assert (a.visits_rated, a.visits_approving, b.visits_rated) == (3, 2, 0)
    assert (a.warnings_at_risk, b.warnings_at_risk, b.warnings_raised, b.warnings_on_time) == (2, 0, 1, 1)
    assert tally(table.total.objects) == (4, 9)


def test_another_period_counts_no_flows_but_the_same_stock(world, county_reviewer):
    october = statistics(user=county_reviewer, division=county_reviewer.division, period=Period.parse("2026-10"))
    assert tally(october.new) == (0, 0) and tally(october.eliminated) == (0, 0)
    assert october.warnings_raised == 0 and october.timeliness_rate is None
    assert all(days is None for days in october.stage_days.values())
    assert tally(october.objects) == (5, 13)  # status, type and risk are the current stock
    year = statistics(user=county_reviewer, division=county_reviewer.division, period=Period.parse("2026"))
    quarter = statistics(user=county_reviewer, division=county_reviewer.division, period=Period.parse("2026-Q4"))
    assert tally(year.new) == tally(quarter.new) == (5, 13)


def test_periods_parse_month_quarter_and_year():
    assert (NOVEMBER.start, NOVEMBER.end, NOVEMBER.label) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026年11月")
    q = Period.parse("2026-q4")
    assert (q.code, q.start, q.end, q.label) == (
        "2026-Q4",
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
        "2026年第4季度",
    )
    assert Period.parse("2024-02").end == dt.date(2024, 2, 29)
    assert Period.parse("2026").label == "2026年"
    with pytest.raises(ValueError, match="统计期间格式"):
        Period.parse("2026-13")
    assert [p.code for p in NOVEMBER.previous_months(3)] == ["2026-09", "2026-10", "2026-11"]


# --------------------------------------------------------------------------- jurisdiction


def test_a_village_cadre_never_counts_the_neighbouring_village(world, cadre_a, cadre_b, divisions):
    b = statistics(user=cadre_b, division=divisions[B], period=NOVEMBER)
    assert tally(b.objects) == (1, 2) and tally(b.by_status["identifying"]) == (0, 0)
    a = statistics(user=cadre_a, division=divisions[A], period=NOVEMBER)
    assert tally(a.objects) == (3, 7)
    table = statistics_by_child(user=cadre_b, division=divisions[B], period=NOVEMBER)
    assert [row.code for row in table.rows] == [B] and tally(table.total.objects) == (1, 2)
    with pytest.raises(PermissionDenied):
        statistics(user=cadre_b, division=divisions[A], period=NOVEMBER)
    with pytest.raises(PermissionDenied):
        statistics_by_child(user=cadre_b, division=divisions[TOWNSHIP_AB], period=NOVEMBER)


def test_pages_and_api_refuse_a_division_outside_the_jurisdiction(world, cadre_b, department_officer):
    client = logged_in(cadre_b)
    assert client.get("/reports/", {"division": A}).status_code == 404
    assert client.get("/reports/dashboard/", {"division": COUNTY}).status_code == 404
    assert client.post("/reports/export/", {"division": A, "period": "2026-11"}).status_code == 404
    api = APIClient()
    api.force_authenticate(cadre_b)
    assert api.get("/api/v1/statistics/", {"division": A}).status_code == 404
    assert logged_in(department_officer).get("/reports/").status_code == 403
    assert not Export.objects.exists()


# --------------------------------------------------------------------------- a fixed number of queries


def test_statistics_cost_the_same_queries_for_more_cases(
    world, county_reviewer, cadre_b, divisions, make_household, open_case
):
    def run():
        with CaptureQueriesContext(connection) as queries:
            statistics_by_child(user=county_reviewer, division=divisions[COUNTY], period=NOVEMBER)
        return len(queries)

    before = run()
    for _ in range(6):
        open_case(user=cadre_b, household=make_household(user=cadre_b, village=divisions[B]))
    assert run() == before <= 20


def test_statistics_page_queries_are_bounded(
    world, administrator, cadre_b, divisions, make_household, open_case, django_assert_max_num_queries
):
    client = logged_in(administrator)
    with django_assert_max_num_queries(40):
        assert client.get("/reports/", {"division": TOWNSHIP_AB, "period": "2026-11"}).status_code == 200
    for _ in range(5):
        open_case(user=cadre_b, household=make_household(user=cadre_b, village=divisions[B]))
    with django_assert_max_num_queries(40):
        assert client.get("/reports/", {"division": TOWNSHIP_AB, "period": "2026-11"}).status_code == 200
    with django_assert_max_num_queries(40):
        assert client.get("/reports/dashboard/", {"division": COUNTY, "period": "2026-11"}).status_code == 200


# --------------------------------------------------------------------------- pages


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_county_page_links_each_number_down_to_the_township(world, county_reviewer):
    html = logged_in(county_reviewer).get("/reports/", {"period": "2026-11"}).content.decode()
    assert "羊场镇" in html and "黄泥塘镇" in html and "合计" in html
    assert f'href="/reports/?division={TOWNSHIP_AB}&amp;period=2026-11"' in html
    assert "监测对象类型" in html and "三率一度" in html and "25.0%" in html  # 帮扶措施到位率


def test_village_rows_link_to_the_cases_behind_the_number(world, township_reviewer):
    client = logged_in(township_reviewer)
    html = client.get("/reports/", {"period": "2026-11"}).content.decode()
    link = f"/cases/?village={A}&amp;status=identified&amp;case_type=marginal"
    assert link in html
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    numbers = {case.household.number for case in MonitoringCase.objects.filter(village_id=A, case_type="marginal")}
    shown = {n for n in numbers if n in listed}
    # 边缘易致贫户 in village A that are monitoring objects: A1 and A3 (A5 is 突发严重困难户).
    assert shown == {world["A1"].household.number, world["A3"].household.number}
    new = client.get("/cases/", {"village": A, "identified_in": "2026-11"}).content.decode()
    assert world["A2"].household.number in new and world["A5"].household.number not in new
    eliminated = client.get("/cases/", {"village": A, "eliminated_in": "2026-11"}).content.decode()
    assert world["A3"].household.number in eliminated and world["A1"].household.number not in eliminated


def test_dashboard_shows_the_same_numbers(world, county_reviewer):
    response = logged_in(county_reviewer).get("/reports/dashboard/", {"period": "2026-11"})
    assert response.status_code == 200
    charts = response.context["charts"]
    assert {d["name"]: d["value"] for d in charts["types"]} == {
        "脱贫不稳定户": 2,
        "边缘易致贫户": 3,
        "突发严重困难户": 0,
    }
    assert charts["trend"]["months"][-1] == "2026-11" and charts["trend"]["new"][-1] == 5
    assert charts["trend"]["eliminated"][-1] == 1 and sum(charts["trend"]["new"]) == 5
    assert charts["departments"] == {"names": ["医保"], "raised": [4], "open": [1], "overdue": [1]}
    assert response.context["overdue"].warnings_overdue == 1  # A6's warning, due on 25 Nov
    html = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and "25.0%" in html and "66.7%" in html


def test_the_case_list_explains_a_bad_period(world, cadre_a):
    response = logged_in(cadre_a).get("/cases/", {"identified_in": "2026-13"})
    assert response.status_code == 200
    assert "统计期间格式" in response.content.decode()


# --------------------------------------------------------------------------- the XLSX


def export_workbook(client, division=COUNTY, period="2026-11"):
    response = client.post("/reports/export/", {"division": division, "period": period})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_statistics_table_opens_with_title_headers_rows_and_totals(world, administrator, county_reviewer):
    sheet = export_workbook(logged_in(administrator)).active
    assert sheet.title == "统计表"
    assert sheet["A1"].value == "大方县防返贫动态监测统计表（2026年11月）"
    assert sheet["A2"].value.startswith("统计期间：2026-11-01 至 2026-11-30")
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A3:A5", "B3:C3", "B4:B5", "C4:C5", "D3:I3", "D4:E4", "F4:G4", "H4:I4", "J3:Q3"} <= merged
    assert [sheet.cell(3, c).value for c in (1, 2, 4, 10, 18)] == [
        "区划",
        "监测对象合计",
        "监测对象类型",
        "状态",
        "本期变动",
    ]
    assert [sheet.cell(4, c).value for c in (4, 6, 8, 10, 12, 14, 16)] == [
        "脱贫不稳定户",
        "边缘易致贫户",
        "突发严重困难户",
        "识别中",
        "监测中",
        "风险消除",
        "不予纳入",
    ]
    assert [sheet.cell(5, c).value for c in (4, 5)] == ["户", "人"]
    headers = {sheet.cell(4, c).value: c for c in range(1, sheet.max_column + 1) if sheet.cell(4, c).value}
    assert "三率一度" in [sheet.cell(3, c).value for c in range(1, sheet.max_column + 1)]
    assert [sheet.cell(r, 1).value for r in (6, 7, 8)] == ["羊场镇", "黄泥塘镇", "合计"]
    assert [sheet.cell(r, 2).value for r in (6, 7, 8)] == [4, 1, 5]  # 监测对象 户
    assert [sheet.cell(r, 3).value for r in (6, 7, 8)] == [9, 4, 13]  # 监测对象 人
    assert sheet.max_row == 8
    # Every count of the total row is the sum of the rows, and equals the page.
    table = statistics_by_child(user=county_reviewer, division=county_reviewer.division, period=NOVEMBER)
    columns = table_columns(risks=table.risks, period_code="2026-11")
    for index, column in enumerate(columns, start=2):
        expected = column.value(table.total)
        assert sheet.cell(8, index).value == ("—" if expected is None else expected), column.path
        if column.kind == "count":
            assert sheet.cell(8, index).value == sheet.cell(6, index).value + sheet.cell(7, index).value
    coverage = headers["帮扶措施到位率"]
    assert sheet.cell(8, coverage).value == 0.25 and sheet.cell(8, coverage).number_format == "0.0%"
    assert sheet.cell(7, headers["监测纳入率"]).value == "—"  # nothing to count in 黄泥塘镇
    assert sheet.cell(7, headers["提交申请"]).value == 3.0 and sheet.cell(7, headers["提交申请"]).number_format == "0.0"
    assert sheet.cell(6, 2).number_format == "#,##0"


def test_statistics_table_print_setup_and_frozen_header(world, administrator):
    sheet = export_workbook(logged_in(administrator)).active
    assert sheet.freeze_panes == "B6"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$3:$5"  # the header rows repeat on every page
    assert sheet.column_dimensions["A"].width == 16 and sheet.column_dimensions["B"].width == 8


def test_statistics_table_holds_no_id_numbers(world, county_reviewer):
    sheet = export_workbook(logged_in(county_reviewer), division=TOWNSHIP_AB).active
    ids = {m.id_number for m in world["A1"].household.members.all()}
    cells = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert not any(number in text for number in ids for text in cells)
    assert [sheet.cell(r, 1).value for r in (6, 7, 8)] == ["光明村", "红岩村", "合计"]


def test_a_cadre_exports_only_their_village(world, cadre_b):
    sheet = export_workbook(logged_in(cadre_b), division=B).active
    assert sheet["A1"].value == "红岩村防返贫动态监测统计表（2026年11月）"
    assert [sheet.cell(r, 1).value for r in (6, 7)] == ["红岩村", "合计"] and sheet.max_row == 7
    assert [sheet.cell(7, c).value for c in (2, 3)] == [1, 2]


# --------------------------------------------------------------------------- the export log


def test_every_export_is_logged_and_shown_to_administrators(world, administrator, cadre_b, county_reviewer):
    export_workbook(logged_in(cadre_b), division=B)
    export_workbook(logged_in(administrator), period="2026-Q4")
    mine = Export.objects.get(user=cadre_b)
    assert (mine.kind, mine.division_id, mine.filters, mine.status) == (
        ExportKind.STATISTICS,
        B,
        {"division": B, "period": "2026-11"},
        ExportStatus.DONE,
    )
    assert not mine.unmasked and mine.rows_written == 1 and mine.finished_at is not None
    # Full ID numbers only when asked for, even by those who may see them (the table has none anyway).
    assert not Export.objects.get(user=administrator).unmasked

    admin_log = logged_in(administrator).get("/reports/exports/").content.decode()
    assert (
        admin_log.count("统计表") >= 2 and "李村干" in admin_log and "期间：2026-Q4" in admin_log
    )  # filters in words (#13 point 8)
    cadre_log = logged_in(cadre_b).get("/reports/exports/").content.decode()
    assert "期间：2026-11" in cadre_log and "2026-Q4" not in cadre_log
    # Downloads are scoped like the log.
    admins = Export.objects.get(user=administrator)
    assert logged_in(cadre_b).get(f"/reports/exports/{admins.pk}/download/").status_code == 404
    assert logged_in(county_reviewer).get(f"/reports/exports/{mine.pk}/download/").status_code == 404
    download = logged_in(administrator).get(f"/reports/exports/{mine.pk}/download/")
    assert download.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook.active["A1"].value.startswith("红岩村")


def test_export_log_in_the_admin_is_read_only(world, administrator):
    """The Django admin is the operators' (superusers'): read-only for them too."""
    export_workbook(logged_in(administrator))
    administrator.is_superuser = True
    administrator.save()
    client = logged_in(administrator)
    export = Export.objects.get()
    assert client.get("/admin/reports/export/").status_code == 200
    assert client.get("/admin/reports/export/add/").status_code == 403
    assert client.post(f"/admin/reports/export/{export.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Export.objects.filter(pk=export.pk).exists()


# --------------------------------------------------------------------------- the API


def test_api_gives_the_same_figures_per_child_and_in_total(world, county_reviewer):
    api = APIClient()
    api.force_authenticate(county_reviewer)
    data = api.get("/api/v1/statistics/", {"period": "2026-11", "by": "children"}).json()
    assert data["period"] == {"code": "2026-11", "label": "2026年11月", "start": "2026-11-01", "end": "2026-11-30"}
    assert data["division"]["objects"] == {"households": 5, "persons": 13}
    assert data["division"]["coverage_rate"] == 0.25 and data["division"]["cases_without_measure"] == 2
    assert [c["name"] for c in data["children"]] == ["羊场镇", "黄泥塘镇"]
    assert data["children"][1]["stage_days"]["notice"] == 7.0
    single = api.get("/api/v1/statistics/", {"division": TOWNSHIP_AB, "period": "2026-11"}).json()
    assert single["division"]["objects"] == data["children"][0]["objects"] and "children" not in single
    bad = api.get("/api/v1/statistics/", {"period": "2026-13"})
    assert bad.status_code == 400
