"""Load benchmark: 50 users working the pages of a 100,000-household county under gunicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fpr_bench_load .venv/bin/python bench/load.py

The database named in DATABASE_URL is dropped and created again (its name must contain "bench"),
migrated and seeded (`households.seeding.seed_county`, as bench/seed.py). Then, with bulk SQL: accounts
(village cadres of ten villages in two townships, a township reviewer per township, a county reviewer),
cases waiting in each of their queues (application, township review, county approval) plus cases
under monitoring elsewhere; and through the real pipeline (`upload_create` → `comparison_run`) a 医保
list that raises warnings in the cadres' villages and across the county.

It counts the SQL queries of each page type once (Django test client, CaptureQueriesContext), starts
gunicorn (fpr.wsgi, DEBUG=0, HTTPS=0) on a free loopback port, and runs locust headless
(bench/locustfile.py): `--users` users start `--spawn-rate` a second and log in (the login form, CSRF
token and all), then mix the work queue, household list and searches (name, surname, ID number, 户编号),
household pages, case pages, the warnings queue and real transitions (submit_application,
township_approve, county_approve: the case page's form with its CSRF token and expected_stage), waiting
`--wait` seconds between actions. The `--seconds` measured window starts once the last user has logged
in: a login hashes the password (PBKDF2, ~0.2–0.4 s of CPU), so logins are reported on their own.
Prints `BENCH <name> <value> <unit>`: requests/s, errors (whole run and window), p50/p95/p99 per page
type, for all pages and overall, the server's CPU per page (gunicorn's CPU time, less the measured cost
of the logins' password checks) and the machine's load average. Target on 2 cores: no error, p95 of
pages under 500 ms.

`--reuse` uses the county already seeded in the bench database (a `--keep` run, or bench/seed.py --keep)
instead of recreating it; the accounts, cases and warnings are set up once.
"""

import argparse
import csv
import io
import json
import math
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fpr_bench_load"
PASSWORD = "Bench-load-2026"
PAGE_TYPES = ("queue", "household_search", "household_list", "household_page", "case_page", "warnings", "transition")
sys.path.insert(0, str(ROOT))

from bench.seed import bench, recreate_database  # noqa: E402

# Cases set up per queue (bulk SQL; only the pages and transitions are measured).
CADRE_CASES_PER_VILLAGE = 100
TOWNSHIP_CASES = 1000  # per township reviewer
COUNTY_CASES = 2000
MONITORING_CASES = 3000
WARNED_MEMBERS_PER_VILLAGE = 30
WARNED_MEMBERS_ELSEWHERE = 2000


def seeded_county() -> str | None:
    """The 6-digit code of the county already seeded in this database, if any (for --reuse)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('households_household') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT substr(village_id, 1, 6) FROM households_household LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row else None


def load_setup_done() -> bool:
    from households.models import User

    return User.objects.filter(username="load_county").exists()


# --------------------------------------------------------------------------- set-up


def create_accounts(county_code: str) -> dict:
    """Ten village cadres (five villages in each of two townships), a reviewer per township, a county
    reviewer and an administrator who uploads the department list. One password hash for all."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from fpr.roles import Level, Role
    from households.models import Division, User

    password = make_password(PASSWORD)
    groups = {role: Group.objects.get(name=Role(role).label) for role in Role.values}
    townships = list(Division.objects.filter(level=Level.TOWNSHIP, code__startswith=county_code).order_by("code")[:2])
    accounts = {"village_cadre": [], "township_reviewer": [], "county_reviewer": [], "administrator": []}

    def make(username: str, role: str, division: Division, full_name: str) -> User:
        user = User.objects.create(username=username, password=password, division=division, full_name=full_name)
        user.groups.add(groups[role])
        accounts[role].append(user)
        return user

    for t_index, township in enumerate(townships):
        make(f"load_township{t_index + 1}", Role.TOWNSHIP_REVIEWER, township, f"镇审核{t_index + 1}")
        villages = Division.objects.filter(parent=township).order_by("code")[:5]
        for v_index, village in enumerate(villages):
            make(
                f"load_cadre{t_index + 1}{v_index + 1}",
                Role.VILLAGE_CADRE,
                village,
                f"村干部{t_index + 1}{v_index + 1}",
            )
    county = Division.objects.get(code=county_code + "000000")
    make("load_county", Role.COUNTY_REVIEWER, county, "县审定")
    make("load_admin", Role.ADMINISTRATOR, county, "县管理员")
    return accounts


