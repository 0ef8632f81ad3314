"""The operator desk works by keyboard alone: search → screen pop → log the contact.

Operators type all day with a headset on; the mouse is a detour. Only Tab, arrow keys,
Enter and typing are used here.
"""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import pytest

from azukari.cases import services as cases
from azukari.cases.models import AZUKARI_STATES, Case, CaseKind, CaseState, Contact, IdentityCheck
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


def _open_case(cast, subject: str) -> Case:
    customer = CustomerFactory(client=cast.coffee, phones=["+819055557777"])
    contact = cases.contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
    return cases.case_open(
        contact=contact, actor=cast.operator, kind=CaseKind.OTHER, subject=subject
    )


def test_resolve_and_park_by_keyboard(browser_page, shots, cast):
    page = browser_page
    first = _open_case(cast, "Address change")
    second = _open_case(cast, "Needs the client's decision")
    log_in(page, cast.operator.username)

    page.goto(f"/desk/cases/{first.pk}/")
    tab_to(page, "#id_resolve-outcome")
    page.keyboard.type("Changed the address on the call.")
    tab_to(page, "#resolve-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    first.refresh_from_db()
    assert first.state == CaseState.RESOLVED

    page.goto(f"/desk/cases/{second.pk}/")
    tab_to(page, "#id_park-reason")
    page.keyboard.press("ArrowDown")  # Client decision → SV callback
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_park-team"
    page.keyboard.press("ArrowDown")  # the first team this operator's site may hand to
    tab_to(page, "#id_park-note")
    page.keyboard.type("Asked the client; promised an answer within a week.")
    shots.take(page, "keyboard", 2, "park")
    tab_to(page, "#park-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    second.refresh_from_db()
    assert second.state in AZUKARI_STATES and second.owner_team_id is not None
