"""Warnings (预警线索): raised by the real comparison of a department list, queued in the village with the
48-hour countdown (time moved with time-machine), verified by the village — include (opens an application
with channel 部门筛查预警), exclude (with a reason), attach (the household already has a case) — with
row locks against a second cadre, jurisdiction (another village's warning is a 404), history, the
property-check notice of asset hits, and the API."""

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from fpr.errors import ApplicationError, ConflictError
from fpr.roles import Department, Role
from households.id_numbers import mask_id_number
from households.models import Relationship
from monitoring.models import Channel, MonitoringCase, RiskWarning, Stage, WarningStatus
from monitoring.screening import warning_services as services
from tests.builders import make_user, member_data

pytestmark = pytest.mark.django_db

# 10:00 in Beijing on the day the medical-insurance list comes in.
RAISED = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
QUEUE = "/monitoring/warnings/"
API = "/api/v1/warnings/"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(RAISED, tick=False) as traveller:
        yield traveller


def head(household):
    return household.members.get(relationship=Relationship.HEAD)


def medical_row(member, amount="60000"):
    return {"身份证号": member.id_number, "姓名": member.name, "个人自付金额": amount, "就诊机构": "大方县人民医院"}


@pytest.fixture
def raise_warnings(department_upload):
    """Upload a department list (the real comparison) and return the warnings it raised, in row order."""

    def build(rows, **options):
        upload = department_upload(rows, **options)
        assert upload.status == "done", upload.error
        return list(RiskWarning.objects.filter(upload=upload).order_by("row_number"))

    return build


@pytest.fixture
def warning_a(raise_warnings, household_a):
    (warning,) = raise_warnings([medical_row(head(household_a))])
    return warning


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def include_data(**extra) -> dict:
    data = {
        "include-case_type": "marginal",
        "include-risk_categories": ["illness"],
        "include-colour": "red",
        "include-description": "户主住院，自付医疗费用6万元。",
    }
    data.update(extra)
    return data


# --------------------------------------------------------------------------- raising and the 48 hours


def test_a_warning_is_due_48_hours_after_it_is_raised(warning_a, household_a, village_a):
    assert warning_a.kind == "medical_cost" and warning_a.kind_label == "大额医疗费用个人自付"
    assert warning_a.grade == "red"  # 60000 yuan out of pocket reaches the red threshold
    assert warning_a.household == household_a and warning_a.village == village_a
    assert warning_a.raised_at == RAISED
    assert warning_a.due_at == RAISED + dt.timedelta(hours=48)
    assert warning_a.status == WarningStatus.OPEN and not warning_a.is_overdue


def test_queue_counts_down_and_marks_a_warning_overdue_after_48_hours(_clock, warning_a, cadre_a):
    text = page_text(client_for(cadre_a).get(QUEUE))
    assert "剩余 48小时" in text and "deadline--overdue" not in text

    _clock.move_to(RAISED + dt.timedelta(hours=17))  # (a login lasts 8 hours: log in again)
    text = page_text(client_for(cadre_a).get(QUEUE))
    assert "剩余 31小时" in text

    _clock.move_to(RAISED + dt.timedelta(hours=53))
    response = client_for(cadre_a).get(QUEUE)
    text = page_text(response)
    assert "已超时 5小时" in text
    assert 'class="is-overdue"' in text and "deadline--overdue" in text
    assert response.context["totals"] == {"open": 1, "overdue": 1}
    warning_a.refresh_from_db()
    assert warning_a.is_overdue


def test_queue_puts_overdue_warnings_first(_clock, raise_warnings, household_a, make_household, cadre_a, village_a):
    (older,) = raise_warnings([medical_row(head(household_a))])
    _clock.move_to(RAISED + dt.timedelta(hours=40))
    other = make_household(user=cadre_a, village=village_a)
    (newer,) = raise_warnings([medical_row(head(other), "30000")], period="2026-10")
    _clock.move_to(RAISED + dt.timedelta(hours=50))  # the first is 2 hours late, the second has 38 left

    response = client_for(cadre_a).get(QUEUE)
    rows = response.context["rows"]
    assert [(w.pk, d.overdue, d.text) for w, d in rows] == [
        (older.pk, True, "已超时 2小时"),
        (newer.pk, False, "剩余 38小时"),
    ]


