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
