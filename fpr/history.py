"""变更记录: the pieces every history page shares — the household's, the case's, the warning's and the
plan's versions (templates/includes/history.html shows the entries).

django-simple-history records (or plan versions) are diffed in memory against the same object's
previous version: an object's history is small, and `record.prev_record` would cost a query per row.
Each page says which fields it shows and how a value of its own reads; the rest is here."""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.db import models

ACTIONS = {"+": "新增", "~": "修改", "-": "删除"}
EMPTY = "（空）"

Change = tuple[str, str, str]  # (field label, before, after)


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: str
    action: str
    subject: str = ""
    changes: list[Change] = field(default_factory=list)


def who(record) -> str:
    """Who made a historical record (系统 for a job, a migration or the seeding)."""
    return str(record.history_user) if record.history_user else "系统"


def action(record) -> str:
    return ACTIONS[record.history_type]


def display(model_field, value) -> str:
    """A value as a history shows it: （空）, a choice's label, 是/否, or the value as text."""
    if value in (None, ""):
        return EMPTY
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(model_field, models.FileField):  # a scan: its name as uploaded, never the storage path
        return f"已上传：{PurePosixPath(str(value)).name}"
    return str(value)


def recorded_changes(record, prior, *, excluded: Iterable[str] = (), show: Callable | None = None) -> list[Change]:
    """What a historical record changed against the same object's previous record (simple-history's
    `diff_against`, over every tracked field but `excluded`). `show(model_field, value)` reads a value
    (default: `display`)."""
    model = record.instance_type
    show = show or display
    delta = record.diff_against(prior, excluded_fields=list(excluded)) if excluded else record.diff_against(prior)
    changes = []
    for change in delta.changes:
        model_field = model._meta.get_field(change.field)
        changes.append((str(model_field.verbose_name), show(model_field, change.old), show(model_field, change.new)))
    return changes


def differences(before, after, names: Iterable[str], *, missing: Callable | None = None) -> list[tuple[str, Any, Any]]:
    """(name, before, after) for each attribute of `names` that differs between two versions of one
    object (historical records, instances or plain versions). Without a `before`, an attribute is compared
    with `missing(name)` (default None)."""
    found = []
    for name in names:
        old = getattr(before, name) if before is not None else (missing(name) if missing is not None else None)
        new = getattr(after, name)
        if old != new:
            found.append((name, old, new))
    return found


def field_changes(
    model, before, after, names: Iterable[str], *, missing: Callable | None = None, show: Callable | None = None
) -> list[Change]:
    """`differences` over the model fields `names` (compared by attname, labelled by verbose name).
    Without a `before`, a field is compared with `missing(model_field)` (default None); `show(model_field,
    value)` reads a value (default: `display`)."""
    show = show or display
    fields = {model._meta.get_field(name).attname: model._meta.get_field(name) for name in names}
    default = (lambda attname: missing(fields[attname])) if missing is not None else None
    return [
        (str(fields[attname].verbose_name), show(fields[attname], old), show(fields[attname], new))
        for attname, old, new in differences(before, after, fields, missing=default)
    ]
