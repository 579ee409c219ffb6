"""A day in the life of each role, on a phone (issue #13's acceptance): headless Chromium at 390 px doing
the real tasks through the pages, each journey with a desktop (1280 px) screenshot too.

1. The village cadre: 我的待办 → the overdue department warning → 联系 recorded → 纳入 (the warning prefills
   the application) → 承诺授权书 → 提交 → 入户核实 → 民主评议 (with the minutes scan) → 公示 → the printed
   公示名单 shows the household.
2. The township reviewer: 待办 (镇街审核) → search (POSTed, never in the URL) → 全选本页 → bulk approval
   from the bar → one case 退回补充材料 with what to supply → the village cadre sees exactly that in 我的待办
   and on the case page.
3. The county reviewer: a case at 县级审定 whose household the department lists flagged: the evidence is
   shown and pre-filled in "部门信息比对及会商研判结果"; approved, the case is 监测中.

Every page is checked for sideways scrolling and the console for errors. Screenshots go to
test-artifacts/ (journey-*.png)."""

import datetime as dt

import pytest
import time_machine

from fpr.roles import Department
from households.models import IncomeKind, Relationship
from households.services import account_items_set
from monitoring.models import (
    Channel,
    ContactOutcome,
    MonitoringCase,
    Notice,
    RiskWarning,
    Stage,
    WarningContact,
    WarningStatus,
)
from tests.browser import ARTIFACTS, DESKTOP, log_in, no_horizontal_scroll, open_page, open_phone
from tests.builders import PDF_BYTES, member_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 10:00 in Beijing on Tuesday 24 November 2026. The live server runs in a thread of this process, so
# travelling moves its clock too.
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 24)


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def log_out(page, base_url):
    page.click("text=退出登录")
    page.wait_for_url(f"{base_url}/login/")


def shot(page, name, *sections):
    """The whole page, plus the named sections on their own (a whole phone page is too tall to review);
    and the page must not scroll sideways."""
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)
    for section in sections:
        page.locator(f"#{section}").screenshot(path=str(ARTIFACTS / f"journey-{name}-{section}.png"))
    assert no_horizontal_scroll(page), name


def head_of(household):
    return household.members.get(relationship=Relationship.HEAD)


def medical_row(member, amount="60000"):
    return {"身份证号": member.id_number, "姓名": member.name, "个人自付金额": amount, "就诊机构": "大方县人民医院"}


# --------------------------------------------------------------------------- 1. the village cadre's day


