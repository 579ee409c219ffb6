"""Demo cases: monitoring cases in every stage of both procedures, for the demo users to work on.

`seed_demo_cases(seed=..., today=...)` walks about fifty households of the demo users' villages
through the real services — case_create, the stage records, case_transition, the assistance plan,
account_items_set — acting as the demo users, exactly as the pages would. Nothing sets a stage
directly. The first village (cunganbu's) gets most cases; a second village of zhenjie's township gets
a few, acted on by a second village cadre, so the township queue shows two villages.

Every step happens on its own day: the Builder moves the clock (time-machine: fpr.clock, auto_now,
the history rows) to a working hour of the day a real file would have reached it — verified three
days before its notice, sent up when the notice is over, reviewed a few days later — so waiting
days, the stage medians, 已超时 and the 12-month trend show a county's past year, not the seeding
day. `_year_of_history` adds a case identified in each of the last eleven months.

Households are chosen from the village lists sorted by number with random.Random(seed), so the same
seed puts the same households in the same stages. Lives in workflow, not households.seeding: it
composes the services of every app.
"""

import datetime as dt
import random
from collections import Counter

from django.contrib.auth.models import Group
from django.db import transaction

from fpr.errors import ApplicationError
from fpr.roles import Level, Role
from households.demo import SECOND_CADRE
from households.models import Division, LabourCapacity, User
from households.services import member_update
from monitoring.cases.services import objection_lodge
from monitoring.models import Stage
from workflow.demo.builder import WORK_TEAM, Builder, TooFewHouseholds, Village, select_village
from workflow.demo.stories import ILLNESS, NO_LABOUR

__all__ = ["SECOND_CADRE", "TooFewHouseholds", "seed_demo_cases"]


def _second_cadre(village: Division, like: User) -> User:
    username, full_name = SECOND_CADRE
    # The demo password's hash copied from cunganbu: hashing again would cost half a second.
    user, _ = User.objects.update_or_create(
        username=username,
        defaults={"division": village, "full_name": full_name, "password": like.password, "is_active": True},
    )
    user.groups.set([Group.objects.get(name=Role.VILLAGE_CADRE.label)])
    return user


def _scenarios(b: Builder, v1: Village, v2: Village) -> None:
    S = Stage
    # 提交申请: one ready to submit, one without the 承诺授权书 scan (提交 is refused).
    b.new(v1)
    b.new(v1, signed=False)
    b.new(v2)
    # 补充材料: returned by the township for a missing paper; it goes straight back once supplied.
    supplement = b.new(v1, S.TOWNSHIP_REVIEW, notice=12)
    b.fire(supplement, "township_return", b.township, opinion="请补充户主残疾证复印件和医疗费用发票。")
    # 入户核实: one returned by the township to be verified again, one not visited yet, one visited.
    returned = b.new(v1, S.TOWNSHIP_REVIEW, notice=14)
    b.fire(
        returned,
        "township_verification_return",
        b.township,
        opinion="信息采集表缺少生态补偿金收入，请重新入户核实。",
    )
    b.new(v1, S.VERIFICATION)
    visited = b.new(v1, S.VERIFICATION, notice=2)
    with b.on(visited, 1):
        b.record_verification(visited, b.day(1))
    # 民主评议: one waiting for the meeting, one appraised and ready for the notice.
    b.new(v1, S.APPRAISAL, notice=1)
    b.record_appraisal(b.new(v1, S.APPRAISAL, notice=1), b.day(0))
    # 公示: running (还需等待), due, with a pending objection; one due in the second village.
    b.new(v1, S.NOTICE, notice=3)
    b.new(v1, S.NOTICE, notice=9)
    objected = b.new(v1, S.NOTICE, notice=5)
    with b.on(objected, 2):
        objection_lodge(
            user=v1.cadre,
            case=objected.case,
            lodged_by="村民（匿名）",
            content="反映该户有子女在县城购买了商品房，家庭经济条件较好。",
            lodged_on=b.day(2),
        )
    b.new(v2, S.NOTICE, notice=10)
    # 镇街审核: several for bulk approval from two villages, one of them returned once before.
    for village, days in ((v1, 8), (v1, 11), (v1, 14), (v2, 9), (v2, 13)):
        b.new(village, S.TOWNSHIP_REVIEW, notice=days)
    again = b.new(v1, S.TOWNSHIP_REVIEW, notice=30)
    b.fire(again, "township_verification_return", b.township, opinion="缺少家庭成员务工收入，请重新入户核实。")
    b.advance(again, S.TOWNSHIP_REVIEW, notice_days_ago=10)
    # 县级审定: several for bulk approval.
    for village, days in ((v1, 15), (v1, 18), (v1, 21), (v2, 16)):
        b.new(village, S.COUNTY_APPROVAL, notice=days)
    # 监测中: meeting the elimination standard (two here, one in the second village); a seriously ill
    # member; no measure yet; a measure too recent to show its effect; no labour at all.
    for village in (v1, v1, v2):
        b.assist(b.new(village, S.MONITORING, notice=b.rng.randint(150, 330)))
    b.assist(b.new(v1, S.MONITORING, notice=190, story=ILLNESS), income_above_line=False)
    b.assist(b.new(v1, S.MONITORING, notice=40), measure_months=None, income_above_line=False)
    b.assist(b.new(v1, S.MONITORING, notice=80), measure_months=1, income_above_line=False)
    if v1.without_labour:
        without_labour = v1.without_labour[0]
    else:  # none in the village: a household loses its labour
        without_labour = v1.households.pop()
        for member in without_labour.members.all():
            member_update(user=v1.cadre, member=member, data={"labour_capacity": LabourCapacity.LOST})
    demo = b.new(v1, S.MONITORING, notice=200, story=NO_LABOUR, household=without_labour)
    b.assist(demo, income_above_line=False)
    # 风险消除 at every stage; at 县级审定 one whose member fell ill after the proposal; one eliminated.
    for village, until, days, falls_ill in (
        (v1, S.ELIM_VERIFICATION, 9, False),
        (v1, S.ELIM_APPRAISAL, 1, False),
        (v1, S.ELIM_NOTICE, 8, False),
        (v1, S.ELIM_TOWNSHIP, 9, False),
        (v2, S.ELIM_TOWNSHIP, 10, False),
        (v1, S.ELIM_COUNTY, 11, False),
        (v1, S.ELIM_COUNTY, 12, True),
        (v1, S.ELIMINATED, 13, False),
    ):
        demo = b.new(village, S.MONITORING, notice=b.rng.randint(150, 330))
        b.assist(demo)
        b.advance(demo, until, notice_days_ago=days)
        if falls_ill:
            b.fall_ill(village, demo.case.household, "肺癌")
    # 不予纳入: the village's appraisal did not pass.
    rejected = b.new(v1, S.APPRAISAL, notice=6)
    with b.on(rejected, 6):
        b.record_appraisal(rejected, b.day(6), passed=False)
    b.fire(rejected, "appraisal_reject", v1.cadre, opinion="民主评议未通过：家庭收入高于监测范围，不予纳入。")


