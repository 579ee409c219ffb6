"""Excel exports: the 监测对象台账 and the standard forms, opened back with openpyxl and checked cell by cell
(title, merged headers, values, totals, masking, formats, frozen panes, print setup); scoping; the export
log; the background ledger on a real Celery worker; formula injection. Data is built through the real
services (conftest's walker and make_monitored)."""

import datetime as dt
import io
import time
from decimal import Decimal

import pytest
import time_machine
from django.http import QueryDict
from openpyxl import load_workbook

from assistance.models import Effect, MeasureStatus
from assistance.services import measure_add
from households.models import Health, Relationship
from households.services import member_create
from reports.exports.ledger import COLUMNS
from reports.exports.runner import export_start
from reports.models import Export, ExportKind, ExportStatus
from tests.builders import CaseWalker, member_data

TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
INJECTION = "=cmd|' /C calc'!A0"
COL = {column.header: index for index, column in enumerate(COLUMNS, start=1)}  # header → 1-based column


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def data(clock, open_case, household_a, make_household, make_monitored, cadre_a, cadre_b, village_a, village_b):
    """Village A: a monitoring object that meets the elimination standard (two risks, two measures, one
    of them 1,500.50 yuan) and an application whose household address is a formula; village B: an
    application."""
    case = open_case(user=cadre_a, household=household_a, risk_categories=["illness", "schooling"], colour="orange")
    monitored = make_monitored(case)
    measure_add(
        user=cadre_a,
        plan=monitored.plan,
        category="health",
        risk_category="illness",
        description="大病救助",
        amount=Decimal("1500.50"),
        starts_on=dt.date(2026, 7, 1),
        status=MeasureStatus.DONE,
        effect=Effect.CLEAR,
    )
    injected = open_case(
        user=cadre_a,
        household=make_household(user=cadre_a, village=village_a, address=INJECTION),
        case_type="sudden_hardship",
    )
    other = open_case(user=cadre_b, household=make_household(user=cadre_b, village=village_b, address="红岩村二组3号"))
    return {"monitored": monitored, "injected": injected, "other": other}


def ledger(user, division, full_ids=True, **filters):
    export = export_start(
        user=user, kind=ExportKind.LEDGER, division=division, filters=filters, background=False, full_ids=full_ids
    )
    return export, load_workbook(export.file.path).active


def rows_by_number(sheet) -> dict[str, tuple]:
    rows = {}
    for row in sheet.iter_rows(min_row=5):
        if row[0].value == "合计":
            break
        rows[row[COL["户编号"] - 1].value] = row
    return rows


def head_id(case) -> str:
    return case.household.members.get(relationship=Relationship.HEAD).id_number


