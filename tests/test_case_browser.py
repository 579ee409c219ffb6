"""One case's journey through 识别程序 in headless Chromium, the way the users make it: the village cadre on
a phone in the field (application with the 承诺授权书 scan, verification, appraisal, notice, submission),
the township reviewer approving from the queue, the county reviewer approving on the case page; then the
timeline shows all six stages with who and when. Screenshots go to test-artifacts/ (case-*.png)."""

import datetime as dt

import pytest
import time_machine

from fpr.roles import Role
from households.models import IncomeKind
from households.services import account_items_set
from monitoring.models import MonitoringCase, Stage
from tests.browser import ARTIFACTS, DESKTOP, log_in, no_horizontal_scroll, open_page, open_phone
from tests.builders import PDF_BYTES, PNG_BYTES, make_user

# 10:00 in Beijing. The live server runs in another thread of this process: travelling patches its clock too.
TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def log_out(page, base_url):
    page.click("text=退出登录")
    page.wait_for_url(f"{base_url}/login/")


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def shot(page, name, *sections):
    """The whole page, plus the named sections on their own (a whole phone page is too tall to review)."""
    page.screenshot(path=str(ARTIFACTS / f"case-{name}.png"), full_page=True)
    for section in sections:
        page.locator(f"#{section}").screenshot(path=str(ARTIFACTS / f"case-{name}-{section}.png"))


