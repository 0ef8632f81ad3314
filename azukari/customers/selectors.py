"""Reads of customers that views and the API share; all go through the visibility door."""

from django.db.models import QuerySet

from azukari.core.phones import normalize_phone
from azukari.core.visibility import Viewer
from azukari.customers import search
from azukari.customers.models import Customer


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


def customer_search(*, viewer: Viewer, query: str, client_id: int | None = None):
    """Kana- and width-insensitive search on name, kana reading, customer number and phone.

    Served by the search index (azukari.customers.search); kept here for existing callers.
    """
    return search.customer_search(viewer=viewer, query=query, client_id=client_id)
