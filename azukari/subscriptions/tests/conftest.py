"""Fixtures for the policy tests: the coffee client's policy and the story's subscription."""

import datetime as dt

import pytest
import time_machine

from azukari.core.businesstime import TOKYO
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription

# The customer of DESIGN.md §1 calls on this day, after his 2nd delivery.
FIRST_CALL = dt.datetime(2026, 10, 20, 10, 0, tzinfo=TOKYO)
STARTED_ON = dt.date(2026, 9, 1)


@pytest.fixture
def first_call():
    with time_machine.travel(FIRST_CALL, tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(cast):
    return coffee_policy(cast.coffee)


@pytest.fixture
def subscription(cast, policy):
    return story_subscription(cast.coffee, started_on=STARTED_ON)
