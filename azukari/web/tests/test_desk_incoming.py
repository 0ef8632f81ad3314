"""The idle desk asks "does a call ring for me?" every few seconds: the answer is a 304 that
costs one indexed read while nothing changed, and the call itself at the first check after
the PBX announces it."""

import re
from html import unescape

import pytest
from django.core import signals
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from azukari.api.services import contact_event_record
from azukari.cases.models import Contact
from azukari.config.wsgi import application
from azukari.testing.factories import CustomerFactory
from azukari.web.incoming import PATH, POLL_SECONDS, TICKET_HEADER, full_check_every


@pytest.fixture
def tanaka(cast):
    return CustomerFactory(client=cast.coffee, phones=["+819011112222"])


def ring(cast, call_id: str = "call-1") -> Contact:
    contact, _created = contact_event_record(
        viewer=cast.operator,
        client=cast.coffee,
        call_id=call_id,
        event="started",
        at=timezone.now(),
        caller_number="09011112222",
        agent_id=cast.operator.agent_id,
    )
    return contact


def desk_panel(client, user) -> tuple[str, str]:
    """The tag and the ticket the desk page gives its incoming-call panel."""
    client.force_login(user)
    html = client.get(reverse("desk")).content.decode()
    tag = unescape(re.search(r'data-etag="([^"]+)"', html).group(1))
    ticket = unescape(re.search(r'data-ticket="([^"]+)"', html).group(1))
    return tag, ticket


def wsgi_check(tag: str, ticket: str = "", cookies=None) -> tuple[str, dict, bytes]:
    """A check as the browser sends it, through the application gunicorn serves."""
    headers = {"If-None-Match": tag, "HX-Request": "true"}
    if ticket:
        headers[TICKET_HEADER] = ticket
    request = RequestFactory().get(PATH, headers=headers)
    environ = dict(request.environ)
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{k}={v.value}" for k, v in cookies.items())
    answer: dict = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = dict(response_headers)

    # As Django's test client does: the test's database connection outlives the request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, start_response))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


def test_a_quiet_desk_gets_304_from_one_read_before_django(client, cast, tanaka):
    tag, ticket = desk_panel(client, cast.operator)
    statements: list[str] = []
    if connection.vendor == "sqlite":  # the read runs on the driver: count there
        connection.connection.set_trace_callback(statements.append)
    try:
        with CaptureQueriesContext(connection) as queries:
            status, headers, body = wsgi_check(tag, ticket)
    finally:
        if connection.vendor == "sqlite":
            connection.connection.set_trace_callback(None)
    assert status.startswith("304")
    assert body == b""
    assert headers["ETag"] == tag
    assert "no-store" in headers["Cache-Control"]
    assert len(queries) == 0  # no session, no user, nothing through the ORM
    if connection.vendor == "sqlite":
        assert len(statements) == 1, statements  # the operator's newest call only
        assert "cases_contact" in statements[0]


def test_the_page_itself_answers_the_same_304_without_a_ticket(client, cast, tanaka):
    tag, _ticket = desk_panel(client, cast.operator)
    response = client.get(reverse("desk-incoming"), HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 304
    assert response.content == b""


def test_a_ringing_call_shows_at_the_next_check_then_304_again(client, cast, tanaka):
    tag, ticket = desk_panel(client, cast.operator)
    contact = ring(cast)

    # The tag no longer matches: the check goes on to the page, which shows the call.
    status, headers, body = wsgi_check(tag, ticket, client.cookies)
    assert status.startswith("200")
    assert reverse("desk-pop", args=[tanaka.pk]).encode() in body
    assert f"contact={contact.pk}".encode() in body
    new_tag = headers["ETag"]
    assert new_tag != tag

    # Unchanged since: 304 again, before Django.
    status, _headers, _body = wsgi_check(new_tag, ticket)
    assert status.startswith("304")

    # Answered: the panel says so.
    contact_event_record(
        viewer=cast.operator,
        client=cast.coffee,
        call_id="call-1",
        event="answered",
        at=timezone.now(),
        caller_number="09011112222",
        agent_id=cast.operator.agent_id,
    )
    response = client.get(reverse("desk-incoming"), HTTP_IF_NONE_MATCH=new_tag)
    assert response.status_code == 200
    assert "通話中" in response.content.decode() or "On the call" in response.content.decode()


def test_a_recorded_call_leaves_the_panel(client, cast, tanaka):
    tag, ticket = desk_panel(client, cast.operator)
    contact = ring(cast)
    client.force_login(cast.operator)
    ringing_tag = client.get(reverse("desk-incoming"))["ETag"]
    Contact.objects.filter(pk=contact.pk).update(summary="解約の相談")
    status, headers, body = wsgi_check(ringing_tag, ticket, client.cookies)
    assert status.startswith("200")
    assert b"incoming-pop" not in body
    assert headers["ETag"] == tag  # the quiet panel again


def test_another_operators_call_does_not_wake_my_desk(client, cast, tanaka):
    tag, ticket = desk_panel(client, cast.desk)
    ring(cast)  # rings the operator, not the desk
    status, _headers, _body = wsgi_check(tag, ticket)
    assert status.startswith("304")


@pytest.mark.parametrize("ticket", ["", "42:forged", "not a ticket"])
def test_without_a_good_ticket_the_page_answers_and_asks_for_a_session(client, cast, ticket):
    tag, _good = desk_panel(client, cast.operator)
    status, headers, _body = wsgi_check(tag, ticket)  # no session cookie
    assert status.startswith("302")
    assert "/login/" in headers["Location"]


def test_the_check_is_for_center_staff_only(client, cast):
    client.force_login(cast.approver)
    assert client.get(reverse("desk-incoming")).status_code in (302, 403, 404)
    client.logout()
    assert client.get(reverse("desk-incoming")).status_code == 302
    client.force_login(cast.operator)
    assert client.post(reverse("desk-incoming")).status_code == 405


def test_a_waiting_desk_keeps_its_session(client, cast, settings):
    """Checks answered before Django do not touch the session: often enough, one goes
    through the page, whose middleware keeps the idle clock running."""
    settings.AZUKARI_SESSION_IDLE_MINUTES = 30
    every = full_check_every()
    assert every * POLL_SECONDS * 3 <= 30 * 60
    client.force_login(cast.operator)
    html = client.get(reverse("desk")).content.decode()
    assert f'data-full-every="{every}"' in html
    assert f'hx-trigger="every {POLL_SECONDS}s"' in html