def create_cases(accounts: dict, county_code: str) -> None:
    """Cases waiting in every account's queue, and cases under monitoring elsewhere, with their history
    rows and risk category: bulk SQL, the stages set directly (the set-up is not what is measured)."""
    from django.db import transaction
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from households.models import Household
    from monitoring.models import MonitoringCase, RiskCategory, Stage

    now = timezone.now()
    rng = random.Random(7)
    cadre = accounts["village_cadre"][0]
    taken: set[int] = set()

    def households_in(prefix: str, count: int) -> list[tuple[int, str]]:
        rows = list(
            Household.objects.filter(village__code__startswith=prefix)
            .exclude(pk__in=taken)
            .order_by("?")
            .values_list("pk", "village_id")[:count]
        )
        taken.update(pk for pk, _ in rows)
        return rows

    def case(household_id: int, village_id: str, stage: str, round_no: int, last: str) -> MonitoringCase:
        entered = now - timezone.timedelta(hours=rng.randrange(1, 24 * 40))
        return MonitoringCase(
            household_id=household_id,
            village_id=village_id,
            case_type=rng.choice(["marginal", "sudden_hardship", "unstable"]),
            channel="cadre_screening",
            description="基层干部排查发现：家庭成员患病，自付医疗费用较高。",
            authorization_signed_on=now.date(),
            authorization_scan="authorizations/bench.pdf",
            stage=stage,
            stage_entered_at=entered,
            stage_round=round_no,
            last_transition=last,
            identified_on=entered.date() if stage == Stage.MONITORING else None,
            created_by=cadre,
        )

    cases = []
    for user in accounts["village_cadre"]:
        for pk, village in households_in(user.division.code, CADRE_CASES_PER_VILLAGE):
            cases.append(case(pk, village, Stage.APPLICATION, 0, ""))
    for user in accounts["township_reviewer"]:
        for pk, village in households_in(user.division.prefix, TOWNSHIP_CASES):
            cases.append(case(pk, village, Stage.TOWNSHIP_REVIEW, 5, "submit_to_township"))
    for pk, village in households_in(county_code, COUNTY_CASES):
        cases.append(case(pk, village, Stage.COUNTY_APPROVAL, 6, "township_approve"))
    for pk, village in households_in(county_code, MONITORING_CASES):
        cases.append(case(pk, village, Stage.MONITORING, 7, "county_approve"))
    with transaction.atomic():
        created = bulk_create_with_history(cases, MonitoringCase, batch_size=2000, default_change_reason="基准测试")
        if not created or created[0].pk is None:  # older simple-history: read the ids back
            created = list(MonitoringCase.objects.order_by("pk"))
        illness = RiskCategory.objects.get(code="illness")
        through = MonitoringCase.risk_categories.through
        through.objects.bulk_create(
            (through(monitoringcase_id=c.pk, riskcategory_id=illness.pk) for c in created), batch_size=5000
        )


