"""Fairness as a property: for any subscription state, what the self-service page showed
the customer (its kept record, and the page itself) is exactly what the desk's builder
gives the operator for the same subscription on the same day."""

import datetime as dt
import html

import pytest
import time_machine
from django.core.signing import get_cookie_signer
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azukari.core.businesstime import TOKYO
from azukari.selfservice.models import Link, LinkChannel, LinkOrigin, PageView
from azukari.selfservice.services import link_issue, link_open
from azukari.selfservice.tests.conftest import token_of
from azukari.selfservice.views import COOKIE, COOKIE_SALT
from azukari.subscriptions.models import CancellationRequest, Policy
from azukari.subscriptions.selectors import subscription_options
from azukari.subscriptions.services import cancellation_request_record
from azukari.subscriptions.tests.factories import (
    cancellation_call,
    coffee_policy,
    story_subscription,
)
from azukari.testing.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@st.composite
def states(draw):
    planned = draw(st.integers(0, 6))
    started = draw(st.integers(0, 200))
    return {
        "shipped": draw(st.integers(0, planned)),
        "planned": planned,
        "started_days_ago": started,
        # Asked on a day of the subscription, before or on today (or never).
        "asked_days_ago": draw(st.none() | st.integers(0, min(40, started))),
        "language": draw(st.sampled_from(["ja", "en"])),
    }


def _signed_in(link: Link, language: str) -> Browser:
    _link, secret = link_open(token=token_of(link))
    Link.objects.filter(pk=link.pk).update(identity_confirmed_at=timezone.now())
    browser = Browser()
    browser.cookies[COOKIE] = get_cookie_signer(salt=COOKIE + COOKIE_SALT).sign(secret)
    browser.cookies["django_language"] = language
    return browser


def _as_record(options) -> list[dict]:
    return [
        {
            "code": o.code,
            "label": o.label,
            "cost_yen": o.cost_yen,
            "effective_on": o.effective_on.isoformat(),
            "deliveries_to_ship": o.deliveries_to_ship,
            "approval_level": o.approval_level,
            "explanation": o.explanation,
        }
        for o in options
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(state=states())
def test_the_page_shows_exactly_the_desks_options(cast, state):
    today = dt.date(2026, 10, 20)
    with time_machine.travel(dt.datetime(2026, 10, 20, 10, 0, tzinfo=TOKYO), tick=False):
        if not Policy.objects.filter(client=cast.coffee).exists():
            coffee_policy(cast.coffee)
        customer = CustomerFactory(client=cast.coffee, phones=["+819012345678"])
        subscription = story_subscription(
            cast.coffee,
            started_on=today - dt.timedelta(days=state["started_days_ago"]),
            shipped=state["shipped"],
            planned=state["planned"],
            customer=customer,
        )
        if state["asked_days_ago"] is not None:
            asked_on = today - dt.timedelta(days=state["asked_days_ago"])
            with time_machine.travel(
                dt.datetime.combine(asked_on, dt.time(10), tzinfo=TOKYO), tick=False
            ):
                case = cancellation_call(actor=cast.operator, subscription=subscription)
                cancellation_request_record(actor=cast.operator, case=case)
            assert CancellationRequest.objects.filter(subscription=subscription).exists()
        subscription.refresh_from_db()
        link = link_issue(customer=customer, channel=LinkChannel.SMS, origin=LinkOrigin.API)
        page = _signed_in(link, state["language"]).get(reverse("selfservice-home"))
        assert page.status_code == 200
        shown = PageView.objects.filter(link=link, page="options").get().shown
        desk = subscription_options(subscription=subscription, language=state["language"])
        (record,) = shown["subscriptions"]
        assert record["options"] == _as_record(desk)
        text = html.unescape(page.content.decode())
        for option in desk:
            assert option.label in text
            if not option.is_exception:
                assert option.explanation in text
