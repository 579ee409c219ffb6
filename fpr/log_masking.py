"""Personal data never reaches a log: every log record is masked when it is created.

A record's message and arguments are formatted at once and ID numbers (18 characters, GB 11643 shape)
and bank-card-length digit runs (19 digits) in it are replaced by their masked form; an exception's
traceback text is formatted and masked the same way. Installed as the log record factory, so it covers
every logger and handler (Django's request log, Celery, the database driver's error messages that echo
row values), including handlers added later.
"""

import logging
import re

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_BANK_CARD = re.compile(r"(?<![0-9])(\d{4})\d{11}(\d{4})(?![0-9])")


def mask_text(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: f"{m[1]}**********{m[2][-4:]}", text)
    return _BANK_CARD.sub(lambda m: f"{m[1]}***********{m[2]}", text)


def install() -> None:
    base = logging.getLogRecordFactory()
    if getattr(base, "masks_personal_data", False):
        return

    def factory(*args, **kwargs):
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken format string is logged as it is
            return record
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return record

    factory.masks_personal_data = True
    logging.setLogRecordFactory(factory)
