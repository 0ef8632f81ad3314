"""One customer write, one rule set: the API sync, the import and the admin refuse the same
bad e-mail and postcode, and store phones and the search text the same way."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from azukari.api.tests.conftest import (  # noqa: F401
    Api,
    coffee_token,
    issue,
)
from azukari.core.errors import DomainError
from azukari.customers.models import Customer
from azukari.customers.services import customer_create, customer_update
from azukari.dataio import cleaning
from azukari.org.models import Role
from azukari.org.tests.test_calendars import login_verified
from azukari.testing.factories import UserFactory

CUSTOMERS = "/api/v1/sync/customers"
YAMADA = {"customer_number": "C-1", "family_name": "山田", "given_name": "太郎"}


@pytest.fixture
def api():
    return Api()


@pytest.mark.parametrize(("field", "value"), [("email", "not an email"), ("postcode", "abc")])
def test_the_api_sync_refuses_what_the_import_refuses(api, cast, coffee_token, field, value):  # noqa: F811
    body = api.post(CUSTOMERS, coffee_token, {"items": [{**YAMADA, field: value}]}).json()
    assert body["results"][0]["status"] == "error"
    assert field in body["results"][0]["error"]["field_errors"]
    assert not Customer.objects.exists()
    with pytest.raises(DomainError):
        getattr(cleaning, field)(value)


def test_every_way_in_stores_the_postcode_and_email_alike(api, cast, coffee_token):  # noqa: F811
    item = {**YAMADA, "postcode": "１５０ー０００１", "email": "ｙａｍａｄａ@example.jp"}
    assert api.post(CUSTOMERS, coffee_token, {"items": [item]}).json()["created"] == 1
    customer = Customer.objects.get()
    assert (customer.postcode, customer.email) == ("150-0001", "yamada@example.jp")
    assert cleaning.postcode("１５０ー０００１") == customer.postcode
    assert cleaning.email("ｙａｍａｄａ@example.jp") == customer.email


def test_an_update_checks_the_record_as_it_will_be(cast):
    customer = customer_create(client=cast.coffee, customer_number="C-1", family_name="山田")
    with pytest.raises(DomainError) as refused:
        customer_update(customer=customer, email="not an email")
    assert refused.value.field == "email"
    customer, changed = customer_update(customer=customer, phones=["090-1111-2222"])
    assert changed and "819011112222" in customer.search_text


@pytest.fixture
def admin_user(cast):
    return UserFactory(
        username="admin_osaka",
        role=Role.ADMIN,
        home_site=cast.osaka,
        clients=[cast.coffee],
        is_staff=True,
        is_superuser=True,
        language="en",
    )


def _admin_form(customer, **changes) -> dict:
    form = {
        "family_name": customer.family_name,
        "given_name": customer.given_name,
        "family_name_kana": customer.family_name_kana,
        "given_name_kana": customer.given_name_kana,
        "postcode": customer.postcode,
        "address": customer.address,
        "email": customer.email,
        "quiet_from": "",
        "quiet_until": "",
        "days_off": "[]",
        "call_windows": "[]",
        "phones-TOTAL_FORMS": 1,
        "phones-INITIAL_FORMS": 0,
        "phones-0-number": "",
        "phones-0-kind": "mobile",
    }
    form.update(changes)
    return form


def test_the_admin_saves_a_customer_through_the_service(cast, admin_user):
    customer = customer_create(client=cast.coffee, customer_number="C-1", family_name="山田")
    browser = HttpClient()
    login_verified(browser, admin_user)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    assert browser.get(url).status_code == 200

    refused = browser.post(url, _admin_form(customer, email="not an email", postcode="abc"))
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Enter a valid e-mail address." in page or "postcode has seven digits" in page
    assert Customer.objects.get().email == ""

    saved = browser.post(
        url, _admin_form(customer, family_name="佐藤", **{"phones-0-number": "090-1111-2222"})
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    customer.refresh_from_db()
    assert customer.family_name == "佐藤"
    assert list(customer.phones.values_list("number", flat=True)) == ["+819011112222"]
    assert "819011112222" in customer.search_text
    assert "佐藤" in customer.search_text