def download(client, user, url):
    """The standard forms are POST only (they write a file and a log row): the query becomes the form."""
    client.force_login(user)
    path, _, query = url.partition("?")
    response = client.post(path, QueryDict(query))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def find(sheet, text):
    """The first cell whose value is exactly `text`."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell
    raise AssertionError(f"{text!r} not on the sheet")


def right_of(sheet, text, step=1):
    cell = find(sheet, text)
    return sheet.cell(row=cell.row, column=cell.column + step).value


def below(sheet, text, step=1):
    cell = find(sheet, text)
    return sheet.cell(row=cell.row + step, column=cell.column)


# --------------------------------------------------------------------------- the ledger


def test_ledger_cell_by_cell_for_an_administrator(data, administrator, divisions):
    export, sheet = ledger(administrator, divisions["520521000000"], year=2026)
    monitored = data["monitored"]

    assert sheet["A1"].value == "大方县防止返贫监测对象台账"
    assert sheet["A2"].value.startswith("范围：大方县　收入年度：2026年　筛选：全部　导出：孙管理 2026-11-23 10:00")
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:Y1", "A2:Y2", "A3:A4", "B3:B4", "O3:O4", "P3:U3", "V3:V4", "Y3:Y4"} <= merged
    assert "P4:P4" not in merged and "P3:P4" not in merged
    assert [sheet.cell(row=3, column=c).value for c in (1, 2, 6, 16)] == [
        "序号",
        "户编号",
        "户主身份证号",
        "收入情况（元）",
    ]
    assert [sheet.cell(row=4, column=c).value for c in range(16, 22)] == [
        "工资性收入",
        "生产经营性净收入",
        "财产性收入",
        "转移性收入",
        "家庭纯收入",
        "人均纯收入",
    ]
    assert sheet.cell(row=4, column=1).value is None  # under the merged 序号
    assert sheet.freeze_panes == "C5"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.column_dimensions["F"].width > 20

    rows = rows_by_number(sheet)
    assert len(rows) == 3
    row = {header: rows[monitored.household.number][index - 1] for header, index in COL.items()}
    values = {header: cell.value for header, cell in row.items()}
    assert values["乡镇"] == "羊场镇" and values["村"] == "光明村" and values["户主姓名"] == "张三"
    assert values["户主身份证号"] == head_id(monitored)  # administrators hold households.view_sensitive
    assert values["家庭人口"] == 2 and values["监测对象类型"] == "边缘易致贫户"
    assert values["风险类型"] == "因病、因学" and values["风险等级"] == "橙色" and values["当前环节"] == "监测中"
    assert values["发现渠道"] == "农户自主申报" and values["结对帮扶干部"] == "王村干"
    assert values["识别纳入日期"].date() == dt.date(2026, 11, 23) and values["风险消除日期"] is None
    assert row["识别纳入日期"].number_format == "yyyy-mm-dd"
    # 2026: wage 18,000 + 地力补贴 600 (转移性) for two people — as households.selectors.income_summary says.
    assert (values["工资性收入"], values["转移性收入"], values["家庭纯收入"], values["人均纯收入"]) == (
        18000,
        600,
        18600,
        9300,
    )
    assert values["生产经营性净收入"] == 0 and values["监测范围（元/人）"] == 7300
    assert row["人均纯收入"].number_format == "#,##0.00"
    assert (values["帮扶措施（项）"], values["帮扶资金（元）"]) == (2, 1500.5)
    assert rows[data["other"].household.number][COL["村"] - 1].value == "红岩村"

    totals = sheet.cell(row=5 + 3, column=1).row
    total = {header: sheet.cell(row=totals, column=index).value for header, index in COL.items()}
    assert (total["序号"], total["户编号"], total["家庭人口"]) == ("合计", "共3户", 6)
    # The two applications' households have 9,000 wage each (open_case): 18,000 + 9,000 + 9,000.
    assert total["工资性收入"] == 36000 and total["家庭纯收入"] == 36600
    assert (total["帮扶措施（项）"], total["帮扶资金（元）"]) == (2, 1500.5)
    assert sheet.cell(row=totals, column=COL["家庭纯收入"]).font.bold
    assert (export.rows_written, export.rows_total, export.status, export.unmasked) == (3, 3, ExportStatus.DONE, True)


def test_ledger_masks_ids_for_a_township_reviewer_and_not_for_a_county_reviewer(
    data, township_reviewer, county_reviewer, divisions
):
    number = data["monitored"].household.number
    full = head_id(data["monitored"])
    export, sheet = ledger(township_reviewer, divisions["520521100000"], year=2026)
    assert export.unmasked is False
    assert rows_by_number(sheet)[number][COL["户主身份证号"] - 1].value == full[:4] + "*" * 10 + full[-4:]
    export, sheet = ledger(county_reviewer, divisions["520521000000"], year=2026)
    assert export.unmasked is True
    assert rows_by_number(sheet)[number][COL["户主身份证号"] - 1].value == full
    # Masked unless asked for, even for a county reviewer.
    export, sheet = ledger(county_reviewer, divisions["520521000000"], full_ids=False, year=2026)
    assert export.unmasked is False
    assert rows_by_number(sheet)[number][COL["户主身份证号"] - 1].value == full[:4] + "*" * 10 + full[-4:]


def test_ledger_of_a_village_cadre_holds_only_their_village(data, cadre_a, cadre_b, village_a, village_b):
    _, sheet = ledger(cadre_a, village_a, year=2026)
    assert {row[COL["村"] - 1].value for row in rows_by_number(sheet).values()} == {"光明村"}
    assert len(rows_by_number(sheet)) == 2
    # Asking for the other village's code changes nothing: the scope is the user's, not the filter's.
    _, sheet = ledger(cadre_a, village_a, village=village_b.code, year=2026)
    assert rows_by_number(sheet) == {}
    assert sheet.cell(row=5, column=2).value == "共0户"
    _, sheet = ledger(cadre_b, village_b, year=2026)
    assert list(rows_by_number(sheet)) == [data["other"].household.number]


def test_ledger_filters_by_area_type_risk_colour_stage_and_identification_dates(data, administrator, divisions):
    county = divisions["520521000000"]
    monitored, injected, other = data["monitored"], data["injected"], data["other"]

    def numbers(**filters):
        return set(rows_by_number(ledger(administrator, county, year=2026, **filters)[1]))

    assert numbers(village="520521100001") == {monitored.household.number, injected.household.number}
    assert numbers(village="520521100000") == {
        monitored.household.number,
        injected.household.number,
        other.household.number,
    }
    assert numbers(village="520521101000") == set()  # 黄泥塘镇, another township
    assert numbers(village="520521100002") == {other.household.number}
    assert numbers(case_type="sudden_hardship") == {injected.household.number}
    assert numbers(risk="schooling") == {monitored.household.number}
    assert numbers(colour="orange") == {monitored.household.number}
    assert numbers(stage="application") == {injected.household.number, other.household.number}
    assert numbers(identified_from="2026-11-01", identified_to="2026-11-30") == {monitored.household.number}
    assert numbers(identified_to="2026-10-31") == set()
    _, sheet = ledger(administrator, county, risk="schooling", year=2026)
    assert "风险：因学" in sheet["A2"].value


def test_ledger_income_columns_follow_the_chosen_year(data, administrator, divisions):
    _, sheet = ledger(administrator, divisions["520521000000"], year=2025)
    row = rows_by_number(sheet)[data["monitored"].household.number]
    assert row[COL["工资性收入"] - 1].value is None and row[COL["人均纯收入"] - 1].value is None
    assert row[COL["监测范围（元/人）"] - 1].value == 7000  # the 2025 line
    assert "收入年度：2025年" in sheet["A2"].value


def test_a_formula_in_a_household_address_comes_out_inert(data, administrator, divisions, client):
    _, sheet = ledger(administrator, divisions["520521000000"], year=2026)
    cell = rows_by_number(sheet)[data["injected"].household.number][COL["家庭住址"] - 1]
    assert cell.value == "'" + INJECTION and cell.data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    form = download(client, administrator, f"/reports/cases/{data['injected'].pk}/forms/collection/")
    assert right_of(form, "家庭住址") == "'" + INJECTION
    assert all(c.data_type != "f" for row in form.iter_rows() for c in row)


# --------------------------------------------------------------------------- the standard forms


def test_collection_form_shows_household_members_income_as_collected_and_guarantees(
    data, township_reviewer, cadre_a, client
):
    case = data["monitored"]
    member_create(
        user=cadre_a,
        household=case.household,
        data=member_data("张小明", Relationship.SON, health=Health.SERIOUS, illness="白血病"),
    )
    sheet = download(client, township_reviewer, f"/reports/cases/{case.pk}/forms/collection/")
    assert sheet.title == "信息采集表" and sheet["A1"].value == "防止返贫监测对象信息采集表"
    assert sheet["A2"].value.startswith(f"羊场镇 光明村　户编号：{case.household.number}")
    assert right_of(sheet, "户主姓名") == "张三"
    full = head_id(case)
    assert right_of(sheet, "身份证号") == full[:4] + "*" * 10 + full[-4:]  # a township reviewer sees it masked
    assert right_of(sheet, "家庭人口") == "3人" and right_of(sheet, "风险类型") == "因病、因学"
    # Members table: one row per member, ID numbers masked too.
    name = find(sheet, "张小明")
    member_row = [sheet.cell(row=name.row, column=c).value for c in range(1, 14)]
    assert member_row[0] == 3 and member_row[4] == "子" and member_row[5] == "大病（白血病）"
    assert "*" * 10 in member_row[3]
    # Income as the verification team collected it (wage 9,000 then), under the merged group header.
    group = find(sheet, "家庭收入情况（元）")
    assert f"{group.coordinate}:{sheet.cell(row=group.row, column=group.column + 6).coordinate}" in {
        str(r) for r in sheet.merged_cells.ranges
    }
    wage = below(sheet, "工资性收入")
    assert wage.value == 9000 and wage.number_format == "#,##0.00"
    assert below(sheet, "人均纯收入", 2).value == 4500  # a column without a group spans both header rows
    assert below(sheet, "是否高于监测范围", 2).value == "否"
    section = next(c.value for row in sheet.iter_rows() for c in row if str(c.value).startswith("三、"))
    assert section == "三、2026年家庭收入情况（元）　入户核实日期：2026-11-02"
    # 转移性收入明细 lists 耕地地力保护补贴 and 生态补偿金 (seeds/002: a cadre was fined for forgetting them).
    assert below(sheet, "耕地地力保护补贴").value == 600 and below(sheet, "生态补偿金").value == 0
    assert right_of(sheet, "不愁吃") == "是" and right_of(sheet, "饮水安全有保障") == "是"
    assert right_of(sheet, "风险点", 2) == "大病自付费用高"
    assert right_of(sheet, "核实人员", 2) == "王村干、陈驻村（驻村工作队）"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.print_title_rows == "$1:$2"
    export = Export.objects.get(kind=ExportKind.COLLECTION_FORM)
    assert (export.user, export.filters, export.unmasked) == (
        township_reviewer,
        {"case": case.pk, "household": case.household.number},
        False,
    )


def test_collection_form_shows_full_ids_to_a_county_reviewer_who_asks(data, county_reviewer, client):
    case = data["monitored"]
    sheet = download(client, county_reviewer, f"/reports/cases/{case.pk}/forms/collection/?full=1")
    assert right_of(sheet, "身份证号") == head_id(case)
    masked = download(client, county_reviewer, f"/reports/cases/{case.pk}/forms/collection/")
    assert right_of(masked, "身份证号") != head_id(case) and "*" in right_of(masked, "身份证号")


def test_approval_form_lists_the_six_steps_with_dates_people_and_opinions(data, township_reviewer, client):
    case = data["monitored"]
    sheet = download(client, township_reviewer, f"/reports/cases/{case.pk}/forms/approval/")
    assert sheet["A1"].value == "防止返贫监测对象识别审批表"
    assert sheet.page_setup.orientation == "portrait"
    header = find(sheet, "环节")
    assert [sheet.cell(row=header.row, column=c).value for c in (1, 2, 3, 5)] == [
        "环节",
        "日期",
        "经办人/参与人员",
        "意见/结果",
    ]
    assert sheet.print_title_rows == f"${header.row}:${header.row}"
    steps = [sheet.cell(row=header.row + i, column=1).value for i in range(1, 7)]
    assert steps == ["提交申请", "入户核实", "民主评议", "公示（7天）", "镇街审核", "县级审定"]
    row = {step: [sheet.cell(row=header.row + i, column=c).value for c in (2, 3, 5)] for i, step in enumerate(steps, 1)}
    assert "承诺授权书签署日期：2026-11-01" in row["提交申请"][2]
    assert row["入户核实"][0].date() == dt.date(2026, 11, 2) and row["入户核实"][1] == "王村干、陈驻村（驻村工作队）"
    assert row["民主评议"][0].date() == dt.date(2026, 11, 3) and "同意5票" in row["民主评议"][2]
    assert row["公示（7天）"][0].date() == dt.date(2026, 11, 4) and "公示期内无异议" in row["公示（7天）"][2]
    assert row["镇街审核"][1].startswith("赵审核") and "经复核，情况属实，同意纳入。" in row["镇街审核"][2]
    assert row["县级审定"][0].date() == dt.date(2026, 11, 23)
    assert "部门信息比对及会商研判结果：部门比对无异常" in row["县级审定"][2]
    assert sheet.cell(row=header.row + 1, column=2).number_format == "yyyy-mm-dd"
    assert right_of(sheet, "审批结果") == "确定为监测对象"


def test_measures_form_groups_measures_by_risk_with_subtotals_and_a_total(data, administrator, client):
    case = data["monitored"]
    sheet = download(client, administrator, f"/reports/cases/{case.pk}/forms/measures/")
    assert sheet["A1"].value == "防止返贫监测对象帮扶措施落实情况表"
    assert right_of(sheet, "结对帮扶干部") == "王村干"
    header = find(sheet, "针对风险")
    table = [[sheet.cell(row=r, column=c).value for c in range(1, 12)] for r in range(header.row + 1, header.row + 6)]
    assert [r[1] for r in table[:4]] == ["因病", "因病", "因病", "因学"]
    assert table[0][2] == "就业帮扶" and table[1][2] == "健康帮扶" and table[1][5] == 1500.5
    assert table[2][2] == "小计" and table[2][3] == "2项" and table[2][5] == 1500.5
    assert table[3][2] == "小计" and table[3][3] == "无帮扶措施（缺什么补什么）" and table[3][5] == 0
    assert table[4][0] == "合计" and table[4][2] == "共2项" and table[4][5] == 1500.5
    assert sheet.cell(row=header.row + 5, column=6).font.bold
    assert sheet.cell(row=header.row + 2, column=6).number_format == "#,##0.00"
    assert sheet.cell(row=header.row + 1, column=7).value.date() == dt.date(2026, 6, 1)
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert f"D{header.row}:E{header.row}" in merged  # 措施内容 spans two columns


def test_elimination_form_lists_the_nine_rules_with_data_and_verdict(data, administrator, cadre_a, client):
    case = data["monitored"]
    sheet = download(client, administrator, f"/reports/cases/{case.pk}/forms/elimination/")
    assert sheet["A1"].value == "防止返贫监测对象风险消除评估表"
    header = find(sheet, "评估内容")
    rules = [[sheet.cell(row=header.row + i, column=c).value for c in (1, 2, 4, 8)] for i in range(1, 10)]
    assert [r[0] for r in rules] == list(range(1, 10))
    # Each rule as the condition that must hold (issue #13), under a heading naming all nine.
    assert rules[0][1] == "“三保障”和饮水安全已稳定实现" and all(r[3] == "符合" for r in rules)
    assert find(sheet, "二、风险消除标准评估（共9项：“七个不消”及风险消除标准、帮扶措施录入）")
    assert rules[8][2] == "2026年人均纯收入9300.00元，监测范围7300.00元"
    assert right_of(sheet, "评估结论") == "符合风险消除标准"
    assert below(sheet, "人均纯收入", 2).value == 9300  # income table under its two-row header

    member_create(
        user=cadre_a,
        household=case.household,
        data=member_data("张小明", Relationship.SON, health=Health.SERIOUS, illness="尿毒症"),
    )
    sheet = download(client, administrator, f"/reports/cases/{case.pk}/forms/elimination/")
    hardship = find(sheet, "家中没有大病重病患者等特殊困难人口")
    assert sheet.cell(row=hardship.row, column=8).value == "不符合"
    assert "成员 张小明 患大病（尿毒症），属于特殊困难人口，暂不消除。" in sheet.cell(row=hardship.row, column=6).value
    assert right_of(sheet, "评估结论").startswith("不符合风险消除标准（")


def test_quarterly_risk_form_lists_the_townships_monitoring_objects_with_totals(
    data, township_reviewer, cadre_a, county_reviewer, client, make_household, open_case, village_a
):
    walker = CaseWalker(cadre_a, township_reviewer, county_reviewer)
    second = walker.to_monitoring(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
    sheet = download(client, township_reviewer, "/reports/quarterly/?township=520521100000&year=2026&quarter=4")
    assert sheet["A1"].value == "大方县羊场镇防返贫致贫监测对象风险评估表（2026年第4季度）"
    assert "统计期间：2026-10-01 至 2026-12-31" in sheet["A2"].value
    header = find(sheet, "帮扶措施")
    assert str(next(r for r in sheet.merged_cells.ranges if header.coordinate in r)) == "J3:L3"
    assert sheet.print_title_rows == "$3:$4" and sheet.freeze_panes == "D5"
    rows = {sheet.cell(row=r, column=3).value: r for r in range(5, 7)}
    assert set(rows) == {data["monitored"].household.number, second.household.number}
    first = [sheet.cell(row=rows[data["monitored"].household.number], column=c).value for c in range(1, 18)]
    assert first[5] == 2 and first[7] == "因病、因学" and first[9] == "就业帮扶、健康帮扶" and first[10] == 2
    assert first[11] == 1500.5 and first[12] == 9300 and first[14] == "橙色"
    assert first[16] == "符合风险消除标准，拟提出风险消除"
    other = [sheet.cell(row=rows[second.household.number], column=c).value for c in range(1, 18)]
    assert other[16] == "继续落实帮扶措施" and "没有制定并实施“一户一策”帮扶计划" in other[15]
    assert "*" * 10 in first[4]
    totals = [sheet.cell(row=7, column=c).value for c in range(1, 18)]
    assert (totals[0], totals[2], totals[5], totals[10], totals[11]) == ("合计", "共2户", 4, 2, 1500.5)
    assert "拟提出风险消除1户" in sheet.cell(row=8, column=1).value
    export = Export.objects.get(kind=ExportKind.QUARTERLY_RISK)
    assert export.filters == {"township": "520521100000", "year": 2026, "quarter": 4}
    assert export.division_id == "520521100000"
    # The third quarter ended before anyone here was identified.
    sheet = download(client, township_reviewer, "/reports/quarterly/?township=520521100000&year=2026&quarter=3")
    assert sheet.cell(row=5, column=1).value == "合计" and sheet.cell(row=5, column=3).value == "共0户"


# --------------------------------------------------------------------------- scoping and the log


def test_approval_form_shows_a_township_return_for_verification(
    data, township_reviewer, county_reviewer, cadre_a, client, open_case, make_household, village_a
):
    walker = CaseWalker(cadre_a, township_reviewer, county_reviewer)
    case = walker.to_township(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))
    walker.fire(case, "township_verification_return", township_reviewer, opinion="收入测算缺少生态补偿金")
    sheet = download(client, township_reviewer, f"/reports/cases/{case.pk}/forms/approval/")
    header = find(sheet, "环节")
    rows = {
        sheet.cell(row=header.row + i, column=1).value: sheet.cell(row=header.row + i, column=5).value
        for i in range(1, 7)
    }
    assert rows["镇街审核"] == "镇街退回重新入户核实。意见：收入测算缺少生态补偿金"


@pytest.mark.parametrize("form", ["collection", "approval", "measures", "elimination"])
def test_a_cadre_of_another_village_cannot_export_the_case_forms(data, cadre_b, client, form):
    client.force_login(cadre_b)
    assert client.post(f"/reports/cases/{data['monitored'].pk}/forms/{form}/").status_code == 404
    assert not Export.objects.exists()


def test_a_reviewer_cannot_export_another_townships_quarterly_form(data, divisions, client):
    from fpr.roles import Role
    from tests.builders import make_user

    other = make_user("township2", divisions["520521101000"], Role.TOWNSHIP_REVIEWER)
    client.force_login(other)
    response = client.post("/reports/quarterly/", {"township": "520521100000", "year": 2026, "quarter": 4})
    assert response.status_code == 302 and response["Location"] == "/reports/ledger/"
    assert not Export.objects.exists()


def test_a_department_officer_cannot_export_the_ledger(data, department_officer, client):
    client.force_login(department_officer)
    assert client.get("/reports/ledger/").status_code == 403
    assert client.post("/reports/ledger/", {"year": 2026}).status_code == 403


def test_every_export_is_logged_and_listed_for_the_administrator(data, administrator, cadre_a, client, village_a):
    case = data["monitored"]
    ledger(cadre_a, village_a, case_type="marginal", year=2026)
    download(client, administrator, f"/reports/cases/{case.pk}/forms/approval/")
    log = list(Export.objects.order_by("id").values_list("kind", "user__username", "filters", "division_id"))
    assert log == [
        (ExportKind.LEDGER, "cadre_a", {"case_type": "marginal", "year": 2026}, village_a.code),
        (ExportKind.APPROVAL_FORM, "admin_user", {"case": case.pk, "household": case.household.number}, village_a.code),
    ]
    page = client.get("/reports/exports/").content.decode()
    assert page.count('<td data-label="导出内容">') == 2 and "类型：边缘易致贫户" in page
    assert '<td data-label="导出内容">识别审批表</td>' in page
    # A cadre sees only their own exports.
    client.force_login(cadre_a)
    page = client.get("/reports/exports/").content.decode()
    assert page.count('<td data-label="导出内容">') == 1 and '<td data-label="导出内容">监测对象台账</td>' in page


def test_the_export_log_names_the_case_the_township_and_the_quarter_not_their_keys(
    data, administrator, township_reviewer, client
):
    case = data["monitored"]
    download(client, administrator, f"/reports/cases/{case.pk}/forms/approval/")
    download(client, administrator, "/reports/quarterly/?township=520521100000&year=2026&quarter=4")
    client.force_login(administrator)
    page = client.get("/reports/exports/").content.decode()
    assert f"案件：{case.household.number} 的监测案件（#{case.pk}）" in page
    assert "乡镇：羊场镇" in page and "季度：第4季度" in page and "年度：2026年" in page
    assert f"case={case.pk}" not in page and "township=520521100000" not in page


def test_the_export_log_costs_the_same_queries_for_1_or_6_exports(data, administrator, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = data["monitored"]
    download(client, administrator, f"/reports/cases/{case.pk}/forms/approval/")
    client.get("/reports/exports/")
    with CaptureQueriesContext(connection) as one:
        client.get("/reports/exports/")
    for quarter in (1, 2, 3, 4):
        download(client, administrator, f"/reports/quarterly/?township=520521100000&year=2026&quarter={quarter}")
    download(client, administrator, f"/reports/cases/{data['injected'].pk}/forms/collection/")
    with CaptureQueriesContext(connection) as six:
        client.get("/reports/exports/")
    assert len(six) == len(one) + 1  # the divisions named, once: the cases were already looked up


def test_the_ledger_page_offers_full_ids_once_and_no_search_box(data, administrator, client):
    client.force_login(administrator)
    page = client.get("/reports/ledger/").content.decode()
    assert page.count("导出完整身份证号") == 1 and page.count('name="full_ids"') == 1
    assert 'name="q"' not in page.split('id="ledger-form"', 1)[1].split("</form>", 1)[0]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 12, 4), (2026, 4)),  # inside a quarter: its own monitoring objects
        (dt.date(2026, 11, 23), (2026, 4)),
        (dt.date(2026, 10, 5), (2026, 3)),  # the reporting window: due by the 5th after the quarter
        (dt.date(2026, 10, 6), (2026, 4)),
        (dt.date(2027, 1, 3), (2026, 4)),
        (dt.date(2026, 4, 1), (2026, 1)),
    ],
)
def test_the_quarterly_form_defaults_to_the_current_quarter_except_in_the_reporting_window(today, expected):
    from reports.exports.forms import default_quarter

    assert default_quarter(today) == expected


def test_the_ledger_page_offers_the_quarter_that_holds_this_quarters_monitoring_objects(
    data, township_reviewer, client
):
    client.force_login(township_reviewer)
    form = client.get("/reports/ledger/").content.decode().split('id="quarterly-form"', 1)[1]
    assert 'name="year" value="2026"' in form and '<option value="4" selected>' in form
    sheet = download(client, township_reviewer, "/reports/quarterly/?township=520521100000&year=2026&quarter=4")
    assert sheet.cell(row=5, column=3).value == data["monitored"].household.number  # not "共0户"


def test_case_page_offers_the_forms_and_case_list_carries_its_filters_to_the_ledger(data, cadre_a, client):
    client.force_login(cadre_a)
    page = client.get(f"/cases/{data['monitored'].pk}/").content.decode()
    for form in ("collection", "approval", "measures", "elimination"):
        assert f"/reports/cases/{data['monitored'].pk}/forms/{form}/" in page
    page = client.get("/cases/?case_type=marginal&risk=illness").content.decode()
    assert 'href="/reports/ledger/?case_type=marginal&amp;risk=illness"' in page
    page = client.get("/reports/ledger/?case_type=marginal&risk=illness").content.decode()
    assert '<option value="marginal" selected>' in page and '<option value="illness" selected>' in page


def test_export_status_page_is_the_owners_only(data, cadre_a, cadre_b, village_a, client):
    export, _ = ledger(cadre_a, village_a, year=2026)
    client.force_login(cadre_b)
    assert client.get(f"/reports/exports/{export.pk}/").status_code == 404
    client.force_login(cadre_a)
    page = client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert "已完成" in page and f"/reports/exports/{export.pk}/download/" in page and "http-equiv" not in page


# --------------------------------------------------------------------------- the background ledger


@pytest.mark.django_db(transaction=True)
def test_the_ledger_runs_as_a_background_export_on_a_real_worker(
    celery_worker_process, settings, client, administrator, cadre_a, village_a, make_household, open_case
):
    settings.MEDIA_ROOT = celery_worker_process.media_root
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    with time_machine.travel(TODAY, tick=True):
        for _ in range(3):
            open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))
    client.force_login(administrator)
    response = client.post("/reports/ledger/", {"village": village_a.code, "case_type": "marginal", "year": 2026})
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/exports/{export.pk}/"
    waiting = client.get(response["Location"]).content.decode()
    # The page asks a small JSON for its progress (poll.js), not a reload every 2 s.
    assert "data-poll=" in waiting and "js/poll.js" in waiting and '<noscript><meta http-equiv="refresh"' in waiting
    polled = client.get(response["Location"] + "?format=json").json()
    assert set(polled) == {"done", "status", "figures"} and set(polled["figures"]) == {"rows_written", "percent"}

    deadline = time.monotonic() + 60  # the worker runs in real time
    while (export := Export.objects.get()).status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        assert time.monotonic() < deadline, "the ledger export did not finish"
        time.sleep(0.2)
    assert export.status == ExportStatus.DONE, export.error
    assert (export.rows_written, export.rows_total, export.filters) == (
        3,
        3,
        {"village": village_a.code, "case_type": "marginal", "year": 2026},
    )
    page = client.get(f"/reports/exports/{export.pk}/").content.decode()
    assert "下载 Excel 文件" in page
    response = client.get(f"/reports/exports/{export.pk}/download/")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A1"].value == "光明村防止返贫监测对象台账"
    assert len(rows_by_number(sheet)) == 3 and sheet.cell(row=8, column=2).value == "共3户"
