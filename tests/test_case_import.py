"""The existing-monitoring-objects import (监测对象（原系统）导入, issue #15 point 3): a county's 监测对象 list
as it keeps it — a merged title row, a two-row header (风险消除情况 merged over 状态/消除时间), its own column
names (户主身份证号码, 致贫返贫风险, 纳入时间), dates as Excel cells and as text in several formats, several risks
in one cell, an eliminated case with its date, a 合计 footer. Problem rows (a household not registered, a
household with an open case, a village outside the county, wrong dates and risks) refuse the whole file;
a re-import changes nothing. Then the scheduled jobs, the statistics and the case list treat the imported
cases as native ones."""

import datetime as dt

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from assistance.models import AssistancePlan, Measure
from fpr.periods import Period
from fpr.roles import Level, Role
from households.models import Division, Relationship
from monitoring.jobs import runner as jobs
from monitoring.models import Channel, JobStatus, MonitoringCase, Stage, TodoItem, TodoKind
from reports.statistics.figures import statistics
from tests.builders import make_user
from workflow.models import ImportJob, ImportStatus, TransitionEvent
from workflow.onboarding.cases import case_date, cases_import, risk_codes

pytestmark = pytest.mark.django_db

FILE = "大方县监测对象名单.xlsx"
TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
TOP = ["序号", "户编号", "户主姓名", "户主身份证号码", "所在村", "监测对象类型", "致贫返贫风险", "纳入时间"]
TOP += ["风险消除情况", None, "帮扶措施", "帮扶责任人", "备注"]
SUB = [None] * 8 + ["状态", "消除时间"] + [None] * 3


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def homes(make_household, cadre_a, cadre_b, village_a, village_b):
    return [
        make_household(user=cadre_a, village=village_a),
        make_household(user=cadre_a, village=village_a, address="光明村二组5号"),
        make_household(user=cadre_b, village=village_b, address="红岩村三组1号"),
    ]


@pytest.fixture
def qianxi(divisions):
    for code, name, level, parent in [
        ("520522000000", "黔西县", Level.COUNTY, "520500000000"),
        ("520522100000", "金碧镇", Level.TOWNSHIP, "520522000000"),
        ("520522100001", "核屯村", Level.VILLAGE, "520522100000"),
    ]:
        Division.objects.create(code=code, name=name, level=level, parent_id=parent)


def head_id(household) -> str:
    return household.members.get(relationship=Relationship.HEAD).id_number


def good_rows(homes):
    h1, h2, h3 = homes
    return [
        [1, h1.number, "张三", None, "光明村", "边缘户", "因病、因残", dt.datetime(2025, 3, 1), "监测中", None]
        + ["申报慢病门诊报销；推荐到县城工业园区务工", "王村干", None],
        [2, None, "张三", head_id(h2), None, "脱贫不稳定户", "因学", "2024/9/15", "风险消除", "2025年6月30日"]
        + ["雨露计划资助", "赵审核", "原系统导出"],
        [3, h3.number, "张三", head_id(h3), "羊场镇红岩村", "突发严重困难户", "因灾 因意外", "2025年1月8日"]
        + [None, None, None, "刘帮扶", None],
        [None] * 13,
        ["合计", "3户"] + [None] * 11,
    ]


def write_xlsx(path, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["大方县防止返贫监测对象名单（截至2026年11月）"] + [None] * 12)
    sheet.append(TOP)
    sheet.append(SUB)
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:M1")
    sheet.merge_cells("I2:J2")
    for column in "ABCDEFGHKLM":
        sheet.merge_cells(f"{column}2:{column}3")
    workbook.save(path)
    return str(path)


def problems(report):
    return [(p.row, p.column, p.reason) for p in report.problems]


def test_cells_dates_and_risks():
    assert case_date(dt.datetime(2025, 3, 1)) == (dt.date(2025, 3, 1), "")
    for text in ("2025-03-01", "2025/3/1", "2025年3月1日", "2025.3.1", "20250301", "2025-03-01 00:00:00"):
        assert case_date(text) == (dt.date(2025, 3, 1), ""), text
    assert case_date("2025-13-01")[0] is None
    names = {"因病": "illness", "因残": "disability", "因学": "schooling"}
    assert risk_codes("因病、因残，学", names) == (["illness", "disability", "schooling"], [])
    assert risk_codes("因病；因懒", names) == (["illness"], ["因懒"])


