"""Forms of the accounts pages. They only convert input; the rules are in households.accounts."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, UsernameField

from fpr.roles import Department, Role
from households import accounts


class _DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.code}）"


class UserForm(forms.Form):
    full_name = forms.CharField(label="姓名", max_length=32)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    division = _DivisionChoiceField(label="所属区划", queryset=None)
    department = forms.ChoiceField(
        label="所属部门", choices=[("", "（无）"), *Department.choices], required=False, help_text="部门数据专员必填。"
    )
    roles = forms.MultipleChoiceField(
        label="角色", choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label="账号启用", required=False, initial=True)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = accounts.divisions_assignable(actor=actor)


class UserCreateForm(UserForm):
    username = UsernameField(label="用户名", max_length=150)
    password1 = forms.CharField(label="初始密码", widget=forms.PasswordInput(render_value=False), strip=False)
    password2 = forms.CharField(label="再次输入初始密码", widget=forms.PasswordInput, strip=False)

    field_order = ["username", "password1", "password2", "full_name", "phone", "division", "department", "roles"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "两次输入的密码不一致。")
        return cleaned


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(label="新密码", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="再次输入新密码", widget=forms.PasswordInput, strip=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "两次输入的密码不一致。")
        return cleaned


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form (old password, new password twice, the project's validators), in the cadres' words."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "原密码"
        self.fields["new_password1"].label = "新密码"
        self.fields[
            "new_password1"
        ].help_text = "至少10个字符，包含大写字母、小写字母、数字、符号中的至少3种，不能是常见密码。"
        self.fields["new_password2"].label = "再次输入新密码"


class MonitoringLineForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    amount = forms.DecimalField(label="监测范围（元/人·年）", max_digits=10, decimal_places=2, min_value=0)
    poverty_line = forms.DecimalField(
        label="国家扶贫标准（元/人·年）", max_digits=10, decimal_places=2, min_value=0, required=False
    )
