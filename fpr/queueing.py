"""Queueing background work (a comparison, a bulk job, an export) so that a stopped broker delays it
and never fails the request: the object stays QUEUED, every page says background jobs are delayed
(fpr.broker), and its progress page queues it again once the broker is back (`requeue_stalled`)."""

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from fpr import clock
from fpr.broker import broker_available

logger = logging.getLogger(__name__)

STALLED_AFTER = dt.timedelta(minutes=1)  # QUEUED this long and not taken: its message was likely never sent
REQUEUE_EVERY_SECONDS = 300  # at most one requeue of an object in this time


def enqueue(task, *args, what: str) -> bool:
    """`task.delay(*args)`; False (logged) when the broker is down. With tasks run in-process (tests,
    the demo) a failure is the task's own and is raised."""
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 — broker unavailable: the work is kept, only delayed
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        logger.warning("could not queue %s; it stays queued", what)
        return False
    return True


def requeue_stalled(
    *, key: str, since: dt.datetime, enqueue: Callable[[], bool], busy: Callable[[], bool] | None = None
) -> bool:
    """Queue again work still QUEUED `STALLED_AFTER` after `since` (the caller checks the status) — its
    message was most likely never sent — once the broker answers, at most once in
    `REQUEUE_EVERY_SECONDS` per `key`, and not while `busy()` (a run is going). A duplicate does no harm:
    every run claims its object once. The cache is Redis too: while it is down nothing is requeued."""
    if clock.now() - since < STALLED_AFTER or not broker_available():
        return False
    try:
        if (busy is not None and busy()) or not cache.add(key, True, timeout=REQUEUE_EVERY_SECONDS):
            return False
    except Exception:  # noqa: BLE001 — the cache is down: no requeue now
        return False
    return enqueue()