def test_case_goes_from_application_to_county_approval(
    browser,
    live_server,
    tmp_path,
    cadre_a,
    township_reviewer,
    county_reviewer,
    household_a,
    village_a,
    make_household,
    open_case,
    walker,
):
    base = live_server.url
    scan = tmp_path / "承诺授权书.pdf"
    scan.write_bytes(PDF_BYTES)
    minutes = tmp_path / "评议会议记录.png"
    minutes.write_bytes(PNG_BYTES)

    with time_machine.travel(TODAY, tick=True):
        today = dt.date(2026, 11, 23)
        account_items_set(user=cadre_a, household=household_a, year=2026, incomes={IncomeKind.WAGE: "9000"})
        # Another household's case already waits for the township.
        other = walker.to_township(open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a)))

        # ---------------------------------------------------------------- village cadre, on a phone
        phone, phone_errors = open_phone(browser)
        log_in(phone, base, "cadre_a")
        phone.goto(f"{base}/households/{household_a.pk}/")
        phone.locator("#case-panel").screenshot(path=str(ARTIFACTS / "case-phone-household-panel.png"))
        submit(phone, "text=申请纳入监测")

        phone.check("input[name=case_type][value=marginal]")
        phone.check("input[name=risk_categories][value=illness]")
        phone.check("input[name=risk_categories][value=schooling]")
        phone.select_option("#id_channel", "cadre_screening")
        phone.select_option("#id_colour", "orange")
        phone.fill("#id_description", "户主张三患病住院，自付医疗费用较高；长子在读高中。")
        phone.fill("#id_authorization_signed_on", "2026-11-20")
        phone.set_input_files("#id_authorization_scan", str(scan))
        shot(phone, "phone-1-application-form")
        assert no_horizontal_scroll(phone)
        submit(phone, "button:has-text('保存申请')")

        case = MonitoringCase.objects.get(household=household_a, is_open=True)
        assert phone.url == f"{base}/cases/{case.pk}/"
        assert "已登记监测申请" in phone.inner_text(".messages")
        assert case.authorization_scan.name.endswith(".pdf")
        shot(phone, "phone-2-case-application", "actions")
        assert no_horizontal_scroll(phone)
        submit(phone, "button:has-text('提交，进入入户核实')")
        assert "案件进入“入户核实”环节" in phone.inner_text(".messages")

        submit(phone, "text=填写入户核实记录")
        assert phone.input_value("#id_visit_date") == today.isoformat()
        assert not phone.is_checked(f"input[name=team][value='{cadre_a.pk}']")  # nobody pre-ticked
        phone.check(f"input[name=team][value='{cadre_a.pk}']")
        phone.fill("#id_verifiers-0-name", "陈驻村")
        phone.fill("#id_verifiers-0-unit", "驻村工作队")
        phone.click("[data-add-row=verifiers]")
        assert phone.input_value("#id_verifiers-TOTAL_FORMS") == "3"
        phone.fill("#id_verifiers-2-name", "李镇干")
        phone.fill("#id_verifiers-2-unit", "羊场镇")
        phone.fill("#id_findings", "入户查看，户主住院属实，医疗自付约3万元。")
        phone.fill("#id_risk_points", "大病医疗支出大；子女就学。")
        shot(phone, "phone-3-verification-form")
        assert no_horizontal_scroll(phone)
        submit(phone, "button:has-text('保存核实记录')")
        assert "入户核实记录已保存" in phone.inner_text(".messages")
        submit(phone, "button:has-text('核实完成，进入民主评议')")

        submit(phone, "text=填写民主评议记录")
        phone.fill("#id_meeting_date", (today - dt.timedelta(days=9)).isoformat())
        roles = ["村两委成员", "驻村工作队员", "党员代表", "村民小组长", "村民代表"]
        for index, (name, role) in enumerate(
            zip(["王支书", "陈驻村", "赵党员", "钱组长", "孙代表"], roles, strict=True)
        ):
            phone.fill(f"#id_participants-{index}-name", name)
            phone.select_option(f"#id_participants-{index}-role", role)
        assert phone.inner_text("[data-row-count=participants]") == "5"
        phone.fill("#id_votes_for", "5")
        phone.set_input_files("#id_minutes_scan", str(minutes))
        shot(phone, "phone-4-appraisal-form")
        phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        phone.screenshot(path=str(ARTIFACTS / "case-phone-4-appraisal-form-viewport.png"))
        assert no_horizontal_scroll(phone)
        submit(phone, "button:has-text('保存评议记录')")
        assert "民主评议记录已保存" in phone.inner_text(".messages")

        # The notice started 8 days ago (the appraisal met the day before), so it has run its 7 days.
        phone.fill("#id_start_notice-starts_on", (today - dt.timedelta(days=8)).isoformat())
        phone.fill("#id_start_notice-place", "光明村村务公开栏")
        shot(phone, "phone-5-case-appraisal", "actions", "timeline")
        submit(phone, "button:has-text('开始公示')")
        assert "案件进入“公示”环节" in phone.inner_text(".messages")
        assert "2026-11-22 起" in phone.inner_text("#actions")
        shot(phone, "phone-6-case-notice", "actions", "objections")
        assert no_horizontal_scroll(phone)
        submit(phone, 'nav.main-nav a[href="/cases/queue/"]')
        row = phone.locator("tbody tr", has_text=household_a.number)
        assert "公示至 2026-11-21" in row.inner_text() and "可报镇街" in row.inner_text()
        shot(phone, "phone-7-village-queue")
        assert no_horizontal_scroll(phone)
        assert row.bounding_box()["height"] < 130  # a compact row, not nine labelled lines
        submit(phone, f"text={household_a.number}")
        submit(phone, "button:has-text('报镇街审核')")
        assert "案件进入“镇街审核”环节" in phone.inner_text(".messages")
        assert "本环节由镇街审核员办理" in phone.inner_text("#actions")
        log_out(phone, base)

        # The township's queue on a phone: 全选本页 and the actions in a bar at the bottom of the screen.
        log_in(phone, base, "township")
        phone.goto(f"{base}/cases/queue/")
        bar = phone.locator(".bulk__buttons")
        assert bar.is_visible() and "全选本页" in bar.inner_text()
        assert bar.bounding_box()["y"] + bar.bounding_box()["height"] >= phone.viewport_size["height"] - 1
        phone.check(".bulk__all [data-select-all]")
        assert phone.inner_text(".bulk__all [data-selected-count]") == "2"
        shot(phone, "phone-8-township-queue")
        assert no_horizontal_scroll(phone)
        log_out(phone, base)
        assert phone_errors == []

        # ---------------------------------------------------------------- township reviewer, desktop
        desk, desk_errors = open_page(browser, DESKTOP)
        log_in(desk, base, "township")
        submit(desk, 'nav.main-nav a[href="/cases/queue/"]')
        row = desk.locator("tbody tr", has_text=household_a.number)
        assert "张三" in row.inner_text() and "光明村" in row.inner_text()
        desk.check("th [data-select-all]")
        assert desk.inner_text("[data-selected-count]") == "2"
        desk.fill("#id_opinion", "经复核，村级调查和评议程序完备，情况属实，同意纳入。")
        shot(desk, "desktop-1-township-queue")
        colleague = make_user("township2", township_reviewer.division, Role.TOWNSHIP_REVIEWER, full_name="钱审核")
        walker.fire(other, "township_approve", colleague, opinion="已审")  # a colleague, meanwhile
        submit(desk, "button:has-text('审核通过，报县级审定')")
        result = desk.inner_text("#bulk-result")
        assert "共 2 件，成功 1 件，1 件未办理" in result
        assert other.household.number in result and "已被他人处理：" in result and "由钱审核（羊场镇）办理" in result
        shot(desk, "desktop-2-township-bulk-result")
        log_out(desk, base)

        # ---------------------------------------------------------------- county reviewer, desktop
        log_in(desk, base, "county")
        submit(desk, 'nav.main-nav a[href="/cases/queue/"]')
        submit(desk, f"text={household_a.number}")
        desk.fill("#id_county_approve-opinion", "同意确定为监测对象。")
        desk.fill("#id_county_approve-comparison", "民政、医保、住建、车管等部门比对无异常，会商研判同意。")
        shot(desk, "desktop-3-county-case")
        submit(desk, "button:has-text('审定通过，纳入监测')")
        messages = desk.inner_text(".messages")
        assert "案件进入“监测中”环节" in messages and "已为您打开待办中的下一件" in messages
        assert other.household.number in desk.inner_text(".page-head")  # the colleague's case is next
        shot(desk, "desktop-4-county-next-case")
        submit(desk, "text=上一件（已办理）")

        # ---------------------------------------------------------------- the whole timeline
        case.refresh_from_db()
        assert case.stage == Stage.MONITORING and case.identified_on == today
        timeline = desk.inner_text("#timeline")
        for label, who in [
            ("提交申请", "王村干"),
            ("入户核实完成", "王村干"),
            ("评议通过，开始公示", "王村干"),
            ("公示期满，报镇街审核", "王村干"),
            ("镇街审核通过", "赵审核"),
            ("县级审定，确定为监测对象", "钱审定"),
        ]:
            item = desk.locator(".timeline__item--transition", has_text=label)
            assert item.count() == 1, label
            text = item.inner_text()
            assert who in text and "2026-11-23" in text, (label, text)
        assert "陈驻村（驻村工作队）" in timeline and "李镇干（羊场镇）" in timeline
        assert "孙代表（村民代表）" in timeline and "评议通过" in timeline
        assert "2026-11-15 至 2026-11-21" in timeline and "2026-11-22 起" in timeline
        assert "部门比对无异常" in timeline
        assert desk.locator(".stepper__step.is-done").count() == 6
        assert "当前环节：提交申请 → 入户核实" in desk.inner_text("#history")
        shot(desk, "desktop-4-case-monitoring")
        minutes_link = desk.locator("a:has-text('签字会议记录')")
        assert desk.request.get(base + minutes_link.get_attribute("href")).body().startswith(b"\x89PNG")
        assert desk_errors == []

        # The finished case on the cadre's phone.
        phone, phone_errors = open_phone(browser)
        log_in(phone, base, "cadre_a")
        phone.goto(f"{base}/cases/{case.pk}/")
        shot(phone, "phone-8-case-monitoring", "actions", "timeline", "history")
        assert no_horizontal_scroll(phone)
        phone.goto(f"{base}/cases/")
        shot(phone, "phone-10-case-list")
        assert no_horizontal_scroll(phone)
        assert phone_errors == []