def test_dry_run_then_import_then_reimport_is_a_no_op(
    tmp_path, administrator, homes, cadre_a, township_reviewer, client
):
    h1, h2, h3 = homes
    path = write_xlsx(tmp_path / FILE, good_rows(homes))
    report = cases_import(actor=administrator, path=path, dry_run=True)
    assert not report.refused, problems(report)
    lines = "\n".join(report.lines())
    assert "试运行" in lines and "将新增 3 户（监测中 2 户，风险消除 1 户），将录入帮扶措施 3 条" in lines
    assert "列名在第2-3行" in lines and "标题行1行" in lines and "未使用的列：序号、户主姓名、备注" in lines
    assert not MonitoringCase.objects.exists()

    report = cases_import(actor=administrator, path=path)
    assert report.written and not report.refused
    one, two, three = (MonitoringCase.objects.get(household=h) for h in homes)
    assert (one.stage, one.case_type, one.identified_on, one.eliminated_on) == (
        Stage.MONITORING,
        "marginal",
        dt.date(2025, 3, 1),
        None,
    )
    assert sorted(one.risk_categories.values_list("code", flat=True)) == ["disability", "illness"]
    assert (two.stage, two.case_type, two.identified_on, two.eliminated_on) == (
        Stage.ELIMINATED,
        "unstable_lifted",
        dt.date(2024, 9, 15),
        dt.date(2025, 6, 30),
    )
    assert two.is_open  # still followed after elimination, as a native case
    assert (three.stage, three.identified_on) == (Stage.MONITORING, dt.date(2025, 1, 8))
    assert sorted(three.risk_categories.values_list("code", flat=True)) == ["accident", "disaster"]
    assert {c.channel for c in (one, two, three)} == {Channel.IMPORTED}
    assert one.village_id == h1.village_id and one.created_by == administrator

    event = TransitionEvent.objects.get(case=two)
    assert (event.transition, event.label, event.to_stage, event.actor) == (
        "imported",
        "由原系统导入",
        Stage.ELIMINATED,
        administrator,
    )
    assert f"{FILE}第5行" in event.opinion and "风险消除（2025-06-30）" in event.opinion
    assert {(h.history_change_reason, h.history_user) for h in one.history.all()} == {
        (f"由原系统导入：{FILE}", administrator)
    }

    plan = AssistancePlan.objects.get(case=one)
    assert plan.pairing_cadre == cadre_a
    assert [(m.category_id, m.risk_category_id, m.description) for m in plan.measures.all()] == [
        ("health", "illness", "申报慢病门诊报销"),
        ("employment", "illness", "推荐到县城工业园区务工"),
    ]
    assert AssistancePlan.objects.get(case=two).pairing_cadre == township_reviewer
    assert Measure.objects.get(plan__case=two).category_id == "education"
    three_plan = AssistancePlan.objects.get(case=three)  # a cadre not in the system: kept as a name
    assert (three_plan.pairing_cadre, three_plan.pairing_cadre_name, three_plan.measures.count()) == (None, "刘帮扶", 0)

    # The timeline page says where the case came from.
    client.force_login(cadre_a)
    page = client.get(reverse("cases:detail", args=[one.pk])).content.decode()
    assert "由原系统导入" in page and "原系统导入" in page
    page = client.get(reverse("cases:detail", args=[two.pk])).content.decode()
    assert "由原系统导入" in page and FILE in page and "风险消除" in page

    again = cases_import(actor=administrator, path=path)
    assert not again.written and not again.refused and again.unchanged == 3
    assert "均已导入，未作修改" in again.lines()[0]
    assert MonitoringCase.objects.count() == 3 and TransitionEvent.objects.count() == 3
    assert Measure.objects.count() == 3


