"""The story's customer, his bean subscription, and the worker's queue run by hand."""

import datetime as dt

import pytest
import time_machine
from django.utils.module_loading import import_string

from azukari.core.businesstime import TOKYO
from azukari.selfservice.models import Link
from azukari.selfservice.services import link_token
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription
from azukari.testing.factories import CustomerFactory

# A Tuesday morning, after the 2nd delivery (the story of DESIGN.md §1).
ASKED = dt.datetime(2026, 10, 20, 10, 0, tzinfo=TOKYO)
STARTED_ON = dt.date(2026, 9, 1)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The limits count per address in the cache: every test starts with none spent."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def asked():
    with time_machine.travel(ASKED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def customer(cast):
    return CustomerFactory(
        client=cast.coffee,
        customer_number="C-1001",
        family_name="山田",
        given_name="太郎",
        postcode="060-0001",
        email="taro@example.jp",
        phones=["+819012345678"],
    )


@pytest.fixture
def subscription(cast, customer):
    coffee_policy(cast.coffee)
    return story_subscription(cast.coffee, started_on=STARTED_ON, customer=customer)


def token_of(link: Link) -> str:
    return link_token(link)


def run_queued(prefix: str = "azukari.selfservice.") -> list:
    """Runs the queued tasks of self-service as the worker would, and removes them."""
    from django_q.models import OrmQ

    results = []
    for row in OrmQ.objects.order_by("id"):
        task = row.task
        func = task.get("func")
        if isinstance(func, str) and func.startswith(prefix):
            results.append(import_string(func)(*task.get("args", ())))
            row.delete()
    return results
