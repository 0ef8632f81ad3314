"""Sending links and receipts: e-mail through Django's e-mail backends, SMS through a small
backend interface (`AZUKARI_SMS_BACKEND`): the console by default, one HTTP provider.

Nothing here logs a number, an address or a link: they are personal data or a secret.
"""

import json
import logging
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from azukari.core.phones import mask_phone
from azukari.selfservice.models import Link, LinkChannel

log = logging.getLogger("azukari.selfservice")


class SmsError(Exception):
    """The provider did not take the message; the task runs again."""


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Writes the message to standard output (development and the demo)."""

    def send(self, *, to: str, text: str) -> None:
        # The number masked: a console is a log too.
        print(f"SMS to {mask_phone(to)}:\n{text}\n", flush=True)


class HttpSmsBackend:
    """A provider's JSON API: POST {"to", "text"} with a bearer key, 2xx means accepted.

    `AZUKARI_SMS_URL` and `AZUKARI_SMS_API_KEY` name the provider; `AZUKARI_SMS_SENDER`
    the sender id shown on the phone.
    """

    timeout = 10

    def send(self, *, to: str, text: str) -> None:
        body = json.dumps(
            {"to": to, "text": text, "from": getattr(settings, "AZUKARI_SMS_SENDER", "")}
        ).encode()
        request = urllib.request.Request(
            settings.AZUKARI_SMS_URL,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.AZUKARI_SMS_API_KEY}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if not 200 <= response.status < 300:
                    raise SmsError(f"provider answered {response.status}")
        except OSError as exc:  # urllib's HTTPError and URLError are OSErrors
            raise SmsError(f"provider unreachable or refused: {type(exc).__name__}") from exc


def sms_backend() -> SmsBackend:
    path = getattr(settings, "AZUKARI_SMS_BACKEND", "azukari.selfservice.sending.ConsoleSmsBackend")
    return import_string(path)()


def link_url(token: str) -> str:
    base = getattr(settings, "AZUKARI_SELFSERVICE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("selfservice-open", kwargs={"token": token})


def send_link_message(*, link: Link, token: str, destination: str) -> None:
    """The link in Japanese then English, with the client's name and the expiry."""
    url = link_url(token)
    expires = link.expires_at.astimezone(settings_tz()).strftime("%m/%d %H:%M")
    lines = []
    for language in ("ja", "en"):
        with translation.override(language):
            lines.append(
                _("%(client)s: your options and your case, one use, until %(time)s:")
                % {"client": link.client.name, "time": expires}
            )
    text = "\n".join([lines[0], lines[1], url])
    if link.channel == LinkChannel.EMAIL:
        with translation.override("ja"):
            subject = _("%(client)s: your self-service link") % {"client": link.client.name}
        EmailMessage(subject=subject, body=text, to=[destination]).send()
    else:
        sms_backend().send(to=destination, text=text)
    log.info("self-service link %s sent by %s", link.pk, link.channel)


def send_receipt(*, to: str, client_name: str, lines: list[str]) -> None:
    with translation.override("ja"):
        subject = _("%(client)s: receipt of your request") % {"client": client_name}
    EmailMessage(subject=subject, body="\n".join(lines), to=[to]).send()


def settings_tz():
    from django.utils import timezone

    return timezone.get_current_timezone()
