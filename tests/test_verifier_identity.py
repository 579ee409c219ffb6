"""A verification team is a set of distinct people (#12 item 6): a system user and the same person
typed by name count once, on the service, the page, the API and the guard; the page ticks nobody
in advance."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from fpr.roles import Role
from monitoring.cases.services import verification_record, verifier_team
from monitoring.models import Verification, Verifier
from tests.builders import make_user
from workflow.services import TransitionRefused, case_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def chen(divisions):
    """The issue's example: a village cadre whose full name is 陈志强."""
    return make_user("chen_zq", divisions["520521100001"], Role.VILLAGE_CADRE, full_name="陈志强")


def record(case, user, verifiers):
    return verification_record(
        user=user,
        case=case,
        visit_date=dt.date(2026, 11, 2),
        verifiers=verifiers,
        findings="情况属实",
        risk_points="大病自付费用高",
        year=2026,
    )


def test_team_counts_a_user_and_the_same_person_typed_by_name_once(chen, cadre_a):
    assert verifier_team([{"user_id": chen.pk, "name": "陈志强"}, {"name": "陈志强"}]) == (1, ["陈志强"])
    # Typed with a space or full-width, and the user given without the right name: still one person.
    assert verifier_team([{"user_id": chen.pk, "name": ""}, {"name": " 陈 志强 "}])[0] == 1
    assert verifier_team([{"user_id": chen.pk, "name": "陈志强"}, {"user_id": chen.pk, "name": "陈志强"}])[0] == 1
    assert verifier_team([{"name": "陈驻村"}, {"name": "陈驻村"}]) == (1, ["陈驻村"])
    # Two people.
    assert verifier_team([{"user_id": chen.pk, "name": "陈志强"}, {"name": "陈驻村"}]) == (2, [])
    assert verifier_team([{"user_id": chen.pk, "name": "陈志强"}, {"user_id": cadre_a.pk, "name": "王村干"}]) == (
        2,
        [],
    )


def test_two_accounts_with_one_full_name_are_two_people(chen, divisions):
    namesake = make_user("chen_zq_2", divisions["520521100000"], Role.TOWNSHIP_REVIEWER, full_name="陈志强")
    assert verifier_team([{"user_id": chen.pk, "name": "陈志强"}, {"user_id": namesake.pk, "name": "陈志强"}]) == (
        2,
        [],
    )


def test_service_refuses_a_user_and_their_own_typed_name(case_a, walker, chen):
    walker.to_verification(case_a)
    with pytest.raises(ValidationError) as exc:
        record(case_a, chen, [{"user_id": chen.pk, "name": "陈志强"}, {"name": "陈志强"}])
    (reason,) = exc.value.message_dict["verifiers"]
    assert reason.startswith("核实人员“陈志强”重复填写")
    assert "入户核实组不少于2人" in reason
    assert not Verification.objects.exists()


def test_service_refuses_a_duplicate_even_in_a_team_of_two_others(case_a, walker, chen):
    walker.to_verification(case_a)
    with pytest.raises(ValidationError) as exc:
        record(case_a, chen, [{"user_id": chen.pk, "name": "陈志强"}, {"name": "陈志强"}, {"name": "陈驻村"}])
    (reason,) = exc.value.message_dict["verifiers"]
    assert reason.startswith("核实人员“陈志强”重复填写") and reason.endswith("请删除重复的一项。")
    record(case_a, chen, [{"user_id": chen.pk, "name": "陈志强"}, {"name": "陈驻村"}])
    assert Verification.objects.get(case=case_a).verifiers.count() == 2


def test_api_refuses_the_issue_example(case_a, walker, chen):
    walker.to_verification(case_a)
    client = APIClient()
    client.force_authenticate(chen)
    payload = {
        "visit_date": "2026-11-02",
        "verifiers": [{"user_id": chen.pk, "name": "陈志强"}, {"name": "陈志强"}],
        "findings": "属实",
        "risk_points": "大病",
    }
    response = client.post(f"/api/v1/cases/{case_a.pk}/verification/", payload, format="json")
    assert response.status_code == 400
    (reason,) = response.json()["verifiers"]
    assert reason.startswith("核实人员“陈志强”重复填写")
    assert not Verification.objects.exists()
    payload["verifiers"][1] = {"name": "陈驻村", "unit": "驻村工作队"}
    assert client.post(f"/api/v1/cases/{case_a.pk}/verification/", payload, format="json").status_code == 201


def page_post(user, **extra) -> dict:
    data = {
        "visit_date": "2026-11-02",
        "team": [str(user.pk)],
        "findings": "情况属实",
        "risk_points": "医疗支出大",
        "year": "2026",
        "verifiers-TOTAL_FORMS": "2",
        "verifiers-INITIAL_FORMS": "0",
        "verifiers-0-name": "",
        "verifiers-1-name": "",
    }
    data.update(extra)
    return data


def test_page_does_not_tick_the_current_user_in_advance(client, case_a, walker, chen):
    walker.to_verification(case_a)
    client.force_login(chen)
    form = client.get(reverse("cases:verification", args=[case_a.pk])).context["form"]
    assert form["team"].value() in (None, [])
    content = client.get(reverse("cases:verification", args=[case_a.pk])).content.decode()
    assert f'value="{chen.pk}" checked' not in content and "checked" not in content.split("核实人员（系统用户）")[-1]


def test_page_refuses_ticked_self_plus_own_typed_name(client, case_a, walker, chen):
    walker.to_verification(case_a)
    client.force_login(chen)
    url = reverse("cases:verification", args=[case_a.pk])
    response = client.post(url, page_post(chen, **{"verifiers-0-name": "陈志强"}))
    assert response.status_code == 200
    assert "核实人员“陈志强”重复填写" in response.content.decode()
    assert not Verification.objects.exists()
    assert client.post(url, page_post(chen, **{"verifiers-0-name": "陈驻村"})).status_code == 302
    assert sorted(v.name for v in Verification.objects.get(case=case_a).verifiers.all()) == ["陈志强", "陈驻村"]


def test_guard_counts_a_stored_user_and_own_typed_name_once(case_a, walker, cadre_a):
    walker.to_verification(case_a)
    walker.record_verification(case_a)  # 王村干 (user) + 陈驻村 (typed)
    # A record kept from before the rule: the second verifier was the cadre typing their own name.
    Verifier.objects.filter(verification__case=case_a, user__isnull=True).update(name="王村干")
    with pytest.raises(TransitionRefused) as exc:
        case_transition(user=cadre_a, case_id=case_a.pk, transition="complete_verification", inputs={})
    assert "入户核实组不少于2名不同的人员。" in exc.value.reasons
