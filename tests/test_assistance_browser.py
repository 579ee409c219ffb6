"""帮扶 in headless Chromium, the way a village cadre works it on a phone in the field: the plan page of a
monitoring object whose only risk (因病) has no measure shows the failing "没有录入帮扶措施的不消" rule and the
"缺什么补什么" advice; the cadre adds a measure through the form and both disappear; then a visit with a
photo. Screenshots (phone 390 and desktop 1280) go to test-artifacts/ (assist-*.png), together with the
case page in the elimination procedure, the classification helper and the visit duty page."""

import datetime as dt
import struct
import time
import zlib
from decimal import Decimal

import pytest
import time_machine

from assistance.models import Effect, Measure, MeasureStatus
from assistance.services import measure_add, plan_create, visit_record
from households.models import Health, IncomeKind, Relationship
from households.services import account_items_set, member_update
from monitoring.models import Stage
from tests.browser import ARTIFACTS, DESKTOP, log_in, no_horizontal_scroll, open_page, open_phone
from workflow.services import case_transition

# 10:00 in Beijing. The live server runs in another thread of this process: travelling patches its clock too.
TODAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def photo_png(width=160, height=120) -> bytes:
    """A real (if plain) PNG photo: a green field under a blue sky."""
    rows = []
    for y in range(height):
        colour = (110, 160, 220) if y < height // 2 else (90, 150 + y % 20, 70)
        rows.append(b"\x00" + bytes(colour) * width)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def shot(page, name, *sections):
    """The whole page, plus the named sections on their own (a whole phone page is too tall to review)."""
    page.screenshot(path=str(ARTIFACTS / f"assist-{name}.png"), full_page=True)
    for section in sections:
        page.locator(f"#{section}").screenshot(path=str(ARTIFACTS / f"assist-{name}-{section}.png"))


def rule(page, name):
    return page.locator(".rule-check__item", has_text=name)


def monitoring_object(case, walker, cadre, visited_on=dt.date(2026, 11, 10)):
    """Under monitoring with this year's income above the line and a visit (this month by default)."""
    case = walker.to_monitoring(case)
    incomes = {IncomeKind.WAGE: Decimal("18000"), IncomeKind.FARMLAND_SUBSIDY: Decimal("600")}
    account_items_set(user=cadre, household=case.household, year=2026, incomes=incomes)
    visit_record(user=cadre, case=case, visited_on=visited_on, findings="务工稳定", satisfaction="satisfied")
    return case


def fire(case, transition, user, **inputs):
    case_transition(user=user, case_id=case.pk, transition=transition, inputs=inputs)


def eliminate(case, walker, cadre):
    """A second household that met the standard and went through the whole 风险消除程序."""
    plan = plan_create(
        user=cadre, case=case, situation="三口之家", risk_analysis="因病", needs="稳定就业", pairing_cadre=cadre
    )
    measure_add(
        user=cadre,
        plan=plan,
        category="employment",
        risk_category="illness",
        description="推荐到县城工业园区务工，月工资约3000元",
        amount=Decimal("0"),
        starts_on=dt.date(2026, 5, 1),
        status=MeasureStatus.ACTIVE,
        effect=Effect.CLEAR,
    )
    fire(case, "propose_elimination", cadre, opinion="务工收入稳定，因病风险已消除")
    walker.record_verification(case, day=dt.date(2026, 11, 11))
    fire(case, "complete_elim_verification", cadre)
    walker.record_appraisal(case, day=dt.date(2026, 11, 12))
    fire(case, "start_elim_notice", cadre, starts_on=dt.date(2026, 11, 13), place="村务公开栏")
    fire(case, "submit_elim_to_township", cadre)
    fire(case, "township_approve_elim", walker.township, opinion="经复核，同意消除。")
    fire(
        case,
        "county_approve_elim",
        walker.county,
        opinion="同意标注风险消除。",
        comparison="民政、医保、人社比对无新增风险。",
    )


