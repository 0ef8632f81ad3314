"""Two sites' app servers and workers on one PostgreSQL: the story's workload through both.

A gunicorn app server and an `azukari worker` per site, on loopback, share the test database.
Calls arrive at either site, cases are parked and sent to the client, the client answers
through the other site's server, and the workers run the tasks those writes queue. Nothing is
lost or duplicated: every case has its history once, every queued task ran, and each case's
clocks are what its history says. Needs PostgreSQL; select with `-k worker_two_sites`.
"""

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from azukari.api.models import Scope
from azukari.api.services import api_token_create
from azukari.cases.clocks import case_calendar, clocks_from_history
from azukari.cases.models import Case, CaseEvent
from azukari.cases.tests.test_worker_postgres import ROOT, _database_url, start_worker, stop
from azukari.org.models import ClientLine, Role
from azukari.testing.factories import (
    ClientFactory,
    CustomerFactory,
    SiteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: app servers and workers share the test database",
    ),
    pytest.mark.django_db(transaction=True),
]

CALLS = 24
STORY = ["opened", "parked", "inquiry_sent", "inquiry_answered", "resolved"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app_server(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "azukari.config.settings",
        "AZUKARI_LOG_LEVEL": "ERROR",
    }
    env.pop("AZUKARI_TEST_DB_NAME", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "azukari.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Server:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc

    def ready(self) -> bool:
        try:
            urllib.request.urlopen(self.base.replace("/api/v1", "/login/"), timeout=30)
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


def test_story_through_two_app_servers_and_two_workers():
    coffee = ClientFactory(code="coffee")
    ClientLine.objects.create(client=coffee, number="+81120123456")
    sapporo, osaka = SiteFactory(code="sapporo"), SiteFactory(code="osaka")
    TeamFactory(site=sapporo, code="sapporo-desk", clients=[coffee])
    TeamFactory(site=osaka, code="osaka-desk", clients=[coffee])
    agents = {
        "sapporo": UserFactory(
            username="op_s", home_site=sapporo, clients=[coffee], agent_id="4001"
        ),
        "osaka": UserFactory(username="op_o", home_site=osaka, clients=[coffee], agent_id="4002"),
    }
    UserFactory(username="sv", role=Role.SV, home_site=osaka, clients=[coffee])
    _t, pbx = api_token_create(name="center", scopes=Scope.values, center_clients=[coffee])
    _t, client_system = api_token_create(name="coffee", scopes=Scope.values, client=coffee)
    customers = [
        CustomerFactory(client=coffee, phones=[f"+8190{10000000 + n:08d}"]) for n in range(CALLS)
    ]

    ports = [_free_port(), _free_port()]
    apps = [start_app_server(port) for port in ports]
    workers = [start_worker(), start_worker()]
    servers = [Server(port) for port in ports]
    try:
        deadline = time.monotonic() + 180
        while not all(s.ready() for s in servers):
            assert time.monotonic() < deadline, "the app servers did not come up"
            for proc in apps + workers:
                assert proc.poll() is None
            time.sleep(0.5)
        for n, customer in enumerate(customers):
            here, there = servers[n % 2], servers[(n + 1) % 2]
            site = "sapporo" if n % 2 == 0 else "osaka"
            at = timezone.now().isoformat()
            event = {
                "call_id": f"call-{n}",
                "dialled_number": "0120-123-456",
                "caller_number": customer.phones.get().number,
                "at": at,
                "agent_id": agents[site].agent_id,
            }
            contact = here.call("POST", "/contacts/events", pbx, {**event, "event": "answered"})
            assert contact["customer_id"] == customer.pk
            case = here.call(
                "POST",
                "/cases",
                pbx,
                {"contact_id": contact["id"], "kind": "cancellation", "subject": "Cancel"},
            )
            case = here.call(
                "POST",
                f"/cases/{case['id']}/park",
                pbx,
                {"version": case["version"], "reason": "client_decision", "team": f"{site}-desk"},
            )
            due = (timezone.now() + dt.timedelta(days=2)).isoformat()
            case = here.call(
                "POST",
                f"/cases/{case['id']}/inquiries",
                pbx,
                {
                    "version": case["version"],
                    "question": "Cancel now?",
                    "options": [{"code": "yes", "label": "Yes"}],
                    "due_at": due,
                },
            )
            inquiry = case["inquiries"][-1]["id"]
            there.call("POST", f"/inquiries/{inquiry}/answer", client_system, {"option": "yes"})
            fresh = there.call("GET", f"/cases/{case['id']}", pbx)
            there.call(
                "POST",
                f"/cases/{case['id']}/resolve",
                pbx,
                {"version": fresh["version"], "outcome": "Cancelled as asked"},
            )
        from django_q.models import OrmQ, Task

        drained = time.monotonic() + 120
        while OrmQ.objects.exists() and time.monotonic() < drained:
            time.sleep(0.5)
        assert not OrmQ.objects.exists(), f"{OrmQ.objects.count()} tasks still queued"
    finally:
        for proc in apps + workers:
            stop(proc, signal.SIGTERM)

    cases = list(Case.objects.select_related("client", "site"))
    assert len(cases) == CALLS
    assert {c.customer_id for c in cases} == {c.pk for c in customers}
    for case in cases:
        kinds = Counter(
            CaseEvent.objects.filter(case=case).exclude(to_state="").values_list("kind", flat=True)
        )
        assert kinds == Counter(STORY), (case.pk, kinds)
        history = list(case.events.exclude(to_state="").values_list("at", "from_state", "to_state"))
        clocks, _since = clocks_from_history(history, case_calendar(case))
        assert (case.center_seconds, case.client_seconds) == (clocks.center, clocks.client)
    assert not Task.objects.filter(success=False).exists()
    assert {c.site.code for c in cases} == {"sapporo", "osaka"}
