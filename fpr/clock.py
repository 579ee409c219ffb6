"""The one source of 'now' for business rules, so tests move time with time-machine, never sleep."""

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate(timezone.now())


def localtime_now() -> dt.datetime:
    return timezone.localtime(timezone.now())
