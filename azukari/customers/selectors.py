"""Reads of customers that views and the API share; all go through the visibility door.

The customer card is what the operator page and the API's screen pop and customer read both
show: one loader, one shape.
"""

from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from azukari.cases.models import AZUKARI_STATES, WORKED_STATES, Case, Contact
from azukari.core.compiled import CompiledQuery
from azukari.core.phones import display_phone, normalize_phone
from azukari.core.visibility import Viewer
from azukari.customers import search
from azukari.customers.models import Customer, CustomerPhone
from azukari.subscriptions.models import DeliveryStatus, Subscription, SubscriptionStatus

# What a customer card shows, as recorded in the audit trail.
CARD_FIELDS = (
    "name",
    "name_kana",
    "customer_number",
    "phones",
    "postcode",
    "address",
    "email",
    "preferences",
    "subscriptions",
    "cases",
    "contacts",
)
RECENT_CONTACTS = 5


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


def _current_subscriptions() -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(
            status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED]
        )
        .select_related("plan")
        .annotate(
            deliveries_made=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SHIPPED))
        )
        .order_by("started_on", "id")
    )


def _recent_contacts_of(customer_ids: list[int]) -> QuerySet[Contact]:
    newest_first = (F("started_at").desc(), F("id").desc())
    return (
        Contact.objects.filter(customer_id__in=customer_ids)
        .select_related("handler")
        .annotate(rank=Window(RowNumber(), partition_by=F("customer_id"), order_by=newest_first))
        .filter(rank__lte=RECENT_CONTACTS)
        .order_by(*newest_first)
    )


# The card's four reads, compiled once: an operator waits for them on every call.
_CARD_PHONES = CompiledQuery[CustomerPhone](
    lambda ids: CustomerPhone.objects.filter(customer_id__in=ids)
)
_CARD_SUBSCRIPTIONS = CompiledQuery[Subscription](
    lambda ids: _current_subscriptions().filter(customer_id__in=ids)
)
_CARD_OPEN_CASES = CompiledQuery[Case](
    lambda ids: (
        Case.objects.filter(customer_id__in=ids)
        .filter(state__in=WORKED_STATES)
        .select_related("owner_team")
        .order_by("-opened_at", "-id")
    )
)
_CARD_CONTACTS = CompiledQuery[Contact](_recent_contacts_of)


def load_cards(customers: list[Customer]) -> list[Customer]:
    """What an operator needs on the screen at once, in four queries whatever the data size.

    Sets `card_phones`, `current_subscriptions`, `open_cases` and `recent_contacts`.
    """
    ids = [c.pk for c in customers]
    loaded = {
        "card_phones": _CARD_PHONES(ids),
        "current_subscriptions": _CARD_SUBSCRIPTIONS(ids),
        "open_cases": _CARD_OPEN_CASES(ids),
        "recent_contacts": _CARD_CONTACTS(ids),
    }
    for customer in customers:
        for attr, rows in loaded.items():
            setattr(customer, attr, [r for r in rows if r.customer_id == customer.pk])
    return customers


def current_subscriptions() -> Prefetch:
    """A customer's active and paused subscriptions, as `current_subscriptions`."""
    return Prefetch(
        "subscriptions",
        queryset=_current_subscriptions(),
        to_attr="current_subscriptions",
    )


def customer_card(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "customer_number": customer.customer_number,
        "name": customer.full_name,
        "name_kana": customer.full_name_kana,
        "postcode": customer.postcode,
        "address": customer.address,
        "email": customer.email,
        "phones": [
            {"number": p.number, "display": display_phone(p.number), "kind": p.kind}
            for p in customer.card_phones
        ],
        "harassment_flag": customer.harassment_flag,
        "harassment_note": customer.harassment_note,
        "preferences": {
            "quiet_from": customer.quiet_from,
            "quiet_until": customer.quiet_until,
            "days_off": customer.days_off,
            "call_windows": customer.call_windows,
            "holidays_ok": customer.holidays_ok,
        },
        "subscriptions": [
            {
                "external_id": s.external_id,
                "plan_code": s.plan.code,
                "plan_name": s.plan.name,
                "status": s.status,
                "started_on": s.started_on,
                "deliveries_made": s.deliveries_made,
                "deliveries_required": s.plan.min_deliveries,
                "commitment_met": s.deliveries_made >= s.plan.min_deliveries,
                "first_cancel_requested_on": s.first_cancel_requested_on,
            }
            for s in customer.current_subscriptions
        ],
        "open_cases": [
            {
                "id": c.pk,
                "kind": c.kind,
                "subject": c.subject,
                "state": c.state,
                "is_azukari": c.state in AZUKARI_STATES,
                "azukari_reason": c.azukari_reason,
                "owner_team": c.owner_team.code if c.owner_team_id else None,
                "opened_at": c.opened_at,
                "due_at": c.due_at,
                "promised_callback_at": c.promised_callback_at,
                "version": c.version,
            }
            for c in customer.open_cases
        ],
        "recent_contacts": [
            {
                "id": k.pk,
                "direction": k.direction,
                "started_at": k.started_at,
                "ended_at": k.ended_at,
                "handler": (k.handler.display_name or k.handler.username) if k.handler else "",
                "reason": k.reason,
                "summary": k.summary,
                "stance": k.stance,
            }
            for k in customer.recent_contacts
        ],
    }
