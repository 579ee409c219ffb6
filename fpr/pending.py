"""An attachment kept across a failed submission ("已上传：会议记录.jpg（重新提交时保留）").

When a record form comes back with errors, a file that was itself valid (checked by content, within
the size limit: `fpr.uploads.validate_attachment`) is stored under `pending/<user>/` in the default
(private: never served by URL) storage, and the form carries a signed token to it in a hidden input.
The token names the user and the scope (the form and the case or household it belongs to), so it
works only for the same user on the same record, and only for a day (`MAX_AGE`). The next post picks
the file up again unless a new file was chosen or "移除" was ticked. Files older than a day are
deleted whenever another one is kept; a used file is deleted once the record is saved.
"""

import time
import uuid

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage

from fpr.uploads import validate_attachment

MAX_AGE = 24 * 3600
_DIR = "pending"
_SALT = "fpr.pending-attachment"


def _scope(user, scope: str) -> str:
    return f"{user.pk}:{scope}"


def keep(upload, *, user, scope: str) -> dict | None:
    """Store a valid upload for the next submission; its token and name, or None if it is not valid."""
    try:
        kind = validate_attachment(upload)
    except ValidationError:
        return None
    purge()
    upload.seek(0)
    path = default_storage.save(f"{_DIR}/{user.pk}/{uuid.uuid4().hex}.{kind.extension}", upload)
    token = signing.dumps({"path": path, "name": upload.name, "scope": _scope(user, scope)}, salt=_SALT)
    return {"token": token, "name": upload.name}


def load(token: str, *, user, scope: str) -> File | None:
    """The kept file behind a token of this user and scope, or None (forged, expired, or gone)."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    path = data.get("path", "")
    if data.get("scope") != _scope(user, scope) or not path.startswith(f"{_DIR}/{user.pk}/"):
        return None
    if not default_storage.exists(path):
        return None
    kept = File(default_storage.open(path, "rb"), name=data.get("name") or path.rsplit("/", 1)[-1])
    kept.pending_path = path
    return kept


def discard(upload) -> None:
    """Delete a kept file once the record that used it is saved (a fresh upload: nothing to do)."""
    path = getattr(upload, "pending_path", None)
    if path:
        upload.close()
        default_storage.delete(path)


def purge(*, now: float | None = None) -> int:
    """Delete kept files older than a day; how many."""
    limit = (now or time.time()) - MAX_AGE
    removed = 0
    try:
        users, _ = default_storage.listdir(_DIR)
    except FileNotFoundError:
        return 0
    for user_dir in users:
        for name in default_storage.listdir(f"{_DIR}/{user_dir}")[1]:
            path = f"{_DIR}/{user_dir}/{name}"
            if default_storage.get_modified_time(path).timestamp() < limit:
                default_storage.delete(path)
                removed += 1
    return removed


class KeepsFiles:
    """A form mixin: its file fields (`kept_fields`) survive a failed submission.

    Build the form with `user=` and `scope=`; call `keep_files()` when the page is shown again with
    errors, `discard_kept()` after the record was saved. The field template shows what is kept.
    """

    kept_fields: tuple[str, ...] = ()

    def __init__(self, *args, user=None, scope: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.keeper = (user, scope)

    def _token_name(self, name: str) -> str:
        return f"{self.add_prefix(name)}_kept"

    def _clean_fields(self):
        super()._clean_fields()
        user, scope = self.keeper
        if not self.is_bound or user is None:
            return
        for name in self.kept_fields:
            if name in self._errors or self.cleaned_data.get(name):
                continue  # a new file was chosen (or it failed): it replaces the kept one
            token = self.data.get(self._token_name(name), "")
            if not token or self.data.get(f"{self._token_name(name)}_remove"):
                continue
            kept = load(token, user=user, scope=scope)
            if kept is not None:
                self.cleaned_data[name] = kept
                self.fields[name].kept = {"token": token, "name": kept.name}

    def keep_files(self) -> None:
        """After a failed submission: keep each valid file of this post for the next one."""
        user, scope = self.keeper
        if not self.is_bound or user is None:
            return
        for name in self.kept_fields:
            upload = self.files.get(self.add_prefix(name))
            if upload is None or getattr(self.fields[name], "kept", None) or name in self._field_error_names():
                continue
            kept = keep(upload, user=user, scope=scope)
            if kept is not None:
                self.fields[name].kept = kept

    def _field_error_names(self) -> set[str]:
        return {name for name, errors in self.errors.items() if errors}

    def discard_kept(self) -> None:
        for name in self.kept_fields:
            discard(self.cleaned_data.get(name))
