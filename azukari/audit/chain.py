"""The hash chain: how an event's content and its link to the one before are computed.

`content_hash` is a plain SHA-256 of the event's canonical content, so a tombstone can keep it
after the content is erased. `chain_hash` is an HMAC over (client, sequence, previous hash,
content hash) with the audit key, so nobody without the key can rebuild a chain after editing it.

Before it is sealed, an event already carries `row_mac`, an HMAC of its content with the audit
key written by the audit service with the row: the sealer refuses rows without a valid one, so
a row inserted straight into the table is never adopted into a chain.
"""

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

EMPTY = ""


def _key() -> bytes:
    return settings.AZUKARI_AUDIT_KEY.encode()


def content_of(row: Any) -> str:
    """Canonical text of what an event says; the same on SQLite and PostgreSQL."""
    at = row.at
    micros = int(at.timestamp()) * 1_000_000 + at.microsecond
    return json.dumps(
        [
            row.client_id,
            micros,
            row.actor_id,
            row.action,
            row.customer_ref,
            row.object_type,
            row.object_ref,
            sorted(row.fields or []),
            row.purpose,
            row.ip,
            row.count,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def content_hash(row: Any) -> str:
    return hashlib.sha256(content_of(row).encode()).hexdigest()


def genesis(client_id: int) -> str:
    """The 'previous hash' of a client's first event: chains cannot be moved between clients."""
    return hmac.new(_key(), f"genesis|{client_id}".encode(), hashlib.sha256).hexdigest()


def link(client_id: int, seq: int, prev_hash: str, content: str) -> str:
    message = f"{client_id}|{seq}|{prev_hash}|{content}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def row_mac(row: Any) -> str:
    """The audit service's signature on a row it wrote (checked before the row is sealed)."""
    return hmac.new(_key(), b"row|" + content_of(row).encode(), hashlib.sha256).hexdigest()


def row_mac_ok(row: Any) -> bool:
    return hmac.compare_digest(row.row_mac or "", row_mac(row))
