"""Sync from the client's systems: idempotent upserts by the client's ids, per-item errors."""

import pytest

from azukari.customers.models import Customer
from azukari.subscriptions.models import Delivery, Subscription
from azukari.testing.factories import CustomerFactory, PlanFactory

CUSTOMERS = "/api/v1/sync/customers"
SUBSCRIPTIONS = "/api/v1/sync/subscriptions"
DELIVERIES = "/api/v1/sync/deliveries"

YAMADA = {
    "customer_number": "C-1",
    "family_name": "山田",
    "given_name": "太郎",
    "family_name_kana": "ヤマダ",
    "phones": [{"number": "090-1234-5678", "kind": "mobile"}],
    "quiet_from": "12:00",
    "quiet_until": "13:00",
    "days_off": [6],
}
TERMS = {"text": "Minimum 3 deliveries.", "min_deliveries": 3, "device_subsidy_yen": 14820}


def subscription(**extra):
    return {
        "external_id": "S-1",
        "customer_number": "C-1",
        "plan_code": "beans-monthly",
        "started_on": "2026-01-10",
        "terms_version": "2025-10",
        "terms_snapshot": TERMS,
        **extra,
    }


def test_customer_batch_creates_then_changes_nothing_then_updates(api, cast, coffee_token):
    first = api.post(CUSTOMERS, coffee_token, {"items": [YAMADA]}).json()
    assert (first["created"], first["results"][0]["status"]) == (1, "created")
    again = api.post(CUSTOMERS, coffee_token, {"items": [YAMADA]}).json()
    assert again["unchanged"] == 1 and again["created"] == 0
    moved = {**YAMADA, "address": "大阪市", "phones": [{"number": "06-6123-4567", "kind": "home"}]}
    updated = api.post(CUSTOMERS, coffee_token, {"items": [moved]}).json()
    assert updated["updated"] == 1
    customer = Customer.objects.get(client=cast.coffee, customer_number="C-1")
    assert customer.address == "大阪市"
    assert list(customer.phones.values_list("number", "kind")) == [("+81661234567", "home")]
    assert "81661234567" in customer.search_text
    assert "やまだ" in customer.search_text


def test_bad_items_fail_alone_with_field_errors(api, cast, coffee_token):
    items = [
        YAMADA,
        {**YAMADA, "customer_number": "C-2", "phones": [{"number": "12"}]},
        {**YAMADA, "customer_number": "C-3", "quiet_from": "22:00", "quiet_until": None},
        {**YAMADA, "customer_number": "C-4"},
    ]
    body = api.post(CUSTOMERS, coffee_token, {"items": items}).json()
    assert [r["status"] for r in body["results"]] == ["created", "error", "error", "created"]
    assert body["results"][1]["error"]["field_errors"] == {
        "phones.0.number": [body["results"][1]["error"]["message"]]
    }
    assert "quiet_from" in body["results"][2]["error"]["field_errors"]
    assert set(Customer.objects.values_list("customer_number", flat=True)) == {"C-1", "C-4"}


def test_schema_errors_use_the_one_shape(api, coffee_token):
    response = api.post(CUSTOMERS, coffee_token, {"items": [{"customer_number": "C-1"}]})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert "items.0.family_name" in body["field_errors"]


def test_subscription_terms_snapshot_is_recorded_once(api, cast, coffee_token):
    PlanFactory(client=cast.coffee)
    api.post(CUSTOMERS, coffee_token, {"items": [YAMADA]})
    created = api.post(SUBSCRIPTIONS, coffee_token, {"items": [subscription()]}).json()
    assert created["created"] == 1
    assert Subscription.objects.get().terms_snapshot == TERMS
    paused = api.post(SUBSCRIPTIONS, coffee_token, {"items": [subscription(status="paused")]})
    assert paused.json()["updated"] == 1
    worse = subscription(terms_snapshot={**TERMS, "min_deliveries": 6})
    refused = api.post(SUBSCRIPTIONS, coffee_token, {"items": [worse]}).json()
    error = refused["results"][0]["error"]
    assert error["code"] == "conflict" and "terms_snapshot" in error["field_errors"]
    assert Subscription.objects.get().terms_snapshot == TERMS


def test_deliveries_upsert_by_the_clients_delivery_id(api, cast, coffee_token):
    PlanFactory(client=cast.coffee)
    api.post(CUSTOMERS, coffee_token, {"items": [YAMADA]})
    api.post(SUBSCRIPTIONS, coffee_token, {"items": [subscription()]})
    first = {
        "external_id": "D-1",
        "subscription_external_id": "S-1",
        "sequence": 1,
        "scheduled_on": "2026-01-15",
    }
    body = api.post(DELIVERIES, coffee_token, {"items": [first]}).json()
    assert body["created"] == 1
    shipped = {**first, "status": "shipped", "shipped_on": "2026-01-15"}
    no_date = {**first, "external_id": "D-2", "sequence": 2, "status": "shipped"}
    clash = {**first, "external_id": "D-3"}
    body = api.post(DELIVERIES, coffee_token, {"items": [shipped, no_date, clash]}).json()
    assert [r["status"] for r in body["results"]] == ["updated", "error", "error"]
    assert "shipped_on" in body["results"][1]["error"]["field_errors"]
    assert "sequence" in body["results"][2]["error"]["field_errors"]
    assert Delivery.objects.get().status == "shipped"


def test_another_client_cannot_reach_coffee_rows(api, cast, coffee_token, tea_token, pbx_token):
    PlanFactory(client=cast.coffee)
    PlanFactory(client=cast.tea)
    CustomerFactory(client=cast.coffee, customer_number="C-1")
    # The tea token writes into tea only: coffee's customer number is unknown there.
    body = api.post(SUBSCRIPTIONS, tea_token, {"items": [subscription()]}).json()
    assert body["results"][0]["error"]["field_errors"].keys() == {"customer_number"}
    assert (
        api.post(
            CUSTOMERS,
            tea_token,
            {"items": [YAMADA]},
        ).json()["created"]
        == 1
    )
    assert Customer.objects.get(client=cast.coffee).family_name == "山田"
    assert Customer.objects.filter(customer_number="C-1").count() == 2
    # Naming another client is not found; a center token must say which client.
    assert api.post(CUSTOMERS + "?client=coffee", tea_token, {"items": [YAMADA]}).status_code == 404
    response = api.post(CUSTOMERS, pbx_token, {"items": [YAMADA]})
    assert response.status_code == 400 and "client" in response.json()["field_errors"]


@pytest.mark.parametrize("size", [501])
def test_batches_are_bounded(api, coffee_token, size):
    response = api.post(CUSTOMERS, coffee_token, {"items": [YAMADA] * size})
    assert response.status_code == 422


def test_quiet_hours_with_a_time_zone_are_refused(api, coffee_token):
    item = {**YAMADA, "quiet_from": "12:00:00+09:00"}
    response = api.post(CUSTOMERS, coffee_token, {"items": [item]})
    assert response.status_code == 422
    assert "items.0.quiet_from" in response.json()["field_errors"]
