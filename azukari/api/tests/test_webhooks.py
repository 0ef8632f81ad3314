"""Webhooks: public https only (checked twice), signed, retried with backoff, history visible."""

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from azukari.api import tasks
from azukari.api.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from azukari.api.services import retry_delay, webhooks_sweep
from azukari.api.tests.factories import open_case
from azukari.api.tests.receiver import start_receiver
from azukari.api.webhooks import sign
from azukari.cases import services as cases
from azukari.subscriptions.models import ClientEvent, ClientEventKind
from azukari.testing.factories import CustomerFactory, SubscriptionFactory

HOOKS = "/api/v1/webhooks"
EVENTS = ["case.parked", "inquiry.created", "case.resolved", "shipment.hold"]


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def loopback(settings):
    settings.AZUKARI_WEBHOOK_ALLOW_LOOPBACK = True
    return settings


@pytest.fixture
def yamada(cast):
    return CustomerFactory(client=cast.coffee, customer_number="C-1", phones=["+819012345678"])


@pytest.mark.parametrize(
    "url",
    [
        "http://203.0.113.10/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://240.0.0.1/hook",
        "https://user:pw@8.8.8.8/hook",
        "ftp://8.8.8.8/hook",
        "https:///nohost",
    ],
)
def test_private_loopback_and_plain_urls_are_refused(api, coffee_token, url):
    response = api.post(HOOKS, coffee_token, {"url": url, "events": EVENTS})
    assert response.status_code == 400, url
    assert "url" in response.json()["field_errors"]
    assert not WebhookEndpoint.objects.exists()


def test_loopback_is_refused_without_the_test_setting(api, coffee_token, receiver, settings):
    assert getattr(settings, "AZUKARI_WEBHOOK_ALLOW_LOOPBACK", False) is False
    response = api.post(HOOKS, coffee_token, {"url": receiver.url, "events": EVENTS})
    assert response.status_code == 400


def test_public_https_url_is_registered_and_its_secret_shown_once(api, coffee_token):
    body = {"url": "https://8.8.8.8/azukari", "events": ["case.parked"], "description": "CRM"}
    created = api.post(HOOKS, coffee_token, body)
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    shown = api.get(f"{HOOKS}/{created.json()['id']}", coffee_token).json()
    assert "secret" not in shown
    assert [h["url"] for h in api.get(HOOKS, coffee_token).json()] == ["https://8.8.8.8/azukari"]


def test_loopback_setting_still_refuses_private_addresses(api, coffee_token, loopback):
    response = api.post(HOOKS, coffee_token, {"url": "http://10.0.0.8/x", "events": EVENTS})
    assert response.status_code == 400


def _register(api, token, url, events=EVENTS) -> dict:
    response = api.post(HOOKS, token, {"url": url, "events": events})
    assert response.status_code == 201, response.content
    return response.json()


def _park(api, cast, token, case):
    return api.post(
        f"/api/v1/cases/{case.pk}/park",
        token,
        {"version": case.version, "reason": "client_decision", "team": "sapporo-desk"},
    )


def test_parking_through_the_api_delivers_a_signed_webhook(
    api,
    cast,
    coffee_token,
    coffee_desk_token,
    yamada,
    receiver,
    loopback,
    django_capture_on_commit_callbacks,
):
    hook = _register(api, coffee_token, receiver.url)
    case = open_case(customer=yamada, operator=cast.operator)
    with django_capture_on_commit_callbacks(execute=True):
        assert _park(api, cast, coffee_desk_token, case).status_code == 200
    [request] = receiver.requests
    assert request.headers["X-Azukari-Event"] == "case.parked"
    timestamp = int(request.headers["X-Azukari-Timestamp"])
    assert request.headers["X-Azukari-Signature"] == sign(hook["secret"], timestamp, request.body)
    payload = json.loads(request.body)
    assert payload["event"] == "case.parked" and payload["client"] == "coffee"
    assert payload["data"]["case"]["id"] == case.pk
    assert payload["data"]["case"]["customer_number"] == "C-1"
    history = api.get(f"{HOOKS}/{hook['id']}/deliveries", coffee_token).json()["items"]
    assert [(d["state"], d["attempts"]) for d in history] == [("delivered", 1)]
    assert history[0]["attempt_log"][0]["status_code"] == 200


