"""Batch upserts from the client's systems, keyed by the client's own ids, with per-item errors.

Each item is written in its own transaction: a refused item leaves no trace and does not stop
the others. Sending the same batch again changes nothing.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Field as F
from ninja import Query, Router, Schema

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.api.schemas import CustomerBatchIn, DeliveryBatchIn, SubscriptionBatchIn, SyncOut
from azukari.api.selectors import client_for
from azukari.core.errors import DomainError
from azukari.customers.services import customer_upsert
from azukari.subscriptions.services import delivery_upsert, subscription_upsert

router = Router(tags=["Sync"])


class ClientQuery(Schema):
    client: str | None = F(None, max_length=32, description="Client code (center tokens)")


def _run(items: list[Any], key: str, write: Callable[[Any], tuple[Any, str]]) -> dict:
    results = []
    counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    for index, item in enumerate(items):
        try:
            obj, status = write(item)
        except DomainError as exc:
            message = str(exc.message)
            counts["failed"] += 1
            results.append(
                {
                    "index": index,
                    "key": getattr(item, key),
                    "status": "error",
                    "id": None,
                    "error": {
                        "code": exc.code,
                        "message": message,
                        "field_errors": {exc.field: [message]} if exc.field else {},
                    },
                }
            )
            continue
        counts[status] += 1
        results.append(
            {
                "index": index,
                "key": getattr(item, key),
                "status": status,
                "id": obj.pk,
                "error": None,
            }
        )
    return {**counts, "results": results}


@router.post(
    "/sync/customers",
    response=responses({200: SyncOut}),
    auth=scoped(Scope.SYNC_WRITE),
    operation_id="sync_customers",
    summary="Create or update customers by customer number",
)
def sync_customers(request: HttpRequest, payload: CustomerBatchIn, params: Query[ClientQuery]):
    client = client_for(request.auth, params.client)

    def write(item):
        data = item.dict()
        if "birth_date" not in item.model_fields_set:  # optional: not sent, not changed
            del data["birth_date"]
        data["phones"] = [{"number": p["number"], "kind": p["kind"]} for p in data["phones"]]
        return customer_upsert(client=client, **data)

    return _run(payload.items, "customer_number", write)


@router.post(
    "/sync/subscriptions",
    response=responses({200: SyncOut}),
    auth=scoped(Scope.SYNC_WRITE),
    operation_id="sync_subscriptions",
    summary="Create or update subscriptions, with their sign-up terms snapshot",
)
def sync_subscriptions(
    request: HttpRequest, payload: SubscriptionBatchIn, params: Query[ClientQuery]
):
    client = client_for(request.auth, params.client)
    return _run(
        payload.items, "external_id", lambda item: subscription_upsert(client=client, **item.dict())
    )


@router.post(
    "/sync/deliveries",
    response=responses({200: SyncOut}),
    auth=scoped(Scope.SYNC_WRITE),
    operation_id="sync_deliveries",
    summary="Create or update deliveries by the client's delivery id",
)
def sync_deliveries(request: HttpRequest, payload: DeliveryBatchIn, params: Query[ClientQuery]):
    client = client_for(request.auth, params.client)
    return _run(
        payload.items, "external_id", lambda item: delivery_upsert(client=client, **item.dict())
    )