def test_cadre_adds_the_missing_measure_and_the_blocking_rule_clears(
    browser, live_server, tmp_path, cadre_a, household_a, village_a, make_household, open_case, walker
):
    base = live_server.url
    photo = tmp_path / "走访照片.png"
    photo.write_bytes(photo_png())

    with time_machine.travel(TODAY, tick=True):
        case = monitoring_object(open_case(user=cadre_a, household=household_a), walker, cadre_a)
        plan_create(
            user=cadre_a,
            case=case,
            situation="两口之家，户主张三去年患病住院，医疗自付约3万元。",
            risk_analysis="因病支出大，户主暂时不能外出务工，收入不稳。",
            needs="希望在附近稳定就业。",
            pairing_cadre=cadre_a,
        )
        eliminated = open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))
        eliminated = monitoring_object(eliminated, walker, cadre_a)
        eliminate(eliminated, walker, cadre_a)
        # A household whose pairing cadre (no system account) has not visited since October.
        unvisited = open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))
        unvisited = monitoring_object(unvisited, walker, cadre_a, visited_on=dt.date(2026, 10, 15))
        plan_create(
            user=cadre_a,
            case=unvisited,
            situation="独居老人",
            risk_analysis="因病",
            needs="看病就医",
            pairing_cadre_name="刘帮扶（县农业农村局）",
        )
        applying = open_case(user=cadre_a, household=make_household(user=cadre_a, village=village_a))
        head = applying.household.members.get(relationship=Relationship.HEAD)
        member_update(user=cadre_a, member=head, data={"health": Health.SERIOUS, "illness": "尿毒症"})

        # ---------------------------------------------------------------- village cadre, on a phone
        phone, phone_errors = open_phone(browser)
        log_in(phone, base, "cadre_a")
        phone.goto(f"{base}/cases/{case.pk}/")
        assert "提出风险消除" in phone.inner_text("#blocked-propose_elimination")
        assert "没有录入帮扶措施的不消" in phone.inner_text("#blocked-propose_elimination")
        assert "缺什么补什么" in phone.inner_text("#assistance")
        shot(phone, "phone-1-case-monitoring", "actions", "assistance")
        assert no_horizontal_scroll(phone)
        submit(phone, "#assistance >> text=帮扶计划（一户一策）")
        assert phone.url == f"{base}/assistance/cases/{case.pk}/"

        assert "is-failed" in rule(phone, "已录入帮扶措施").get_attribute("class")
        assert "没有录入任何帮扶措施" in rule(phone, "已录入帮扶措施").inner_text()
        assert "缺什么补什么" in phone.inner_text("#advice")
        assert phone.locator("#add-measure").get_attribute("open") is not None  # no measure yet: form open
        shot(phone, "phone-2-plan", "advice", "elimination-check", "plan")
        assert no_horizontal_scroll(phone)

        phone.select_option("#id_category", label="就业帮扶")
        phone.select_option("#id_risk_category", label="因病")
        phone.fill("#id_description", "推荐到县城工业园区务工，月工资约3000元")
        phone.fill("#id_amount", "0")
        phone.fill("#id_starts_on", "2026-11-20")
        phone.select_option("#id_status", "active")
        phone.locator("#measure-form").scroll_into_view_if_needed()
        shot(phone, "phone-3-measure-form", "measures")
        submit(phone, "#measure-form button[type=submit]")

        assert "已添加帮扶措施：就业帮扶（针对因病）" in phone.inner_text(".messages")
        assert "is-passed" in rule(phone, "已录入帮扶措施").get_attribute("class")
        assert "没有录入任何帮扶措施" not in phone.inner_text("#elimination-check")
        assert phone.locator("#advice").count() == 0 or "缺什么补什么" not in phone.inner_text("#advice")
        # The measure just started: its effect is not visible yet, and the check says so.
        assert "is-failed" in rule(phone, "帮扶措施已见到明显效果").get_attribute("class")
        assert Measure.objects.filter(plan__case=case).count() == 1
        shot(phone, "phone-4-plan-after-measure", "elimination-check", "measures")
        assert no_horizontal_scroll(phone)

        phone.click("#add-visit > summary")
        phone.fill("#id_visited_on", "2026-11-22")
        phone.fill("#id_findings", "户主已到园区上班，家中无新增困难。")
        phone.fill("#id_income_change", "月工资约3000元")
        phone.check("input[name=satisfaction][value=satisfied]")
        phone.set_input_files("#id_photos", str(photo))
        shot(phone, "phone-5-visit-form", "visits")
        assert no_horizontal_scroll(phone)
        submit(phone, "#visit-form button[type=submit]")
        assert "走访记录已保存" in phone.inner_text(".messages")
        assert phone.locator("#visits .photos img").count() == 1
        # The thumbnail loads lazily: bring it into view, then it must decode (the photo is served).
        phone.locator("#visits .photos img").scroll_into_view_if_needed()
        # Polled from Python: a string predicate polled in the page would need the 'unsafe-eval' our CSP
        # refuses. The photo must have decoded (naturalWidth), i.e. it was served as an image.
        thumbnail = phone.locator("#visits .photos img")
        deadline = time.monotonic() + 10
        while not thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"):
            assert time.monotonic() < deadline, "the visit photo did not load"
            phone.wait_for_timeout(100)
        assert phone.evaluate("document.querySelector('#visits .photos img').naturalWidth") == 160
        shot(phone, "phone-6-visits", "visits")

        phone.goto(f"{base}/cases/{applying.pk}/")
        assert "尿毒症" in phone.inner_text("#classification")
        shot(phone, "phone-7-classification", "classification")
        assert no_horizontal_scroll(phone)

        phone.goto(f"{base}/cases/{eliminated.pk}/")
        assert phone.locator(".stepper").count() == 2
        phone.click("text=帮扶措施落实情况表")
        phone.click("text=风险消除评估表")
        shot(phone, "phone-8-case-eliminated", "timeline")
        assert no_horizontal_scroll(phone)

        phone.click("nav.main-nav summary:has-text('更多')")  # on a phone the menu's other entries
        submit(phone, "nav.main-nav .main-nav__menu >> text=走访任务")
        duty = phone.locator(".duty", has_text="刘帮扶（县农业农村局）")
        assert unvisited.household.number in duty.inner_text() and "2026-10-15" in duty.inner_text()
        shot(phone, "phone-9-visit-duty")
        assert no_horizontal_scroll(phone)
        assert phone_errors == []

        # ---------------------------------------------------------------- the same pages on a desktop
        desk, desk_errors = open_page(browser, DESKTOP)
        log_in(desk, base, "cadre_a")
        desk.goto(f"{base}/assistance/cases/{case.pk}/")
        shot(desk, "desktop-1-plan")
        desk.click("#adjust > summary")
        desk.fill("#id_adjustment_reason", "户主已到园区上班，需求调整为技能提升")
        desk.fill("#id_needs", "参加电工技能培训，争取转为技术岗位。")
        submit(desk, "#adjust button[type=submit]")
        assert "帮扶计划已调整为第2版" in desk.inner_text(".messages")
        desk.click("#versions > summary")
        versions = desk.inner_text("#versions")
        assert "第2版（现行）" in versions and "希望在附近稳定就业。" in versions
        shot(desk, "desktop-1-plan-adjusted", "plan")
        desk.goto(f"{base}/cases/{eliminated.pk}/")
        eliminated.refresh_from_db()
        assert eliminated.stage == Stage.ELIMINATED
        timeline = desk.inner_text("#timeline")
        assert "风险消除入户核实完成" in timeline and "县级审定，标注风险消除" in timeline
        desk.click("text=帮扶措施落实情况表")
        desk.click("text=风险消除评估表")
        assert desk.locator(".stepper__step.is-done").count() == 12
        shot(desk, "desktop-2-case-eliminated")
        desk.goto(f"{base}/cases/{applying.pk}/")
        shot(desk, "desktop-3-case-classification")
        desk.goto(f"{base}/assistance/visits/")
        shot(desk, "desktop-4-visit-duty")
        assert desk_errors == []
