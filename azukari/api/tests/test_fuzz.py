"""schemathesis against the served OpenAPI document, authenticated, every operation:
no server error, and every response matches the documented status codes and schemas."""

import datetime as dt

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from azukari.api.models import Scope
from azukari.api.services import api_token_create, webhook_endpoint_register
from azukari.api.tests.factories import open_case, shipped
from azukari.cases import services as cases
from azukari.org.models import ClientLine
from azukari.testing.factories import CustomerFactory, SubscriptionFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 15


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the database connection after each request, as a server
    should; the test's transaction must survive, as with Django's test client."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(cast, settings, keep_test_connection):
    """A little of everything, so that generated ids and numbers sometimes hit real rows."""
    settings.AZUKARI_WEBHOOK_ALLOW_LOOPBACK = False
    ClientLine.objects.create(client=cast.coffee, number="+81120123456", label="Coffee")
    customer = CustomerFactory(client=cast.coffee, customer_number="1", phones=["+819012345678"])
    subscription = SubscriptionFactory(customer=customer, external_id="1")
    shipped(subscription, 2)
    case = open_case(customer=customer, operator=cast.operator)
    cases.inquiry_send(
        case=case,
        version=case.version,
        actor=cast.desk,
        question="?",
        options=[{"code": "a", "label": "A"}],
        team=cast.sapporo_desk,
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    token, raw = api_token_create(name="fuzz", scopes=Scope.values, center_clients=(cast.coffee,))
    webhook_endpoint_register(
        viewer=token, client=cast.coffee, url="https://8.8.8.8/hook", events=["case.parked"]
    )
    return raw


# The document is served by the app itself (no database needed to serve it).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@pytest.mark.fuzz
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_openapi_document(case, fuzz_world):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_world}"},
        checks=CHECKS,
    )
