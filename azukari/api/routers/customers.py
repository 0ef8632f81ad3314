"""Customer search (the fallback for withheld numbers) and one customer's card."""

from django.http import HttpRequest
from ninja import Field as F
from ninja import Path, Query, Router, Schema

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.api.schemas import MAX_ID, CustomerCardOut, CustomerSearchOut
from azukari.api.selectors import (
    client_for,
    customers_find,
)
from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.core.phones import display_phone
from azukari.core.visibility import get_visible
from azukari.customers.models import Customer
from azukari.customers.selectors import CARD_FIELDS, customer_card, load_cards

router = Router(tags=["Customers"])


class SearchQuery(Schema):
    q: str = F(
        min_length=1,
        max_length=100,
        description="Name or kana reading (kana- and width-insensitive), customer number, "
        "or phone number",
    )
    client: str | None = F(None, max_length=32, description="Client code (center tokens)")
    limit: int = F(20, ge=1, le=100)


@router.get(
    "/customers",
    response=responses({200: CustomerSearchOut}),
    auth=scoped(Scope.CUSTOMERS_READ),
    operation_id="customers_search",
    url_name="customers_search",
    summary="Search customers",
)
def search_customers(request: HttpRequest, params: Query[SearchQuery]):
    client_id = None
    if params.client or request.auth.client_id is not None:
        client_id = client_for(request.auth, params.client).pk
    found = customers_find(
        viewer=request.auth, query=params.q, client_id=client_id, limit=params.limit + 1
    )
    if found:
        personal_data_access(
            viewer=request.auth,
            customers=found[: params.limit],
            fields=["name", "name_kana", "customer_number", "phones"],
            action=AccessAction.SEARCH,
            purpose="api search",
            request=request,
        )
    return {
        "items": [
            {
                "id": c.pk,
                "client": c.client.code,
                "customer_number": c.customer_number,
                "name": c.full_name,
                "name_kana": c.full_name_kana,
                "phones": [
                    {"number": p.number, "display": display_phone(p.number), "kind": p.kind}
                    for p in c.phones.all()
                ],
            }
            for c in found[: params.limit]
        ],
        "truncated": len(found) > params.limit,
    }


@router.get(
    "/customers/{customer_id}",
    response=responses({200: CustomerCardOut}),
    auth=scoped(Scope.CUSTOMERS_READ),
    operation_id="customer_get",
    summary="One customer's card: subscriptions, open cases, last contacts, preferences",
)
def get_customer(request: HttpRequest, customer_id: int = Path(..., ge=1, le=MAX_ID)):
    customer = get_visible(Customer.objects.all(), request.auth, pk=customer_id)
    load_cards([customer])
    personal_data_access(
        viewer=request.auth,
        customers=[customer],
        fields=CARD_FIELDS,
        action=AccessAction.VIEW,
        purpose="api customer card",
        request=request,
    )
    return customer_card(customer)
