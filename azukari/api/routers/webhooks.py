"""Outgoing webhooks: a client registers URLs, picks events, and reads the delivery history."""

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field as F
from ninja import Path, Query, Router, Schema, Status

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from azukari.api.schemas import (
    MAX_ID,
    DeliveryStateName,
    WebhookCreatedOut,
    WebhookDeliveryPageOut,
    WebhookIn,
    WebhookOut,
)
from azukari.api.selectors import client_for
from azukari.api.services import webhook_endpoint_deactivate, webhook_endpoint_register
from azukari.core.visibility import get_visible

router = Router(tags=["Webhooks"])

EndpointId = Path(..., ge=1, le=MAX_ID)
MANAGE = scoped(Scope.WEBHOOKS_MANAGE)


class ClientQuery(Schema):
    client: str | None = F(None, max_length=32, description="Client code (center tokens)")


class DeliveryQuery(Schema):
    state: DeliveryStateName | None = None
    limit: int = F(50, ge=1, le=200)


def endpoint_out(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "client": endpoint.client.code,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
        "created_at": endpoint.created_at,
    }


def _endpoints(request: HttpRequest):
    return WebhookEndpoint.objects.visible_to(request.auth).select_related("client")


@router.post(
    "/webhooks",
    response=responses({201: WebhookCreatedOut}),
    auth=MANAGE,
    operation_id="webhook_register",
    summary="Register a URL (https, public address) for some events; the secret is shown once",
)
def register_webhook(request: HttpRequest, payload: WebhookIn, params: Query[ClientQuery]):
    client = client_for(request.auth, params.client)
    endpoint = webhook_endpoint_register(
        viewer=request.auth,
        client=client,
        url=payload.url,
        events=payload.events,
        description=payload.description,
        token=request.auth,
    )
    return Status(201, {**endpoint_out(endpoint), "secret": endpoint.secret})


@router.get(
    "/webhooks",
    response=responses({200: list[WebhookOut]}),
    auth=MANAGE,
    operation_id="webhooks_list",
    summary="Registered webhooks",
)
def list_webhooks(request: HttpRequest):
    return [endpoint_out(e) for e in _endpoints(request).order_by("id")]


@router.get(
    "/webhooks/{endpoint_id}",
    response=responses({200: WebhookOut}),
    auth=MANAGE,
    operation_id="webhook_get",
    summary="One webhook",
)
def get_webhook(request: HttpRequest, endpoint_id: int = EndpointId):
    return endpoint_out(get_visible(_endpoints(request), request.auth, pk=endpoint_id))


@router.delete(
    "/webhooks/{endpoint_id}",
    response=responses({200: WebhookOut}),
    auth=MANAGE,
    operation_id="webhook_deactivate",
    summary="Stop deliveries to this URL (its history stays)",
)
def deactivate_webhook(request: HttpRequest, endpoint_id: int = EndpointId):
    endpoint = get_visible(_endpoints(request), request.auth, pk=endpoint_id)
    return endpoint_out(webhook_endpoint_deactivate(viewer=request.auth, endpoint=endpoint))


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response=responses({200: WebhookDeliveryPageOut}),
    auth=MANAGE,
    operation_id="webhook_deliveries",
    summary="Delivery history, newest first, with every attempt",
)
def list_deliveries(
    request: HttpRequest, params: Query[DeliveryQuery], endpoint_id: int = EndpointId
):
    endpoint = get_visible(_endpoints(request), request.auth, pk=endpoint_id)
    qs = WebhookDelivery.objects.visible_to(request.auth).filter(endpoint=endpoint)
    if params.state:
        qs = qs.filter(state=params.state)
    rows = list(
        qs.prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("at", "id"))
        ).order_by("-created_at", "-id")[: params.limit + 1]
    )
    return {
        "items": [
            {
                "id": d.pk,
                "event": d.event,
                "state": d.state,
                "attempts": d.attempts,
                "created_at": d.created_at,
                "next_attempt_at": d.next_attempt_at,
                "delivered_at": d.delivered_at,
                "payload": d.payload,
                "attempt_log": [
                    {
                        "at": a.at,
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    }
                    for a in d.attempt_log.all()
                ],
            }
            for d in rows[: params.limit]
        ],
        "truncated": len(rows) > params.limit,
    }
