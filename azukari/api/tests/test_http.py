"""The API over a real socket: gunicorn serves the app on a free loopback port, sharing the
test database file; a screen pop and a PBX contact event go over HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from azukari.api.models import Scope
from azukari.api.services import api_token_create
from azukari.cases.models import Contact
from azukari.org.models import ClientLine
from azukari.testing.factories import ClientFactory, CustomerFactory, SiteFactory, UserFactory

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db):
    if connection.vendor != "sqlite":
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    else:
        url = f"sqlite:///{connection.settings_dict['NAME']}"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
        "AZUKARI_ALLOWED_HOSTS": "127.0.0.1",
        "AZUKARI_TEST_DB_NAME": "",
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "azukari.config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=15) as response:
                assert response.status == 200
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                process.kill()
                pytest.fail(f"gunicorn did not start:\n{output}")
            time.sleep(0.2)  # waiting for the server process, not for the clock
    yield base
    process.terminate()
    process.wait(timeout=10)


def _call(method: str, url: str, raw: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_screen_pop_and_contact_event_over_http(gunicorn):
    coffee = ClientFactory(code="coffee")
    sapporo = SiteFactory(code="sapporo")
    UserFactory(username="op", home_site=sapporo, clients=[coffee], agent_id="4001")
    ClientLine.objects.create(client=coffee, number="+81120123456")
    CustomerFactory(client=coffee, customer_number="C-1", phones=["+819012345678"])
    _token, raw = api_token_create(
        name="PBX", scopes=[Scope.SCREEN_POP, Scope.CONTACTS_WRITE], center_clients=(coffee,)
    )

    status, pop = _call(
        "GET",
        f"{gunicorn}/api/v1/screen-pop?dialled_number=0120-123-456&caller_number=090-1234-5678",
        raw,
    )
    assert status == 200
    assert [m["customer_number"] for m in pop["matches"]] == ["C-1"]

    event = {
        "event": "answered",
        "call_id": "pbx-1",
        "dialled_number": "0120123456",
        "caller_number": "09012345678",
        "at": "2026-03-02T10:00:00+09:00",
        "agent_id": "4001",
    }
    status, contact = _call("POST", f"{gunicorn}/api/v1/contacts/events", raw, event)
    assert status == 200 and contact["status"] == "in_progress"
    assert _call("POST", f"{gunicorn}/api/v1/contacts/events", raw, event)[1]["id"] == contact["id"]
    stored = Contact.objects.get()
    assert stored.pbx_call_id == "pbx-1" and stored.handler.agent_id == "4001"

    status, error = _call("GET", f"{gunicorn}/api/v1/cases", raw)
    assert status == 403 and error["code"] == "missing_scope"
