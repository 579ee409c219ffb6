"""Assistance's scheduled jobs, registered with the runner (monitoring.jobs.runner) by assistance's
AppConfig: the monthly risk-elimination review (the "七个不消" rules of assistance.rules over every case
under monitoring) and the weekly data-quality checks (measures, 两不愁三保障, 算账, ID numbers)."""

from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery

from assistance.models import Measure, MeasureStatus
from assistance.rules import evaluate, load_facts_many
from fpr import clock
from fpr.periods import accounting_year, months_before
from households.id_numbers import mask_id_number, parse_id_number
from households.models import IncomeItem, Member, guarantees_unmet_q
from monitoring.jobs.runner import Finding, Job, JobRun, Outcome, register, sync_todos
from monitoring.models import FOLLOWED_STAGES, MonitoringCase, RiskWarning, Stage, TodoKind, WarningStatus

CHUNK = 500  # cases evaluated per batch of the elimination review (a fixed number of queries each)

# --------------------------------------------------------------------------- 2. monthly risk-elimination review


def elimination_review(run: JobRun) -> Outcome:
    """The monthly review of the cases under monitoring (stage 监测中), with three lists:

    - ELIMINATION_PROPOSAL: every "七个不消" rule passes except the procedure (一看二算…), which is the
      village's next step: the village visits and proposes (提出名单). The item says when the household has
      not been visited this month yet.
    - INTENSIFY: not meeting the standard and identified (识别纳入) more than FPR_INTENSIFY_AFTER_MONTHS
      months ago (加大帮扶力度, `002` Step 4); the item names the rules that still fail. A case that meets
      the standard is proposed, not flagged. Cases already in the elimination procedure are in neither.
    - REOPEN: eliminated cases (still followed, 跟踪监测) with a department warning raised after the day of
      elimination and not verified as 不纳入; it resolves when the village reopens the case or excludes
      the warnings.
    The rules are evaluated per case, in batches whose facts are loaded in a fixed number of queries.
    """
    today = clock.today()
    months = settings.FPR_INTENSIFY_AFTER_MONTHS
    intensify_before = months_before(today, months)
    proposals: list[Finding] = []
    intensify: list[Finding] = []
    under_monitoring = MonitoringCase.objects.open().filter(stage=Stage.MONITORING).order_by("pk")
    last_pk = reviewed = 0
    while batch := list(under_monitoring.filter(pk__gt=last_pk)[:CHUNK]):
        last_pk, reviewed = batch[-1].pk, reviewed + len(batch)
        facts = load_facts_many(batch, today=today)
        for case in batch:
            check = evaluate(facts[case.pk])
            failing = [r for r in check.failures if r.code != "procedure"]
            common = {"key": f"case:{case.pk}", "division_id": case.village_id, "household_id": case.household_id}
            if not failing:
                detail = "风险消除条件（“七个不消”及风险消除标准、帮扶措施录入）均已符合，可按程序提出风险消除名单。"
                if not facts[case.pk].procedure["look"]:
                    detail += f"本月（{today:%Y年%m月}）尚未走访，提出前须入户走访（一看）。"
                proposals.append(Finding(case_id=case.pk, detail=detail, **common))
            elif case.identified_on and case.identified_on <= intensify_before:
                names = "；".join(r.condition for r in failing)
                detail = (
                    f"{case.identified_on:%Y-%m-%d}纳入监测，帮扶超过{months}个月仍未达到消除标准，"
                    f"以下条件不符合：{names}。"
                )
                intensify.append(Finding(case_id=case.pk, detail=detail, **common))

    new_warnings = (
        RiskWarning.objects.filter(household_id=OuterRef("household_id"), raised_at__date__gt=OuterRef("eliminated_on"))
        .exclude(status=WarningStatus.EXCLUDED)
        .order_by()
        .values("household_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    reopen = [
        Finding(
            key=f"case:{pk}",
            division_id=village_id,
            household_id=household_id,
            case_id=pk,
            detail=f"{eliminated_on:%Y-%m-%d}风险消除后出现{n}条新的预警线索，请研判是否存在返贫致贫风险，需要时重新纳入监测。",
        )
        for pk, village_id, household_id, eliminated_on, n in MonitoringCase.objects.open()
        .filter(stage=Stage.ELIMINATED, eliminated_on__isnull=False)
        .annotate(new_warnings=Subquery(new_warnings))
        .filter(new_warnings__gt=0)
        .values_list("pk", "village_id", "household_id", "eliminated_on", "new_warnings")
    ]
    outcome = Outcome()
    with transaction.atomic():
        outcome.counts.update(sync_todos(run, TodoKind.ELIMINATION_PROPOSAL, proposals))
        outcome.counts.update(sync_todos(run, TodoKind.INTENSIFY, intensify))
        outcome.counts.update(sync_todos(run, TodoKind.REOPEN, reopen))
    outcome.counts["cases_reviewed"] = reviewed
    return outcome


# --------------------------------------------------------------------------- 4. weekly data-quality checks


def data_quality(run: JobRun) -> Outcome:
    """Logic errors of `004` §六, one to-do list per village:

    - ELIMINATED_WITHOUT_MEASURES: an eliminated case (风险消除, still followed) with no measure at all;
    - ELIMINATED_GUARANTEES_UNMET: an eliminated case whose household's 两不愁三保障 or water is not met now;
    - INCOME_MISSING: an open case (any stage) whose household has no income item for the accounting
      year (`fpr.periods.accounting_year`) — so from 1 March every followed household is listed until
      that year's accounting (算账) is entered;
    - INVALID_ID: a registered member whose ID number fails GB 11643 (possible in data imported before
      the check existed); the check digit is computed in Python over one streamed query;
    - RISK_WITHOUT_MEASURE: a case under assistance (监测中, in the elimination procedure or eliminated)
      with a risk category no measure answers (a stopped measure answers nothing; 缺什么补什么).
    """
    today = clock.today()
    has_measure = Exists(Measure.objects.filter(plan__case_id=OuterRef("pk")))
    eliminated = MonitoringCase.objects.open().filter(stage=Stage.ELIMINATED)

    without_measures = [
        Finding(
            key=f"case:{pk}",
            division_id=village_id,
            household_id=household_id,
            case_id=pk,
            detail=f"{eliminated_on:%Y-%m-%d}已风险消除，但没有录入任何帮扶措施（逻辑错误）。"
            if eliminated_on
            else "已风险消除，但没有录入任何帮扶措施（逻辑错误）。",
        )
        for pk, village_id, household_id, eliminated_on in eliminated.exclude(has_measure).values_list(
            "pk", "village_id", "household_id", "eliminated_on"
        )
    ]
    guarantees = [
        Finding(
            key=f"case:{case.pk}",
            division_id=case.village_id,
            household_id=case.household_id,
            case_id=case.pk,
            detail=f"已风险消除，但“两不愁三保障”及饮水安全未达标：{'、'.join(case.household.guarantees_unmet)}。",
        )
        for case in eliminated.filter(guarantees_unmet_q("household__")).select_related("household").order_by("pk")
    ]
    year = accounting_year(today)
    no_income = IncomeItem.objects.filter(household_id=OuterRef("household_id"), year=year)
    income = [
        Finding(
            key=f"household:{household_id}",
            division_id=village_id,
            household_id=household_id,
            case_id=pk,
            detail=f"{number}户尚未核算{year}年家庭收入（算账）。",
        )
        for pk, household_id, village_id, number in MonitoringCase.objects.open()
        .exclude(Exists(no_income))
        .values_list("pk", "household_id", "village_id", "household__number")
    ]
    invalid = []
    members = Member.objects.order_by("pk").values_list(
        "pk", "name", "id_number", "household_id", "household__village_id"
    )
    not_normal = []
    for pk, name, id_number, household_id, village_id in members.iterator(chunk_size=2000):
        try:
            info = parse_id_number(id_number, today=today)
        except ValidationError as exc:
            invalid.append(
                Finding(
                    key=f"member:{pk}",
                    division_id=village_id,
                    household_id=household_id,
                    detail=f"成员 {name} 的身份证号“{id_number}”无效：{exc.messages[0]}",
                )
            )
        else:
            if info.number != id_number:
                not_normal.append((pk, name, info.number, household_id, village_id))
    invalid.extend(_id_numbers_not_normal(not_normal))
    gaps = _risks_without_measure()
    outcome = Outcome()
    with transaction.atomic():
        outcome.counts.update(sync_todos(run, TodoKind.ELIMINATED_WITHOUT_MEASURES, without_measures))
        outcome.counts.update(sync_todos(run, TodoKind.ELIMINATED_GUARANTEES_UNMET, guarantees))
        outcome.counts.update(sync_todos(run, TodoKind.INCOME_MISSING, income))
        outcome.counts.update(sync_todos(run, TodoKind.INVALID_ID, invalid))
        outcome.counts.update(sync_todos(run, TodoKind.RISK_WITHOUT_MEASURE, gaps))
    return outcome


def _id_numbers_not_normal(members: list[tuple]) -> list[Finding]:
    """Stored numbers not in normal form (full-width digits, spaces, lower-case x) that the migration
    households 0009 could not normalise because the normal form is another member's: the same person
    registered twice, which only the county can merge."""
    holders = {
        number: (name, household_number)
        for number, name, household_number in Member.objects.filter(
            id_number__in=[normal for _, _, normal, _, _ in members]
        ).values_list("id_number", "name", "household__number")
    }
    findings = []
    for pk, name, normal, household_id, village_id in members:
        if normal in holders:
            other_name, other_household = holders[normal]
            detail = (
                f"身份证号不是标准格式：成员 {name} 的身份证号（含全角字符、空格或小写x）按标准写法为"
                f"“{mask_id_number(normal)}”，与 {other_household} 户成员 {other_name} 相同，应是同一人重复登记。"
                f"请县级核实后合并：保留一条登记，删除另一户中的重复成员。"
            )
        else:
            detail = (
                f"身份证号不是标准格式：成员 {name} 的身份证号含全角字符、空格或小写x，标准写法为"
                f"“{mask_id_number(normal)}”。请用“更正身份证号”改为标准写法，否则部门名单比对不到该成员。"
            )
        findings.append(Finding(key=f"member:{pk}", division_id=village_id, household_id=household_id, detail=detail))
    return findings


def _risks_without_measure() -> list[Finding]:

    through = MonitoringCase.risk_categories.through
    answered = Measure.objects.filter(
        plan__case_id=OuterRef("monitoringcase_id"), risk_category_id=OuterRef("riskcategory_id")
    ).exclude(status=MeasureStatus.STOPPED)
    rows = (
        through.objects.filter(monitoringcase__is_open=True, monitoringcase__stage__in=FOLLOWED_STAGES)
        .exclude(Exists(answered))
        .order_by("monitoringcase_id", "riskcategory__order")
        .values_list(
            "monitoringcase_id", "monitoringcase__village_id", "monitoringcase__household_id", "riskcategory__name"
        )
    )
    missing: dict[tuple[int, str, int], list[str]] = defaultdict(list)
    for case_id, village_id, household_id, risk in rows:
        missing[(case_id, village_id, household_id)].append(risk)
    return [
        Finding(
            key=f"case:{case_id}",
            division_id=village_id,
            household_id=household_id,
            case_id=case_id,
            detail=f"风险类型“{'、'.join(risks)}”还没有对应的帮扶措施（缺什么补什么）。",
        )
        for (case_id, village_id, household_id), risks in missing.items()
    ]


register(
    Job(
        "elimination_review",
        "风险消除月度研判",
        "每月",
        elimination_review,
        order=2,
        counts={"cases_reviewed": "研判监测对象"},
    )
)
register(Job("data_quality", "数据质量检查", "每周", data_quality, order=4))
