"""The standard forms (seeds/002), one case each, laid out like the paper forms with openpyxl:
《防止返贫监测对象信息采集表》, 《识别审批表》, 《帮扶措施落实情况表》, 《风险消除评估表》, and the quarterly
《防返贫致贫监测对象风险评估表》 of a township (due by the 5th after each quarter, seeds/002 四、监测机制).

Each writer reads only what `export.user` may see (`for_user`; the view has already answered 404 for a
case outside the user's area) and masks ID numbers unless `export.unmasked`.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from assistance.models import AssistancePlan, Measure
from assistance.rules import APPROVAL, PROPOSAL, Facts, evaluate, load_facts, load_facts_many
from fpr import clock
from fpr.periods import accounting_year, months_between
from fpr.sensitive import Kind, mask, shown_in_full
from households.id_numbers import mask_id_number
from households.models import GUARANTEE_ITEMS, HOUSING_LABEL, WATER_LABEL, HousingSafety, Relationship
from households.selectors import income_summary
from monitoring.models import ELIMINATION_STAGES, NOTICE_DAYS, MonitoringCase, Stage
from reports.exports.runner import writer
from reports.exports.xlsx_layout import Col, FormSheet, yes_no
from reports.models import Export, ExportKind
from workflow.selectors import TimelineEntry, case_timeline

ELIMINATION_PREFIX = "风险消除·"
NOTICE_STEP = f"公示（{NOTICE_DAYS}天）"  # the notice step of the approval form (县级审定表)


def load_case(export: Export) -> MonitoringCase:
    """The export's case, read through the user's scope (DoesNotExist outside it)."""
    return (
        MonitoringCase.objects.for_user(export.user)
        .select_related("household", "village__parent", "created_by")
        .get(pk=export.filters["case"])
    )


def _id(number: str, export: Export) -> str:
    return number if export.unmasked else mask_id_number(number)


def _phone(number: str, export: Export) -> str:
    """As the household page shows it to the export's author (`fpr.sensitive`)."""
    return number if shown_in_full(Kind.PHONE, user=export.user, revealed=export.unmasked) else mask(Kind.PHONE, number)


def _head(members) -> object | None:
    return next((m for m in members if m.relationship == Relationship.HEAD), None)


def _place(case: MonitoringCase) -> str:
    township = case.village.parent.name if case.village.parent_id else ""
    return f"{township} {case.village.name}".strip()


def _subtitle(case: MonitoringCase, export: Export) -> str:
    return (
        f"{_place(case)}　户编号：{case.household.number}　导出：{export.user} {clock.localtime_now():%Y-%m-%d %H:%M}"
    )


def _case_fields(case: MonitoringCase, members, export: Export) -> list[tuple[str, object, int]]:
    head = _head(members)
    household = case.household
    return [
        ("户主姓名", head.name if head else "（未登记）", 2),
        ("身份证号", _id(head.id_number, export) if head else "", 3),
        ("家庭人口", f"{len(members)}人", 1),
        ("家庭住址", household.address, 4),
        ("联系电话", _phone(household.phone, export), 2),
        (
            "脱贫状态",
            household.get_poverty_status_display()
            + (f"（{household.poverty_exit_year}年脱贫）" if household.poverty_exit_year else ""),
            2,
        ),
        ("监测对象类型", case.get_case_type_display(), 2),
        ("风险类型", "、".join(r.name for r in case.risk_categories.all()), 3),
        ("发现渠道", case.get_channel_display(), 2),
        ("风险等级", case.get_colour_display() if case.colour else "未定级", 1),
    ]


def _latest(timeline: list[TimelineEntry], kind: str, *, elimination: bool) -> TimelineEntry | None:
    entries = [e for e in timeline if e.kind == kind and e.title.startswith(ELIMINATION_PREFIX) == elimination]
    return entries[-1] if entries else None


