"""The demo cases' builder: picks households and takes their cases through the stages with the real
services, acting as the village cadre, the township reviewer and the county reviewer."""

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal

import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assistance.models import Effect, MeasureStatus
from assistance.services import measure_add, measure_update, plan_create, visit_record
from fpr import clock
from fpr.errors import ApplicationError
from fpr.periods import accounting_year
from households.models import (
    Division,
    ExpenditureKind,
    Health,
    Household,
    IncomeItem,
    IncomeKind,
    LabourCapacity,
    Relationship,
    User,
)
from households.selectors import income_summary, monitoring_line_for
from households.services import account_items_set, member_update
from monitoring.cases.classification import suggest_classification
from monitoring.cases.services import APPRAISAL_ROLES, appraisal_record, case_classify, case_create, verification_record
from monitoring.models import APPLICATION_CHANNELS, MonitoringCase, Stage
from workflow.demo.stories import ILLNESS, STORIES, Story
from workflow.services import case_transition

WORK_TEAM = ("杨光明", "罗文斌")  # 驻村工作队 members who verify with the cadre of village 1 / 2
VISIT_FINDINGS = (
    "了解措施落实情况，农户反映良好。",
    "走访核实收入，生活稳定。",
    "询问务工和产业情况，提醒按时缴纳医保。",
    "查看住房和饮水情况，无新增困难。",
)
APPRAISERS = ("安德福", "陈秀英", "李国光", "张德明", "刘丽", "罗学忠", "杨秀兰")


class TooFewHouseholds(ApplicationError):
    """The demo users' villages have too few households for every demo case."""


def pdf_scan(name: str, title: str) -> SimpleUploadedFile:
    """A one-page PDF standing in for a scanned form: small, valid, opens in any viewer."""
    stream = b"BT /F1 16 Tf 72 760 Td (" + title.encode("ascii") + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return SimpleUploadedFile(name, bytes(pdf), content_type="application/pdf")


@dataclass
class Village:
    division: Division
    cadre: User
    team_member: str
    households: list[Household] = field(default_factory=list)  # in drawing order
    without_labour: list[Household] = field(default_factory=list)


@dataclass
class DemoCase:
    case: MonitoringCase
    village: Village
    story: Story
    days_ago: int = 100_000  # the day of its latest step: the next one is never earlier
    last_at: dt.datetime | None = None  # the moment of its latest step


@contextmanager
def moved_clock(moment: dt.datetime | None) -> Iterator[None]:
    """Everything inside runs as at `moment` (None: now) — fpr.clock, auto_now, the history rows'
    history_date and the comparison's raised_at alike, since time-machine moves Python's clock itself.
    The clock ticks on from there, so the rows a step writes keep their order."""
    if moment is None:
        yield
        return
    with time_machine.travel(moment, tick=True):
        yield


def _in_hardship(member) -> bool:
    return (
        member.health == Health.SERIOUS
        or (member.health == Health.DISABLED and member.disability_grade in (1, 2))
        or member.is_disabled_elderly
    )


def _fits(household: Household) -> bool:
    """Can meet the elimination standard once assisted: 三保障 met, someone able to work, no member in
    special hardship, and at least two members (so one who is not disabled can fall ill in a story)."""
    members = list(household.members.all())
    return (
        len(members) >= 2
        and not household.guarantees_unmet
        and any(m.labour_capacity in (LabourCapacity.ORDINARY, LabourCapacity.SKILLED) for m in members)
        and not any(_in_hardship(m) for m in members)
        and any(m.health != Health.DISABLED for m in members)
    )


def select_village(division: Division, cadre: User, team_member: str, rng: random.Random) -> Village:
    """The village's households without an open case, in a seeded random order."""
    households = list(
        Household.objects.filter(village=division)
        .exclude(cases__is_open=True)
        .order_by("number")
        .prefetch_related("members")
    )
    village = Village(division, cadre, team_member)
    village.households = [h for h in households if _fits(h)]
    village.without_labour = [h for h in households if not any(m.has_labour for m in h.members.all())]
    rng.shuffle(village.households)
    rng.shuffle(village.without_labour)
    return village


