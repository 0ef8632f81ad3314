"""A move made on a page and the same move made through the API notify the client alike: the
case service queues the webhook with the event, so neither waits for the minute's sweep."""

import pytest

from azukari.api.models import WebhookDelivery
from azukari.api.tests.factories import open_case
from azukari.cases import services as cases
from azukari.testing.factories import CustomerFactory

HOOKS = "/api/v1/webhooks"


@pytest.fixture
def hook(api, coffee_token):
    answer = api.post(
        HOOKS, coffee_token, {"url": "https://8.8.8.8/hook", "events": ["case.parked"]}
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_a_case_parked_on_a_page_notifies_without_the_sweep(cast, hook):
    customer = CustomerFactory(client=cast.coffee, customer_number="C-1")
    case = open_case(customer=customer, operator=cast.operator)
    # What the desk page calls: the service itself, no API code around it.
    cases.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason="client_decision",
        team=cast.sapporo_desk,
    )
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["case.parked"]


def test_a_case_parked_through_the_api_notifies_once(api, cast, coffee_token, hook, issue):
    customer = CustomerFactory(client=cast.coffee, customer_number="C-1")
    case = open_case(customer=customer, operator=cast.operator)
    pbx = issue(center_clients=(cast.coffee,), scopes=["cases:write"], name="desk CTI")
    answer = api.post(
        f"/api/v1/cases/{case.pk}/park",
        pbx,
        {
            "version": case.version,
            "reason": "client_decision",
            "team": cast.sapporo_desk.code,
        },
    )
    assert answer.status_code == 200, answer.content
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == ["case.parked"]
