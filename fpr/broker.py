"""Whether the Celery broker (Redis) answers, asked by every page (the "后台任务延迟" banner) and by
the health check. It must stay cheap while Redis is down: one connect and PING with a short timeout,
and the answer is kept in this process's memory for a few seconds — not in the Django cache, which is
Redis too."""

import time

import redis
from django.conf import settings

TIMEOUT_SECONDS = 0.5
REMEMBER_SECONDS = 10

# broker URL → (when it was asked, its answer); per process, a dict write is atomic enough.
_answers: dict[str, tuple[float, bool]] = {}


def broker_available() -> bool:
    """Whether background jobs can be queued now (always true when tasks run in-process)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True
    url = settings.CELERY_BROKER_URL
    asked = _answers.get(url)
    if asked is not None and time.monotonic() - asked[0] < REMEMBER_SECONDS:
        return asked[1]
    answer = _ping(url)
    _answers[url] = (time.monotonic(), answer)
    return answer


def _ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()
