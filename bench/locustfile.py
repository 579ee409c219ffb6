"""Locust users for bench/load.py: village cadres, township and county reviewers working the pages.

Run by bench/load.py (which seeds the database, starts gunicorn and writes the plan); not on its own.
The plan (FPR_LOAD_PLAN, JSON) lists the accounts with, per account, households of its area to open,
search terms and the cases it may act on. Every request's name, time and outcome is written to
FPR_LOAD_RESULTS (JSON lines) at the end, so load.py computes exact percentiles per page type.

Kept apart from load.py because `import locust` monkey-patches the standard library for gevent, which
the seeding process (threads, psycopg2) must not get.
"""

import itertools
import json
import os
import random
import re
from urllib.parse import quote

from locust import FastHttpUser, between, events, task

with open(os.environ["FPR_LOAD_PLAN"], encoding="utf-8") as _plan:
    PLAN = json.load(_plan)
WAIT_MIN, WAIT_MAX = PLAN["wait"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CASE_LINK = re.compile(r'href="/cases/(\d+)/"')
RESULTS: list[tuple] = []
# Each account's cases to act on, shared by the locust users logged in as it: popped, so no case is
# fired twice and no transition meets "已被他人处理" (the users run as greenlets of one process).
CASES_TO_FIRE = {account["username"]: list(account["fire_cases"]) for account in PLAN["accounts"]}


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception, start_time=None, **kwargs):
    RESULTS.append((name, round(response_time, 2), exception is None, start_time, str(exception or "")[:300]))


@events.quitting.add_listener
def _write_results(environment, **kwargs):
    with open(os.environ["FPR_LOAD_RESULTS"], "w", encoding="utf-8") as sink:
        for row in RESULTS:
            sink.write(json.dumps(row) + "\n")


class Staff(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(WAIT_MIN, WAIT_MAX)
    _accounts: itertools.cycle | None = None

    def on_start(self) -> None:
        cls = type(self)
        if cls._accounts is None:
            cls._accounts = itertools.cycle([a for a in PLAN["accounts"] if a["role"] == cls.role])
        self.account = next(cls._accounts)
        self.case_ids: list[int] = []
        with self.client.get("/login/", name="login", catch_response=True) as response:
            token = self._token(response)
        with self.client.post(
            "/login/",
            data={"username": self.account["username"], "password": PLAN["password"], "csrfmiddlewaretoken": token},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {self.account['username']} failed: HTTP {response.status_code}")

    def _token(self, response) -> str:
        match = CSRF.search(response.text or "")
        if not match:
            response.failure("no CSRF token on the page")
            return ""
        return match.group(1)

    def _get(self, path: str, name: str):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            return response

    @task(4)
    def queue(self) -> None:
        response = self._get("/cases/queue/", "queue")
        self.case_ids = [int(pk) for pk in CASE_LINK.findall(response.text or "")] or self.case_ids

    @task(3)
    def household_search(self) -> None:
        term = random.choice(self.account["search_terms"])
        self._get(f"/households/?q={quote(term)}", "household_search")

    @task(1)
    def household_list(self) -> None:
        self._get("/households/", "household_list")

    @task(3)
    def household_page(self) -> None:
        self._get(f"/households/{random.choice(self.account['households'])}/", "household_page")

    @task(2)
    def case_page(self) -> None:
        if self.case_ids:
            self._get(f"/cases/{random.choice(self.case_ids)}/", "case_page")
        else:
            self.queue()

    @task(2)
    def warnings(self) -> None:
        self._get("/monitoring/warnings/", "warnings")

    @task(1)
    def transition(self) -> None:
        """Open a case of this account's and fire its transition, as the case page's form does."""
        pending = CASES_TO_FIRE[self.account["username"]]
        if not pending:
            return self.queue()
        case_id = pending.pop()
        name, inputs = self.account["transition"], self.account["inputs"]
        page = self._get(f"/cases/{case_id}/", "case_page")
        token = self._token(page)
        stage = re.search(r'name="expected_stage" value="([^"]+)"', page.text or "")
        data = {f"{name}-{field}": value for field, value in inputs.items()}
        data.update(csrfmiddlewaretoken=token, expected_stage=stage.group(1) if stage else "")
        with self.client.post(
            f"/cases/{case_id}/transitions/{name}/",
            data=data,
            name="transition",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # Done (or moved first by someone else): a redirect to the case page. A refusal re-renders
            # the page with the guards' reasons: that is an error here, the plan only picks fireable cases.
            if response.status_code != 302:
                response.failure(f"{name} on case {case_id}: HTTP {response.status_code}")


class VillageCadre(Staff):
    role = "village_cadre"
    weight = 3


class TownshipReviewer(Staff):
    role = "township_reviewer"
    weight = 1


class CountyReviewer(Staff):
    role = "county_reviewer"
    weight = 1
