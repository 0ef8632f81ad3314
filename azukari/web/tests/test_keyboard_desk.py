"""The operator desk works by keyboard alone: search → screen pop → log the contact.

Operators type all day with a headset on; the mouse is a detour. Only Tab, arrow keys,
Enter and typing are used here.
"""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import pytest

from azukari.cases.models import Contact, IdentityCheck
from azukari.testing.factories import CustomerFactory
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    shots,
)

pytestmark = pytest.mark.browser

MAX_TABS = 40


def tab_to(page, selector: str) -> None:
    """Presses Tab until the focused element matches `selector`."""
    for _ in range(MAX_TABS):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_search_pop_and_log_by_keyboard(browser_page, shots, cast):
    page = browser_page
    customer = CustomerFactory(client=cast.coffee, phones=["+819055556666"])
    log_in(page, cast.operator.username)
    page.goto("/desk/")
    # The search box has the focus on arrival.
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("ﾔﾏﾀﾞ")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, f"a[href^='/desk/customers/{customer.pk}/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    shots.take(page, "keyboard", 1, "pop")

    # The pop puts the focus on the first question: who is calling.
    assert page.evaluate("document.activeElement.id") == "id_caller_relation"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_identity_check"
    page.keyboard.press("ArrowDown")  # Not checked → Verified
    page.keyboard.press("Tab")
    page.keyboard.type("Date of birth")
    page.keyboard.press("Tab")
    page.keyboard.type("Delivery date")
    page.keyboard.press("Tab")
    page.keyboard.type("Asked to move the next delivery; done on the call.")
    tab_to(page, "#contact-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/desk/")

    contact = Contact.objects.get(customer=customer)
    assert contact.identity_check == IdentityCheck.VERIFIED
    assert contact.identity_method == "Date of birth"
    assert contact.summary == "Asked to move the next delivery; done on the call."
