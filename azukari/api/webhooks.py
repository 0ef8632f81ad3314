"""Outgoing webhooks: where they may go, how they are signed, and one delivery over the wire.

A webhook URL must be https, on port 443 (or one the deployment lists), to a public address
outside the IANA special-purpose ranges. The host is resolved again at every
delivery and the connection is made to the address that was checked, so a DNS answer that
changes after registration cannot point the product at an internal host.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError

SIGNATURE_HEADER = "X-Azukari-Signature"
TIMESTAMP_HEADER = "X-Azukari-Timestamp"
EVENT_HEADER = "X-Azukari-Event"
DELIVERY_HEADER = "X-Azukari-Delivery"
TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 64 * 1024


class UnsafeWebhookUrl(DomainError):
    code = "unsafe_url"


def loopback_allowed() -> bool:
    """Only tests turn this on: plain http to 127.0.0.1/::1 for a local receiver."""
    return bool(getattr(settings, "AZUKARI_WEBHOOK_ALLOW_LOOPBACK", False))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret."""
    message = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# The IANA IPv4 and IPv6 Special-Purpose Address Registries, whole: none of these is where a
# client's webhook receiver lives, and several (6to4, NAT64, Teredo, 192.0.0.0/24) reach or
# embed other networks' addresses.
SPECIAL_PURPOSE = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
        "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "255.255.255.255/32",
        "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "100:0:0:1::/64", "2001::/23", "2001:db8::/32", "2002::/16", "2620:4f:8000::/48",
        "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "ff00::/8",
    )
)  # fmt: skip


def allowed_ports() -> frozenset[int]:
    """443, or the ports the deployment lists in AZUKARI_WEBHOOK_PORTS."""
    return frozenset(getattr(settings, "AZUKARI_WEBHOOK_PORTS", None) or (443,))


def _address_refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback and loopback_allowed():
        return False
    return (
        any(address in network for network in SPECIAL_PURPOSE if network.version == address.version)
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(_("This is not a valid URL."), field="url") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeWebhookUrl(_("This is not a valid URL."), field="url")
    if parts.username or parts.password:
        raise UnsafeWebhookUrl(_("A webhook URL may not carry credentials."), field="url")
    if scheme != "https" and not (scheme == "http" and loopback_allowed()):
        raise UnsafeWebhookUrl(_("A webhook URL must use https."), field="url")
    port = port or (443 if scheme == "https" else 80)
    if port not in allowed_ports() and not (scheme == "http" and loopback_allowed()):
        raise UnsafeWebhookUrl(
            _("A webhook URL may use port %(ports)s only.")
            % {"ports": ", ".join(str(p) for p in sorted(allowed_ports()))},
            field="url",
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port, path


def resolve_target(url: str) -> Target:
    """Checks the URL and resolves its host; every address it resolves to must be public."""
    scheme, host, port, path = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnsafeWebhookUrl(
            _("The host “%(host)s” could not be resolved.") % {"host": host}, field="url"
        ) from exc
    addresses = []
    for info in infos:
        raw = info[4][0].split("%", 1)[0]
        addresses.append(ipaddress.ip_address(raw))
    if not addresses:
        raise UnsafeWebhookUrl(
            _("The host “%(host)s” could not be resolved.") % {"host": host}, field="url"
        )
    if any(_address_refused(a) for a in addresses):
        raise UnsafeWebhookUrl(
            _("Webhooks may only go to public addresses; “%(host)s” is not one.") % {"host": host},
            field="url",
        )
    if scheme == "http" and not all(a.is_loopback for a in addresses):
        raise UnsafeWebhookUrl(_("A webhook URL must use https."), field="url")
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address while verifying the certificate for the host name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(
    *, url: str, secret: str, event: str, delivery_id: int, payload: dict, now: int
) -> SendResult:
    """One POST, signed; network and policy failures come back as an error, not an exception."""
    started = time.monotonic()
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = resolve_target(url)
    except UnsafeWebhookUrl as exc:
        return SendResult(None, str(exc.message)[:300], elapsed())
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, TIMEOUT_SECONDS)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Azukari-Webhooks/1",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: str(now),
        SIGNATURE_HEADER: sign(secret, now, body),
    }
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return SendResult(response.status, "", elapsed())
    except (OSError, http.client.HTTPException) as exc:
        return SendResult(None, f"{type(exc).__name__}: {exc}"[:300], elapsed())
    finally:
        connection.close()
