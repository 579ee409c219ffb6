"""Accounts (issue #11): user management with rules on fpr's own pages, API tokens (django-rest-knox),
login throttling by account and by address, the self-service password change, the province's
monitoring line, the jobs page, and the SECRET_KEY length check."""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from fpr.roles import Level, Role
from households.models import Division, MonitoringLine, User
from tests.builders import PASSWORD, make_user
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Yangchang-2026-new"


@pytest.fixture
def qianxi(divisions):
    """A second county (黔西县) beside 大方县, with its own township, village, administrator and cadre."""
    tree = [
        ("520522000000", "黔西县", Level.COUNTY, "520500000000"),
        ("520522100000", "金碧镇", Level.TOWNSHIP, "520522000000"),
        ("520522100001", "核屯村", Level.VILLAGE, "520522100000"),
    ]
    made = {
        code: Division.objects.create(code=code, name=name, level=level, parent_id=parent)
        for code, name, level, parent in tree
    }
    return {
        "county": made["520522000000"],
        "township": made["520522100000"],
        "village": made["520522100001"],
        "admin": make_user("qx_admin", made["520522000000"], Role.ADMINISTRATOR, full_name="黔管理"),
        "cadre": make_user("qx_cadre", made["520522100001"], Role.VILLAGE_CADRE, full_name="黔村干"),
    }


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def user_form(division, roles, **extra) -> dict:
    data = {
        "full_name": "新同志",
        "phone": "",
        "division": division.code,
        "department": "",
        "roles": roles,
        "is_active": "on",
    }
    data.update(extra)
    return data


def create_form(username, division, roles, **extra) -> dict:
    return {
        "username": username,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **user_form(division, roles),
        **extra,
    }


# --------------------------------------------------------------------------- user management rules


def test_the_administrator_creates_a_cadre_of_their_subtree_with_history(administrator, village_a):
    client = signed_in(administrator)
    response = client.post(reverse("accounts:user_create"), create_form("new_cadre", village_a, [Role.VILLAGE_CADRE]))
    assert response.status_code == 302
    user = User.objects.get(username="new_cadre")
    assert user.roles == {Role.VILLAGE_CADRE} and user.division == village_a
    assert not user.is_superuser and not user.is_staff and not user.user_permissions.exists()
    assert user.check_password(NEW_PASSWORD)
    record = user.history.get()
    assert record.history_user == administrator and "村级干部" in record.history_change_reason
    page = client.get(reverse("accounts:user_detail", args=[user.pk])).content.decode()
    assert "变更记录" in page and "新建账号" in page


@pytest.mark.parametrize(
    ("division_code", "roles", "message"),
    [
        # the administrator role at the actor's own level (a peer)
        ("520521000000", [Role.ADMINISTRATOR], "不能在大方县授予以下角色：系统管理员"),
        # a role at the wrong level
        ("520521100000", [Role.COUNTY_REVIEWER], "不能在羊场镇授予以下角色：县级审定员"),
        ("520521100001", [Role.TOWNSHIP_REVIEWER], "不能在光明村授予以下角色：镇街审核员"),
        # above the actor's level (the city)
        ("520500000000", [Role.VILLAGE_CADRE], "选择一个有效的选项"),
        # another county's village
        ("520522100001", [Role.VILLAGE_CADRE], "选择一个有效的选项"),
    ],
)
def test_an_administrator_cannot_create_accounts_outside_their_rules(
    administrator, qianxi, division_code, roles, message
):
    client = signed_in(administrator)
    division = Division.objects.get(code=division_code)
    response = client.post(reverse("accounts:user_create"), create_form("escalated", division, roles))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="escalated").exists()


