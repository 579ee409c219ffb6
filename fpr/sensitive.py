"""Sensitive fields: the one list of personal data that is masked by default.

Every door reads this declaration: the API serializers (`households.serializers.MaskedOutputSerializer`),
the templates (`{{ value|masked:"kind" }}`), the edit forms (which never carry a value the user may not
see in full), the change history, the exports and the log mask (`fpr.log_masking`, from `LOG_PATTERNS`).

Who sees a value in full (`shown_in_full`):
- ID number, disability certificate and bank account: only after a logged reveal with a reason
  (`households.services.sensitive_access_record`, which needs `households.view_sensitive`).
- Phone: the village cadre, who phones the household, sees it; everyone else (township and county
  reviewers, administrators, department officers) sees `138****5678` unless they revealed it.

fpr imports no app, so models are named by label ("households.Member").
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from fpr.roles import Role


class Kind(StrEnum):
    ID_NUMBER = "id_number"  # 公民身份号码
    CERTIFICATE = "certificate"  # 第二代残疾人证号: the holder's ID + category + grade (+ B and a digit)
    BANK_ACCOUNT = "bank_account"
    PHONE = "phone"


@dataclass(frozen=True)
class SensitiveField:
    model: str  # "app_label.ModelName"
    name: str
    kind: Kind
    label: str


SENSITIVE_FIELDS: tuple[SensitiveField, ...] = (
    SensitiveField("households.Member", "id_number", Kind.ID_NUMBER, "身份证号"),
    SensitiveField("households.Member", "disability_certificate", Kind.CERTIFICATE, "残疾人证号"),
    SensitiveField("households.Household", "bank_account", Kind.BANK_ACCOUNT, "银行账号"),
    SensitiveField("households.Household", "phone", Kind.PHONE, "联系电话"),
)
# Not listed: `User.phone`, a cadre's work number, which their administrator needs to reach them (the
# log mask still masks every mobile number, whoever's).

# Names under which the same values are read elsewhere (query annotations, serializer fields).
ALIASES: dict[str, Kind] = {"head_id_number": Kind.ID_NUMBER}

# Kinds that need the logged reveal; a phone is also shown to the roles in PHONE_READERS.
REVEAL_ONLY = frozenset({Kind.ID_NUMBER, Kind.CERTIFICATE, Kind.BANK_ACCOUNT})
PHONE_READERS = frozenset({Role.VILLAGE_CADRE})


def fields_of(model_label: str) -> dict[str, Kind]:
    """{field name: kind} of one model, e.g. fields_of("households.Member")."""
    return {f.name: f.kind for f in SENSITIVE_FIELDS if f.model.lower() == model_label.lower()}


def kind_of(model_label: str, name: str) -> Kind | None:
    return fields_of(model_label).get(name)


def output_kinds(model_label: str) -> dict[str, Kind]:
    """The fields of a model plus the aliases: what an output of that model must mask."""
    return {**ALIASES, **fields_of(model_label)}


def shown_in_full(kind: Kind | str, *, user, revealed: bool = False) -> bool:
    """Whether `user` sees a value of this kind unmasked. `revealed` means the caller already logged
    a reveal (only holders of households.view_sensitive can)."""
    if revealed:
        return True
    if Kind(kind) in REVEAL_ONLY or user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(getattr(user, "has_role", None) and user.has_role(*PHONE_READERS))


def _middle(value: str, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask(kind: Kind | str, value) -> str:
    """The masked form of a value: `5224**********1234`, `5224************1231`, `6222***********0123`,
    `138****5678`."""
    value = "" if value is None else str(value)
    if not value:
        return ""
    if Kind(kind) == Kind.PHONE:
        return _middle(value, 3, 4)
    return _middle(value, 4, 4)


# --------------------------------------------------------------------------- the log mask

# A separator a person or a URL puts between digit groups: space, hyphen, "+" or "%20" (a query string).
_SEP = r"(?:[ \-+]|%20)?"
_NOT_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_AFTER = r"(?![0-9A-Za-z])"
_ID18 = r"\d" + (_SEP + r"\d") * 16 + _SEP + r"[\dXx]"

# (kind, pattern), longest first: a certificate contains an ID number, a bank card is longer than one.
LOG_PATTERNS: tuple[tuple[Kind, re.Pattern], ...] = (
    (Kind.CERTIFICATE, re.compile(_NOT_BEFORE + _ID18 + _SEP + r"[1-7]" + _SEP + r"[1-4](?:[Bb]\d)?" + _NOT_AFTER)),
    (Kind.BANK_ACCOUNT, re.compile(r"(?<![0-9])\d{19,30}(?![0-9])")),
    (Kind.ID_NUMBER, re.compile(_NOT_BEFORE + _ID18 + _NOT_AFTER)),
    # First-generation ID numbers: 15 digits (6 region, yymmdd, 3 sequence).
    (Kind.ID_NUMBER, re.compile(r"(?<![0-9])\d{6}" + _SEP + r"\d{6}" + _SEP + r"\d{3}(?![0-9])")),
    (Kind.PHONE, re.compile(r"(?<![0-9])1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}(?![0-9])")),
)

_UNSEPARATED = re.compile(r"[ \-+]|%20")


def mask_text(text: str) -> str:
    """Every value of the list found in free text (a log line, an access-log path), masked."""
    for kind, pattern in LOG_PATTERNS:
        text = pattern.sub(lambda match, kind=kind: mask(kind, _UNSEPARATED.sub("", match[0])), text)
    return text
