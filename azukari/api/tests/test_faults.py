"""The API keeps its one error shape under faults: NUL bytes, dates out of range, an
unexpected error, a database that cannot be reached."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from azukari.api.tests.factories import open_case
from azukari.cases.models import Case, Contact
from azukari.testing.factories import CustomerFactory

EVENTS = "/api/v1/contacts/events"
CASES = "/api/v1/cases"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def yamada(cast):
    return CustomerFactory(client=cast.coffee, customer_number="C-1", phones=["+819012345678"])


def call(at: str, **extra) -> dict:
    return {
        "event": "started",
        "call_id": "pbx-nul",
        "dialled_number": "0120-123-456",
        "caller_number": "090-1234-5678",
        "at": at,
        **extra,
    }


def assert_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "field_errors"}
    assert body["code"] == code
    return body


def test_a_nul_in_a_case_subject_is_refused_and_nothing_stored(
    api, cast, lines, pbx_token, coffee_desk_token, yamada
):
    contact = api.post(EVENTS, pbx_token, call(timezone.now().isoformat())).json()
    response = api.post(
        CASES,
        coffee_desk_token,
        {"contact_id": contact["id"], "kind": "cancellation", "subject": "Cancel\x00 now"},
    )
    body = assert_shape(response, 400, "nul_character")
    assert list(body["field_errors"]) == ["subject"]
    assert not Case.objects.exists()


def test_a_nul_in_a_note_deep_in_a_body_names_the_field(api, cast, coffee_desk_token, yamada):
    case = open_case(customer=yamada, operator=cast.operator)
    response = api.post(
        f"{CASES}/{case.pk}/resolve",
        coffee_desk_token,
        {"version": case.version, "outcome": "ok\x00"},
    )
    body = assert_shape(response, 400, "nul_character")
    assert list(body["field_errors"]) == ["outcome"]
    assert Case.objects.get().state == "open"


def test_a_nul_in_a_search_is_a_400(api, coffee_token, yamada):
    response = api.get("/api/v1/customers", coffee_token, q="a\x00b")
    body = assert_shape(response, 400, "nul_character")
    assert list(body["field_errors"]) == ["q"]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59+09:00"])
def test_a_contact_event_out_of_range_is_refused(api, lines, pbx_token, at):
    response = api.post(EVENTS, pbx_token, call(at))
    body = assert_shape(response, 400, "out_of_range")
    assert list(body["field_errors"]) == ["at"]
    assert not Contact.objects.exists()


def test_a_promise_in_year_9999_is_refused(api, cast, coffee_desk_token, yamada):
    case = open_case(customer=yamada, operator=cast.operator)
    body = {
        "version": case.version,
        "reason": "sv_callback",
        "team": "sapporo-desk",
        "state": "callback_due",
        "promised_callback_at": "9999-12-31T10:00:00+09:00",
    }
    response = api.post(f"{CASES}/{case.pk}/park", coffee_desk_token, body)
    assert_shape(response, 400, "out_of_range")
    due = {**body, "promised_callback_at": None, "state": "azukari"}
    due["due_at"] = "9999-12-31T10:00:00+09:00"
    response = api.post(f"{CASES}/{case.pk}/park", coffee_desk_token, due)
    assert_shape(response, 400, "out_of_range")
    assert Case.objects.get().state == "open"


@pytest.mark.urls("azukari.api.tests.fault_urls")
@pytest.mark.parametrize("path", ["/api/faults/unexpected", "/api/faults/outside"])
def test_an_unexpected_error_answers_in_the_json_shape(db, path):
    http = HttpClient(raise_request_exception=False)
    response = http.get(path, headers={"Accept-Language": "en"})
    body = assert_shape(response, 500, "server_error")
    assert body["message"] == "Something went wrong on our side; the error was logged."
    japanese = http.get(path, headers={"Accept-Language": "ja"})
    assert japanese.json()["message"] != body["message"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_without_database():
    """A real app server whose database is a closed port: every query fails to connect."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://azukari@127.0.0.1:{_free_port()}/azukari",
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
        "AZUKARI_LOG_LEVEL": "CRITICAL",
    }
    env.pop("AZUKARI_TEST_DB_NAME", None)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "azukari.config.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "critical"),
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "the app server did not start"
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Language": "en", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_an_unreachable_database_is_a_503_with_retry_after(server_without_database):
    status, response_headers, content = _get(
        f"{server_without_database}/api/v1/customers?q=yamada",
        Authorization="Bearer azk_a-token-the-server-cannot-look-up",
    )
    assert status == 503, content[:300]
    assert response_headers["Content-Type"].startswith("application/json")
    assert int(response_headers["Retry-After"]) > 0
    body = json.loads(content)
    assert body == {
        "code": "unavailable",
        "message": "The database cannot be reached just now; try again shortly.",
        "field_errors": {},
    }