def test_a_county_administrator_appoints_a_township_administrator(administrator, divisions):
    client = signed_in(administrator)
    township = divisions["520521100000"]
    response = client.post(reverse("accounts:user_create"), create_form("t_admin", township, [Role.ADMINISTRATOR]))
    assert response.status_code == 302
    t_admin = User.objects.get(username="t_admin")
    assert t_admin.has_perm("households.view_sensitive")  # as the role gives it, nothing more
    # The township administrator may not appoint another township administrator, nor a county reviewer.
    client = signed_in(t_admin)
    for division, roles in [(township, [Role.ADMINISTRATOR]), (divisions["520521000000"], [Role.COUNTY_REVIEWER])]:
        response = client.post(reverse("accounts:user_create"), create_form("t_escalated", division, roles))
        assert response.status_code == 200
    assert not User.objects.filter(username="t_escalated").exists()


def test_superuser_and_staff_flags_in_a_form_are_ignored(administrator, village_a):
    client = signed_in(administrator)
    form = create_form(
        "sneaky", village_a, [Role.VILLAGE_CADRE], is_superuser="on", is_staff="on", user_permissions=["1", "2"]
    )
    assert client.post(reverse("accounts:user_create"), form).status_code == 302
    sneaky = User.objects.get(username="sneaky")
    assert not sneaky.is_superuser and not sneaky.is_staff and not sneaky.user_permissions.exists()
    assert not sneaky.has_perm("households.view_sensitive")


def test_nobody_changes_their_own_account_on_the_user_pages(administrator, divisions):
    client = signed_in(administrator)
    province = divisions["520000000000"]
    assert client.get(reverse("accounts:user_edit", args=[administrator.pk])).status_code == 403
    response = client.post(
        reverse("accounts:user_edit", args=[administrator.pk]),
        user_form(province, [Role.ADMINISTRATOR, Role.COUNTY_REVIEWER], is_superuser="on"),
    )
    assert response.status_code == 403
    assert client.post(reverse("accounts:user_deactivate", args=[administrator.pk])).status_code == 403
    administrator.refresh_from_db()
    assert administrator.division_id == "520521000000" and not administrator.is_superuser
    assert User.objects.get(pk=administrator.pk).roles == {Role.ADMINISTRATOR}


def test_a_peer_administrator_and_the_operators_are_out_of_reach(administrator, divisions):
    peer = make_user("peer_admin", divisions["520521000000"], Role.ADMINISTRATOR)
    operator = make_user("root", divisions["520521000000"], is_superuser=True, is_staff=True)
    client = signed_in(administrator)
    assert client.get(reverse("accounts:user_detail", args=[peer.pk])).status_code == 200  # read-only
    assert client.get(reverse("accounts:user_edit", args=[peer.pk])).status_code == 403
    assert (
        client.post(
            reverse("accounts:user_password", args=[peer.pk]), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        ).status_code
        == 403
    )
    assert client.post(reverse("accounts:user_deactivate", args=[peer.pk])).status_code == 403
    assert client.get(reverse("accounts:user_detail", args=[operator.pk])).status_code == 404
    assert "root" not in client.get(reverse("accounts:users")).content.decode()
    peer.refresh_from_db()
    assert peer.is_active and peer.check_password(PASSWORD)