def _year_of_history(b: Builder, v1: Village, v2: Village) -> None:
    """A case identified in each of the last eleven months, so the 12-month trend, the stage medians
    and the ledger have a past: those monitored for half a year were eliminated since (one a month)."""
    S = Stage
    for months_ago in range(11, 0, -1):
        village = v2 if months_ago % 4 == 0 else v1
        demo = b.new(village, S.MONITORING, notice=30 * months_ago + b.rng.randint(0, 12))
        if months_ago >= 7:
            eliminated = 30 * (months_ago - 6) + b.rng.randint(0, 8)
            b.assist(demo, measure_months=12, visits_until=eliminated + 6)  # the measure from the plan on
            b.advance(demo, S.ELIMINATED, notice_days_ago=eliminated)
        else:
            b.assist(demo, measure_months=12)


def seed_demo_cases(*, seed: int, today: dt.date) -> dict[str, int]:
    """Create the demo cases (see the module docstring); returns the number of cases per stage, in
    the order of Stage. `today` is the date the services see (fpr.clock.today())."""
    users = {u.username: u for u in User.objects.filter(username__in=["cunganbu", "zhenjie", "xianji"])}
    if len(users) < 3:
        raise ApplicationError("演示案件需要演示账号 cunganbu、zhenjie、xianji，请加 --with-users。")
    cadre, township, county = users["cunganbu"], users["zhenjie"], users["xianji"]
    second = (
        Division.objects.filter(parent=township.division, level=Level.VILLAGE)
        .exclude(pk=cadre.division_id)
        .order_by("code")
        .first()
    )
    if second is None:
        raise TooFewHouseholds(f"{township.division.name}只有一个村，无法生成第二个村的演示案件。")
    rng = random.Random(seed)
    with transaction.atomic():
        v1 = select_village(cadre.division, cadre, WORK_TEAM[0], rng)
        v2 = select_village(second, _second_cadre(second, cadre), WORK_TEAM[1], rng)
        builder = Builder(rng=rng, today=today, township=township, county=county)
        _year_of_history(builder, v1, v2)
        _scenarios(builder, v1, v2)
    counts = Counter(demo.case.stage for demo in builder.cases)
    return {stage: counts[stage] for stage in Stage.values if counts[stage]}
