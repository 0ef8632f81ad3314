"""`azukari demo` as a new user runs it: an empty folder, then a served, logged-in page."""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "AZUKARI_"))}
    env["AZUKARI_DATA_DIR"] = str(data_dir)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("fresh-clone") / "var"
    result = subprocess.run(
        [sys.executable, "-m", "azukari.cli", "demo", "--no-serve", "--customers", "300"],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "op_sapporo" in result.stdout and "azukari-demo" in result.stdout
    return data_dir


def test_demo_creates_the_database_with_the_story_and_every_state(demo_dir):
    db = sqlite3.connect(demo_dir / "azukari.sqlite3")
    states = {row[0] for row in db.execute("select distinct state from cases_case")}
    assert states == {
        "open",
        "azukari",
        "waiting_client",
        "waiting_customer",
        "callback_due",
        "resolved",
        "closed",
    }
    story = db.execute(
        "select c.state from cases_case c join customers_customer k on k.id = c.customer_id "
        "where k.customer_number = 'CM-STORY-0001'"
    ).fetchall()
    assert story == [("waiting_client",)]
    sites = {row[0] for row in db.execute("select code from org_site")}
    assert sites == {"sapporo", "osaka", "fukuoka"}
    # The manager's registers: each client's call-ending criteria, one incident under way.
    assert db.execute("select count(*) from floor_harassmentcriterion").fetchone()[0] == 6
    assert db.execute("select status from audit_incident").fetchall() == [("notified",)]
    assert db.execute("select count(*) from customers_customer").fetchone()[0] >= 300
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_demo_a_second_time_keeps_the_data_and_serves_it(demo_dir):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "azukari.cli", "demo", "--port", str(port)],
        env=_env(demo_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        deadline = time.monotonic() + 60
        while True:
            try:
                page = opener.open(f"{base}/login/", timeout=5).read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {
                "username": "op_sapporo",
                "password": "azukari-demo",
                "csrfmiddlewaretoken": token,
                "next": "/cases/?state=waiting_client",
            }
        ).encode()
        request = urllib.request.Request(
            f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"}
        )
        body = opener.open(request, timeout=10).read().decode()
        assert "2回目受取後の解約希望" in body  # the story's case, on the operator's list
        assert 'lang="ja"' in body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # nothing of it may outlive the test
            os.killpg(proc.pid, signal.SIGKILL)


def test_generated_phone_numbers_are_real_mobile_numbers_and_distinct():
    import phonenumbers

    from azukari.demo.bulk import _phone

    sample = [*range(3000), *range(29_999_000, 30_001_000), 269_999_999]
    numbers = [_phone(i) for i in sample]
    assert len(set(numbers)) == len(numbers)
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(n)) for n in numbers)


def test_every_open_case_has_the_records_its_state_implies(demo_dir):
    db = sqlite3.connect(demo_dir / "azukari.sqlite3")

    def cases_without(state: str, table: str, open_statuses: tuple[str, ...]) -> int:
        marks = ",".join("?" * len(open_statuses))
        return db.execute(
            f"select count(*) from cases_case c where c.state = ? and not exists "
            f"(select 1 from {table} r where r.case_id = c.id and r.status in ({marks}))",
            (state, *open_statuses),
        ).fetchone()[0]

    counts = dict(db.execute("select state, count(*) from cases_case group by state").fetchall())
    assert counts["waiting_client"] > 1 and counts["callback_due"] > 1
    assert cases_without("waiting_client", "cases_inquiry", ("open",)) == 0
    assert cases_without("callback_due", "cases_callback", ("to_schedule", "scheduled")) == 0
    held = db.execute(
        "select count(*) from cases_case where state in "
        "('azukari', 'waiting_client', 'waiting_customer', 'callback_due') "
        "and assignee_id is not null"
    ).fetchone()[0]
    assert held > 0  # the board's drill-down has people in its assignee column


def _demo(demo_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "azukari.cli", "demo", *args],
        env=_env(demo_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_printout_says_how_to_pass_the_second_factor(demo_dir):
    out = _demo(demo_dir, "--no-serve").stdout
    for username in ("manager", "admin", "approver_coffee", "approver_tea"):
        assert f"azukari demo code {username}" in out
    assert "azukari demo code op_sapporo" not in out  # operators need no second factor
    assert re.fullmatch(r"\d{6}\n", _demo(demo_dir, "code", "manager").stdout)
    refused = _demo(demo_dir, "code", "op_sapporo")
    assert refused.returncode != 0 and "op_sapporo" in refused.stderr


class _Browser:
    """urllib with cookies and CSRF, as a newcomer's browser would post forms."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        return self.opener.open(f"{self.base}{path}", timeout=10).read().decode()

    def post(self, path: str, page: str, **fields: str) -> tuple[str, str]:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(
            f"{self.base}{path}", data=data, headers={"Referer": f"{self.base}{path}"}
        )
        with self.opener.open(request, timeout=10) as response:
            return response.geturl(), response.read().decode()


def test_a_newcomer_signs_in_with_the_printed_code_and_simulates_a_call(demo_dir):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "azukari.cli", "demo", "--port", str(port)],
        env=_env(demo_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        manager = _Browser(base)
        deadline = time.monotonic() + 60
        while True:
            try:
                login = manager.get("/login/")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.5)
        url, page = manager.post(
            "/login/", login, username="manager", password="azukari-demo", next="/backlog/"
        )
        assert "/account/2fa/" in url  # the second factor, not an enrolment to set up
        assert "otpauth://" not in page
        code = _demo(demo_dir, "code", "manager").stdout.strip()
        url, page = manager.post("/account/2fa/?next=/backlog/", page, token=code, next="/backlog/")
        assert url.endswith("/backlog/") and 'id="age-definition"' in page

        operator = _Browser(base)
        _url, desk = operator.post(
            "/login/",
            operator.get("/login/"),
            username="op_sapporo",
            password="azukari-demo",
            next="/desk/",
        )
        assert 'id="simulate-call"' in desk
        _url, desk = operator.post("/demo/call/", desk)
        incoming = operator.get("/desk/?part=incoming")
        assert 'id="incoming-pop"' in incoming  # the story's customer is on the line
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
