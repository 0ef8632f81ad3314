"""The date of birth as the identity fact: right opens, five wrong lock, and a customer with
none on record fails exactly as a wrong answer does, so the page says nothing about it."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from azukari.selfservice.models import IdentityFact, Link, LinkChannel, LinkOrigin
from azukari.selfservice.services import link_issue, selfservice_settings_ensure
from azukari.selfservice.tests.conftest import token_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def by_birth_date(cast):
    ss = selfservice_settings_ensure(client=cast.coffee)
    ss.identity_fact = IdentityFact.BIRTH_DATE
    ss.save(update_fields=["identity_fact"])
    return ss


def _opened(client, customer) -> Link:
    link = link_issue(customer=customer, channel=LinkChannel.SMS, origin=LinkOrigin.API)
    assert client.post(reverse("selfservice-exchange"), {"token": token_of(link)}).status_code
    return link


def _answer(client, answer: str):
    return client.post(reverse("selfservice-identity"), {"answer": answer})


def test_the_page_asks_for_a_date_and_the_right_one_opens(
    client, subscription, asked, by_birth_date
):
    customer = subscription.customer
    customer.birth_date = dt.date(1980, 4, 5)
    customer.save(update_fields=["birth_date"])
    _opened(client, customer)
    page = client.get(reverse("selfservice-identity")).content.decode()
    assert 'type="date"' in page and '<label for="id_answer">生年月日</label>' in page
    assert _answer(client, "1980-04-05").status_code == 302
    assert client.get(reverse("selfservice-home")).status_code == 200


def test_a_typed_date_with_slashes_and_full_width_digits_also_matches(
    client, subscription, asked, by_birth_date
):
    customer = subscription.customer
    customer.birth_date = dt.date(1980, 4, 5)
    customer.save(update_fields=["birth_date"])
    _opened(client, customer)
    assert _answer(client, "１９８０/4/5").status_code == 302


def test_the_page_reads_in_english(client, subscription, asked, by_birth_date):
    _opened(client, subscription.customer)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("selfservice-identity")).content.decode()
    assert '<label for="id_answer">Your date of birth</label>' in page


def _page(response) -> str:
    """The page without its per-request CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def _five_wrong(client, answer: str) -> list[int]:
    return [_answer(client, answer).status_code for _ in range(5)]


def test_five_wrong_dates_lock_the_link(client, subscription, asked, by_birth_date):
    customer = subscription.customer
    customer.birth_date = dt.date(1980, 4, 5)
    customer.save(update_fields=["birth_date"])
    link = _opened(client, customer)
    assert _five_wrong(client, "1980-05-04") == [400, 400, 400, 400, 403]
    assert _answer(client, "1980-04-05").status_code == 403
    link.refresh_from_db()
    assert link.locked_at is not None


def test_none_on_record_is_the_same_as_a_wrong_answer(
    client, subscription, asked, by_birth_date, english
):
    customer = subscription.customer
    customer.birth_date = dt.date(1980, 4, 5)
    customer.save(update_fields=["birth_date"])
    _opened(client, customer)
    wrong = _answer(client, "1980-05-04")

    customer.birth_date = None
    customer.save(update_fields=["birth_date"])
    client.cookies.clear()
    link = _opened(client, customer)
    unknown = _answer(client, "1980-05-04")

    assert unknown.status_code == wrong.status_code == 400
    assert _page(unknown) == _page(wrong) and "あと4回" in _page(unknown)
    # Empty, any date: nothing passes, and the fifth try locks as for anyone.
    assert _answer(client, "").status_code == 400
    assert [_answer(client, "1900-01-01").status_code for _ in range(4)] == [400, 400, 400, 403]
    link.refresh_from_db()
    assert link.locked_at is not None
