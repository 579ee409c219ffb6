"""Form pieces every app's pages share: the login form, date inputs, scan (attachment) fields and the
several-files field. Forms only turn input into Python values; the rules are the services'."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

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
