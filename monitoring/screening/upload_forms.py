"""The upload form of a department list (部门数据上传)."""

import datetime as dt

from django import forms
from django.conf import settings

from fpr import clock
from monitoring.screening.comparison import ENCODINGS, uploadable_departments


class UploadForm(forms.Form):
    department = forms.ChoiceField(label="数据来源部门")
    period = forms.CharField(
        label="数据期间",
        max_length=7,
        help_text="数据所属的月份，格式为“年-月”，如 2026-11。",
        widget=forms.TextInput(attrs={"placeholder": "2026-11", "inputmode": "numeric", "pattern": r"\d{4}-\d{2}"}),
    )
    encoding = forms.ChoiceField(
        label="文件编码",
        required=False,
        choices=[("", "自动识别（推荐）"), *ENCODINGS.items()],
        help_text="只对 CSV 有效。自动识别 UTF-8 与 GBK/GB18030；乱码或报编码错误时再手动选择。",
    )
    file = forms.FileField(
        label="数据文件",
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        departments = uploadable_departments(user)
        self.fields["department"].choices = departments if len(departments) == 1 else [("", "请选择"), *departments]
        self.fields["file"].help_text = (
            "CSV（UTF-8、GBK 或 GB18030）或 XLSX，可带标题行和两行表头（自动识别列名所在行），"
            f"不超过 {settings.FPR_MAX_DEPARTMENT_UPLOAD_MB}MB。"
            "身份证号列请使用文本格式。"
        )
        # Lists arrive in the first days of a month for the month before: last month by default.
        last = clock.today().replace(day=1) - dt.timedelta(days=1)
        self.initial.setdefault("period", f"{last.year}-{last.month:02d}")
