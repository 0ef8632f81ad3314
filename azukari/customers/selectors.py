"""Reads of customers that views and the API share; all go through the visibility door."""

from django.db.models import Q, QuerySet

from azukari.core.phones import InvalidPhone, normalize_phone
from azukari.core.text import fold
from azukari.core.visibility import Viewer
from azukari.customers.models import Customer, CustomerPhone


def customers_by_phone(*, viewer: Viewer, client_id: int, raw_number: str) -> QuerySet[Customer]:
    """Screen pop: one indexed lookup on (client, number). Withheld numbers match nobody."""
    number = normalize_phone(raw_number, field="caller_number")
    if number is None:
        return Customer.objects.none()
    return (
        Customer.objects.visible_to(viewer)
        .filter(client_id=client_id, phones__client_id=client_id, phones__number=number)
        .distinct()
    )


def _phone_in(query: str) -> str | None:
    """The E.164 form of a query typed as a phone number (090-1234-5678), else None."""
    if sum(ch.isdigit() for ch in fold(query)) < 6:
        return None
    try:
        return normalize_phone(query, field="query")
    except InvalidPhone:
        return None


def customer_search(*, viewer: Viewer, query: str, client_id: int | None = None):
    """Kana- and width-insensitive search on name, kana reading, customer number and phone.

    A query that reads as a phone number also matches the stored E.164 numbers, however the
    caller wrote it (hyphens, brackets, full-width digits, +81).
    """
    key = fold(query)
    qs = Customer.objects.visible_to(viewer)
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    if not key:
        return qs.none()
    match = Q(search_text__contains=key)
    number = _phone_in(query)
    if number:
        phones = CustomerPhone.objects.visible_to(viewer).filter(number=number)
        match |= Q(pk__in=phones.values("customer_id"))
    return qs.filter(match)
