"""Faults (issue #7 point 5): Redis stopped, a worker killed mid-comparison, the database connection
lost inside a request, two cadres saving the same household. Every fault here is real: a redis-server
this test starts and kills, Celery worker processes killed with SIGKILL, a PostgreSQL backend
terminated with pg_terminate_backend, and concurrent database transactions.

The tests marked `slow` start and stop processes and take some seconds each; they are never skipped.
Each uses its own redis-server on a free port, so the shared Redis is never stopped or flushed and no
other test's worker can take these tests' tasks.
"""

import contextlib
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
import pytest
import redis
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from fpr import broker
from fpr.errors import ConflictError
from fpr.roles import Department, Role
from households.forms import HOUSEHOLD_FORM_FIELDS
from households.id_numbers import make_id_number
from households.models import Household, Relationship
from households.services import household_update
from monitoring.jobs.runner import job_run
from monitoring.models import DepartmentUpload, JobStatus, RejectedRow, RiskWarning, UploadStatus
from monitoring.screening import comparison
from monitoring.screening.comparison import upload_create
from tests.builders import department_csv, make_user, member_data

MEDICAL = Department.MEDICAL_INSURANCE
BANNER = "后台任务服务暂时不可用，比对、批量办理等后台任务将延迟执行"
CONFLICT = "该农户信息已被他人修改"


# --------------------------------------------------------------------------- helpers: our own Redis


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A throw-away redis-server owned by one test: started, stopped and started again on one port."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.05)
        pytest.fail(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1)


def _drop_celery_pools(app) -> None:
    # The app keeps its broker connections and producers; new ones are made from conf on next use.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(settings):
    """A redis-server of this test, with Celery publishing to it and the Django cache on it — as
    REDIS_URL would set them — and the broker check's remembered answers forgotten."""
    from fpr.celery import app

    server = RedisServer(free_port())
    server.start()
    saved = app.conf.broker_url
    settings.CELERY_BROKER_URL = server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            # Same prefix as a worker on this test database computes, so the test reads its progress.
            "KEY_PREFIX": f"fpr:{connection.settings_dict['NAME']}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    _drop_celery_pools(app)
    app.conf.broker_url = server.url
    broker._answers.clear()
    try:
        yield server
    finally:
        server.stop()
        _drop_celery_pools(app)
        app.conf.broker_url = saved
        broker._answers.clear()


class RedisWaits:
    """What a request could wait on the stopped Redis, counted instead of timed: every connection attempt
    redis-py makes to its port, with the connect timeout it was given, and every retry back-off slept
    (by redis-py, kombu or anything else calling time.sleep). `worst_case` is the longest the request
    could have waited with every attempt running into its timeout — the same however fast or loaded the
    machine is."""

    def __init__(self, port: int):
        self.port = port
        self.attempts: list[float | None] = []  # each attempt's connect timeout (None: none, unbounded)
        self.sleeps: list[float] = []

    def clear(self) -> None:
        self.attempts.clear()
        self.sleeps.clear()

    @property
    def worst_case(self) -> float:
        return sum(float("inf") if t is None else t for t in self.attempts) + sum(self.sleeps)

    def __str__(self) -> str:
        return f"{len(self.attempts)} connection attempts (timeouts {self.attempts}), back-offs {self.sleeps}"


def watch_redis(monkeypatch, port: int) -> RedisWaits:
    """Count, from now to the end of the test, what could make a request wait on the Redis at `port`."""
    import kombu.utils.functional
    import redis.connection
    import redis.retry

    waits = RedisWaits(port)
    real_connect, real_sleep = redis.connection.Connection._connect, time.sleep

    def connect(connection):
        if int(connection.port) == port:
            waits.attempts.append(connection.socket_connect_timeout)
        return real_connect(connection)

    def sleep(seconds):
        waits.sleeps.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(redis.connection.Connection, "_connect", connect)
    for module in (time, redis.retry, kombu.utils.functional):  # the last two import sleep by name
        monkeypatch.setattr(module, "sleep", sleep)
    return waits


