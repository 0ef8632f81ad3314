"""Screen pop: the dialled line names the client; only that client's customers can pop."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from azukari.api.tests.factories import open_case, shipped
from azukari.cases import services as cases
from azukari.testing.factories import CustomerFactory, SubscriptionFactory

POP = "/api/v1/screen-pop"
CALLER = "+819012345678"


@pytest.fixture
def yamada(cast):
    return CustomerFactory(client=cast.coffee, customer_number="C-1001", phones=[CALLER])


@pytest.mark.parametrize(
    "written",
    [
        "090-1234-5678",
        "09012345678",
        "+81 90-1234-5678",
        "０９０－１２３４－５６７８",
        "0081901234 5678",
    ],
)
def test_caller_number_in_any_format_pops_the_customer(api, lines, coffee_token, yamada, written):
    response = api.get(POP, coffee_token, dialled_number="0120-123-456", caller_number=written)
    assert response.status_code == 200
    body = response.json()
    assert body["client"]["code"] == "coffee"
    assert body["caller_number"] == CALLER
    assert [m["customer_number"] for m in body["matches"]] == ["C-1001"]
    assert body["search_url"] is None


def test_a_pop_carries_personal_data_and_is_never_stored_by_caches(
    api, lines, coffee_token, yamada
):
    response = api.get(POP, coffee_token, dialled_number="0120-123-456", caller_number=CALLER)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_same_number_at_two_clients_pops_only_the_dialled_clients_customer(
    api, cast, lines, pbx_token, yamada
):
    CustomerFactory(client=cast.tea, customer_number="T-9", family_name="お茶", phones=[CALLER])
    coffee = api.get(POP, pbx_token, dialled_number="0120-123-456", caller_number=CALLER).json()
    tea = api.get(POP, pbx_token, dialled_number="0120-987-654", caller_number=CALLER).json()
    assert [m["customer_number"] for m in coffee["matches"]] == ["C-1001"]
    assert [m["customer_number"] for m in tea["matches"]] == ["T-9"]


def test_withheld_number_matches_nobody_and_points_to_search(api, lines, coffee_token, yamada):
    for withheld in ("", "非通知", "anonymous", "公衆電話"):
        body = api.get(
            POP, coffee_token, dialled_number="0120-123-456", caller_number=withheld
        ).json()
        assert body["withheld"] is True
        assert body["matches"] == []
        assert body["search_url"].startswith("/api/v1/customers?client=coffee")


def test_another_clients_line_is_not_found(api, lines, tea_token, coffee_token, yamada):
    response = api.get(POP, tea_token, dialled_number="0120-123-456", caller_number=CALLER)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    unknown = api.get(POP, coffee_token, dialled_number="03-0000-0000", caller_number=CALLER)
    assert unknown.status_code in (400, 404)


def test_nonsense_caller_number_is_a_field_error(api, lines, coffee_token):
    response = api.get(POP, coffee_token, dialled_number="0120-123-456", caller_number="12")
    assert response.status_code == 400
    assert "caller_number" in response.json()["field_errors"]


def test_card_carries_subscriptions_open_cases_contacts_and_preferences(
    api, cast, lines, coffee_token, yamada
):
    yamada.quiet_from, yamada.quiet_until, yamada.days_off = "12:00", "13:00", [6]
    yamada.save()
    subscription = SubscriptionFactory(customer=yamada, external_id="S-1")
    shipped(subscription, 2)
    case = open_case(customer=yamada, operator=cast.operator)
    cases.case_park(
        case=case, version=case.version, actor=cast.operator, reason="client_decision",
        team=cast.sapporo_desk,
    )  # fmt: skip
    card = api.get(POP, coffee_token, dialled_number="0120-123-456", caller_number=CALLER).json()[
        "matches"
    ][0]
    assert card["subscriptions"] == [
        {
            "external_id": "S-1",
            "plan_code": "beans-monthly",
            "plan_name": "Beans every month",
            "status": "active",
            "started_on": subscription.started_on.isoformat(),
            "deliveries_made": 2,
            "deliveries_required": 3,
            "commitment_met": False,
            "first_cancel_requested_on": None,
        }
    ]
    assert [(c["id"], c["state"], c["is_azukari"]) for c in card["open_cases"]] == [
        (case.pk, "azukari", True)
    ]
    assert card["recent_contacts"][0]["summary"] == "Wants to cancel"
    assert card["recent_contacts"][0]["handler"] == cast.operator.display_name
    assert card["preferences"]["quiet_from"] == "12:00:00"
    assert card["preferences"]["days_off"] == [6]


def _pop_queries(api, token) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(POP, token, dialled_number="0120-123-456", caller_number=CALLER)
    assert response.status_code == 200
    return len(queries)


def test_query_count_is_bounded_and_does_not_grow_with_data(
    api, cast, lines, pbx_token, yamada, django_assert_max_num_queries
):
    SubscriptionFactory(customer=yamada, external_id="S-1")
    open_case(customer=yamada, operator=cast.operator)
    _pop_queries(api, pbx_token)  # token use noted once
    small = _pop_queries(api, pbx_token)

    # Much more data: a second household member on the same number, more subscriptions,
    # cases and contacts, and many customers elsewhere.
    sibling = CustomerFactory(client=cast.coffee, customer_number="C-1002", phones=[CALLER])
    for i in range(5):
        sub = SubscriptionFactory(customer=sibling, external_id=f"S-2{i}")
        shipped(sub, 3)
        open_case(customer=sibling, operator=cast.operator, subject=f"case {i}")
        open_case(customer=yamada, operator=cast.operator, subject=f"other {i}")
    for i in range(30):
        CustomerFactory(client=cast.coffee, phones=[f"+8190{i:08d}"])
    large = _pop_queries(api, pbx_token)
    assert large == small
    # Token, the PBX's clients, the line, the customers, four prefetches, and the audit
    # insert inside its savepoint (two statements).
    with django_assert_max_num_queries(11):
        body = api.get(POP, pbx_token, dialled_number="0120-123-456", caller_number=CALLER).json()
    assert {m["customer_number"] for m in body["matches"]} == {"C-1001", "C-1002"}
    assert all(len(m["recent_contacts"]) <= 5 for m in body["matches"])


def test_screen_pop_writes_an_audit_event_naming_the_integration(api, lines, pbx_token, yamada):
    from azukari.audit.models import AccessEvent

    api.get(POP, pbx_token, dialled_number="0120-123-456", caller_number=CALLER)
    event = AccessEvent.objects.get()
    assert event.customer_ref == yamada.pk
    assert event.actor_id == pbx_token.token.service_user_id
    assert event.action == "screen_pop"