def test_queue_filters_by_status_department_and_period(raise_warnings, household_a, make_household, cadre_a, village_a):
    (medical,) = raise_warnings([medical_row(head(household_a))])
    other = make_household(user=cadre_a, village=village_a)
    (disaster,) = raise_warnings(
        [{"身份证号": head(other).id_number, "姓名": head(other).name, "灾害类型": "洪涝", "直接经济损失": "8000"}],
        department=Department.EMERGENCY,
        period="2026-10",
    )
    services.warning_exclude(user=cadre_a, warning=disaster, reason="损失已由农业保险赔付。")
    client = client_for(cadre_a)

    def shown(**params) -> list[int]:
        response = client.get(QUEUE, params)
        assert response.status_code == 200
        return [warning.pk for warning, _ in response.context["rows"]]

    assert shown() == [medical.pk]  # the queue: open ones only
    assert shown(status="excluded") == [disaster.pk]
    assert sorted(shown(status="all")) == sorted([medical.pk, disaster.pk])
    assert shown(status="all", department=Department.EMERGENCY) == [disaster.pk]
    assert shown(status="all", period="2026-11") == [medical.pk]
    assert shown(period="2026-13") == [medical.pk]  # an invalid period shows the open queue, with the error
    assert "请按“年-月”填写" in page_text(client.get(QUEUE, {"period": "2026-13"}))


def test_queue_shows_masked_id_numbers_and_costs_the_same_queries_for_3_or_30(
    raise_warnings, make_household, cadre_a, village_a, django_assert_max_num_queries
):
    households = [make_household(user=cadre_a, village=village_a, members=[member_data(f"户主{n}")]) for n in range(30)]
    members = [head(household) for household in households]
    raise_warnings([medical_row(member) for member in members[:3]])
    client = client_for(cadre_a)
    client.get(QUEUE)  # session and the user's roles

    def page_queries() -> int:
        with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE)
        assert response.status_code == 200
        return len(queries), len(response.context["rows"]), page_text(response)

    few, shown, text = page_queries()
    assert shown == 3
    assert mask_id_number(members[0].id_number) in text and members[0].id_number not in text
    raise_warnings([medical_row(member) for member in members[3:]], period="2026-10")
    many, shown, _ = page_queries()
    assert shown == 30 and many == few


def test_queue_pages_by_deadline(_clock, raise_warnings, make_household, cadre_a, village_a, monkeypatch):
    from fpr.keyset import keyset_page

    monkeypatch.setitem(keyset_page.__kwdefaults__, "size", 2)  # two a page instead of fifty
    warnings = []
    for hour in range(3):
        _clock.move_to(RAISED + dt.timedelta(hours=hour))
        household = make_household(user=cadre_a, village=village_a)
        warnings += raise_warnings([medical_row(head(household))])
    client = client_for(cadre_a)

    first = client.get(QUEUE)
    assert [w.pk for w, _ in first.context["rows"]] == [warnings[0].pk, warnings[1].pk]
    second = client.get(QUEUE + "?" + first.context["page"]["next_query"])
    assert [w.pk for w, _ in second.context["rows"]] == [warnings[2].pk]
    assert second.context["page"]["next_query"] is None


# --------------------------------------------------------------------------- include / exclude / attach


def test_include_opens_an_application_with_channel_department_warning(warning_a, cadre_a, household_a):
    client = client_for(cadre_a)
    page = client.get(reverse("monitoring:warning", args=[warning_a.pk]))
    form = page.context["include_form"]
    # Prefilled from the warning: its risk, its grade as the colour, and the facts of the row.
    assert form.initial["risk_categories"] == ["illness"] and form.initial["colour"] == "red"
    assert form.initial["case_type"] == "unstable_lifted"  # the household is a 脱贫户
    assert "大额医疗费用个人自付" in form.initial["description"] and "个人自付金额 60000" in form.initial["description"]

    response = client.post(reverse("monitoring:warning_include", args=[warning_a.pk]), include_data())

    warning_a.refresh_from_db()
    case = warning_a.case
    assert response.status_code == 302 and response.url == reverse("cases:detail", args=[case.pk])
    assert warning_a.status == WarningStatus.INCLUDED
    assert warning_a.handled_by == cadre_a and warning_a.handled_at == RAISED
    assert case.household == household_a and case.channel == Channel.DEPARTMENT_WARNING
    assert case.stage == Stage.APPLICATION and case.created_by == cadre_a
    assert [c.code for c in case.risk_categories.all()] == ["illness"] and case.colour == "red"


