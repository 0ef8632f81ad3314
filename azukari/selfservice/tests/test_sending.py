"""Sending over real sockets: e-mail to a local SMTP server through Django's SMTP backend,
SMS to a local HTTP server standing in for the provider; and the API that asks for a link."""

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from azukari.api.tests.conftest import api, issue  # noqa: F401 (fixtures)
from azukari.selfservice.models import Link, LinkChannel, LinkOrigin
from azukari.selfservice.sending import SmsError
from azukari.selfservice.services import link_issue
from azukari.selfservice.tests.conftest import run_queued, token_of

pytestmark = pytest.mark.django_db


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: every message received is kept whole."""

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 localhost test SMTP")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb == "EHLO":
                self._say("250-localhost")
                self._say("250 8BITMIME")
            elif verb == "DATA":
                self._say("354 go ahead")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.server.messages.append(body)
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")


@pytest.fixture
def smtp(settings) -> Iterator[list[bytes]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    yield server.messages
    server.shutdown()
    server.server_close()


class _Provider(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.headers["Authorization"], body))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args) -> None:  # no numbers in the test output either
        pass


@pytest.fixture
def provider(settings) -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Provider)
    server.received, server.status = [], 202
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address
    settings.AZUKARI_SMS_BACKEND = "azukari.selfservice.sending.HttpSmsBackend"
    settings.AZUKARI_SMS_URL = f"http://{host}:{port}/messages"
    settings.AZUKARI_SMS_API_KEY = "test-key"
    yield server
    server.shutdown()
    server.server_close()


def test_the_link_goes_by_email_through_smtp(cast, subscription, asked, smtp):
    link = link_issue(
        customer=subscription.customer, channel=LinkChannel.EMAIL, origin=LinkOrigin.OPERATOR
    )
    assert run_queued() == [True]
    assert len(smtp) == 1
    message = smtp[0].decode()
    assert "taro@example.jp" in message
    assert token_of(link) in message.replace("=\r\n", "")


def test_the_link_goes_by_sms_to_the_provider_once(cast, subscription, asked, provider):
    link = link_issue(
        customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.OPERATOR
    )
    assert run_queued() == [True]
    ((auth, body),) = provider.received
    assert auth == "Bearer test-key"
    assert body["to"] == "+819012345678"
    assert token_of(link) in body["text"]
    from azukari.selfservice.tasks import link_send_task

    assert link_send_task(link.pk) is False  # delivered at least once, sent once
    assert len(provider.received) == 1


def test_a_provider_refusal_leaves_the_link_to_send_again(cast, subscription, asked, provider):
    provider.status = 503
    link = link_issue(
        customer=subscription.customer, channel=LinkChannel.SMS, origin=LinkOrigin.OPERATOR
    )
    from azukari.selfservice.tasks import link_send_task

    with pytest.raises(SmsError):
        link_send_task(link.pk)
    link.refresh_from_db()
    assert link.sent_at is None
    provider.status = 202
    assert link_send_task(link.pk) is True


def test_the_client_system_asks_for_a_link_with_its_own_scope(
    cast,
    subscription,
    asked,
    api,  # noqa: F811
    issue,  # noqa: F811
):
    path = f"/api/v1/customers/{subscription.customer_id}/self-service-link"
    without = issue(cast.coffee, scopes=["customers:read"])
    assert api.post(path, without, {"channel": "sms"}).status_code == 403
    coffee = issue(cast.coffee, scopes=["selfservice:links"])
    response = api.post(path, coffee, {"channel": "sms"})
    assert response.status_code == 202, response.content
    assert "token" not in response.json() and "url" not in response.json()
    assert Link.objects.get(pk=response.json()["id"]).origin == LinkOrigin.API
    tea = issue(cast.tea, scopes=["selfservice:links"])
    assert api.post(path, tea, {"channel": "sms"}).status_code == 404
