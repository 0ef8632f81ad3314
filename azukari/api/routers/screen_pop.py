"""Screen pop: who is calling, for which client, and everything the operator needs at once."""

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field as F
from ninja import Query, Router, Schema

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.api.schemas import ScreenPopOut
from azukari.api.selectors import screen_pop
from azukari.audit.models import AccessAction
from azukari.audit.services import personal_data_access
from azukari.customers.selectors import CARD_FIELDS, customer_card

router = Router(tags=["Screen pop"])


class ScreenPopQuery(Schema):
    dialled_number: str = F(
        min_length=1, max_length=32, description="The client line the caller dialled"
    )
    caller_number: str = F(
        "",
        max_length=32,
        description="The caller's number in any Japanese or international format; "
        "empty or 非通知 when withheld",
    )


@router.get(
    "/screen-pop",
    response=responses({200: ScreenPopOut}),
    auth=scoped(Scope.SCREEN_POP),
    operation_id="screen_pop",
    summary="Customers matching the caller, for the dialled client only",
)
def get_screen_pop(request: HttpRequest, params: Query[ScreenPopQuery]):
    pop = screen_pop(
        viewer=request.auth,
        dialled_number=params.dialled_number,
        caller_number=params.caller_number,
    )
    if pop.matches:
        personal_data_access(
            viewer=request.auth,
            customers=pop.matches,
            fields=CARD_FIELDS,
            action=AccessAction.SCREEN_POP,
            purpose="api screen pop",
            request=request,
        )
    search_url = None
    if pop.withheld or not pop.matches:
        search_url = reverse("api-v1:customers_search") + f"?client={pop.client.code}&q="
    return {
        "client": {"code": pop.client.code, "name": pop.client.name},
        "line": {"number": pop.line.number, "label": pop.line.label},
        "caller_number": pop.caller_number,
        "withheld": pop.withheld,
        "matches": [customer_card(c) for c in pop.matches],
        "search_url": search_url,
    }
