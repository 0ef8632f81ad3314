"""Inbound routing: which sites take each client's calls now (for the PBX's call routing)."""

from django.http import HttpRequest
from ninja import Router, Schema

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.org.failover import routing_now

# The scope names the Scope choices should list as ROUTING_READ and SITES_FAILOVER.
ROUTING_READ = "routing:read"

router = Router(tags=["Sites and routing"])


class RoutedSiteOut(Schema):
    code: str
    name: str
    status: str
    open_now: bool


class ClientRoutingOut(Schema):
    client: str
    taking_calls: list[RoutedSiteOut]
    standing_by: list[RoutedSiteOut]
    public_holiday: bool
    closed_today: bool


class RoutingOut(Schema):
    clients: list[ClientRoutingOut]


@router.get(
    "/routing",
    response=responses({200: RoutingOut}),
    auth=scoped(ROUTING_READ),
    operation_id="routing_now",
    summary="Sites taking each client's calls now: not down, serving the client, within hours",
)
def routing(request: HttpRequest):
    return {"clients": routing_now(client_ids=request.auth.visible_client_ids())}
