"""The hash chain: how an event's content and its link to the one before are computed.

`content_hash` is a plain SHA-256 of the event's canonical content, so a tombstone can keep it
after the content is erased. `chain_hash` is an HMAC over (client, sequence, previous hash,
content hash) with the audit key, so nobody without the key can rebuild a chain after editing it.
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