def test_problem_rows_refuse_the_whole_file(tmp_path, administrator, homes, qianxi, open_case, cadre_a):
    h1, h2, h3 = homes
    native = open_case(user=cadre_a, household=h2)
    rows = good_rows(homes)
    rows[0][4] = "核屯村"  # a village outside the county
    rows[1][5] = "一般户"
    rows[1][9] = "2024年1月1日"  # eliminated before identified; and 户 2 has a native open case
    rows[2][6] = "因病、因懒"
    rows[2][7] = "2025-13-01"
    rows.insert(3, [4, "52052199999", None, None, None, "边缘易致贫户", "因病", "2025-05-01", "风险消除"])
    rows[3] += [None] * 4
    path = write_xlsx(tmp_path / FILE, rows)
    report = cases_import(actor=administrator, path=path, dry_run=True)
    found = problems(report)
    assert (4, "所在村", "“核屯村”不在您的辖区内") in found
    assert any(r == 5 and c == "监测对象类型" and "一般户" in t for r, c, t in found)
    assert (5, "风险消除情况/消除时间", "风险消除时间2024-01-01早于识别时间2024-09-15") in found
    assert any(r == 6 and c == "致贫返贫风险" and "因懒" in t for r, c, t in found)
    assert any(r == 6 and c == "纳入时间" and "2025-13-01" in t for r, c, t in found)
    assert (7, "户编号", "辖区内没有户编号为 52052199999 的农户（请先导入农户和家庭成员）") in found
    assert (7, "风险消除情况/消除时间", "当前状态为风险消除，须填写风险消除时间") in found
    assert report.rejected_rows == [4, 5, 6, 7]

    # Every other row right: the household with a native open case is refused, nothing is written.
    rows = good_rows(homes)
    path = write_xlsx(tmp_path / "第二版.xlsx", rows)
    report = cases_import(actor=administrator, path=path)
    assert problems(report) == [
        (
            5,
            "户编号",
            f"户编号 {h2.number} 已有“提交申请”的监测对象（边缘易致贫户），"
            "不能再导入一个：请核对，或在该户的案件页面办理",
        )
    ]
    assert not report.written and list(MonitoringCase.objects.all()) == [native]
    assert "已拒绝：1行未通过检查" in report.lines()[0]


def test_a_household_outside_the_subtree_is_not_found(tmp_path, divisions, homes, qianxi):
    township_admin = make_user("hn_admin", divisions["520521101000"], Role.ADMINISTRATOR, full_name="黄管理")
    path = write_xlsx(tmp_path / FILE, good_rows(homes)[:1])
    report = cases_import(actor=township_admin, path=path, dry_run=True)
    # Not found, whether registered elsewhere or not at all (no oracle for another county's households).
    assert problems(report) == [(4, "户编号", f"辖区内没有户编号为 {homes[0].number} 的农户（请先导入农户和家庭成员）")]


def test_the_command_and_the_import_job(
    tmp_path, administrator, homes, settings, client, capsys, django_capture_on_commit_callbacks
):
    path = write_xlsx(tmp_path / FILE, good_rows(homes))
    call_command("import_cases", path, "--as", administrator.username, "--dry-run")
    assert "试运行" in capsys.readouterr().out and not MonitoringCase.objects.exists()
    bad = good_rows(homes)
    bad[0][7] = "不详"
    with pytest.raises(CommandError, match="有1行未通过检查"):
        call_command("import_cases", write_xlsx(tmp_path / "bad.xlsx", bad), "--as", administrator.username)

    settings.CELERY_TASK_ALWAYS_EAGER = True
    client.force_login(administrator)
    with open(path, "rb") as handle:
        file = SimpleUploadedFile(FILE, handle.read())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:list"), {"kind": "cases", "file": file})
    job = ImportJob.objects.get()
    assert (job.kind, job.status) == ("cases", ImportStatus.CHECKED), job.error or job.check_report
    assert not MonitoringCase.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error or job.result
    assert MonitoringCase.objects.count() == 3
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert "监测对象（原系统）导入" in page and "已导入" in page