def test_include_is_refused_when_the_household_already_has_an_open_case(warning_a, open_case, cadre_a, household_a):
    existing = open_case(user=cadre_a, household=household_a)  # opened after the warning was raised
    with pytest.raises(ApplicationError, match="已有在办或监测中的案件.*并入在办案件"):
        services.warning_include(
            user=cadre_a, warning=warning_a, case_type="marginal", risk_categories=["illness"], description="x"
        )
    page = client_for(cadre_a).post(reverse("monitoring:warning_include", args=[warning_a.pk]), include_data())
    assert page.status_code == 200 and "并入在办案件" in page_text(page)
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.OPEN and warning_a.case is None
    assert MonitoringCase.objects.filter(household=household_a).get() == existing


def test_exclude_needs_a_reason(warning_a, cadre_a):
    url = reverse("monitoring:warning_exclude", args=[warning_a.pk])
    client = client_for(cadre_a)

    refused = client.post(url, {"exclude-reason": "   "})
    assert refused.status_code == 200 and "请填写不纳入的原因" in page_text(refused)
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.OPEN

    done = client.post(url, {"exclude-reason": "医疗费用已由大病保险报销，家庭收入稳定。"})
    assert done.status_code == 302
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.EXCLUDED and warning_a.case is None
    assert warning_a.reason == "医疗费用已由大病保险报销，家庭收入稳定。" and warning_a.handled_by == cadre_a


def test_a_warning_on_a_household_with_an_open_case_is_attached_to_it(raise_warnings, case_a, cadre_a, household_a):
    (warning,) = raise_warnings([medical_row(head(household_a))])
    assert warning.case == case_a  # known at raise time
    client = client_for(cadre_a)
    page = client.get(reverse("monitoring:warning", args=[warning.pk]))
    assert page.context["may_attach"] and not page.context["may_include"]

    response = client.post(
        reverse("monitoring:warning_attach", args=[warning.pk]), {"attach-note": "入户核实时一并核查。"}
    )

    assert response.status_code == 302
    warning.refresh_from_db()
    assert warning.status == WarningStatus.ATTACHED and warning.case == case_a
    assert warning.reason == "入户核实时一并核查。" and warning.handled_by == cadre_a
    assert MonitoringCase.objects.filter(household=household_a).count() == 1


def test_attach_is_refused_without_an_open_case(warning_a, cadre_a):
    with pytest.raises(ApplicationError, match="没有在办或监测中的案件"):
        services.warning_attach(user=cadre_a, warning=warning_a)
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.OPEN


def test_the_second_cadre_to_act_is_told_it_was_handled(warning_a, cadre_a, village_a):
    colleague = make_user("cadre_a2", village_a, Role.VILLAGE_CADRE, full_name="陈网格")
    seen_by_colleague = RiskWarning.objects.get(pk=warning_a.pk)  # the page the colleague has open
    services.warning_exclude(user=cadre_a, warning=warning_a, reason="已核实，无返贫风险。")

    with pytest.raises(ConflictError, match="该预警线索已被他人处理"):
        services.warning_include(
            user=colleague,
            warning=seen_by_colleague,
            case_type="marginal",
            risk_categories=["illness"],
            description="x",
        )
    response = client_for(colleague).post(
        reverse("monitoring:warning_exclude", args=[warning_a.pk]), {"exclude-reason": "另一个原因"}, follow=True
    )
    assert "该预警线索已被他人处理" in page_text(response)
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.EXCLUDED and warning_a.reason == "已核实，无返贫风险。"
    assert not MonitoringCase.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_cadres_at_once_the_second_waits_for_the_row_lock_then_is_told(warning_a, cadre_a, village_a):
    colleague = make_user("cadre_a2", village_a, Role.VILLAGE_CADRE, full_name="陈网格")
    outcome = {}

    def colleague_excludes():
        try:
            services.warning_exclude(user=colleague, warning=warning_a, reason="同时提交的另一个原因")
        except ConflictError as exc:
            outcome["error"] = exc.message
        finally:
            connection.close()

    with transaction.atomic():
        services.warning_exclude(user=cadre_a, warning=warning_a, reason="已核实，无返贫风险。")
        second = threading.Thread(target=colleague_excludes)
        second.start()
        second.join(timeout=1)
        assert second.is_alive()  # waiting for the row lock held by the first cadre's transaction
    second.join(timeout=10)

    assert outcome["error"].startswith("该预警线索已被他人处理")
    warning_a.refresh_from_db()
    assert warning_a.reason == "已核实，无返贫风险。" and warning_a.handled_by == cadre_a