class Builder:
    """Takes demo cases through the stages as the users would, one service call at a time."""

    def __init__(self, *, rng: random.Random, today: dt.date, township: User, county: User):
        self.rng, self.today = rng, today
        # The hours of the steps have their own generator, so the households and stories drawn for a
        # seed stay the same whatever the timeline draws.
        self.hours = random.Random(f"{rng.getstate()[1][0]}:hours")
        self.township, self.county = township, county
        self.cases: list[DemoCase] = []

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def moment(self, demo: DemoCase | None, days_ago: int) -> dt.datetime | None:
        """A working hour of the day `days_ago` days ago (None for today: the real now), after the
        case's previous step; the case's steps then go forward in time like a real file's."""
        if demo is not None:
            days_ago = min(days_ago, demo.days_ago)
            demo.days_ago = max(days_ago, 0)
        if days_ago <= 0:
            return None
        start = dt.datetime.combine(self.day(days_ago), dt.time(8, 30), tzinfo=timezone.get_current_timezone())
        moment = start + dt.timedelta(minutes=self.hours.randint(0, 8 * 60))
        if demo is not None:
            if demo.last_at and moment <= demo.last_at:
                moment = demo.last_at + dt.timedelta(minutes=self.hours.randint(10, 40))
            demo.last_at = moment
        return moment

    @contextmanager
    def on(self, demo: DemoCase | None, days_ago: int) -> Iterator[None]:
        """The service calls inside run on that day, as the users would have made them."""
        with moved_clock(self.moment(demo, days_ago)):
            yield

    def later(self, demo: DemoCase, low: int = 1, high: int = 3) -> int:
        """A few days after the case's latest step (today at the latest), for the reviewers' turns."""
        return max(demo.days_ago - self.hours.randint(low, high), 0)

    def fire(self, demo: DemoCase, transition: str, user: User, *, days_ago: int | None = None, **inputs) -> None:
        """One transition, on `days_ago` (default: a day or two after the case's previous step)."""
        with self.on(demo, self.later(demo, 1, 2) if days_ago is None else days_ago):
            case_transition(user=user, case_id=demo.case.pk, transition=transition, inputs=inputs)
        demo.case.refresh_from_db()

    # ---- 提出申请

    def new(
        self,
        village: Village,
        until: str = Stage.APPLICATION,
        *,
        notice: int = 0,
        story: Story | None = None,
        signed: bool = True,
        household: Household | None = None,
    ) -> DemoCase:
        """Open a case for the village's next household and walk it to `until` (see `advance`)."""
        if household is None:
            if not village.households:
                raise TooFewHouseholds(
                    f"{village.division.name}符合演示条件的农户不足，请生成更多农户（--households）。"
                )
            household = village.households.pop()
        household = Household.objects.get(pk=household.pk)  # its members as they are now, not as drawn
        story = story or self.rng.choice(STORIES)
        demo = DemoCase(None, village, story)  # type: ignore[arg-type] - the case comes next
        signed_days = notice + self.rng.randint(5, 8)  # 承诺授权书 signed, application entered, that day
        with self.on(demo, signed_days):
            self._account(village, household, story)
            description = story.description
            if story is ILLNESS:
                description = description.format(member=self.fall_ill(village, household, "尿毒症"))
            suggestion = suggest_classification(household=household)
            scan = pdf_scan("承诺授权书.pdf", "Demo scan: signed application and authorization")
            demo.case = case_create(
                user=village.cadre,
                household=household,
                case_type=suggestion.case_type,
                risk_categories=[story.risk],
                channel=self.rng.choice([code for code, _ in APPLICATION_CHANNELS]),
                description=description,
                colour=suggestion.colour,
                authorization_signed_on=self.day(signed_days),
                authorization_scan=scan if signed else None,
            )
        self.cases.append(demo)
        return self.advance(demo, until, notice_days_ago=notice)

    def _account(self, village: Village, household: Household, story: Story) -> None:
        """二算: the accounting year's accounting (fpr.periods.accounting_year, on the day the application is
        entered) — the seeded items, with the earnings the story lost: per capita income lands between 55%
        and 98% of the monitoring line (橙色, a few 红色)."""
        year = accounting_year(clock.today())
        items = dict(IncomeItem.objects.filter(household=household, year=year).values_list("kind", "amount"))
        items = items or dict(
            IncomeItem.objects.filter(household=household, year=year - 1).values_list("kind", "amount")
        )
        line = monitoring_line_for(village_code=household.village_id, year=year)
        if story in STORIES and line is not None:
            earnings = (IncomeKind.WAGE, IncomeKind.BUSINESS, IncomeKind.PROPERTY)
            earned = sum(items.get(k, 0) for k in earnings) - items.get(IncomeKind.BUSINESS_COST, 0)
            transfers = sum(items.values()) - earned - 2 * items.get(IncomeKind.BUSINESS_COST, 0)
            target = line.amount * household.members.count() * Decimal(self.rng.randint(55, 98)) / 100
            factor = min(max((target - transfers) / earned, Decimal("0.1")), Decimal(1)) if earned > 0 else 1
            for kind in (*earnings, IncomeKind.BUSINESS_COST):
                if kind in items:
                    items[kind] = (items[kind] * factor).quantize(Decimal(1))
        if not any(items.values()):
            items[IncomeKind.FARMLAND_SUBSIDY] = Decimal(600)
        expenditures = {ExpenditureKind.MEDICAL: Decimal(32000)} if story is ILLNESS else None
        account_items_set(user=village.cadre, household=household, year=year, incomes=items, expenditures=expenditures)

    def fall_ill(self, village: Village, household: Household, illness: str) -> str:
        members = [m for m in household.members.all() if m.health != Health.DISABLED]
        member = next((m for m in members if m.relationship == Relationship.SPOUSE), members[-1])
        member_update(
            user=village.cadre,
            member=member,
            data={"health": Health.SERIOUS, "illness": illness, "labour_capacity": LabourCapacity.LOST},
        )
        return f"{member.get_relationship_display()}{member.name}"

    # ---- the steps of both procedures

    def advance(self, demo: DemoCase, until: str, *, notice_days_ago: int = 10) -> DemoCase:
        """Walk the case to `until` on the calendar of a real file: verified three days before a notice
        that started `notice_days_ago` days ago, appraised the day before it, sent to the township when
        its 7 days are over, reviewed a few days later at each level (today at the latest). A case
        proposed for elimination gets a visit that day; its elimination notice is `notice_days_ago`."""
        n = notice_days_ago
        village, cadre = demo.village, demo.village.cadre
        while demo.case.stage != until:
            stage = demo.case.stage
            if stage == Stage.APPLICATION:
                self.fire(demo, "submit_application", cadre, days_ago=demo.days_ago)
            elif stage in (Stage.VERIFICATION, Stage.ELIM_VERIFICATION):
                elimination = stage == Stage.ELIM_VERIFICATION
                with self.on(demo, n + 3):
                    self.record_verification(demo, self.day(demo.days_ago))
                    if not elimination:
                        self.classify(demo)
                transition = "complete_elim_verification" if elimination else "complete_verification"
                self.fire(demo, transition, cadre, days_ago=n + 3)
            elif stage in (Stage.APPRAISAL, Stage.ELIM_APPRAISAL):
                with self.on(demo, n + 1):
                    self.record_appraisal(demo, self.day(demo.days_ago))
                start = "start_elim_notice" if stage == Stage.ELIM_APPRAISAL else "start_notice"
                place = f"{village.division.name}村务公开栏"
                self.fire(demo, start, cadre, days_ago=n, starts_on=self.day(min(n, demo.days_ago)), place=place)
            elif stage in (Stage.NOTICE, Stage.ELIM_NOTICE):
                submit = "submit_elim_to_township" if stage == Stage.ELIM_NOTICE else "submit_to_township"
                self.fire(demo, submit, cadre, days_ago=max(demo.days_ago - 7 - self.hours.randint(0, 1), 0))
            elif stage == Stage.SUPPLEMENT:
                self.fire(demo, "submit_supplement", cadre, opinion="已补充镇街要求的材料。")
            elif stage == Stage.TOWNSHIP_REVIEW:
                self.fire(
                    demo,
                    "township_approve",
                    self.township,
                    days_ago=self.later(demo, 1, 3),
                    opinion="经复核，信息采集表和评议、公示材料齐全，同意纳入。",
                )
            elif stage == Stage.COUNTY_APPROVAL:
                self.fire(
                    demo,
                    "county_approve",
                    self.county,
                    days_ago=self.later(demo, 1, 4),
                    opinion="同意纳入监测。",
                    comparison="部门信息比对无异常",
                )
            elif stage == Stage.MONITORING:
                with self.on(demo, n + 6):
                    self._raise_income(demo, year=accounting_year(clock.today()))
                    self.visited_this_month(demo)
                opinion = "收入持续稳定高于监测范围，帮扶措施见效。"
                self.fire(demo, "propose_elimination", cadre, days_ago=n + 6, opinion=opinion)
            elif stage == Stage.ELIM_TOWNSHIP:
                self.fire(
                    demo,
                    "township_approve_elim",
                    self.township,
                    days_ago=self.later(demo, 1, 3),
                    opinion="经复核，同意标注风险消除。",
                )
            elif stage == Stage.ELIM_COUNTY:
                with self.on(demo, self.later(demo, 1, 4)):
                    self.visited_this_month(demo)  # "一看" is checked again at 县级审定
                self.fire(
                    demo,
                    "county_approve_elim",
                    self.county,
                    days_ago=demo.days_ago,
                    opinion="同意风险消除。",
                    comparison="部门比对无新增风险",
                )
            else:
                raise ValueError(f"cannot advance a case from {stage} to {until}")
        return demo

    def record_verification(self, demo: DemoCase, visit_date: dt.date) -> None:
        elimination = demo.case.stage == Stage.ELIM_VERIFICATION
        verification_record(
            user=demo.village.cadre,
            case=demo.case,
            visit_date=visit_date,
            verifiers=[
                {"user_id": demo.village.cadre.pk, "name": demo.village.cadre.full_name, "unit": "村两委"},
                {"name": demo.village.team_member, "unit": "驻村工作队"},
            ],
            findings="帮扶措施均已落实，家庭收入稳定。" if elimination else "入户查看、核算收入，反映情况属实。",
            risk_points="无新增风险。" if elimination else demo.story.description,
            year=accounting_year(clock.today()),
        )

    def classify(self, demo: DemoCase) -> None:
        """研判: the village confirms the type and colour the helper suggests, with the story's risk."""
        case_classify(
            user=demo.village.cadre,
            case=demo.case,
            case_type=demo.case.case_type,
            risk_categories=[demo.story.risk],
            colour=demo.case.colour,
            reason="风险类型按入户核实情况确定。",
        )

    def record_appraisal(self, demo: DemoCase, meeting_date: dt.date, *, passed: bool = True) -> None:
        people = len(APPRAISERS)
        votes_for = people if passed else 1
        appraisal_record(
            user=demo.village.cadre,
            case=demo.case,
            meeting_date=meeting_date,
            participants=[{"name": n, "role": r} for n, r in zip(APPRAISERS, APPRAISAL_ROLES, strict=True)],
            votes_for=votes_for,
            votes_against=people - votes_for,
            votes_abstain=0,
            minutes_scan=pdf_scan("评议会议记录.pdf", "Demo scan: signed minutes of the village appraisal"),
        )

    # ---- 监测中: the assistance plan

    def assist(
        self,
        demo: DemoCase,
        *,
        measure_months: int | None = 5,
        income_above_line: bool = True,
        visits_until: int = 0,
    ) -> None:
        """一户一策 a few days after the case was approved, with the story's measure (None: no measure
        yet) started `measure_months` ago (not before the plan), its effect assessed once it has run
        long enough; a visit every month up to `visits_until` days ago (一月一走访); income raised above
        the line when the measures worked."""
        village, case, story = demo.village, demo.case, demo.story
        with self.on(demo, self.later(demo, 1, 5)):
            if income_above_line:
                self._raise_income(demo)
            plan = plan_create(
                user=village.cadre,
                case=case,
                situation=f"{case.household.members.count()}口之家。{case.description}",
                risk_analysis=f"主要风险：{case.risk_categories.first().name}。",
                needs="稳定增加收入，解决实际困难。",
                pairing_cadre=village.cadre,
            )
        planned = demo.days_ago
        if measure_months is not None:
            with self.on(demo, min(30 * measure_months + self.rng.randint(0, 10), planned)):
                measure = measure_add(
                    user=village.cadre,
                    plan=plan,
                    category=story.measure_category,
                    risk_category=story.risk,
                    description=story.measure,
                    amount=Decimal(story.amount),
                    starts_on=clock.today(),
                    status=MeasureStatus.ACTIVE,
                )
            assessed = demo.days_ago - 30 * settings.FPR_MEASURE_EFFECT_MONTHS - self.hours.randint(1, 10)
            if assessed >= 0:
                with moved_clock(self.moment(None, assessed)):
                    measure_update(user=village.cadre, measure=measure, effect=Effect.CLEAR)
        visited = planned - self.hours.randint(20, 30)
        while visited >= visits_until:
            with moved_clock(self.moment(None, visited)):
                self.visit(demo, clock.today(), self.rng.choice(VISIT_FINDINGS))
            visited -= self.hours.randint(26, 33)
        if visits_until == 0 and not case.visits.filter(visited_on__gte=self.today.replace(day=1)).exists():
            self.visit(demo, self.today, "走访核实收入，生活稳定。")  # this month's visit (一看) is done

    def visited_this_month(self, demo: DemoCase) -> None:
        """A visit in the (moved) clock's month, unless there is one already."""
        today = clock.today()
        if not demo.case.visits.filter(visited_on__gte=today.replace(day=1), visited_on__lte=today).exists():
            self.visit(demo, today, "入户走访，核实收入和帮扶措施落实情况。")

    def visit(self, demo: DemoCase, visited_on: dt.date, findings: str) -> None:
        visit_record(
            user=demo.village.cadre, case=demo.case, visited_on=visited_on, findings=findings, satisfaction="satisfied"
        )

    def _raise_income(self, demo: DemoCase, year: int | None = None) -> None:
        """The measures worked: the year's wages (default: the accounting year of the real today, which
        the pages check) put the household well above the monitoring line, after its rigid expenditure
        too (the 七个不消's 大额刚性支出 rule counts income after it)."""
        household = demo.case.household
        year = year or accounting_year(self.today)
        summary = income_summary(household=household, year=year)
        extra = self.rng.randint(15, 40) * 100
        target = (summary.monitoring_line + extra) * summary.size + summary.expenditure_total
        wage = summary.wage + max(target - summary.net_total, 0) or Decimal(6000)  # 稳定收入: some wages
        wage = wage.quantize(Decimal(100), rounding=ROUND_UP)
        account_items_set(
            user=demo.village.cadre,
            household=household,
            year=year,
            incomes={IncomeKind.WAGE: wage},
        )