def medical_list(rows: list[dict]) -> bytes:
    return department_csv(rows, department=MEDICAL).encode("utf-8")


def head_of(household):
    return household.members.get(relationship=Relationship.HEAD)


# --------------------------------------------------------------------------- 1. Redis stopped


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_pages_work_and_a_queued_upload_is_compared_when_it_returns(
    own_redis, monkeypatch, client, make_household, open_case, cadre_a, village_a
):
    household = make_household(user=cadre_a, village=village_a)
    case = open_case(user=cadre_a, household=household)
    admin = make_user("faults_admin", village_a.parent.parent, Role.ADMINISTRATOR, full_name="吴管理")
    client.force_login(admin)
    pages = [
        reverse("households:list"),
        reverse("cases:detail", args=[case.pk]),
        reverse("monitoring:upload_create"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200 and BANNER not in response.content.decode(), url

    own_redis.stop()
    broker._answers.clear()  # as if the remembered answer (10 s) had run out
    waits = watch_redis(monkeypatch, own_redis.port)
    for url in pages:
        waits.clear()
        response = client.get(url)
        assert response.status_code == 200, url
        assert BANNER in response.content.decode(), url
        # Counted, not timed: even if every connect ran into its timeout, the page would not wait 2 s.
        assert waits.worst_case < 2, f"{url} waits on the stopped Redis: {waits}"
    assert client.get("/healthz/").json() == {"database": True, "broker": False}

    person = head_of(household)
    rows = [
        {"身份证号": person.id_number, "姓名": person.name, "个人自付金额": "62000"},
        {
            "身份证号": make_id_number(region_code="520621", birth_date=dt.date(1980, 5, 17), sequence=11),
            "个人自付金额": "9",
        },
    ]
    waits.clear()
    response = client.post(
        reverse("monitoring:upload_create"),
        {
            "department": MEDICAL,
            "period": "2026-11",
            "encoding": "",
            "file": SimpleUploadedFile("医保.csv", medical_list(rows)),
        },
    )
    upload = DepartmentUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse("monitoring:upload", args=[upload.pk])
    assert "必需列都已识别" in client.get(response.url).content.decode()  # the preview, as read
    response = client.post(reverse("monitoring:upload_start", args=[upload.pk]))
    assert waits.worst_case < 5, f"queueing the comparison waits too long on the stopped Redis: {waits}"
    upload.refresh_from_db()
    assert response.status_code == 302 and response.url == reverse("monitoring:upload", args=[upload.pk])
    assert upload.status == UploadStatus.QUEUED and upload.file.name  # stored, only delayed
    page = client.get(response.url)
    assert page.status_code == 200  # the progress read from the (stopped) cache is skipped
    assert "等待比对" in page.content.decode() and BANNER in page.content.decode()
    assert not RiskWarning.objects.exists()

    own_redis.start()
    broker._answers.clear()
    assert BANNER not in client.get(pages[0]).content.decode()
    assert client.get("/healthz/").json() == {"database": True, "broker": True}
    # Nothing was queued while Redis was down: the scheduled job finds the upload still waiting.
    run = job_run(job="comparison_pending", triggered_by="测试")
    assert run.status == JobStatus.SUCCEEDED, run.errors
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE, upload.error
    assert (upload.rows_total, upload.rows_matched, upload.rows_rejected, upload.rows_unmatched) == (2, 1, 0, 1)
    assert upload.warnings_created == 1
    warning = RiskWarning.objects.get()
    assert (warning.upload_id, warning.member_id, warning.household_id) == (upload.pk, person.pk, household.pk)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_bulk_job_started_while_redis_is_down_is_queued_from_its_page_once_redis_is_back(
    own_redis, client, township_reviewer
):
    import time_machine

    from workflow.models import BulkJobStatus
    from workflow.services import bulk_job_start

    own_redis.stop()
    broker._answers.clear()
    with transaction.atomic():  # as in the page: queued when the transaction commits
        job = bulk_job_start(user=township_reviewer, case_ids=[], transition="township_approve", inputs={})
    job.refresh_from_db()
    assert job.status == BulkJobStatus.QUEUED  # kept; no error reached the user
    client.force_login(township_reviewer)
    page = reverse("cases:bulk_job", args=[job.pk])
    response = client.get(page)
    assert response.status_code == 200 and BANNER in response.content.decode()

    own_redis.start()
    broker._answers.clear()
    queue = own_redis.client()
    assert client.get(page).status_code == 200
    assert queue.llen("celery") == 0  # just started: its own message may still be on the way
    with time_machine.travel(job.created_at + dt.timedelta(minutes=2)):
        assert client.get(page).status_code == 200
        assert client.get(page).status_code == 200  # reloads do not queue it again
    messages = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages] == [
        ("workflow.tasks.run_bulk_job", f"({job.pk},)")
    ]


@pytest.mark.django_db
def test_asking_for_a_large_rejected_rows_report_while_redis_is_down_says_not_ready(
    own_redis, monkeypatch, department_upload, household_a
):
    upload = department_upload([{"身份证号": head_of(household_a).id_number, "个人自付金额": "1"}, {"身份证号": "x"}])
    assert upload.rows_rejected == 1
    monkeypatch.setattr(comparison, "REPORT_INLINE_ROWS", 0)  # as if it had more rows than a request builds
    own_redis.stop()
    assert comparison.rejected_report_ready(upload) is False  # queued later; no error for the user
    own_redis.start()
    assert comparison.rejected_report_ready(upload) is False
    assert (
        json.loads(own_redis.client().lindex("celery", 0))["headers"]["task"]
        == "monitoring.tasks.build_rejected_report"
    )


@pytest.mark.django_db
def test_the_broker_check_is_quick_and_remembered_while_redis_is_down(settings, monkeypatch):
    port = free_port()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"  # nothing listens there
    broker._answers.clear()
    asked = []
    real_ping = broker._ping
    monkeypatch.setattr(broker, "_ping", lambda url: asked.append(url) or real_ping(url))
    waits = watch_redis(monkeypatch, port)
    assert broker.broker_available() is False
    assert (waits.attempts, waits.sleeps) == ([broker.TIMEOUT_SECONDS], [])  # one connect, short timeout, no retry
    for _ in range(100):  # every page asks; only the first within REMEMBER_SECONDS reaches the network
        assert broker.broker_available() is False
    assert asked == [settings.CELERY_BROKER_URL] and len(waits.attempts) == 1
    monkeypatch.setattr(broker, "REMEMBER_SECONDS", 0)
    assert broker.broker_available() is False
    assert len(asked) == 2
    broker._answers.clear()


@pytest.mark.django_db
def test_a_comparison_runs_and_its_page_renders_while_the_cache_is_down(
    settings, client, department_upload, household_a, administrator
):
    """The Django cache is Redis too: progress is written to it during a run and read by the page.
    With it unreachable the run still completes and the page still renders."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    with pytest.raises(redis.ConnectionError):
        cache.get("anything")  # the cache really is down
    person = head_of(household_a)
    upload = department_upload([{"身份证号": person.id_number, "个人自付金额": "30000"}])
    assert upload.status == UploadStatus.DONE, upload.error
    assert upload.warnings_created == 1 and RiskWarning.objects.get().member_id == person.pk

    waiting = upload_create(
        user=administrator,
        department=MEDICAL,
        period="2026-10",
        file=SimpleUploadedFile("十月.csv", medical_list([{"身份证号": person.id_number, "个人自付金额": "1"}])),
    )
    assert comparison.upload_progress(waiting)["status_label"] == "等待比对"
    client.force_login(administrator)
    response = client.get(reverse("monitoring:upload", args=[waiting.pk]))
    assert response.status_code == 200 and "等待比对" in response.content.decode()


# --------------------------------------------------------------------------- 2. worker killed mid-run

ROWS = 300_000
VISIBILITY_SECONDS = 3  # the workers' broker visibility timeout in this test (production: 1800 s)


def start_worker(*, name: str, redis_url: str, media_root: Path, log: Path) -> subprocess.Popen:
    """A Celery worker process of this test (as conftest's celery_worker_process, but killable)."""
    from fpr.celery import app

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "FPR_TESTING": "1",
        "MEDIA_ROOT": str(media_root),
        "FPR_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "fpr",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-n",
            f"{name}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"Celery worker {name} exited: {log.read_text()[-2000:]}")
        if app.control.ping(destination=[f"{name}@{socket.gethostname()}"], timeout=1):
            return worker
    worker.kill()
    pytest.fail(f"Celery worker {name} did not answer a ping within 60 s")


def wait_for(condition, *, seconds: float, what: str, step: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def upload_unlocked(upload_id: int) -> bool:
    try:
        with transaction.atomic():
            DepartmentUpload.objects.select_for_update(nowait=True).get(pk=upload_id)
        return True
    except DatabaseError:
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_comparison_leaves_nothing_and_the_redelivered_task_completes_once(
    own_redis, settings, tmp_path, make_household, cadre_a, village_a, administrator
):
    media_root = tmp_path / "worker-media"
    settings.MEDIA_ROOT = media_root
    households = [make_household(user=cadre_a, village=village_a, address=f"光明村{i}组") for i in range(3)]
    members = [member for household in households for member in household.members.order_by("pk")]
    assert len(members) == 6
    # 300,000 rows of people not registered here (another county's codes), with the six registered
    # members at the start and at the end: the run must get through the whole file to warn all six.
    strangers = [
        make_id_number(region_code="520621", birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=i), sequence=i % 997)
        for i in range(5000)
    ]
    rows = [{"身份证号": m.id_number, "个人自付金额": "62000"} for m in members[:3]]
    rows += [{"身份证号": strangers[i % len(strangers)], "个人自付金额": "800"} for i in range(ROWS - 6)]
    rows += [{"身份证号": m.id_number, "个人自付金额": "25000"} for m in members[3:]]
    data = medical_list(rows)

    log = tmp_path / "workers.log"
    first = start_worker(name="faults-first", redis_url=own_redis.url, media_root=media_root, log=log)
    second = None
    try:
        upload = upload_create(
            user=administrator, department=MEDICAL, period="2026-11", file=SimpleUploadedFile("大名单.csv", data)
        )  # committed: queued on our Redis, taken by the first worker
        progress = wait_for(
            lambda: (cache.get(comparison._progress_key(upload.pk)) or {}).get("rows_read", 0) >= 20_000,
            seconds=60,
            what="the first worker to read rows",
        )
        assert progress
        assert not upload_unlocked(upload.pk), "the run should hold the upload's row lock"
        first.send_signal(signal.SIGKILL)
        first.wait(10)

        # PostgreSQL rolls the killed worker's transaction back: no warning, no rejected row.
        wait_for(lambda: upload_unlocked(upload.pk), seconds=30, what="the killed run's lock to go")
        upload.refresh_from_db()
        assert upload.status == UploadStatus.QUEUED and upload.rows_total == 0
        assert not RiskWarning.objects.exists() and not RiskWarning.history.exists()
        assert not RejectedRow.objects.filter(upload=upload).exists()
        # The task was taken (acks_late) but never acknowledged: Redis holds it as unacked.
        assert own_redis.client().hlen("unacked") == 1
        assert own_redis.client().llen("celery") == 0

        time.sleep(VISIBILITY_SECONDS + 0.5)  # real broker time: the visibility timeout must pass
        second = start_worker(name="faults-second", redis_url=own_redis.url, media_root=media_root, log=log)
        wait_for(
            lambda: DepartmentUpload.objects.get(pk=upload.pk).status != UploadStatus.QUEUED,
            seconds=120,
            step=0.3,
            what="the redelivered comparison to finish",
        )
        upload.refresh_from_db()
        assert upload.status == UploadStatus.DONE, upload.error
        # People not in the registry are counted, not rejected; only a few are kept as examples.
        assert (upload.rows_total, upload.rows_matched, upload.rows_rejected, upload.rows_unmatched) == (
            ROWS,
            6,
            0,
            ROWS - 6,
        )
        assert (upload.warnings_created, upload.warnings_existing) == (6, 0)
        warnings = RiskWarning.objects.filter(upload=upload)
        assert sorted(warnings.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
        assert sorted(warnings.values_list("grade", flat=True)) == ["orange"] * 3 + ["red"] * 3
        assert RiskWarning.objects.count() == 6 and RiskWarning.history.count() == 6
        assert RejectedRow.objects.filter(upload=upload).count() == settings.FPR_UNMATCHED_EXAMPLE_ROWS
        # The comparison's message is acknowledged at last: nothing of it left to redeliver. (The
        # worker goes on to build the rejected-rows report, a task of its own, not waited for here.)
        wait_for(
            lambda: not any(b"run_comparison" in message for message in own_redis.client().hvals("unacked")),
            seconds=15,
            what="the comparison task to be acknowledged",
        )
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.kill()  # throw-away workers on a throw-away Redis: no need to wait for the report
                worker.wait(10)


# --------------------------------------------------------------------------- 3. PostgreSQL connection lost


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A plain HTTP client against the live server: the real WSGI handler, whose request signals
    close a broken database connection (the test client's do not)."""

    def __init__(self, base_url: str, session_id: str):
        self.base_url = base_url
        self.cookies = {"sessionid": session_id}
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body)
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, response.read().decode()


def edit_form_data(household: Household, page: str, **changes) -> dict:
    """What the edit page posts: its csrf token and version, and the household's fields (changed)."""
    data = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1],
        "version": re.search(r'name="version" value="(\d+)"', page)[1],
    }
    for name in HOUSEHOLD_FORM_FIELDS:
        value = changes.get(name, getattr(household, name))
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    return data


def terminate_backend(pid: int) -> None:
    """What a PostgreSQL restart does to a session, from another connection."""
    db = connection.settings_dict
    other = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_mid_request_shows_the_error_page_and_writes_nothing(
    live_server, monkeypatch, make_household, cadre_a, village_a
):
    id_number = make_id_number(region_code="520521", birth_date=dt.date(1980, 5, 17), sequence=2)
    household = make_household(user=cadre_a, village=village_a, members=[member_data("赵秀英", id_number=id_number)])
    history_before = household.history.count()
    client = Client()
    client.force_login(cadre_a)
    browser = Browser(live_server.url, client.cookies["sessionid"].value)
    edit = reverse("households:edit", args=[household.pk])

    status, page = browser.request(edit)
    assert status == 200
    real_save = Household.save
    terminated = []

    def save_then_lose_the_connection(self, *args, **kwargs):
        real_save(self, *args, **kwargs)  # the UPDATE (and its history row) are written, not committed
        if not terminated:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            terminate_backend(pid)
            terminated.append(pid)

    monkeypatch.setattr(Household, "save", save_then_lose_the_connection)
    status, body = browser.request(edit, edit_form_data(household, page, address="改到一半的地址", phone="13800000000"))
    assert terminated, "the hook did not run inside the request"
    assert status == 500
    assert "系统出现错误" in body and "您的操作没有完成" in body
    for leak in ("Traceback", "psycopg2", "OperationalError", "赵秀英", id_number, "改到一半", household.number):
        assert leak not in body, leak

    household.refresh_from_db()
    assert household.address == "光明村一组12号" and household.phone == "" and household.version == 1
    assert household.history.count() == history_before

    # The next requests get a new connection (Django closes the broken one at the end of the request).
    status, page = browser.request(reverse("households:detail", args=[household.pk]))
    assert status == 200 and household.number in page
    status, page = browser.request(edit)
    status, _ = browser.request(edit, edit_form_data(household, page, address="光明村一组14号"))
    assert status == 302
    household.refresh_from_db()
    assert household.address == "光明村一组14号" and household.version == 2


# --------------------------------------------------------------------------- 4. concurrent household edits


@pytest.fixture
def second_cadre(village_a):
    return make_user("cadre_a2", village_a, Role.VILLAGE_CADRE, full_name="张驻村")


@pytest.mark.django_db
def test_two_cadres_editing_one_household_the_second_is_told_and_the_first_change_stays(
    household_a, cadre_a, second_cadre
):
    first, second = Client(), Client()
    first.force_login(cadre_a)
    second.force_login(second_cadre)
    edit = reverse("households:edit", args=[household_a.pk])
    first_page = first.get(edit).content.decode()
    second_page = second.get(edit).content.decode()  # both opened the page on version 1
    assert 'name="version" value="1"' in first_page and 'name="version" value="1"' in second_page

    response = first.post(edit, edit_form_data(household_a, first_page, address="光明村一组20号"))
    assert response.status_code == 302
    response = second.post(edit, edit_form_data(household_a, second_page, address="光明村三组1号", phone="13900000000"))
    assert response.status_code == 200
    text = response.content.decode()
    assert re.search(r"该农户信息已被他人修改（王村干 于 \d{4}-\d\d-\d\d \d\d:\d\d 保存），请刷新后重新修改。", text)
    household_a.refresh_from_db()
    assert (household_a.address, household_a.phone, household_a.version) == ("光明村一组20号", "", 2)

    # After reloading, the second cadre's change is made on top of the first one.
    reloaded = second.get(edit).content.decode()
    assert 'name="version" value="2"' in reloaded and "光明村一组20号" in reloaded
    response = second.post(edit, edit_form_data(household_a, reloaded, address="光明村三组1号"))
    assert response.status_code == 302
    household_a.refresh_from_db()
    assert (household_a.address, household_a.version) == ("光明村三组1号", 3)
    changes = [r.address for r in household_a.history.order_by("history_date")]
    assert changes == ["光明村一组12号", "光明村一组20号", "光明村三组1号"]


@pytest.mark.django_db
def test_the_api_answers_409_to_a_stale_version_and_keeps_the_first_change(household_a, cadre_a, second_cadre):
    from rest_framework.test import APIClient

    first, second = APIClient(), APIClient()
    first.force_authenticate(cadre_a)
    second.force_authenticate(second_cadre)
    url = f"/api/v1/households/{household_a.pk}/"
    assert first.get(url).json()["version"] == 1 and second.get(url).json()["version"] == 1

    response = first.patch(url, {"address": "光明村一组20号", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 2
    response = second.patch(url, {"address": "光明村三组1号", "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"].startswith(CONFLICT) and "请刷新后重新修改" in response.json()["detail"]
    household_a.refresh_from_db()
    assert (household_a.address, household_a.version) == ("光明村一组20号", 2)
    assert second.patch(url, {"address": "光明村三组1号", "version": 2}, format="json").status_code == 200
    household_a.refresh_from_db()
    assert (household_a.address, household_a.version) == ("光明村三组1号", 3)


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_the_same_moment_on_one_version_one_wins_one_is_refused(
    monkeypatch, household_a, cadre_a, second_cadre
):
    """Two threads, two database connections, both based on version 1. The first holds the row lock
    a while before it saves; the second, arriving meanwhile, must wait for it and then be refused."""
    real_clean = Household.full_clean
    inside = threading.Event()

    def slow_clean(self, *args, **kwargs):
        if threading.current_thread().name == "先到":
            inside.set()
            time.sleep(0.5)  # hold the lock while the other thread arrives
        return real_clean(self, *args, **kwargs)

    monkeypatch.setattr(Household, "full_clean", slow_clean)
    outcomes: dict[str, object] = {}

    def save(user, address):
        try:
            household_update(user=user, household=household_a, data={"address": address}, version=1)
            outcomes[threading.current_thread().name] = "saved"
        except ConflictError as error:
            outcomes[threading.current_thread().name] = error.message
        finally:
            connection.close()

    early = threading.Thread(target=save, args=(cadre_a, "先到的地址"), name="先到")
    early.start()
    assert inside.wait(10)
    late = threading.Thread(target=save, args=(second_cadre, "后到的地址"), name="后到")
    late.start()
    early.join(20)
    late.join(20)
    assert outcomes["先到"] == "saved"
    assert str(outcomes["后到"]).startswith(CONFLICT)
    household_a.refresh_from_db()
    assert (household_a.address, household_a.version) == ("先到的地址", 2)