def test_a_gbk_csv_with_its_own_wordings(tmp_path, administrator, homes):
    h1, h2, h3 = homes
    text = (
        "户主身份证号,监测类型,风险类别,识别纳入日期,监测状态,风险消除日期,风险等级\r\n"
        f"{head_id(h1)},边缘易致贫户,缺劳力/因病,2025.4.2,未消除,,红色\r\n"
        f"{head_id(h2)},突发困难户,住房安全,20250110,已消除,2026-02-01,\r\n"
    )
    path = tmp_path / "监测对象.csv"
    path.write_bytes(text.encode("gbk"))
    report = cases_import(actor=administrator, path=str(path))
    assert report.written, problems(report)
    one, two = (MonitoringCase.objects.get(household=h) for h in (h1, h2))
    assert (one.identified_on, one.colour, one.stage) == (dt.date(2025, 4, 2), "red", Stage.MONITORING)
    assert sorted(one.risk_categories.values_list("code", flat=True)) == ["illness", "lack_of_labour"]
    assert (two.case_type, two.identified_on, two.eliminated_on) == (
        "sudden_hardship",
        dt.date(2025, 1, 10),
        dt.date(2026, 2, 1),
    )
    assert not AssistancePlan.objects.exists()  # no measures, no cadre: no plan
    assert "CSV，GBK 编码" in report.lines()[1]


@pytest.fixture
def imported(tmp_path, administrator, homes):
    report = cases_import(actor=administrator, path=write_xlsx(tmp_path / FILE, good_rows(homes)))
    assert report.written, problems(report)
    return [MonitoringCase.objects.get(household=h) for h in homes]


def run(job):
    result = jobs.job_run(job=job, triggered_by="测试")
    assert result.status == JobStatus.SUCCEEDED, result.errors
    return result


def items(kind):
    return {item.key for item in TodoItem.objects.filter(kind=kind, resolved_at__isnull=True)}


def test_the_jobs_the_statistics_and_the_case_list_treat_imported_cases_as_native(imported, county_reviewer, client):
    one, two, three = imported
    run("elimination_review")
    # Identified in 2025, not meeting the standard (no income entered, …): 加大帮扶力度.
    assert {f"case:{one.pk}", f"case:{three.pk}"} <= items(TodoKind.INTENSIFY)
    run("data_quality")
    assert f"case:{three.pk}" in items(TodoKind.RISK_WITHOUT_MEASURE)  # 因灾、因意外 and no measure
    assert f"case:{two.pk}" not in items(TodoKind.ELIMINATED_WITHOUT_MEASURES)  # 雨露计划资助
    assert f"household:{one.household_id}" in items(TodoKind.INCOME_MISSING)

    figures = statistics(user=county_reviewer, division=county_reviewer.division, period=Period.parse("2026"))
    assert figures.by_status["monitoring"].households == 2
    assert figures.by_status["eliminated"].households == 1
    assert figures.by_type["sudden_hardship"].households == 1
    year = statistics(user=county_reviewer, division=county_reviewer.division, period=Period.parse("2025"))
    assert (year.new.households, year.eliminated.households) == (2, 1)  # by the file's dates

    client.force_login(county_reviewer)
    rows = client.get(reverse("cases:list")).context["page"]["rows"]
    assert {case.pk for case in rows} == {one.pk, two.pk, three.pk}


def test_the_check_runs_a_fixed_number_of_queries(tmp_path, administrator, homes):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for rows in (good_rows(homes)[:1], good_rows(homes)):
        path = write_xlsx(tmp_path / f"{len(rows)}.xlsx", rows)
        with CaptureQueriesContext(connection) as queries:
            report = cases_import(actor=administrator, path=path, dry_run=True)
        assert not report.refused, problems(report)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_an_application_cannot_claim_the_import_channel(cadre_a, household_a):
    """Only the onboarding import makes 原系统导入 cases; the service refuses it to a page or API caller."""
    from django.core.exceptions import ValidationError

    from monitoring.cases.services import case_create

    with pytest.raises(ValidationError) as refused:
        case_create(
            user=cadre_a,
            household=household_a,
            case_type="marginal",
            risk_categories=["illness"],
            channel=Channel.IMPORTED,
            description="户主患病。",
        )
    assert "原系统导入" in str(refused.value.message_dict["channel"])
    assert not MonitoringCase.objects.exists()
