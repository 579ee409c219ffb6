"""Personal data never reaches a log: every log record is masked when it is created.

A record's message and arguments are formatted at once and every value of the sensitive-field list
found in it is replaced by its masked form, by the patterns `fpr.sensitive.LOG_PATTERNS` declares:
18-digit ID numbers (also written with spaces or hyphens, or with "+"/"%20" in a query string),
15-digit first-generation ID numbers, disability certificates (ID + category + grade, + "B" and a
digit), bank-card-length digit runs (19–30 digits) and mobile numbers; an exception's traceback text
is formatted and masked the same way. Installed as the log record factory, so it covers
every logger and handler (Django's request log, Celery, the database driver's error messages that echo
row values), including handlers added later.
"""

import logging

from fpr.sensitive import mask_text

__all__ = ["install", "mask_text"]


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