def test_village_cadres_day_from_the_inbox_to_the_printed_notice(
    browser, live_server, tmp_path, cadre_a, village_a, make_household, department_upload
):
    base = live_server.url
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        household = make_household(
            user=cadre_a,
            village=village_a,
            address="光明村三组7号",
            phone="13812345678",
            members=[member_data("刘桂英"), member_data("杨国强", Relationship.SPOUSE)],
        )
        account_items_set(user=cadre_a, household=household, year=2026, incomes={IncomeKind.WAGE: "9000"})
    member = head_of(household)
    # Last month's medical-insurance list came in 50 hours ago: its warning is 2 hours past the 48.
    with time_machine.travel(NOW - dt.timedelta(hours=50), tick=False):
        department_upload([medical_row(member)], period="2026-10")
    warning = RiskWarning.objects.get(member=member)
    authorization = tmp_path / "承诺授权书.pdf"
    authorization.write_bytes(PDF_BYTES)
    minutes = tmp_path / "评议会议记录.pdf"
    minutes.write_bytes(PDF_BYTES)

    with time_machine.travel(NOW, tick=True):
        assert warning.is_overdue
        phone, errors = open_phone(browser)
        log_in(phone, base, "cadre_a")

        # 我的待办: the overdue warning comes first.
        submit(phone, 'nav.main-nav a[href="/inbox/"]')
        assert "已超时 1 项" in phone.inner_text("#inbox-counts-title")
        first = phone.locator("#inbox-items li").first
        assert first.get_attribute("data-bucket") == "overdue" and first.get_attribute("data-kind") == "warnings"
        assert "刘桂英" in first.inner_text()
        shot(phone, "cadre-1-inbox")
        with phone.expect_navigation():
            first.locator("a").click()
        assert phone.url == f"{base}/monitoring/warnings/{warning.pk}/"

        # The warning: 2 hours overdue, the household's phone in full for the cadre who must call.
        assert "已超时 2小时" in phone.inner_text("#deadline")
        assert phone.get_attribute("#household-phone a", "href") == "tel:13812345678"
        assert "尚未登记联系记录" in phone.inner_text("#contact")
        phone.check("input[name=contact-outcome][value=phoned]")
        phone.fill("#id_contact-note", "户主本人接听，称10月住院，自付费用约6万元，约定今天上门。")
        shot(phone, "cadre-2-warning", "deadline", "contact")
        submit(phone, "button:has-text('保存联系记录')")
        assert "已记录联系情况：已电话联系" in phone.inner_text(".messages")
        contact = WarningContact.objects.get(warning=warning)
        assert contact.outcome == ContactOutcome.PHONED and contact.contacted_by == cadre_a
        assert contact.contacted_at.date() == TODAY
        contacts = phone.inner_text("#contact")
        assert "已电话联系" in contacts and "王村干" in contacts and "约定今天上门" in contacts
        shot(phone, "cadre-3-contact-recorded", "deadline", "contact")

        # 纳入: the application comes prefilled from the warning.
        assert phone.is_checked("input[name=include-risk_categories][value=illness]")
        assert phone.input_value("#id_include-colour") == "red"
        assert "个人自付金额 60000" in phone.input_value("#id_include-description")
        phone.locator("#action-include").screenshot(path=str(ARTIFACTS / "journey-cadre-4-include-form.png"))
        submit(phone, "button:has-text('纳入，登记监测申请')")
        case = MonitoringCase.objects.get(household=household, is_open=True)
        assert phone.url == f"{base}/cases/{case.pk}/"
        assert "已纳入" in phone.inner_text(".messages")
        assert case.channel == Channel.DEPARTMENT_WARNING and case.stage == Stage.APPLICATION
        warning.refresh_from_db()
        assert warning.status == WarningStatus.INCLUDED and warning.case == case
        assert "部门筛查预警" in phone.inner_text(".case-tags")
        assert "未上传扫描件" in phone.inner_text("main")
        shot(phone, "cadre-5-case-application", "actions", "warnings", "classification")

        # The signed 承诺授权书, then 提交.
        submit(phone, "text=修改申请信息")
        phone.fill("#id_authorization_signed_on", TODAY.isoformat())
        phone.set_input_files("#id_authorization_scan", str(authorization))
        shot(phone, "cadre-6-authorization-form")
        submit(phone, "button:has-text('保存修改')")
        assert "申请信息已保存" in phone.inner_text(".messages")
        case.refresh_from_db()
        assert case.authorization_signed_on == TODAY and case.authorization_scan.name.endswith(".pdf")
        submit(phone, "button:has-text('提交，进入入户核实')")
        assert "案件进入“入户核实”环节" in phone.inner_text(".messages")

        # 入户核实.
        submit(phone, "text=填写入户核实记录")
        assert phone.input_value("#id_visit_date") == TODAY.isoformat()
        phone.check(f"input[name=team][value='{cadre_a.pk}']")
        phone.fill("#id_verifiers-0-name", "陈驻村")
        phone.fill("#id_verifiers-0-unit", "驻村工作队")
        phone.fill("#id_findings", "上门核实：户主10月住院属实，医保自付约6万元，家庭务工收入9000元。")
        phone.fill("#id_risk_points", "大病医疗支出大。")
        shot(phone, "cadre-7-verification-form")
        submit(phone, "button:has-text('保存核实记录')")
        assert "入户核实记录已保存" in phone.inner_text(".messages")
        submit(phone, "button:has-text('核实完成，进入民主评议')")
        case.refresh_from_db()
        assert case.stage == Stage.APPRAISAL and case.verifications.count() == 1

        # 民主评议 with the signed minutes (a PDF scan).
        submit(phone, "text=填写民主评议记录")
        roles = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
        names = ["王支书", "陈驻村", "赵党员", "钱组长", "孙代表"]
        for index, (name, role) in enumerate(zip(names, roles, strict=True)):
            phone.fill(f"#id_participants-{index}-name", name)
            phone.select_option(f"#id_participants-{index}-role", role)
        phone.fill("#id_votes_for", "5")
        phone.set_input_files("#id_minutes_scan", str(minutes))
        shot(phone, "cadre-8-appraisal-form")
        submit(phone, "button:has-text('保存评议记录')")
        assert "民主评议记录已保存" in phone.inner_text(".messages")
        appraisal = case.appraisals.get()
        assert appraisal.votes_for == 5 and appraisal.minutes_scan.name.endswith(".pdf")

        # 公示: the start date is today by default.
        assert phone.input_value("#id_start_notice-starts_on") == TODAY.isoformat()
        phone.fill("#id_start_notice-place", "光明村村务公开栏")
        shot(phone, "cadre-9-case-appraisal", "actions")
        submit(phone, "button:has-text('开始公示')")
        assert "案件进入“公示”环节" in phone.inner_text(".messages")
        case.refresh_from_db()
        notice = Notice.objects.get(case=case)
        assert case.stage == Stage.NOTICE and notice.starts_on == TODAY and notice.place == "光明村村务公开栏"
        assert "2026-11-24 至 2026-11-30" in phone.inner_text("#actions")
        shot(phone, "cadre-10-case-notice", "actions", "print")

        # The 公示名单 to post on the village board.
        submit(phone, "#print >> text=本村公示名单")
        assert "公示名单" in phone.locator("h1").inner_text()
        sheet = phone.inner_text(".print-sheet")
        assert "刘桂英" in sheet and "光明村村务公开栏" in sheet
        assert member.id_number not in phone.content() and member.id_number[-4:] in sheet
        shot(phone, "cadre-11-print-notices")
        sheet = phone.locator(".print-sheet")
        sheet.evaluate("sheet => { sheet.scrollLeft = sheet.scrollWidth; }")  # the table's right-hand columns
        sheet.screenshot(path=str(ARTIFACTS / "journey-cadre-11-print-notices-scrolled.png"))
        assert errors == []

        desk, desk_errors = open_page(browser, DESKTOP)
        log_in(desk, base, "cadre_a")
        desk.goto(f"{base}/cases/{case.pk}/")
        shot(desk, "cadre-desktop-case-notice")
        assert desk_errors == []


