"""The idle desk's long wait (`azukari desk_wait`), over real HTTP against uvicorn: a quiet desk
hears nothing until the wait ends, a ringing call answers it within a tick, and a browser at
the desk shows the call without polling for it."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import asyncio
import http.client
import socket
import threading
import time

import pytest
import uvicorn
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from azukari.cases.models import Contact, Direction
from azukari.testing.factories import CustomerFactory
from azukari.web import incoming_wait
from azukari.web.incoming import PATH, TICKET_HEADER
from azukari.web.tests.browser import browser_page, chromium, log_in, ring, shots  # noqa: F401
from azukari.web.tests.test_desk_incoming import desk_panel

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 2.0
TICK = 0.1


@pytest.fixture
def wait_server(monkeypatch):
    """The wait served by uvicorn in a thread, with a short wait and a quick tick."""
    hub = incoming_wait.Hub(tick=TICK)
    monkeypatch.setattr(incoming_wait, "HUB", hub)
    monkeypatch.setattr(incoming_wait, "WAIT_SECONDS", WAIT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        incoming_wait.application, host="127.0.0.1", port=port, lifespan="off", log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)
    hub.reader.submit(connections.close_all).result()  # the reader's connection too
    hub.reader.shutdown()


def wait(port: int, tag: str, ticket: str, path: str = incoming_wait.WAIT_PATH):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT + 10)
    conn.request("GET", path, headers={"If-None-Match": tag, TICKET_HEADER: ticket})
    started = time.monotonic()
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, response.getheader("ETag"), time.monotonic() - started


def answer_later(port: int, tag: str, ticket: str) -> dict:
    """Starts a wait in the background; the dict fills in when the answer comes."""
    result: dict = {}

    def run():
        result["status"], result["etag"], result["seconds"] = wait(port, tag, ticket)

    thread = threading.Thread(target=run)
    thread.start()
    result["thread"] = thread
    return result


def test_a_quiet_desk_hears_nothing_until_the_wait_ends(client, cast, wait_server):
    tag, ticket = desk_panel(client, cast.operator)
    status, etag, seconds = wait(wait_server, tag, ticket)
    assert status == 304
    assert etag == tag
    assert seconds >= WAIT - 0.2


def test_a_ringing_call_answers_the_wait_at_once(client, cast, wait_server):
    tanaka = CustomerFactory(client=cast.coffee, phones=["+819011112222"])
    tag, ticket = desk_panel(client, cast.operator)
    pending = answer_later(wait_server, tag, ticket)
    time.sleep(3 * TICK)  # the desk is waiting
    ring(cast, tanaka, "call-1")
    pending["thread"].join(timeout=WAIT + 10)
    assert pending["status"] == 200
    assert pending["etag"] != tag
    assert pending["seconds"] < WAIT  # woken by the call, not by the end of the wait
    # The page shows the call under the tag the wait named.
    panel = client.get(reverse("desk-incoming"), HTTP_IF_NONE_MATCH=tag)
    assert panel.status_code == 200
    assert panel["ETag"] == pending["etag"]
    assert b"incoming-pop" in panel.content


def test_a_call_of_a_client_the_operator_does_not_serve_does_not_wake_the_desk(
    client, cast, wait_server
):
    stranger = CustomerFactory(client=cast.tea, phones=["+819033334444"])
    tag, ticket = desk_panel(client, cast.operator)
    assert cast.tea.pk not in cast.operator.visible_client_ids()
    pending = answer_later(wait_server, tag, ticket)
    time.sleep(3 * TICK)
    # A call routed to the operator for a client they do not serve (the PBX's mistake, or
    # the operator moved since): the desk would not show it, so it must not wake.
    Contact.objects.create(
        client=cast.tea,
        customer=stranger,
        handler=cast.operator,
        direction=Direction.INBOUND,
        pbx_call_id="call-tea",
        caller_number="+819033334444",
        started_at=timezone.now(),
    )
    pending["thread"].join(timeout=WAIT + 10)
    assert pending["status"] == 304


def test_a_desk_whose_operator_left_is_sent_to_the_page(client, cast, wait_server):
    tag, ticket = desk_panel(client, cast.operator)
    cast.operator.is_active = False
    cast.operator.save(update_fields=["is_active"])
    status, etag, seconds = wait(wait_server, tag, ticket)
    assert status == 200 and etag is None and seconds < WAIT
    client.force_login(cast.operator)  # the page, not the wait, says what happens next
    assert client.get(reverse("desk-incoming")).status_code == 302


@pytest.mark.parametrize("ticket", ["", "42:forged", "not a ticket"])
def test_without_a_good_ticket_the_wait_refuses(client, cast, wait_server, ticket):
    tag, _good = desk_panel(client, cast.operator)
    status, _etag, seconds = wait(wait_server, tag, ticket)
    assert status == 403 and seconds < 1


def test_the_wait_server_serves_nothing_else(client, cast, wait_server):
    tag, ticket = desk_panel(client, cast.operator)
    assert wait(wait_server, tag, ticket, path=PATH)[0] == 404
    assert wait(wait_server, tag, ticket, path="/desk/")[0] == 404


@pytest.mark.browser
def test_the_desk_waits_for_its_call_instead_of_polling(
    browser_page, shots, cast, wait_server, settings
):
    """The desk names the wait; the load balancer's part (the wait on its own server behind
    the same address) is played by the browser's routing of that one path."""
    settings.AZUKARI_DESK_WAIT_URL = incoming_wait.WAIT_PATH
    tanaka = CustomerFactory(client=cast.coffee, phones=["+819011112222"])
    page = browser_page
    waits, polls = [], []

    def to_wait_server(route):
        waits.append(route.request.url)
        answer = route.fetch(url=f"http://127.0.0.1:{wait_server}{incoming_wait.WAIT_PATH}")
        route.fulfill(response=answer)

    page.route(f"**{incoming_wait.WAIT_PATH}", to_wait_server)
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith(PATH) else None)
    try:
        log_in(page, cast.operator.username)
        page.goto(reverse("desk"))
        page.wait_for_function("document.querySelector('#incoming').hasAttribute('data-waiting')")
        page.wait_for_timeout(7_000)  # longer than the panel's poll interval
        assert waits, "the desk did not wait"
        assert polls == []  # while it waits, the panel does not poll
        started = time.monotonic()
        ring(cast, tanaka, "call-1")
        page.wait_for_selector("#incoming-pop", timeout=10_000)
        assert time.monotonic() - started < 3  # within a tick or so, not a poll interval
        assert len(polls) == 1  # the panel reloaded once, through the page
        shots.take(page, "desk-wait", 1, "call-shown-by-the-wait")
    finally:
        page.unroute_all(behavior="ignoreErrors")  # the desk's next wait is still open