def test_a_township_reviewer_reads_warnings_but_does_not_verify_them(warning_a, township_reviewer):
    client = client_for(township_reviewer)
    assert client.get(QUEUE).context["rows"][0][0] == warning_a
    page = client.get(reverse("monitoring:warning", args=[warning_a.pk]))
    assert page.status_code == 200 and not page.context["may_act"]
    response = client.post(reverse("monitoring:warning_exclude", args=[warning_a.pk]), {"exclude-reason": "x"})
    assert response.status_code == 403
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.OPEN


def test_an_administrator_may_exclude_but_only_a_village_cadre_opens_an_application(warning_a, administrator):
    with pytest.raises(PermissionDenied, match="须由本村村级干部办理"):
        services.warning_include(
            user=administrator, warning=warning_a, case_type="marginal", risk_categories=["illness"], description="x"
        )
    services.warning_exclude(user=administrator, warning=warning_a, reason="经核查为重复推送。")
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.EXCLUDED and warning_a.handled_by == administrator


# --------------------------------------------------------------------------- jurisdiction


def test_a_cadre_of_another_village_can_neither_read_nor_act_on_the_warning(warning_a, cadre_b, household_b):
    client = client_for(cadre_b)
    assert client.get(QUEUE).context["rows"] == []
    assert client.get(reverse("monitoring:warning", args=[warning_a.pk])).status_code == 404
    for name, data in [
        ("warning_include", include_data()),
        ("warning_exclude", {"exclude-reason": "不是本村的"}),
        ("warning_attach", {}),
    ]:
        assert client.post(reverse(f"monitoring:{name}", args=[warning_a.pk]), data).status_code == 404

    api = api_for(cadre_b)
    assert api.get(API).json()["results"] == []
    assert api.get(f"{API}{warning_a.pk}/").status_code == 404
    for action, body in [("include", {}), ("exclude", {"reason": "x"}), ("attach", {})]:
        assert api.post(f"{API}{warning_a.pk}/{action}/", body, format="json").status_code == 404
    warning_a.refresh_from_db()
    assert warning_a.status == WarningStatus.OPEN and not MonitoringCase.objects.exists()


def test_a_department_officer_sees_no_warnings(warning_a, department_officer):
    assert client_for(department_officer).get(QUEUE).status_code == 403
    assert api_for(department_officer).get(f"{API}{warning_a.pk}/").status_code == 404


# --------------------------------------------------------------------------- page, history


def test_the_warning_page_shows_the_source_row_masked_and_the_history(warning_a, cadre_a, household_a):
    member = head(household_a)
    client = client_for(cadre_a)
    text = page_text(client.get(reverse("monitoring:warning", args=[warning_a.pk])))
    assert "剩余 48小时" in text
    assert "个人自付金额" in text and "60000" in text and "大方县人民医院" in text
    assert mask_id_number(member.id_number) in text and member.id_number not in text
    assert f"部门数据比对（批次 #{warning_a.upload_id}）" in text  # who raised it: the comparison run

    client.post(reverse("monitoring:warning_exclude", args=[warning_a.pk]), {"exclude-reason": "已报销，无风险。"})

    response = client.get(reverse("monitoring:warning", args=[warning_a.pk]))
    history = response.context["history"]
    assert [entry.action for entry in history] == ["修改", "新增"]
    latest = history[0]
    assert latest.who == "王村干" and latest.subject == "核实：不纳入"
    assert ("核实结果", "待核实", "不纳入") in latest.changes
    assert ("核实说明", "（空）", "已报销，无风险。") in latest.changes
    assert "不纳入原因" in page_text(response) and "已报销，无风险。" in page_text(response)