def raise_warnings(accounts: dict, county_code: str) -> int:
    """A 医保 list through the real upload and comparison: members of the cadres' villages and of the
    whole county, with out-of-pocket costs that raise red, orange and yellow warnings."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fpr.roles import Department
    from households.models import Member
    from monitoring.models import RiskWarning
    from monitoring.screening.comparison import comparison_run, upload_create
    from monitoring.screening.departments import source_for

    rng = random.Random(11)
    members = []
    for user in accounts["village_cadre"]:
        members += list(
            Member.objects.filter(household__village=user.division)
            .order_by("?")
            .values_list("id_number", "name")[:WARNED_MEMBERS_PER_VILLAGE]
        )
    members += list(
        Member.objects.filter(household__village__code__startswith=county_code)
        .order_by("?")
        .values_list("id_number", "name")[:WARNED_MEMBERS_ELSEWHERE]
    )
    header = [column.label for column in source_for(Department.MEDICAL_INSURANCE).columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for id_number, name in dict(members).items():
        writer.writerow(
            {
                "身份证号": id_number,
                "姓名": name,
                "个人自付金额": rng.choice(["8000", "25000", "60000"]),
                "就诊机构": "县人民医院",
            }
        )
    data = out.getvalue().encode("utf-8")
    upload = upload_create(
        user=accounts["administrator"][0],
        department=Department.MEDICAL_INSURANCE,
        period="2026-10",
        file=SimpleUploadedFile("医保.csv", data, content_type="text/csv"),
    )
    upload = comparison_run(upload.pk)
    assert upload.status == "done", upload.error
    return RiskWarning.objects.filter(upload=upload).count()


def build_plan(accounts: dict, wait: tuple[float, float]) -> dict:
    """What each locust user needs: households of its account's area, search terms that find something
    there (a full name, a surname, an ID number, a 户编号), and the cases it may act on."""
    from households.models import Household, Member
    from monitoring.models import MonitoringCase, Stage

    rng = random.Random(3)
    fire = {
        "village_cadre": ("submit_application", Stage.APPLICATION, {}),
        "township_reviewer": ("township_approve", Stage.TOWNSHIP_REVIEW, {"opinion": "经复核，情况属实，同意上报。"}),
        "county_reviewer": (
            "county_approve",
            Stage.COUNTY_APPROVAL,
            {"opinion": "经部门信息比对和会商研判，同意纳入监测。", "comparison": "部门比对无异常"},
        ),
    }
    plan = {"password": PASSWORD, "wait": list(wait), "accounts": []}
    for role, (transition, stage, inputs) in fire.items():
        for user in accounts[role]:
            households = Household.objects.for_user(user)
            ids = list(households.order_by("?").values_list("pk", flat=True)[:300])
            people = list(Member.objects.for_user(user).order_by("?").values_list("name", "id_number")[:40])
            numbers = list(households.order_by("?").values_list("number", flat=True)[:20])
            terms = [name for name, _ in people[:20]] + [name[0] for name, _ in people[:5]]
            terms += [id_number for _, id_number in people[20:]] + numbers
            cases = list(
                MonitoringCase.objects.for_user(user).filter(stage=stage).values_list("pk", flat=True).order_by("pk")
            )
            rng.shuffle(cases)
            plan["accounts"].append(
                {
                    "username": user.username,
                    "role": role,
                    "households": ids,
                    "search_terms": terms,
                    "transition": transition,
                    "inputs": inputs,
                    "fire_cases": cases,
                }
            )
    return plan


# --------------------------------------------------------------------------- queries per page


def count_queries(plan: dict) -> dict[str, tuple[int, float]]:
    """SQL queries and time of one request of each page type, per role (first account of each), on the
    seeded data: what to look at when a page is slow. Nothing is fired (that would change the plan)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from households.models import User

    counts = {}
    for account in {a["role"]: a for a in plan["accounts"]}.values():
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=account["username"]))
        queue = client.get("/cases/queue/")
        case_id = account["fire_cases"][-1]
        pages = {
            "queue": "/cases/queue/",
            "household_search": "/households/?q=" + quote(account["search_terms"][0]),
            "household_surname_search": "/households/?q=" + quote(account["search_terms"][20]),
            "household_list": "/households/",
            "household_page": f"/households/{account['households'][0]}/",
            "case_page": f"/cases/{case_id}/",
            "warnings": "/monitoring/warnings/",
            "home": "/",
        }
        assert queue.status_code == 200
        for name, path in pages.items():
            client.get(path)  # warm caches (templates, sessions) once
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path)
                ms = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.status_code)
            counts[f"{account['role']}:{name}"] = (len(queries), ms)
    return counts


