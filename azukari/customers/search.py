"""Customer search through a real index: SQLite FTS5 (trigram) or PostgreSQL pg_trgm.

One function for pages and the API. The text searched is `Customer.search_text` (names,
kana readings, customer number and phone digits, folded so that hiragana/katakana and
full/half width do not matter); the index is kept in step by the database itself (see the
migration `0002_customer_search_index`), so every writer, bulk or not, is covered.
"""

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from azukari.core.phones import InvalidPhone, normalize_phone
from azukari.core.text import fold
from azukari.core.visibility import Viewer
from azukari.customers.models import Customer, CustomerPhone

FTS_TABLE = "customers_customer_fts"
# Trigram indexes answer substrings of three characters or more; shorter input (a two-kanji
# family name such as 山田) is matched by a substring scan within the viewer's clients.
TRIGRAM = 3


def _phone_in(query: str) -> str | None:
    """The E.164 form of a query typed as a phone number (090-1234-5678), else None."""
    if sum(ch.isdigit() for ch in fold(query)) < 6:
        return None
    try:
        return normalize_phone(query, field="query")
    except InvalidPhone:
        return None


def _text_match(key: str) -> Q:
    if len(key) < TRIGRAM or connection.vendor != "sqlite":
        # PostgreSQL: LIKE '%key%' is served by the GIN gin_trgm_ops index.
        return Q(search_text__contains=key)
    phrase = '"' + key.replace('"', '""') + '"'
    return Q(pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [phrase]))


def customer_search(
    *, viewer: Viewer, query: str, client_id: int | None = None, limit: int | None = None
) -> QuerySet[Customer]:
    """Customers the viewer may see whose name, reading, number or phone contains `query`.

    Partial input works (たなか finds 田中 through its reading, ﾀﾅｶ and タナカ alike); a query
    that reads as a phone number also matches the stored E.164 numbers however it was written.
    With `limit`, the result is ordered and cut; without, it stays combinable.
    """
    key = fold(query or "")
    qs = Customer.objects.visible_to(viewer)
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    if not key:
        return qs.none()
    match = _text_match(key)
    number = _phone_in(query)
    if number:
        phones = CustomerPhone.objects.visible_to(viewer).filter(number=number)
        match |= Q(pk__in=phones.values("customer_id"))
    qs = qs.filter(match)
    if limit is not None:
        qs = qs.order_by("family_name_kana", "given_name_kana", "id")[:limit]
    return qs