def test_another_countys_users_are_not_found(administrator, qianxi):
    client = signed_in(administrator)
    cadre = qianxi["cadre"]
    assert "qx_cadre" not in client.get(reverse("accounts:users")).content.decode()
    for name in ("accounts:user_detail", "accounts:user_edit"):
        assert client.get(reverse(name, args=[cadre.pk])).status_code == 404
    for name in ("accounts:user_password", "accounts:user_deactivate", "accounts:user_tokens_revoke"):
        response = client.post(reverse(name, args=[cadre.pk]), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 404
    cadre.refresh_from_db()
    assert cadre.is_active and cadre.check_password(PASSWORD)


def test_editing_a_user_moves_them_in_the_subtree_and_records_the_role_change(administrator, cadre_a, divisions):
    client = signed_in(administrator)
    township = divisions["520521100000"]
    response = client.post(
        reverse("accounts:user_edit", args=[cadre_a.pk]),
        user_form(township, [Role.TOWNSHIP_REVIEWER], full_name="王审核"),
    )
    assert response.status_code == 302
    moved = User.objects.get(pk=cadre_a.pk)
    assert moved.division == township and moved.roles == {Role.TOWNSHIP_REVIEWER} and moved.full_name == "王审核"
    latest = moved.history.first()
    assert latest.history_user == administrator
    assert latest.history_change_reason == "角色：村级干部 → 镇街审核员"
    page = client.get(reverse("accounts:user_detail", args=[cadre_a.pk])).content.decode()
    assert "角色：村级干部 → 镇街审核员" in page and "羊场镇" in page


def test_deactivating_a_user_stops_their_login_and_tokens(administrator, cadre_a):
    _, token = AuthToken.objects.create(user=cadre_a)
    client = signed_in(administrator)
    assert client.post(reverse("accounts:user_deactivate", args=[cadre_a.pk])).status_code == 302
    cadre_a.refresh_from_db()
    assert not cadre_a.is_active and not AuthToken.objects.filter(user=cadre_a).exists()
    assert cadre_a.history.first().history_change_reason == "停用账号"
    refused = login("cadre_a", PASSWORD, "10.0.3.1")
    assert refused.status_code == 200 and "_auth_user_id" not in refused.wsgi_request.session


def test_the_administrator_resets_a_password_following_the_validators(administrator, cadre_a):
    client = signed_in(administrator)
    url = reverse("accounts:user_password", args=[cadre_a.pk])
    weak = client.post(url, {"password1": "12345678", "password2": "12345678"}, follow=True)
    assert "密码" in weak.content.decode()
    cadre_a.refresh_from_db()
    assert cadre_a.check_password(PASSWORD)
    client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    cadre_a.refresh_from_db()
    assert cadre_a.check_password(NEW_PASSWORD)
    assert cadre_a.history.first().history_change_reason == "管理员重置密码"


def test_user_pages_are_for_administrators_only(cadre_a, county_reviewer):
    for user in (cadre_a, county_reviewer):
        client = signed_in(user)
        for url in (reverse("accounts:users"), reverse("accounts:user_create"), reverse("accounts:lockouts")):
            assert client.get(url).status_code == 403


def test_no_api_operation_writes_users_or_divisions():
    """The third door: the API has no users endpoint, and divisions are read-only."""
    from tests.test_access_matrix import schema_operations

    operations = schema_operations()
    assert not [path for path, _ in operations if "user" in path.lower()]
    assert {method for path, method in operations if path.startswith("/api/v1/divisions/")} == {"GET"}


# --------------------------------------------------------------------------- password change


def test_every_user_changes_their_own_password(cadre_a):
    client = signed_in(cadre_a)
    page = client.get(reverse("home")).content.decode()
    assert reverse("accounts:password_change") in page
    url = reverse("accounts:password_change")
    wrong = client.post(url, {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "原密码不正确" in wrong.content.decode()
    weak = client.post(
        url, {"old_password": PASSWORD, "new_password1": "abcdefghijkl", "new_password2": "abcdefghijkl"}
    )
    assert weak.status_code == 200 and "3类" in weak.content.decode()
    done = client.post(url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("accounts:password_change_done")
    assert client.get(reverse("home")).status_code == 200  # still signed in
    cadre_a.refresh_from_db()
    assert cadre_a.check_password(NEW_PASSWORD)
    assert cadre_a.history.first().history_change_reason == "本人修改密码"
    assert "password" not in {field.name for field in User.history.model._meta.fields}  # no hash in the history


# --------------------------------------------------------------------------- API tokens


def test_a_token_is_shown_once_stored_hashed_and_listed_by_prefix(cadre_a, household_a):
    client = signed_in(cadre_a)
    created = client.post(reverse("accounts:tokens"))
    assert created.status_code == 200
    token = created.context["new_token"]
    assert token in created.content.decode()
    stored = AuthToken.objects.get(user=cadre_a)
    assert token not in (stored.digest, stored.token_key) and stored.digest != token
    listing = client.get(reverse("accounts:tokens")).content.decode()
    assert token not in listing and token[:8] in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/households/").status_code == 200


def test_tokens_expire(cadre_a, household_a):
    _, token = AuthToken.objects.create(user=cadre_a, expiry=dt.timedelta(hours=settings.FPR_TOKEN_TTL_HOURS))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/households/").status_code == 200
    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(hours=settings.FPR_TOKEN_TTL_HOURS, minutes=1)
    with time_machine.travel(later):
        response = api.get("/api/v1/households/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Token")
    assert settings.REST_KNOX["TOKEN_TTL"] == dt.timedelta(hours=settings.FPR_TOKEN_TTL_HOURS)


def test_a_user_revokes_their_own_token_and_nobody_elses(cadre_a, cadre_b):
    mine, token = AuthToken.objects.create(user=cadre_a)
    theirs, _ = AuthToken.objects.create(user=cadre_b)
    client = signed_in(cadre_a)
    client.post(reverse("accounts:token_revoke"), {"digest": theirs.digest})
    assert AuthToken.objects.filter(pk=theirs.pk).exists()
    client.post(reverse("accounts:token_revoke"), {"digest": mine.digest})
    assert not AuthToken.objects.filter(pk=mine.pk).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/households/").status_code == 401


def test_drf_authtoken_is_gone():
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    assert (
        "rest_framework.authentication.TokenAuthentication"
        not in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    )


# --------------------------------------------------------------------------- login throttling (finding 15)


def login(username, password, address):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": username, "password": password})


def test_a_locked_account_is_refused_from_a_second_address(cadre_a):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login("cadre_a", "wrong-password", f"10.0.0.{n + 1}")
    response = login("cadre_a", PASSWORD, "10.9.9.9")
    assert response.status_code == 429 and "登录已暂停" in response.content.decode()


def test_spraying_many_accounts_from_one_address_is_limited(divisions, village_a):
    users = [
        make_user(f"spray_{n}", village_a, Role.VILLAGE_CADRE) for n in range(settings.FPR_LOGIN_IP_FAILURE_LIMIT + 1)
    ]
    for user in users[:-2]:
        assert login(user.username, "Password-2026", "203.0.113.7").status_code == 200
    # The limit-th failure locks the address, even for an account it never tried with the right password.
    assert login(users[-2].username, "Password-2026", "203.0.113.7").status_code == 429
    assert login(users[-1].username, PASSWORD, "203.0.113.7").status_code == 429
    # Other addresses and the sprayed accounts themselves (one failure each) are not locked.
    response = login(users[0].username, PASSWORD, "198.51.100.1")
    assert response.status_code == 302


def test_a_successful_login_does_not_clear_an_addresss_failures_for_others(divisions, village_a):
    limit = settings.FPR_LOGIN_IP_FAILURE_LIMIT
    users = [make_user(f"spray_{n}", village_a, Role.VILLAGE_CADRE) for n in range(limit)]
    for user in users[:-1]:
        login(user.username, "Password-2026", "203.0.113.8")
    assert login(users[-1].username, PASSWORD, "203.0.113.8").status_code == 302  # own account, right password
    assert login(users[-1].username, "Password-2026", "203.0.113.8").status_code == 429


def test_the_address_behind_trusted_proxies(settings, rf):
    from fpr.login_throttle import client_address

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9")
    settings.FPR_TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"  # no proxy trusted: the header is the client's word
    settings.FPR_TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "198.51.100.9"  # what the one proxy saw, not the forged entry
    settings.FPR_TRUSTED_PROXY_COUNT = 3
    assert client_address(request) == "10.0.0.2"  # fewer entries than proxies: fall back


def test_an_administrator_lifts_a_lock_of_their_subtree_only(administrator, cadre_a, qianxi):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login("cadre_a", "wrong-password", f"10.0.1.{n + 1}")
        login("qx_cadre", "wrong-password", f"10.0.2.{n + 1}")
    client = signed_in(administrator)
    page = client.get(reverse("accounts:lockouts")).content.decode()
    assert "cadre_a" in page and "已锁定" in page and "qx_cadre" not in page
    assert client.post(reverse("accounts:lockout_reset"), {"username": "qx_cadre"}).status_code == 403
    assert AccessAttempt.objects.filter(username="qx_cadre").exists()
    assert client.post(reverse("accounts:lockout_reset"), {"username": "cadre_a"}).status_code == 302
    assert not AccessAttempt.objects.filter(username="cadre_a").exists()
    assert login("cadre_a", PASSWORD, "10.0.1.1").status_code == 302


# --------------------------------------------------------------------------- shared reference data (finding 11)


def test_only_the_provinces_administrator_sets_the_monitoring_line(administrator, divisions):
    url = reverse("accounts:monitoring_lines")
    data = {"year": 2026, "amount": "1.00", "poverty_line": "4900"}
    assert signed_in(administrator).post(url, data).status_code == 403
    assert MonitoringLine.objects.get(year=2026).amount == 7300
    province_admin = make_user("gz_admin", divisions["520000000000"], Role.ADMINISTRATOR)
    client = signed_in(province_admin)
    assert client.get(url).status_code == 200
    assert client.post(url, {**data, "amount": "7500.00"}).status_code == 302
    line = MonitoringLine.objects.get(year=2026)
    assert line.amount == 7500 and line.history.first().history_user == province_admin


def test_the_jobs_page_runs_a_job_for_administrators(administrator, cadre_a, settings):
    from monitoring.models import JobRun

    settings.CELERY_TASK_ALWAYS_EAGER = True  # run here, as the demo does, to see the result

    assert signed_in(cadre_a).post(reverse("monitoring:jobs"), {"job": "overdue_scan"}).status_code == 403
    assert not JobRun.objects.exists()
    client = signed_in(administrator)
    response = client.post(reverse("monitoring:jobs"), {"job": "overdue_scan"})
    assert response.status_code == 200 and "运行结果" in response.content.decode()
    run = JobRun.objects.get()
    assert run.triggered_by == "手动：admin_user"


# --------------------------------------------------------------------------- SECRET_KEY (finding 17)


def test_production_refuses_a_short_secret_key():
    result = run_manage("check", SECRET_KEY="x")
    assert result.returncode != 0
    assert "SECRET_KEY 太短" in result.stderr and "at least 50" in result.stderr


def test_a_long_secret_key_is_accepted_and_demo_runs_accept_any():
    assert run_manage("check", SECRET_KEY="k" * 50).returncode == 0
    assert run_manage("check", SECRET_KEY="x", DEBUG="1").returncode == 0


# --------------------------------------------------------------------------- 完整信息查看记录


def test_the_countys_administrator_reads_who_saw_or_tried_its_households_numbers(
    administrator, county_reviewer, household_a, qianxi
):
    """The reveal log left the admin with the operators: the county's administrator reads it on a page of
    their own — reveals on their households and another county's attempt to register one of their
    households' ID numbers — and another county's administrator sees none of it."""
    from households.models import Relationship
    from households.services import household_create, sensitive_access_record
    from tests.builders import member_data

    sensitive_access_record(user=county_reviewer, households=[household_a], via="页面", reason="核对低保名单")
    taken = household_a.members.get(relationship=Relationship.HEAD).id_number
    with pytest.raises(Exception, match="其他辖区"):
        household_create(
            user=qianxi["cadre"],
            village=qianxi["village"],
            members=[member_data("冒名者", id_number=taken)],
            data={"address": "核屯村一组1号", "poverty_status": "ordinary"},
        )
    page = signed_in(administrator).get(reverse("accounts:sensitive_accesses")).content.decode()
    assert "核对低保名单" in page and "钱审定" in page
    assert "重复身份证号" in page and "黔村干" in page and household_a.number in page
    assert taken not in page
    duplicates = signed_in(administrator).get(reverse("accounts:sensitive_accesses"), {"via": "重复身份证号"})
    assert "黔村干" in duplicates.content.decode() and "核对低保名单" not in duplicates.content.decode()
    elsewhere = signed_in(qianxi["admin"]).get(reverse("accounts:sensitive_accesses")).content.decode()
    assert "核对低保名单" not in elsewhere and household_a.number not in elsewhere
    assert signed_in(county_reviewer).get(reverse("accounts:sensitive_accesses")).status_code == 403