def _event(timeline: list[TimelineEntry], *names: str) -> TimelineEntry | None:
    events = [e for e in timeline if e.kind == "transition" and e.record.transition in names]
    return events[-1] if events else None


def _local_date(moment: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(moment).date()


# --------------------------------------------------------------------------- 信息采集表

COLLECTION_WIDTHS = (5, 9, 5, 20, 8, 10, 11, 11, 11, 12, 8, 9, 8)


@writer(ExportKind.COLLECTION_FORM)
def write_collection_form(export: Export, path: str, progress: Callable[[int, int], None]) -> int:
    """信息采集表: household, members, income (as collected at the identification verification), 两不愁三保障
    and drinking water, risk points, the verification team."""
    case = load_case(export)
    household = case.household
    members = list(household.members.order_by("pk"))
    timeline = case_timeline(case=case)
    visit = _latest(timeline, "verification", elimination=False)
    collected = visit.details["collected"] if visit else {}
    year = collected.get("year") or accounting_year()
    live = income_summary(household=household, year=year)

    form = FormSheet(sheet_title="信息采集表", widths=COLLECTION_WIDTHS, landscape=True)
    form.title("防止返贫监测对象信息采集表", _subtitle(case, export))
    form.section("一、家庭基本情况")
    form.fields(_case_fields(case, members, export), label_span=1)

    form.section("二、家庭成员情况")
    member_columns = [
        Col("序号", kind="int"),
        Col("姓名"),
        Col("性别"),
        Col("身份证号"),
        Col("与户主关系"),
        Col("健康状况"),
        Col("残疾类别及等级"),
        Col("劳动技能"),
        Col("在校生状况"),
        Col("务工地点"),
        Col("务工时间（月）", kind="int"),
        Col("低保/特困"),
        Col("参加医保"),
    ]
    member_rows = [
        (
            i,
            m.name,
            m.sex,
            _id(m.id_number, export),
            m.get_relationship_display(),
            m.get_health_display() + (f"（{m.illness}）" if m.illness else ""),
            f"{m.get_disability_category_display() or ''}{m.get_disability_grade_display() or ''}",
            m.get_labour_capacity_display(),
            m.get_schooling_display(),
            m.employment_location,
            m.employment_months,
            "、".join(label for flag, label in ((m.is_dibao, "低保"), (m.is_tekun, "特困")) if flag) or "否",
            yes_no(m.has_medical_insurance),
        )
        for i, m in enumerate(members, start=1)
    ]
    form.table(member_columns, member_rows)

    form.section(
        f"三、{year}年家庭收入情况（元）"
        + (f"　入户核实日期：{visit.details['visit_date']:%Y-%m-%d}" if visit else "　尚未入户核实，以下为当前核算数据")
    )
    income = "家庭收入情况（元）"
    income_columns = [
        Col("工资性收入", 2, "money", income),
        Col("生产经营性净收入", 2, "money", income),
        Col("财产性收入", 1, "money", income),
        Col("转移性收入", 2, "money", income),
        Col("家庭纯收入", 2, "money"),
        Col("家庭人口", 1, "int"),
        Col("人均纯收入", 1, "money"),
        Col("监测范围", 1, "money"),
        Col("是否高于监测范围", 1),
    ]

    def amount(key: str, fallback: Decimal | None) -> Decimal | None:
        value = collected.get(key) if visit else fallback
        return Decimal(value) if value not in (None, "") else None

    per_capita = amount("per_capita", live.per_capita)
    line = amount("monitoring_line", live.monitoring_line)
    form.table(
        income_columns,
        [
            (
                amount("wage", live.wage),
                amount("business_net", live.business_net),
                amount("property", live.property_income),
                amount("transfers", live.transfer_total),
                amount("net_total", live.net_total),
                collected.get("size", live.size) if visit else live.size,
                per_capita,
                line,
                yes_no(per_capita > line) if per_capita is not None and line is not None else "未设置监测范围",
            )
        ],
    )
    transfers = "转移性收入明细（元，当前核算）"
    from households.models import TRANSFER_KINDS, ExpenditureKind, IncomeKind

    transfer_columns = [
        Col(IncomeKind(k).label, 1 if i < 4 else 2, "money", transfers) for i, k in enumerate(TRANSFER_KINDS)
    ]
    transfer_columns.append(Col("合计", 1, "money", transfers))
    rigid = "刚性支出（元）"
    expenditure_columns = [Col(ExpenditureKind(k).label, 1, "money", rigid) for k in ExpenditureKind.values]
    form.table(
        transfer_columns,
        [(*(live.transfers.get(k) or Decimal(0) for k in TRANSFER_KINDS), live.transfer_total)],
    )
    form.table(
        [*expenditure_columns, Col("合计", 1, "money", rigid), Col("扣除刚性支出后人均纯收入", 8, "money")],
        [
            (
                *(live.expenditures.get(k) or Decimal(0) for k in ExpenditureKind.values),
                live.expenditure_total,
                live.per_capita_after_expenditure,
            )
        ],
    )

    form.section("四、“两不愁三保障”及饮水安全情况")
    unmet = set(collected.get("guarantees_unmet", household.guarantees_unmet) if visit else household.guarantees_unmet)
    water = collected.get("water_problems", household.water_problems) if visit else household.water_problems
    housing = household.get_housing_safety_display() if household.housing_safety != HousingSafety.SAFE else "安全"
    form.fields(
        [
            *((label, yes_no(label not in unmet), 1) for _, label in GUARANTEE_ITEMS),
            (HOUSING_LABEL, f"{yes_no(HOUSING_LABEL not in unmet)}（{housing}）", 2),
            (
                WATER_LABEL,
                yes_no(WATER_LABEL not in unmet) + (f"（{'、'.join(water)}不达标）" if water else ""),
                1,
            ),
        ],
        label_span=1,
    )

    form.section("五、致贫返贫风险")
    form.text("困难情况", case.description, label_span=2)
    form.text("核实情况", visit.text if visit else "", label_span=2)
    form.text("风险点", visit.details["risk_points"] if visit else "", label_span=2)
    form.fields([("核实人员", "、".join(visit.details["verifiers"]) if visit else "", 10)], label_span=2)
    form.signatures(["入户核实人员（签字）", "户主（签字）", "填表日期"])
    form.save(path, freeze=None)
    progress(1, 1)
    return 1


# --------------------------------------------------------------------------- 识别审批表

APPROVAL_WIDTHS = (12, 12, 12, 12, 12, 12, 12, 12)


def _approval_rows(case: MonitoringCase, timeline: list[TimelineEntry]) -> list[tuple]:
    """(环节, 日期, 经办人/参与人员, 意见/结果) for the six steps of 识别程序, the latest round of each."""
    rows = []
    submitted = _event(timeline, "submit_application")
    signed = (
        f"承诺授权书签署日期：{case.authorization_signed_on:%Y-%m-%d}；"
        if case.authorization_signed_on
        else "承诺授权书未签署；"
    )
    rows.append(
        (
            "提交申请",
            _local_date(case.created_at),
            str(case.created_by) + (f"（提交：{submitted.actor}）" if submitted else ""),
            f"{signed}发现渠道：{case.get_channel_display()}；{case.description}",
        )
    )
    visit = _latest(timeline, "verification", elimination=False)
    rows.append(
        (
            "入户核实",
            visit.details["visit_date"] if visit else None,
            "、".join(visit.details["verifiers"]) if visit else "",
            f"{visit.text}；风险点：{visit.details['risk_points']}" if visit else "尚未办理",
        )
    )
    appraisal = _latest(timeline, "appraisal", elimination=False)
    if appraisal:
        people = "、".join(f"{p.get('name')}（{p.get('role')}）" for p in appraisal.details["participants"])
    rows.append(
        (
            "民主评议",
            appraisal.details["meeting_date"] if appraisal else None,
            people if appraisal else "",
            appraisal.text if appraisal else "尚未办理",
        )
    )
    notice = _latest(timeline, "notice", elimination=False)
    if notice:
        objections = [e for e in timeline if e.kind == "objection" and e.record.notice_id == notice.record.pk]
        objection_text = (
            "；".join(f"异议（{e.record.get_status_display()}）：{e.text}" for e in objections) or "公示期内无异议"
        )
    rows.append(
        (
            NOTICE_STEP,
            notice.details["starts_on"] if notice else None,
            notice.actor if notice else "",
            f"{notice.text}；{objection_text}" if notice else "尚未办理",
        )
    )
    for step, names in (
        (
            "镇街审核",
            (
                "township_approve",
                "township_return",
                "township_verification_return",
                "township_appraisal_return",
                "township_reject",
            ),
        ),
        ("县级审定", ("county_approve", "county_return", "county_reject")),
    ):
        event = _event(timeline, *names)
        if event:
            who = event.actor + (f"（{event.actor_division}）" if event.actor_division else "")
            extra = (
                f"；部门信息比对及会商研判结果：{event.details['comparison']}"
                if event.details.get("comparison")
                else ""
            )
            rows.append((step, _local_date(event.at), who, f"{event.title}。意见：{event.text or '无'}{extra}"))
        else:
            rows.append((step, None, "", "尚未办理"))
    return rows


@writer(ExportKind.APPROVAL_FORM)
def write_approval_form(export: Export, path: str, progress: Callable[[int, int], None]) -> int:
    """识别审批表: application → 入户核实 → 民主评议 → 公示 → 镇街审核 → 县级审定, with dates, people, opinions."""
    case = load_case(export)
    members = list(case.household.members.order_by("pk"))
    timeline = case_timeline(case=case)
    form = FormSheet(sheet_title="识别审批表", widths=APPROVAL_WIDTHS, landscape=False)
    form.title("防止返贫监测对象识别审批表", _subtitle(case, export))
    form.fields(_case_fields(case, members, export)[:6], label_span=1)
    form.fields(_case_fields(case, members, export)[6:], label_span=1)
    form.section("识别程序办理情况")
    rows = _approval_rows(case, timeline)
    form.table(
        [Col("环节"), Col("日期", kind="date"), Col("经办人/参与人员", 2), Col("意见/结果", 4)], rows, repeat=True
    )
    for row in range(form.row - len(rows), form.row):
        form.sheet.row_dimensions[row].height = 60
    result = {Stage.REJECTED: "不予纳入", Stage.MONITORING: "确定为监测对象"}.get(case.stage, case.get_stage_display())
    form.fields([("审批结果", result, 3), ("识别纳入日期", case.identified_on or "", 3)], label_span=1)
    form.signatures(["村（社区）审核（盖章）", "镇（街）审核（盖章）", "县级审定（盖章）"])
    form.save(path)
    progress(1, 1)
    return 1


# --------------------------------------------------------------------------- 帮扶措施落实情况表

MEASURES_WIDTHS = (5, 11, 14, 16, 16, 11, 11, 11, 8, 8, 16)


@writer(ExportKind.MEASURES_FORM)
def write_measures_form(export: Export, path: str, progress: Callable[[int, int], None]) -> int:
    """帮扶措施落实情况表: the "一户一策" plan and its measures by the risk they answer, with subtotals and a total;
    a risk category with no measure is shown as such (缺什么补什么)."""
    case = load_case(export)
    members = list(case.household.members.order_by("pk"))
    plan = AssistancePlan.objects.for_user(export.user).filter(case=case).select_related("pairing_cadre").first()
    measures = list(
        Measure.objects.for_user(export.user)
        .filter(plan__case=case)
        .select_related("category", "risk_category")
        .order_by("risk_category__order", "starts_on", "pk")
    )
    timeline = case_timeline(case=case)
    visit = _latest(timeline, "verification", elimination=True)

    form = FormSheet(sheet_title="帮扶措施落实情况表", widths=MEASURES_WIDTHS, landscape=True)
    form.title("防止返贫监测对象帮扶措施落实情况表", _subtitle(case, export))
    form.fields(_case_fields(case, members, export), label_span=1)
    form.section("一、“一户一策”帮扶计划")
    if plan:
        form.fields(
            [
                ("结对帮扶干部", plan.cadre_display, 2),
                ("计划版本", f"第{plan.version}版", 1),
                ("调整原因", plan.adjustment_reason or "—", 5),
            ],
            label_span=1,
        )
        form.text("家庭基本情况", plan.situation, label_span=2)
        form.text("风险分析", plan.risk_analysis, label_span=2)
        form.text("农户需求", plan.needs, label_span=2)
    else:
        form.note("尚未制定“一户一策”帮扶计划。")

    form.section("二、帮扶措施落实情况")
    by_risk: dict[str, list[Measure]] = defaultdict(list)
    for measure in measures:
        by_risk[measure.risk_category.name].append(measure)
    for risk in case.risk_categories.all():
        by_risk.setdefault(risk.name, [])
    rows, subtotal_rows, number, total = [], [], 0, Decimal(0)
    for risk, items in by_risk.items():
        for m in items:
            number += 1
            rows.append(
                (
                    number,
                    risk,
                    m.category.name,
                    m.description,
                    m.amount,
                    m.starts_on,
                    m.ends_on,
                    m.get_status_display(),
                    m.get_effect_display() if m.effect else "未评估",
                    m.effect_note,
                )
            )
        subtotal = sum((m.amount for m in items), Decimal(0))
        total += subtotal
        subtotal_rows.append(len(rows))
        rows.append(
            (
                "",
                risk,
                "小计",
                f"{len(items)}项" if items else "无帮扶措施（缺什么补什么）",
                subtotal,
                None,
                None,
                "",
                "",
                "",
            )
        )
    columns = [
        Col("序号", kind="int"),
        Col("针对风险"),
        Col("措施类别"),
        Col("措施内容", 2),
        Col("金额（元）", kind="money"),
        Col("开始日期", kind="date"),
        Col("结束日期", kind="date"),
        Col("实施状态"),
        Col("帮扶成效"),
        Col("成效说明"),
    ]
    form.table(
        columns,
        rows,
        totals=("合计", "", f"共{len(measures)}项", "", total, None, None, "", "", ""),
        subtotal_rows=subtotal_rows,
        repeat=True,
    )
    form.fields(
        [
            ("入户核实日期", visit.details["visit_date"] if visit else "尚未核实", 2),
            ("核实人员", "、".join(visit.details["verifiers"]) if visit else "", 6),
        ],
        label_span=2,
    )
    form.signatures(["入户核实人员（签字）", "结对帮扶干部（签字）", "户主（签字）"])
    form.save(path)
    progress(1, 1)
    return 1


# --------------------------------------------------------------------------- 风险消除评估表

ELIMINATION_WIDTHS = (5, 14, 14, 16, 16, 16, 12, 10)


def rule_data(code: str, f: Facts) -> str:
    """The data a rule is judged on, for the form's 相关数据 column."""
    s = f.income
    if code == "guarantees":
        unmet = f.household.guarantees_unmet
        return "未保障：" + "、".join(unmet) if unmet else "两不愁三保障及饮水安全均有保障"
    if code == "stable_income":
        return (
            f"{s.year}年工资性{s.wage}元、生产经营性净收入{s.business_net}元、财产性{s.property_income}元、"
            f"转移性{s.transfer_total}元；刚性支出{s.expenditure_total}元"
        )
    if code == "plan":
        running = sum(1 for m in f.measures if m.status in ("active", "done"))
        return f"{'已制定' if f.has_plan else '未制定'}一户一策；措施{len(f.measures)}项，实施中或已完成{running}项"
    if code == "effect":
        return (
            "；".join(
                f"{m.category.name}：{m.starts_on:%Y-%m-%d}起，成效{m.get_effect_display() or '未评估'}"
                for m in f.measures
            )
            or "无措施"
        )
    if code == "labour":
        able = sum(1 for m in f.members if m.has_labour)
        return f"家庭成员{len(f.members)}人，有劳动能力{able}人"
    if code == "hardship":
        groups = [f"{m.name}（{'、'.join(m.special_groups)}）" for m in f.members if m.special_groups]
        return "；".join(groups) or "无大病、重度残疾、失能老年人等特殊困难人口"
    if code == "procedure":
        steps = f.procedure
        marks = [("一看（本月走访）", steps.get("look")), ("二算（本年算账）", s.has_items)]
        if f.moment == APPROVAL:
            marks += [("三核", steps.get("verify")), ("四评议", steps.get("appraise")), ("五公示", steps.get("notice"))]
        return "、".join(f"{label}{'✓' if done else '✗'}" for label, done in marks)
    if code == "measures":
        return f"已录入帮扶措施{len(f.measures)}项"
    if code == "income_line":
        per_capita = f"{s.per_capita}元" if s.has_items else "未核算"
        line = f"{s.monitoring_line}元" if s.monitoring_line is not None else "未设置"
        return f"{s.year}年人均纯收入{per_capita}，监测范围{line}"
    return ""


@writer(ExportKind.ELIMINATION_FORM)
def write_elimination_form(export: Export, path: str, progress: Callable[[int, int], None]) -> int:
    """风险消除评估表: income against the line, the nine rules ("七个不消" and two more) with their data and
    verdict, and the opinions of the elimination round."""
    case = load_case(export)
    members = list(case.household.members.order_by("pk"))
    moment = APPROVAL if case.stage in (Stage.ELIM_TOWNSHIP, Stage.ELIM_COUNTY, Stage.ELIMINATED) else PROPOSAL
    today = clock.today()
    facts = load_facts(case, moment=moment, today=today)
    check = evaluate(facts)
    timeline = case_timeline(case=case)
    s = facts.income

    form = FormSheet(sheet_title="风险消除评估表", widths=ELIMINATION_WIDTHS, landscape=False)
    form.title("防止返贫监测对象风险消除评估表", _subtitle(case, export))
    form.fields(_case_fields(case, members, export)[:6], label_span=1)
    form.fields(_case_fields(case, members, export)[6:], label_span=1)
    form.fields(
        [
            ("识别纳入日期", case.identified_on or "", 2),
            ("评估日期", today, 2),
            ("当前环节", case.get_stage_display(), 1),
        ]
    )
    form.section(f"一、{s.year}年收入情况（元）")
    group = "家庭收入情况（元）"
    form.table(
        [
            Col("工资性收入", 1, "money", group),
            Col("生产经营性净收入", 1, "money", group),
            Col("财产性收入", 1, "money", group),
            Col("转移性收入", 1, "money", group),
            Col("家庭纯收入", 1, "money"),
            Col("人均纯收入", 1, "money"),
            Col("监测范围", 1, "money"),
            Col("高于监测范围"),
        ],
        [
            (
                s.wage,
                s.business_net,
                s.property_income,
                s.transfer_total,
                s.net_total,
                s.per_capita if s.has_items else None,
                s.monitoring_line,
                yes_no(s.above_line) if s.has_items and s.above_line is not None else "无法判断",
            )
        ],
    )
    form.section(f"二、风险消除标准评估（共{len(check.results)}项：“七个不消”及风险消除标准、帮扶措施录入）")
    rows = [
        (
            i,
            result.condition,
            rule_data(result.code, facts),
            "；".join(result.findings) or "符合",
            "符合" if result.passed else "不符合",
        )
        for i, (result) in enumerate(check.results, start=1)
    ]
    form.table(
        [Col("序号", kind="int"), Col("评估内容", 2), Col("相关数据", 2), Col("情况说明", 2), Col("结论")],
        rows,
        repeat=True,
    )
    for row in range(form.row - len(rows), form.row):
        form.sheet.row_dimensions[row].height = 48
    verdict = "符合风险消除标准" if check.passed else f"不符合风险消除标准（{len(check.failures)}项未通过）"
    if check.whole_household_without_labour:
        verdict += "；整户无劳动能力，落实社会保障后持续跟踪监测"
    form.fields([("评估结论", verdict, 7)])
    form.section("三、风险消除程序办理情况")
    steps = []
    for step, names in (
        ("提出名单", ("propose_elimination",)),
        ("镇街审核", ("township_approve_elim", "township_return_elim")),
        ("县级审定", ("county_approve_elim", "county_return_elim", "county_refuse_elim")),
    ):
        event = _event(timeline, *names)
        steps.append(
            (step, _local_date(event.at), event.actor, f"{event.title}。意见：{event.text or '无'}")
            if event
            else (step, None, "", "尚未办理")
        )
    appraisal = _latest(timeline, "appraisal", elimination=True)
    notice = _latest(timeline, "notice", elimination=True)
    steps.insert(
        1,
        ("民主评议", appraisal.details["meeting_date"], appraisal.actor, appraisal.text)
        if appraisal
        else ("民主评议", None, "", "尚未办理"),
    )
    steps.insert(
        2,
        (NOTICE_STEP, notice.details["starts_on"], notice.actor, notice.text)
        if notice
        else (NOTICE_STEP, None, "", "尚未办理"),
    )
    form.table([Col("环节"), Col("日期", kind="date"), Col("经办人", 2), Col("意见/结果", 4)], steps)
    form.signatures(["评议小组（签字）", "镇（街）审核意见（盖章）", "县级审定（盖章）"])
    form.save(path)
    progress(1, 1)
    return 1


# --------------------------------------------------------------------------- 季度风险评估表 (per township)


def quarter_range(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def quarterly_cases(*, user, township_prefix: str, year: int, quarter: int):
    """The township's monitoring objects during the quarter: identified by its end, not eliminated
    before its start."""
    start, end = quarter_range(year, quarter)
    return (
        MonitoringCase.objects.for_user(user)
        .filter(village__code__startswith=township_prefix, identified_on__isnull=False, identified_on__lte=end)
        .filter(Q(eliminated_on__isnull=True) | Q(eliminated_on__gte=start))
        .select_related("village")
        .prefetch_related("risk_categories")
        .order_by("village_id", "household__number", "pk")
    )


def proposed_action(case: MonitoringCase, facts: Facts, today: dt.date) -> tuple[str, str]:
    """(拟采取措施, 未达标项) for one case of the quarterly assessment."""
    if case.stage == Stage.ELIMINATED:
        return "风险已消除，继续跟踪监测", ""
    if case.stage in ELIMINATION_STAGES:
        return f"风险消除程序办理中（{case.get_stage_display()}）", ""
    check = evaluate(facts)
    failing = "、".join(r.name.removesuffix("的不消") for r in check.failures)
    if check.passed:
        return "符合风险消除标准，拟提出风险消除", ""
    if check.whole_household_without_labour:
        return "落实社会保障后持续跟踪监测", failing
    identified = case.identified_on
    if months_between(identified, today) >= settings.FPR_INTENSIFY_AFTER_MONTHS:  # the review job's rule
        return f"帮扶满{settings.FPR_INTENSIFY_AFTER_MONTHS}个月未消除，加大帮扶力度", failing
    return "继续落实帮扶措施", failing


QUARTERLY_COLUMNS = [
    Col("序号", kind="int"),
    Col("村"),
    Col("户编号"),
    Col("户主姓名"),
    Col("身份证号"),
    Col("家庭人口", kind="int"),
    Col("监测对象类型"),
    Col("风险类型"),
    Col("识别纳入日期", kind="date"),
    Col("措施类别", group="帮扶措施"),
    Col("措施数（项）", kind="int", group="帮扶措施"),
    Col("帮扶资金（元）", kind="money", group="帮扶措施"),
    Col("人均纯收入（元）", kind="money"),
    Col("当前风险状况", group="风险研判"),
    Col("风险等级", group="风险研判"),
    Col("未达标项", group="风险研判"),
    Col("拟采取措施", group="风险研判"),
]
QUARTERLY_WIDTHS = (5, 9, 15, 8, 20, 6, 12, 14, 11, 18, 7, 11, 10, 14, 7, 26, 22)


@writer(ExportKind.QUARTERLY_RISK)
def write_quarterly_risk(export: Export, path: str, progress: Callable[[int, int], None]) -> int:
    """季度风险评估表: one row per monitoring object of the township in the quarter, with totals."""
    filters = export.filters
    year, quarter = int(filters["year"]), int(filters["quarter"])
    township = export.division
    today = clock.today()
    cases = list(quarterly_cases(user=export.user, township_prefix=township.prefix, year=year, quarter=quarter))
    facts = load_facts_many(cases, today=today)
    rows, colours = [], defaultdict(int)
    actions: dict[str, int] = defaultdict(int)
    persons, measure_count, funds = 0, 0, Decimal(0)
    for number, case in enumerate(cases, start=1):
        f = facts[case.pk]
        head = _head(f.members)
        action, failing = proposed_action(case, f, today)
        amount = sum((m.amount for m in f.measures), Decimal(0))
        status = (
            f"已于{case.eliminated_on:%Y-%m-%d}风险消除" if case.stage == Stage.ELIMINATED else case.get_stage_display()
        )
        rows.append(
            (
                number,
                case.village.name,
                f.household.number,
                head.name if head else "",
                _id(head.id_number, export) if head else "",
                len(f.members),
                case.get_case_type_display(),
                "、".join(r.name for r in case.risk_categories.all()),
                case.identified_on,
                "、".join(dict.fromkeys(m.category.name for m in f.measures)),
                len(f.measures),
                amount,
                f.income.per_capita if f.income.has_items else None,
                status,
                case.get_colour_display() if case.colour else "未定级",
                failing,
                action,
            )
        )
        persons += len(f.members)
        measure_count += len(f.measures)
        funds += amount
        colours[case.get_colour_display() if case.colour else "未定级"] += 1
        actions[action] += 1
    form = FormSheet(sheet_title="风险评估表", widths=QUARTERLY_WIDTHS, landscape=True)
    county = township.parent.name if township.parent_id else ""
    form.title(
        f"{county}{township.name}防返贫致贫监测对象风险评估表（{year}年第{quarter}季度）",
        f"填报单位：{township.name}　统计期间：{quarter_range(year, quarter)[0]:%Y-%m-%d} 至 "
        f"{quarter_range(year, quarter)[1]:%Y-%m-%d}　导出：{export.user} {clock.localtime_now():%Y-%m-%d %H:%M}",
    )
    header_top, first_data = form.table(
        QUARTERLY_COLUMNS,
        rows,
        totals=(
            "合计",
            "",
            f"共{len(rows)}户",
            "",
            "",
            persons,
            "",
            "",
            None,
            "",
            measure_count,
            funds,
            None,
            "",
            "",
            "",
            "",
        ),
        repeat=True,
    )
    summary = "、".join(f"{label}{n}户" for label, n in colours.items()) or "无"
    form.note(
        f"风险等级：{summary}。拟采取措施：" + ("；".join(f"{a}{n}户" for a, n in actions.items()) or "无") + "。"
    )
    form.signatures(["填表人", "审核人", "镇（街）负责人", "填报日期"])
    form.save(path, freeze=f"D{first_data}")
    progress(len(rows), len(rows))
    return len(rows)