def test_the_history_records_the_case_a_warning_opened(warning_a, cadre_a):
    warning = services.warning_include(
        user=cadre_a, warning=warning_a, case_type="marginal", risk_categories=["illness"], description="住院"
    )
    changes = dict(
        (label, new)
        for label, _, new in client_for(cadre_a)
        .get(reverse("monitoring:warning", args=[warning.pk]))
        .context["history"][0]
        .changes
    )
    assert changes["核实结果"] == "已纳入（启动识别）"
    assert changes["关联案件"] == f"{warning.household.number} 的监测案件（#{warning.case_id}）"


# --------------------------------------------------------------------------- the property check (富人戴穷帽)


def vehicle_row(member):
    return {"身份证号": member.id_number, "姓名": member.name, "号牌号码": "贵F·12345", "车辆类型": "小型轿车"}


def test_an_asset_hit_flags_the_case_and_the_household_for_the_property_check(
    raise_warnings, case_a, cadre_a, household_a, django_assert_max_num_queries
):
    notice = "资产比对命中：车辆（车管 2026-11）— 需核查家庭财产，防止“富人戴穷帽”"
    client = client_for(cadre_a)
    case_url = reverse("cases:detail", args=[case_a.pk])
    household_url = reverse("households:detail", args=[household_a.pk])
    assert notice not in page_text(client.get(case_url))

    (vehicle,) = raise_warnings([vehicle_row(head(household_a))], department=Department.VEHICLES)
    assert vehicle.asset_kind == "车辆" and vehicle.case == case_a

    for url in (case_url, household_url):
        text = page_text(client.get(url))
        assert notice in text and 'id="property-check"' in text
        assert "车辆信息" in text and reverse("monitoring:warning", args=[vehicle.pk]) in text


def test_warnings_on_the_case_page_cost_the_same_queries_for_1_or_4(
    raise_warnings, case_a, cadre_a, household_a, make_household, village_a
):
    client = client_for(cadre_a)
    url = reverse("cases:detail", args=[case_a.pk])
    member = head(household_a)
    raise_warnings([vehicle_row(member)], department=Department.VEHICLES)
    client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    one = queries()
    raise_warnings([medical_row(member)])
    raise_warnings(
        [{"身份证号": member.id_number, "姓名": member.name, "工作单位": "县教育局"}], department=Department.FINANCE
    )
    raise_warnings([{**vehicle_row(member), "号牌号码": "贵F·67890"}], department=Department.VEHICLES, period="2026-10")
    text = page_text(client.get(url))
    for hit in ("车辆（车管 2026-11）", "车辆（车管 2026-10）", "财政供养（财政 2026-11）"):
        assert hit in text
    assert RiskWarning.objects.filter(household=household_a).count() == 4
    assert queries() == one


def test_a_household_without_warnings_shows_no_panel(cadre_a, household_a):
    text = page_text(client_for(cadre_a).get(reverse("households:detail", args=[household_a.pk])))
    assert 'id="warnings"' not in text and 'id="property-check"' not in text


# --------------------------------------------------------------------------- API


def test_api_lists_open_warnings_with_the_countdown_and_masked_ids(_clock, warning_a, cadre_a, household_a):
    api = api_for(cadre_a)
    _clock.move_to(RAISED + dt.timedelta(hours=53))
    body = api.get(API).json()
    (row,) = body["results"]
    assert row["id"] == warning_a.pk and row["kind_display"] == "大额医疗费用个人自付"
    assert row["grade"] == "red" and row["department_display"] == "医保" and row["period"] == "2026-11"
    assert row["is_overdue"] is True and row["hours_left"] == -5 and row["time_left"] == "已超时 5小时"
    assert row["id_number"] == mask_id_number(head(household_a).id_number)
    assert [r["id"] for r in api.get(API, {"overdue": "true"}).json()["results"]] == [warning_a.pk]
    assert api.get(API, {"overdue": "false"}).json()["results"] == []
    assert api.get(API, {"department": "emergency"}).json()["results"] == []
    assert api.get(API, {"status": "excluded"}).json()["results"] == []

    detail = api.get(f"{API}{warning_a.pk}/").json()
    cells = {cell["column"]: cell["value"] for cell in detail["source"]}
    assert cells["个人自付金额"] == "60000" and cells["身份证号"] == mask_id_number(head(household_a).id_number)


