"""The date of birth is optional in the customer sync: not sent, not changed."""

import datetime as dt

import pytest

from azukari.customers.models import Customer

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/sync/customers"
YAMADA = {"customer_number": "C-1", "family_name": "山田", "given_name": "太郎"}


def test_a_sync_without_the_date_of_birth_keeps_it_and_null_clears_it(api, cast, coffee_token):
    api.post(CUSTOMERS, coffee_token, {"items": [{**YAMADA, "birth_date": "1980-04-05"}]})
    customer = Customer.objects.get(client=cast.coffee, customer_number="C-1")
    assert customer.birth_date == dt.date(1980, 4, 5)

    again = api.post(CUSTOMERS, coffee_token, {"items": [YAMADA]}).json()
    assert again["unchanged"] == 1
    customer.refresh_from_db()
    assert customer.birth_date == dt.date(1980, 4, 5)

    api.post(CUSTOMERS, coffee_token, {"items": [{**YAMADA, "birth_date": None}]})
    customer.refresh_from_db()
    assert customer.birth_date is None


def test_a_date_of_birth_in_the_future_fails_the_item(api, coffee_token):
    answer = api.post(CUSTOMERS, coffee_token, {"items": [{**YAMADA, "birth_date": "2999-01-01"}]})
    result = answer.json()["results"][0]
    assert result["status"] == "error"
    assert "birth_date" in result["error"]["field_errors"]