def test_failures_are_retried_with_backoff_then_given_up(
    api, cast, coffee_token, yamada, receiver, loopback, django_capture_on_commit_callbacks
):
    hook = _register(api, coffee_token, receiver.url, ["case.parked"])
    receiver.statuses = [500, 503]
    case = open_case(customer=yamada, operator=cast.operator)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            webhooks_sweep()  # the sweep starts from now
            cases.case_park(
                case=case, version=case.version, actor=cast.operator, reason="investigation",
                team=cast.sapporo_desk,
            )  # fmt: skip
        # The park queued its webhook with its event, as a page's park does: the first
        # attempt is made at once, and the sweep finds nothing left to emit.
        assert webhooks_sweep() == 0
        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts) == (DeliveryState.RETRYING, 1)
        assert delivery.next_attempt_at == timezone.now() + retry_delay(1)
        assert tasks.webhooks_retry_due() == 0  # not due yet
        clock.shift(retry_delay(1))
        tasks.webhooks_retry_due()
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == (DeliveryState.RETRYING, 2)
        assert retry_delay(2) > retry_delay(1)
        clock.shift(retry_delay(2))
        tasks.webhooks_retry_due()
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 3)
        # A task that runs again changes nothing and sends nothing.
        assert tasks.webhook_deliver(delivery.pk) == "skipped"
        assert webhooks_sweep() == 0
    assert len(receiver.requests) == 3
    assert {r.headers["X-Azukari-Delivery"] for r in receiver.requests} == {str(delivery.pk)}
    history = api.get(f"{HOOKS}/{hook['id']}/deliveries", coffee_token).json()["items"]
    assert [a["status_code"] for a in history[0]["attempt_log"]] == [500, 503, 200]


def test_address_is_checked_again_at_delivery(
    api, cast, coffee_token, coffee_desk_token, yamada, receiver, loopback,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    _register(api, coffee_token, receiver.url, ["case.parked"])
    loopback.AZUKARI_WEBHOOK_ALLOW_LOOPBACK = False  # as in production
    case = open_case(customer=yamada, operator=cast.operator)
    with django_capture_on_commit_callbacks(execute=True):
        _park(api, cast, coffee_desk_token, case)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.RETRYING
    assert (
        "public" in delivery.attempt_log.get().error or "https" in delivery.attempt_log.get().error
    )


def test_client_events_from_the_subscriptions_outbox_are_delivered_and_marked(
    api, cast, coffee_token, yamada, receiver, loopback, django_capture_on_commit_callbacks
):
    _register(api, coffee_token, receiver.url, ["shipment.hold"])
    subscription = SubscriptionFactory(customer=yamada, external_id="S-1")
    webhooks_sweep()
    start = timezone.now()
    event = ClientEvent.objects.create(
        client=cast.coffee,
        kind=ClientEventKind.HOLD_SHIPMENT,
        key="hold-S-1-3",
        subscription=subscription,
        payload={"reason": "cancellation requested"},
        created_at=start,
    )
    later = time_machine.travel(start + dt.timedelta(minutes=3), tick=False)
    with later, django_capture_on_commit_callbacks(execute=True):
        assert webhooks_sweep() == 1
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert payload["event"] == "shipment.hold"
    assert payload["data"]["subscription_external_id"] == "S-1"
    event.refresh_from_db()
    assert event.delivered_at is not None


def test_webhooks_of_another_client_are_not_found(api, cast, coffee_token, tea_token):
    hook = _register(api, coffee_token, "https://8.8.8.8/hook")
    assert api.get(f"{HOOKS}/{hook['id']}", tea_token).status_code == 404
    assert api.get(f"{HOOKS}/{hook['id']}/deliveries", tea_token).status_code == 404
    assert api.delete(f"{HOOKS}/{hook['id']}", tea_token).status_code == 404
    assert api.get(HOOKS, tea_token).json() == []
    assert api.delete(f"{HOOKS}/{hook['id']}", coffee_token).json()["is_active"] is False