def test_api_include_exclude_attach_and_conflict(raise_warnings, cadre_a, household_a, make_household, village_a):
    other = make_household(user=cadre_a, village=village_a)
    first, second = raise_warnings([medical_row(head(household_a)), medical_row(head(other), "25000")])
    api = api_for(cadre_a)

    refused = api.post(f"{API}{first.pk}/exclude/", {"reason": ""}, format="json")
    assert refused.status_code == 400 and "请填写不纳入的原因" in refused.json()["detail"]

    no_risk = {"case_type": "marginal", "risk_categories": [], "description": "住院自付6万元"}
    invalid = api.post(f"{API}{first.pk}/include/", no_risk, format="json")
    assert invalid.status_code == 400 and "请至少选择一个有效的风险类型" in str(invalid.json())
    assert not MonitoringCase.objects.exists()  # nothing half done: the warning is still open, no case

    body = {"case_type": "marginal", "risk_categories": ["illness"], "description": "住院自付6万元", "colour": "red"}
    included = api.post(f"{API}{first.pk}/include/", body, format="json")
    assert included.status_code == 200, included.content
    case = MonitoringCase.objects.get(pk=included.json()["case"])
    assert included.json()["status"] == "included" and case.channel == Channel.DEPARTMENT_WARNING

    again = api.post(f"{API}{first.pk}/exclude/", {"reason": "重复"}, format="json")
    assert again.status_code == 409 and "该预警线索已被他人处理" in again.json()["detail"]

    no_case = api.post(f"{API}{second.pk}/attach/", {}, format="json")
    assert no_case.status_code == 400 and "没有在办或监测中的案件" in no_case.json()["detail"]
    excluded = api.post(f"{API}{second.pk}/exclude/", {"reason": "已报销"}, format="json")
    assert excluded.status_code == 200 and excluded.json()["status"] == "excluded"