# --------------------------------------------------------------------------- serving and load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database_url: str, media_root: str, workers: int, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "HTTPS": "0",
        # Test settings for static files only (no collectstatic into the work tree); the key is random.
        "FPR_TESTING": "1",
        "SECRET_KEY": os.urandom(32).hex(),
        "MEDIA_ROOT": media_root,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)  # bulk jobs are not part of this load; pages need no broker
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "fpr.wsgi",
            "--chdir",
            str(ROOT),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def report(results: list[tuple], seconds: float) -> None:
    """Figures of the measured window: from the moment the last user had logged in, `seconds` long.
    Logins (PBKDF2 with Django's 1,000,000 iterations: ~0.4 s of CPU each) are reported on their own;
    errors are counted over the whole run."""

    def line(name: str, times: list[float]) -> None:
        if not times:
            return
        for p in (50, 95, 99):
            bench(f"load_{name}_p{p}_ms", percentile(times, p), "ms")

    logins = [r for r in results if r[0] == "login"]
    start = max(r[3] + r[1] / 1000 for r in logins)
    window = [r for r in results if r[0] != "login" and start <= r[3] < start + seconds]
    errors = [r for r in results if not r[2]]
    bench("load_requests_per_s", len(window) / seconds, "req/s")
    bench("load_requests_measured", len(window), "requests")
    bench("load_errors", len(errors), "errors")
    bench("load_errors_measured", sum(1 for r in window if not r[2]), "errors")
    for name in PAGE_TYPES:
        times = [r[1] for r in window if r[0] == name]
        if times:
            bench(f"load_{name}_requests", len(times), "requests")
        line(name, times)
    line("pages", [r[1] for r in window if r[0] != "transition"])
    line("all", [r[1] for r in window])
    bench("load_transitions_per_s", sum(1 for r in window if r[0] == "transition" and r[2]) / seconds, "transitions/s")
    bench("load_max_ms", max(r[1] for r in window), "ms")
    bench("load_login_requests", len(logins), "requests")
    line("login", [r[1] for r in logins])


