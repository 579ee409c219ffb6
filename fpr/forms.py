"""Form pieces every app's pages share: the login form, date inputs, scan (attachment) fields, the
several-files field, and `apply_service_errors`, which puts a service's refusal back on the form. Forms
only turn input into Python values; the rules are the services'."""

import re

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from fpr.errors import ApplicationError

SCAN_TYPES = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"


def date_input(**attrs) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def scan_help() -> str:
    return f"JPG、PNG 或 PDF，不超过 {settings.FPR_MAX_ATTACHMENT_MB}MB；手机上可直接拍照上传。"


def scan_field(label: str, *, required: bool = False) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=required,
        help_text=scan_help(),
        widget=forms.FileInput(attrs={"accept": SCAN_TYPES}),
    )


class LoginForm(AuthenticationForm):
    """The login form with plain Chinese messages (Django's stock translation reads awkwardly)."""

    error_messages = {
        "invalid_login": "用户名或密码不正确，请重新输入。注意密码区分大小写。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["username"].error_messages["required"] = "请输入用户名。"
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "spellcheck": "false"})
        self.fields["password"].label = "密码"
        self.fields["password"].error_messages["required"] = "请输入密码。"
        self.fields["password"].widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (scans, photos); `accept` is the browser's file-type hint only — the
    services check the real type of every file."""

    def __init__(self, *args, accept: str = "", **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept} if accept else {}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(upload, initial) for upload in files if upload]


# --------------------------------------------------------------------------- service errors → forms

SERVICE_ERRORS = (ValidationError, ApplicationError)
"""What a page catches around a service call and hands to `apply_service_errors` (README, "Errors").
PermissionDenied is not among them: it goes on to the 403 page. A page that reloads on a ConflictError
catches that one first."""

_MEMBER_PREFIX = re.compile(r"^第(\d+)位成员：")


def service_messages(exc: ValidationError | ApplicationError) -> list[str]:
    """A service's refusal as sentences, for a page that answers with a message instead of a form."""
    if isinstance(exc, ApplicationError):
        return list(getattr(exc, "reasons", None) or [exc.message])
    return list(exc.messages)


def apply_service_errors(
    exc: ValidationError | ApplicationError, form: forms.Form, *, formset: forms.BaseFormSet | None = None
) -> None:
    """Put a service's refusal next to the field it is about, or above the form.

    An ApplicationError goes on its `field` when the form has one by that name (every reason of a
    TransitionRefused on its own line). A ValidationError keyed by field goes field by field; a form may
    name the field a key belongs to with `field_for_kind(key)` (the income form's kinds). Member problems
    reported as "第N位成员：…" go on the N-th filled row of `formset`."""
    if isinstance(exc, ApplicationError):
        field = exc.field if exc.field in form.fields else None
        for message in service_messages(exc):
            form.add_error(field, message)
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    members = formset.filled_forms() if formset is not None else []
    field_for = getattr(form, "field_for_kind", None)
    for key, errors in exc.message_dict.items():
        for message in errors:
            match = _MEMBER_PREFIX.match(message) if key == "members" else None
            if match and int(match[1]) - 1 < len(members):
                members[int(match[1]) - 1].add_error(None, message[match.end() :])
            elif formset is not None and key in ("members", "relationship"):
                formset.non_form_errors().append(message)
            else:
                target = field_for(key) if field_for is not None else key
                form.add_error(target if target in form.fields else None, message)
