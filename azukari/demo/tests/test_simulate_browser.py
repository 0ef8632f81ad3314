"""A newcomer on the demo presses "simulate an incoming call" and sees the call ring, in a
real browser: the desk's polling picks the call up and offers the screen pop."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import pytest
from django.test import override_settings

from azukari.testing.factories import CustomerFactory
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    shots,
)

pytestmark = pytest.mark.browser


@override_settings(AZUKARI_DEMO=True)
def test_the_simulated_call_rings_on_the_desk_and_opens_the_pop(browser_page, shots, cast):
    page = browser_page
    customer = CustomerFactory(client=cast.coffee, phones=["+819077778888"])
    log_in(page, cast.operator.username)
    page.goto("/desk/")
    assert page.locator("#incoming-pop").count() == 0
    shots.take(page, "demo", 1, "desk-before-the-call")
    with page.expect_navigation():
        page.click("#simulate-call button[type=submit]")
    page.wait_for_selector("#incoming-pop")  # the panel (polled every 3 s) shows the call
    assert page.locator(".messages").count() == 1
    shots.take(page, "demo", 2, "desk-ringing")
    with page.expect_navigation():
        page.click("#incoming-pop")
    assert f"/desk/customers/{customer.pk}/" in page.url
    shots.take(page, "demo", 3, "screen-pop")
