"""Resident ID numbers (公民身份号码, GB 11643-1999) and disability certificates (第二代残疾人证)."""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from fpr import clock
from fpr.sensitive import Kind, mask

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII only: \d would also take other scripts' digits
_DISABILITY_SHAPE = re.compile(r"^(?P<id>[0-9]{17}[0-9X])(?P<category>[1-7])(?P<grade>[1-4])(?P<reissue>B[0-9])?$")


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    sex: str  # "男" / "女"
    region_code: str


def check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


# What people put between the digits of a number they type or paste: every kind of space (NFKC has
# already made U+3000 and NBSP plain spaces; tabs, newlines stay), dashes and invisible format marks
# (zero-width space, BOM, direction marks from copied web pages).
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u00ad\u200b-\u200f\u2060\ufeff]+")


def normalize_id_number(value: str) -> str:
    """The one normal form of a typed, pasted or imported ID number: full-width characters made ASCII
    (NFKC), every space, dash and invisible mark removed, `x` upper-cased. Every door (forms, API,
    admin, seeding, department rows, search) goes through here, so one person is one text."""
    if not value:
        return ""
    if len(value) == 18 and value.isascii() and value.isalnum() and (value.isdigit() or value.isupper()):
        return value  # already normal: the common case costs one pass
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


# First-generation (1985–2003) 15-digit numbers: YYMMDD birth date, no check digit. Their cards all
# expired by 1 January 2013; every resident now holds the 18-digit number. We refuse rather than
# convert: the conversion (insert "19", add a check digit) is usually the person's number, but a
# person who moved household registration was often given a new region code or sequence, and a
# computed number that is not on anyone's card would register a person twice or match nobody.
FIRST_GENERATION = "这是15位的第一代身份证号（已于2013年停止使用），请填写该成员现用第二代身份证上的18位号码。"


def parse_id_number(value: str, *, today: dt.date | None = None) -> IdInfo:
    """Validate an 18-digit ID number and derive birth date and sex; raise ValidationError in Chinese."""
    number = normalize_id_number(value)
    if len(number) == 15 and number.isdigit():
        raise ValidationError(FIRST_GENERATION, code="id_first_generation")
    if len(number) != 18:
        raise ValidationError(f"身份证号码应为18位，当前为{len(number)}位。", code="id_length", params={"value": value})
    if not _SHAPE.match(number):
        raise ValidationError("身份证号码前17位必须是数字，最后一位是数字或X。", code="id_shape")
    try:
        birth = dt.datetime.strptime(number[6:14], "%Y%m%d").date()
    except ValueError:
        raise ValidationError(f"身份证号码中的出生日期“{number[6:14]}”不是有效日期。", code="id_birth_date") from None
    today = today or clock.today()
    if birth.year < 1880 or birth > today:
        raise ValidationError(f"身份证号码中的出生日期“{birth:%Y-%m-%d}”不合理。", code="id_birth_date")
    expected = check_digit(number[:17])
    if number[17] != expected:
        raise ValidationError("身份证号码校验位错误，请核对后重新输入。", code="id_checksum")
    sex = "男" if int(number[16]) % 2 == 1 else "女"
    return IdInfo(number=number, birth_date=birth, sex=sex, region_code=number[:6])


def validate_id_number(value: str) -> None:
    parse_id_number(value)


def mask_id_number(number: str) -> str:
    """`522401199001011234` → `5224**********1234`: enough to tell people apart, not to misuse."""
    return mask(Kind.ID_NUMBER, number)


def parse_disability_certificate(value: str, *, id_number: str) -> tuple[int, int]:
    """A 2nd-generation certificate is the holder's ID + category digit + grade digit (+ B and a
    reissue digit). Returns (category, grade); raises ValidationError in Chinese."""
    number = normalize_id_number(value)
    match = _DISABILITY_SHAPE.match(number)
    if not match:
        raise ValidationError(
            "残疾人证号格式错误：应为持证人18位身份证号 + 残疾类别(1-7) + 残疾等级(1-4)，补发证再加“B”和补发次数。",
            code="disability_shape",
        )
    if match["id"] != normalize_id_number(id_number):
        raise ValidationError("残疾人证号的前18位与该成员的身份证号不一致。", code="disability_holder")
    return int(match["category"]), int(match["grade"])


def make_id_number(*, region_code: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid ID number (for demo data and tests). `sequence` 0–999; odd is male, even female."""
    first17 = f"{region_code[:6]}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)
