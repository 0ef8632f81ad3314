"""The pop shows that a date of birth is on record, masked; the date itself needs an audited
reveal, like the phones and the address."""

import datetime as dt

import pytest
from django.urls import reverse

from azukari.audit.models import AccessAction, AccessEvent
from azukari.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_date_of_birth_is_masked_and_revealed_through_the_audit(client, cast):
    customer = CustomerFactory(
        client=cast.coffee, customer_number="K-1", birth_date=dt.date(1980, 4, 5)
    )
    client.force_login(cast.operator)
    page = client.get(reverse("desk-pop", args=[customer.pk])).content.decode()
    assert "生年月日" in page and "****-**-**" in page
    assert "1980" not in page

    revealed = client.post(
        reverse("customer-reveal", args=[customer.pk]),
        {"field": "birth_date", "purpose": "identity check"},
    )
    assert revealed.status_code == 200
    assert "1980-04-05" in revealed.content.decode()
    event = AccessEvent.objects.get(action=AccessAction.REVEAL, customer_ref=customer.pk)
    assert event.actor == cast.operator and "birth_date" in event.fields


def test_no_line_for_a_customer_without_one(client, cast):
    customer = CustomerFactory(client=cast.coffee, customer_number="K-2")
    client.force_login(cast.operator)
    page = client.get(reverse("desk-pop", args=[customer.pk])).content.decode()
    assert "生年月日" not in page