def test_api_attach_to_the_open_case(raise_warnings, case_a, cadre_a, household_a, township_reviewer):
    (warning,) = raise_warnings([medical_row(head(household_a))])
    forbidden = api_for(township_reviewer).post(f"{API}{warning.pk}/attach/", {}, format="json")
    assert forbidden.status_code == 403
    response = api_for(cadre_a).post(f"{API}{warning.pk}/attach/", {"note": "一并核实"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "attached" and response.json()["case"] == case_a.pk


def test_api_list_costs_the_same_queries_for_3_or_30(raise_warnings, make_household, cadre_a, village_a):
    members = [
        head(make_household(user=cadre_a, village=village_a, members=[member_data(f"户主{n}")])) for n in range(30)
    ]
    raise_warnings([medical_row(member) for member in members[:3]])
    api = api_for(cadre_a)
    api.get(API)  # the user's roles are read once, then cached on the user

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(API)
        return len(captured), len(response.json()["results"])

    few, shown = queries()
    assert shown == 3 and few <= 3
    raise_warnings([medical_row(member) for member in members[3:]], period="2026-10")
    assert queries() == (few, 30)


# --------------------------------------------------------------------------- contacting the household (联系记录)

PHONE = "13812345678"


@pytest.fixture
def phoned_household(household_a, cadre_a):
    from households.services import household_update

    return household_update(user=cadre_a, household=household_a, data={"phone": PHONE})


def test_contact_attempts_are_recorded_by_whom_and_when_and_kept_in_the_history(
    _clock, phoned_household, warning_a, cadre_a
):
    from monitoring.models import ContactOutcome

    _clock.shift(dt.timedelta(hours=3))
    first = services.warning_contact_record(
        user=cadre_a, warning=warning_a, outcome=ContactOutcome.UNREACHED, note="电话无人接听"
    )
    assert (first.contacted_by, first.contacted_at) == (cadre_a, RAISED + dt.timedelta(hours=3))
    earlier = RAISED + dt.timedelta(hours=5)
    _clock.shift(dt.timedelta(hours=3))
    services.warning_contact_record(
        user=cadre_a, warning=warning_a, outcome=ContactOutcome.VISITED, contacted_at=earlier, note="已上门，户主住院"
    )
    assert [c.outcome for c in warning_a.contacts.all()] == ["visited", "unreached"]  # latest first
    assert warning_a.contacts.first().history.count() == 1  # django-simple-history
    page = client_for(cadre_a).get(reverse("monitoring:warning", args=[warning_a.pk])).content.decode()
    contacts = page.split('id="contact"', 1)[1].split("</section>", 1)[0]
    assert "已上门" in contacts and "未联系上" in contacts and "电话无人接听" in contacts and "王村干" in contacts
    assert contacts.index("已上门") < contacts.index("未联系上")
    history = page.split('id="history"', 1)[1]
    assert "联系农户：已上门" in history and "联系农户：未联系上" in history


def test_a_contact_not_reached_needs_a_note_and_no_time_in_the_future(warning_a, cadre_a):
    with pytest.raises(ApplicationError, match="未联系上时请说明情况"):
        services.warning_contact_record(user=cadre_a, warning=warning_a, outcome="unreached")
    with pytest.raises(ApplicationError, match="不能晚于现在"):
        services.warning_contact_record(
            user=cadre_a, warning=warning_a, outcome="phoned", contacted_at=RAISED + dt.timedelta(hours=2)
        )
    response = client_for(cadre_a).post(
        reverse("monitoring:warning_contact", args=[warning_a.pk]), {"contact-outcome": "unreached"}
    )
    assert response.status_code == 200 and "未联系上时请说明情况" in response.content.decode()
    assert not warning_a.contacts.exists()


def test_contacts_are_recorded_only_by_the_village_and_only_while_open(
    warning_a, cadre_a, cadre_b, township_reviewer, department_officer
):
    with pytest.raises(PermissionDenied):
        services.warning_contact_record(user=township_reviewer, warning=warning_a, outcome="phoned")
    url = reverse("monitoring:warning_contact", args=[warning_a.pk])
    assert client_for(cadre_b).post(url, {"contact-outcome": "phoned"}).status_code == 404
    assert client_for(department_officer).post(url, {"contact-outcome": "phoned"}).status_code == 403
    services.warning_exclude(user=cadre_a, warning=warning_a, reason="已联系，费用已报销")
    with pytest.raises(ConflictError):
        services.warning_contact_record(user=cadre_a, warning=warning_a, outcome="phoned")
    assert not warning_a.contacts.exists()


def test_the_cadre_who_must_call_sees_the_phone_and_the_reviewer_sees_it_masked(
    phoned_household, warning_a, cadre_a, township_reviewer
):
    url = reverse("monitoring:warning", args=[warning_a.pk])
    cadre_page = client_for(cadre_a).get(url).content.decode()
    assert f'href="tel:{PHONE}"' in cadre_page
    reviewer_page = client_for(township_reviewer).get(url).content.decode()
    assert PHONE not in reviewer_page and "138****5678" in reviewer_page
    assert 'id="action-contact"' not in reviewer_page  # the reviewer does not call
    assert api_for(cadre_a).get(f"{API}{warning_a.pk}/").json()["household_phone"] == PHONE
    assert api_for(township_reviewer).get(f"{API}{warning_a.pk}/").json()["household_phone"] == "138****5678"


def test_the_queue_shows_the_latest_contact_at_the_same_query_count(
    _clock, raise_warnings, household_a, make_household, cadre_a, village_a
):
    others = [make_household(user=cadre_a, village=village_a, members=[member_data(f"周{n}")]) for n in range(3)]
    warnings = raise_warnings([medical_row(head(h)) for h in [household_a, *others]])
    client = client_for(cadre_a)
    client.get(QUEUE)
    with CaptureQueriesContext(connection) as before:
        client.get(QUEUE)
    for warning in warnings:
        services.warning_contact_record(user=cadre_a, warning=warning, outcome="phoned")
    with CaptureQueriesContext(connection) as after:
        page = client.get(QUEUE).content.decode()
    assert len(after) == len(before)
    assert page.count("已电话联系") == 4


def test_api_records_a_contact_and_returns_the_attempts(warning_a, cadre_a, cadre_b):
    response = api_for(cadre_a).post(f"{API}{warning_a.pk}/contacts/", {"outcome": "phoned", "note": "户主接听"})
    assert response.status_code == 201, response.content
    (contact,) = response.json()["contacts"]
    assert (contact["outcome_display"], contact["contacted_by_name"], contact["note"]) == (
        "已电话联系",
        "王村干",
        "户主接听",
    )
    refused = api_for(cadre_a).post(f"{API}{warning_a.pk}/contacts/", {"outcome": "unreached"})
    assert refused.status_code == 400 and "未联系上时请说明情况" in refused.json()["detail"]
    assert api_for(cadre_b).post(f"{API}{warning_a.pk}/contacts/", {"outcome": "phoned"}).status_code == 404