# --------------------------------------------------------------------------- 2. the township reviewer's day


@pytest.fixture
def township_world(make_household, open_case, walker, cadre_a, village_a):
    """Three cases of village A waiting for the township, entered on the 18th, 19th and 20th: two of
    households whose heads are called 刘…, one of 陈明."""
    cases = {}
    for day, name in ((18, "刘大山"), (19, "陈明"), (20, "刘小山")):
        with time_machine.travel(dt.datetime(2026, 11, 5, 2, tzinfo=dt.UTC), tick=False):
            household = make_household(
                user=cadre_a, village=village_a, members=[member_data(name), member_data("某某", Relationship.SPOUSE)]
            )
            case = walker.to_notice(open_case(user=cadre_a, household=household))
        with time_machine.travel(dt.datetime(2026, 11, day, 2, tzinfo=dt.UTC), tick=False):
            walker.fire(case, "submit_to_township", cadre_a)
        cases[name] = case
    return cases


def test_township_reviewers_day_bulk_approval_and_a_return_for_materials(
    browser, live_server, township_world, township_reviewer, cadre_a
):
    base = live_server.url
    liu_big, chen, liu_small = township_world["刘大山"], township_world["陈明"], township_world["刘小山"]
    asked = "请补充户主住院发票和医保结算单复印件。"

    with time_machine.travel(NOW, tick=True):
        phone, errors = open_phone(browser)
        log_in(phone, base, "township")
        submit(phone, 'nav.main-nav a[href="/cases/queue/"]')
        rows = phone.locator("table.cases-table tbody tr")
        assert rows.count() == 3
        assert all("镇街审核" in rows.nth(i).inner_text() for i in range(3))
        shot(phone, "township-1-queue")

        # The search POSTs: the words come back as a token, never in the address bar.
        phone.fill("#id_q", "刘")
        submit(phone, "form.filters button:has-text('查询')")
        assert "?s=" in phone.url and "%E5%88%98" not in phone.url and "刘" not in phone.url
        assert phone.input_value("#id_q") == "刘"
        assert rows.count() == 2
        found = phone.inner_text("table.cases-table tbody")
        assert "刘大山" in found and "刘小山" in found and "陈明" not in found

        # 全选本页 in the bar at the bottom of the screen, one opinion, one tap.
        bar = phone.locator(".bulk__buttons")
        assert bar.is_visible()
        assert bar.bounding_box()["y"] + bar.bounding_box()["height"] >= phone.viewport_size["height"] - 1
        phone.check(".bulk__all [data-select-all]")
        assert phone.inner_text(".bulk__all [data-selected-count]") == "2"
        phone.fill("#id_opinion", "经复核，村级核实、评议和公示程序完备，情况属实，同意。")
        shot(phone, "township-2-search-selected")
        phone.locator("#id_opinion").evaluate("field => field.scrollIntoView({block: 'center'})")
        phone.screenshot(path=str(ARTIFACTS / "journey-township-2-search-selected-viewport.png"))
        submit(phone, ".bulk__buttons button:has-text('审核通过，报县级审定')")
        result = phone.inner_text("#bulk-result")
        assert "共 2 件，成功 2 件" in result and "未办理" not in result
        for case in (liu_big, liu_small):
            case.refresh_from_db()
            assert case.stage == Stage.COUNTY_APPROVAL
            assert case.events.get(transition="township_approve").actor == township_reviewer
        shot(phone, "township-3-bulk-result")

        # 陈明's case lacks papers: 退回补充材料, saying what.
        submit(phone, "form.filters >> text=清除条件")
        assert rows.count() == 1 and "陈明" in rows.first.inner_text()
        submit(phone, "table.cases-table >> text=陈明")
        assert phone.url.startswith(f"{base}/cases/{chen.pk}/")
        phone.click("#actions summary:has-text('退回补充材料')")
        phone.fill("#id_township_return-opinion", asked)
        shot(phone, "township-4-return-form", "actions")
        submit(phone, "#action-township_return button:has-text('退回补充材料')")
        assert "案件进入“补充材料”环节" in phone.inner_text(".messages")
        chen.refresh_from_db()
        assert chen.stage == Stage.SUPPLEMENT and chen.returned
        assert chen.events.get(transition="township_return").opinion == asked
        assert chen.notices.count() == 1  # no new notice is asked for
        shot(phone, "township-5-returned", "actions")
        log_out(phone, base)

        # The village cadre: 我的待办 lists the case as returned with what was asked, and so do the case
        # page and the queue row.
        log_in(phone, base, "cadre_a")
        submit(phone, 'nav.main-nav a[href="/inbox/"]')
        item = phone.locator("#inbox-items li", has_text="陈明")
        assert item.count() == 1 and "补充材料（被退回）" in item.inner_text()
        assert f"镇街退回补充材料：{asked}" in item.locator(".inbox-list__note").inner_text()
        shot(phone, "township-6-village-inbox")
        with phone.expect_navigation():
            item.locator("a").click()
        assert phone.url == f"{base}/cases/{chen.pk}/"
        request = phone.inner_text("#return-request")
        assert "镇街退回补充材料" in request and "赵审核" in request and f"须补充：{asked}" in request
        assert "无需重新入户核实、评议和公示" in request
        assert phone.locator("#actions a.record-link", has_text="修改申请信息").is_visible()
        assert phone.locator("#action-submit_supplement").is_visible()
        shot(phone, "township-7-village-case", "actions")
        submit(phone, 'nav.main-nav a[href="/cases/queue/"]')
        row = phone.locator("table.cases-table tbody tr", has_text="陈明")
        assert f"镇街退回补充材料：{asked}" in row.inner_text()
        shot(phone, "township-8-village-queue")
        assert errors == []

        desk, desk_errors = open_page(browser, DESKTOP)
        log_in(desk, base, "township")
        desk.goto(f"{base}/cases/queue/")
        assert "暂无待办" in desk.inner_text("main")
        desk.goto(f"{base}/cases/{chen.pk}/")
        shot(desk, "township-desktop-returned-case")
        assert desk_errors == []