def run_locust(host: str, plan_path: str, results_path: str, users: int, seconds: int, spawn_rate: float) -> None:
    """Users start at `spawn_rate` a second and log in; the run lasts the ramp, then `seconds` more
    (plus a margin for the last logins), so the measured window has every user working."""
    env = {**os.environ, "FPR_LOAD_PLAN": plan_path, "FPR_LOAD_RESULTS": results_path}
    run_seconds = math.ceil(users / spawn_rate) + seconds + 10
    command = [
        str(ROOT / ".venv/bin/locust"),
        "-f",
        str(ROOT / "bench/locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{run_seconds}s",
        "--host",
        host,
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    subprocess.run(command, env=env, check=True, timeout=run_seconds + 120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=2, help="users started (logging in) per second")
    parser.add_argument("--wait", default="1,3", help="seconds between a user's actions: min,max")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the seeded bench database of a --keep run")
    args = parser.parse_args()
    wait = tuple(float(x) for x in args.wait.split(","))

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    database_url = os.environ["DATABASE_URL"]
    config = dj_database_url.parse(database_url)
    if "postgresql" not in config["ENGINE"] or "bench" not in config["NAME"]:
        print("DATABASE_URL must name a PostgreSQL database whose name contains 'bench' (it is dropped).")
        return 2
    os.environ.setdefault("FPR_TESTING", "1")  # local settings: no SECRET_KEY needed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fpr.settings")
    os.environ.pop("REDIS_URL", None)  # the comparison runs in this process; progress in local memory
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    media_root = tempfile.mkdtemp(prefix="fpr-load-media-")
    os.environ["MEDIA_ROOT"] = media_root

    import django

    if not args.reuse:
        recreate_database(config)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from households.models import User
    from households.seeding import seed_county

    county_code = seeded_county() if args.reuse else None
    if args.reuse and county_code is None:
        print(f"--reuse: {config['NAME']} holds no seeded county; run once with --keep first.")
        return 2
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if county_code is None:
        seeded = seed_county(households=args.households, seed=2026, change_reason="基准测试")
        county_code = seeded.county.code[:6]
        print(
            f"# migrated and seeded {seeded.households} households in {time.perf_counter() - started:.0f} s", flush=True
        )
    if not load_setup_done():
        started = time.perf_counter()
        accounts = create_accounts(county_code)
        create_cases(accounts, county_code)
        warnings = raise_warnings(accounts, county_code)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"# accounts, cases and {warnings} warnings in {time.perf_counter() - started:.0f} s", flush=True)
    accounts = {"village_cadre": [], "township_reviewer": [], "county_reviewer": []}
    for user in User.objects.filter(username__startswith="load_").select_related("division").order_by("username"):
        for role in accounts:
            if user.has_role(role):
                accounts[role].append(user)
    plan = build_plan(accounts, wait)
    print(
        "# accounts: "
        + ", ".join(f"{a['username']} ({len(a['fire_cases'])} cases to {a['transition']})" for a in plan["accounts"]),
        flush=True,
    )

    # What one login costs the server in CPU (PBKDF2), to tell it apart from the pages' cost.
    from django.contrib.auth.hashers import check_password

    started = time.process_time()
    assert check_password(PASSWORD, User.objects.get(username="load_county").password)
    hash_seconds = time.process_time() - started

    print("# SQL queries per page (one request, in-process, after a warm-up):", flush=True)
    for name, (queries, ms) in count_queries(plan).items():
        print(f"#   {name:40s} {queries:3d} queries {ms:7.1f} ms", flush=True)
    connection.close()

    with tempfile.TemporaryDirectory(prefix="fpr-load-") as work:
        plan_path, results_path = os.path.join(work, "plan.json"), os.path.join(work, "results.jsonl")
        with open(plan_path, "w", encoding="utf-8") as sink:
            json.dump(plan, sink, ensure_ascii=False)
        port = free_port()
        server = start_gunicorn(database_url, media_root, args.workers, port)
        load_before = os.getloadavg()
        print(f"# gunicorn ({args.workers} workers) on 127.0.0.1:{port}; load average before {load_before}", flush=True)
        # CPU seconds of finished children: locust once it has exited, gunicorn (with its workers) once
        # stopped. The machine is shared, so CPU per request says more than wall-clock throughput.
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            started = time.perf_counter()
            run_locust(f"http://127.0.0.1:{port}", plan_path, results_path, args.users, args.seconds, args.spawn_rate)
            seconds = time.perf_counter() - started
        finally:
            load_after = os.getloadavg()
            after_locust = resource.getrusage(resource.RUSAGE_CHILDREN)
            stop(server)
            after_server = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = after_locust.ru_utime + after_locust.ru_stime - cpu.ru_utime - cpu.ru_stime
        server_cpu = after_server.ru_utime + after_server.ru_stime - after_locust.ru_utime - after_locust.ru_stime
        with open(results_path, encoding="utf-8") as source:
            results = [tuple(json.loads(line)) for line in source]
    print(
        f"# {args.users} users (started {args.spawn_rate}/s, then {args.seconds} s measured, {seconds:.0f} s in all), "
        f"wait {wait[0]}–{wait[1]} s; load average after {load_after}",
        flush=True,
    )
    failures = [r for r in results if not r[2]]
    for name in sorted({r[0] for r in failures}):
        messages = sorted({r[4] for r in failures if r[0] == name})
        print(
            f"#   errors in {name}: {sum(1 for r in failures if r[0] == name)}: {'; '.join(messages[:3])}", flush=True
        )
    report(results, args.seconds)
    served = [r for r in results if r[0] != "login"]
    logins_cpu = hash_seconds * sum(1 for r in results if r[0] == "login") / 2  # each login POST hashes once
    bench("load_password_check_ms", 1000 * hash_seconds, "ms")
    bench("load_server_cpu_s", server_cpu, "s")
    bench("load_server_cpu_ms_per_page", 1000 * (server_cpu - logins_cpu) / len(served), "ms")
    bench("load_locust_cpu_s", locust_cpu, "s")
    bench("load_average_1min_before", load_before[0], "load")
    bench("load_average_1min_after", load_after[0], "load")

    shutil.rmtree(media_root, ignore_errors=True)
    if not args.keep:
        recreate_database(config, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
