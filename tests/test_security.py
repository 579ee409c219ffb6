"""Authentication hardening: login lockout, password strength, security headers, CSP without inline script."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from tests.builders import PASSWORD

pytestmark = pytest.mark.django_db


def test_repeated_wrong_passwords_lock_the_account_with_a_chinese_message(client, cadre_a):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "cadre_a", "password": "wrong-password"})
        assert response.status_code == 200 and "用户名或密码不正确" in response.content.decode()
    locked = client.post(reverse("login"), {"username": "cadre_a", "password": "wrong-password"})
    assert locked.status_code == 429
    assert "登录已暂停" in locked.content.decode() and "15分钟" in locked.content.decode()
    # Even the right password is refused while locked.
    right = client.post(reverse("login"), {"username": "cadre_a", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_failure_count(client, cadre_a):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "cadre_a", "password": "wrong-password"})
    assert client.post(reverse("login"), {"username": "cadre_a", "password": PASSWORD}).status_code == 302
    client.logout()
    response = client.post(reverse("login"), {"username": "cadre_a", "password": "wrong-password"})
    assert response.status_code == 200  # counted from zero again


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1-xyz", "10"),
        ("abcdefghijkl", "大写字母、小写字母、数字、符号中的3类"),
        ("1234567890123", "密码只包含数字"),
        ("password123", "这个密码太常见了"),
    ],
)
def test_weak_passwords_are_refused(cadre_a, password, message):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password(password, user=cadre_a)
    assert any(message in text for text in refused.value.messages), refused.value.messages


def test_strong_password_is_accepted(cadre_a):
    validate_password("Yangchang-2026-cun", user=cadre_a)


def test_security_headers(client, cadre_a):
    client.force_login(cadre_a)
    response = client.get(reverse("households:list"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_template_has_inline_script_or_event_handlers():
    """The CSP forbids inline script: every template loads its scripts from static files."""
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text):
            offenders.append(str(path))
    assert offenders == []


def test_api_docs_are_served_without_a_cdn(client, cadre_a):
    client.force_login(cadre_a)
    page = client.get(reverse("api-docs")).content.decode()
    assert "cdn" not in page.lower() and "/static/drf_spectacular_sidecar/" in page


def test_sessions_expire_and_cookies_are_protected():
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and settings.SESSION_COOKIE_HTTPONLY


def test_every_form_page_carries_a_csrf_token(client, cadre_a, household_a):
    client.force_login(cadre_a)
    for url in [reverse("households:create"), reverse("households:edit", args=[household_a.pk])]:
        assert "csrfmiddlewaretoken" in client.get(url).content.decode(), url


def test_api_tokens_are_revocable_by_the_administrator(client, cadre_a, administrator):
    """The administrator's user page revokes every token of a user of their subtree (the Django admin is
    the operators' now: tests/test_admin_door.py)."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    _, token = AuthToken.objects.create(user=cadre_a)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/households/").status_code == 200
    client.force_login(administrator)
    response = client.post(reverse("accounts:user_tokens_revoke", args=[cadre_a.pk]), follow=True)
    assert "已撤销 1 个API令牌" in response.content.decode()
    assert not AuthToken.objects.filter(user=cadre_a).exists()
    assert api.get("/api/v1/households/").status_code == 401
