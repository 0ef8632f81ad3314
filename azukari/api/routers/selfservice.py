"""A one-time self-service link for a customer, asked for by the client's system."""

import datetime as dt
from typing import Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Path, Router, Schema, Status

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.api.schemas import MAX_ID
from azukari.core.visibility import get_visible
from azukari.customers.models import Customer
from azukari.selfservice.models import LinkOrigin
from azukari.selfservice.services import link_issue

router = Router(tags=["Self-service"])


class SelfServiceLinkIn(Schema):
    channel: Literal["sms", "email"] = "sms"


class SelfServiceLinkOut(Schema):
    id: int
    channel: str
    expires_at: dt.datetime


@router.post(
    "/customers/{customer_id}/self-service-link",
    response=responses({202: SelfServiceLinkOut}),
    auth=scoped(Scope.SELFSERVICE_LINKS),
    operation_id="customer_selfservice_link",
    summary="Send the customer a one-time link to his options and his cases",
    description="The link goes to the customer's registered mobile phone or e-mail address; "
    "it is never returned here. It works once and expires (24 hours by default).",
)
def send_link(
    request: HttpRequest, payload: SelfServiceLinkIn, customer_id: int = Path(..., ge=1, le=MAX_ID)
):
    with transaction.atomic():
        customer = get_visible(
            Customer.objects.select_related("client"), request.auth, pk=customer_id
        )
        link = link_issue(
            customer=customer,
            channel=payload.channel,
            origin=LinkOrigin.API,
            issued_by=request.auth.service_user,
        )
    return Status(202, {"id": link.pk, "channel": link.channel, "expires_at": link.expires_at})