# --------------------------------------------------------------------------- 3. the county reviewer


def test_county_reviewer_approves_with_the_department_evidence_prefilled(
    browser, live_server, make_household, open_case, walker, cadre_a, village_a, county_reviewer, department_upload
):
    base = live_server.url
    with time_machine.travel(dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC), tick=False):
        household_a = make_household(user=cadre_a, village=village_a)
        case_a = open_case(user=cadre_a, household=household_a)
    member = head_of(household_a)
    vehicle = {"身份证号": member.id_number, "姓名": member.name, "号牌号码": "贵F·12345", "车辆类型": "小型轿车"}
    with time_machine.travel(NOW - dt.timedelta(days=20), tick=False):
        assert department_upload([medical_row(member)], period="2026-10").status == "done"
        assert department_upload([vehicle], department=Department.VEHICLES, period="2026-10").status == "done"
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        walker.to_county(case_a)
    judgement = "经与医保、车管部门会商：车辆为2015年购置的旧车，不影响认定，同意纳入。"

    with time_machine.travel(NOW, tick=True):
        phone, errors = open_phone(browser)
        log_in(phone, base, "county")
        submit(phone, 'nav.main-nav a[href="/cases/queue/"]')
        row = phone.locator("table.cases-table tbody tr", has_text=household_a.number)
        assert "县级审定" in row.inner_text()
        shot(phone, "county-1-queue")
        submit(phone, f"table.cases-table >> text={household_a.number}")
        assert phone.url == f"{base}/cases/{case_a.pk}/"

        evidence = phone.inner_text("#department-evidence")
        assert "医保" in evidence and "车管" in evidence and "2026-10" in evidence
        assert "资产信息：小型轿车" in evidence or "资产信息：车辆" in evidence
        prefilled = phone.input_value("#id_county_approve-comparison")
        assert "已与" in prefilled and "医保（2026-10）" in prefilled and "车管（2026-10）" in prefilled
        assert f"本户风险预警1条：2026-10 医保·大额医疗费用个人自付（{member.name}，红色，" in prefilled
        assert "资产信息1条：2026-10 车管·" in prefilled and prefilled.endswith("会商研判：")
        # The whole pre-filled text is in view, not hidden in a three-line box.
        box = phone.locator("#id_county_approve-comparison")
        assert box.evaluate("box => box.scrollHeight <= box.clientHeight + 1")
        shot(phone, "county-2-case", "department-evidence", "actions")

        phone.fill("#id_county_approve-opinion", "同意确定为监测对象。")
        phone.locator("#id_county_approve-comparison").press("Control+End")
        phone.locator("#id_county_approve-comparison").type(judgement)
        submit(phone, "button:has-text('审定通过，纳入监测')")
        assert "案件进入“监测中”环节" in phone.inner_text(".messages")
        case_a.refresh_from_db()
        assert case_a.stage == Stage.MONITORING and case_a.identified_on == TODAY
        event = case_a.events.get(transition="county_approve")
        assert event.data["comparison"] == prefilled + judgement and event.actor == county_reviewer
        assert phone.url.startswith(f"{base}/cases/{case_a.pk}/")
        assert "当前环节 监测中" in " ".join(phone.inner_text(".stage-now").split())
        timeline = phone.inner_text("#timeline")
        assert "县级审定，确定为监测对象" in timeline and judgement in timeline
        shot(phone, "county-3-monitoring", "actions", "timeline")
        assert errors == []

        desk, desk_errors = open_page(browser, DESKTOP)
        log_in(desk, base, "county")
        desk.goto(f"{base}/cases/{case_a.pk}/")
        shot(desk, "county-desktop-monitoring")
        assert desk_errors == []
