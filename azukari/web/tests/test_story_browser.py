"""DESIGN.md §1 end to end in a real browser: the call, the azukari, the client's answer, the
callback with its handoff brief, the resolution. In Japanese; the first three pages again in
English. Every page is saved under screenshots/ (git-ignored)."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.cases.models import Case, CaseState, Inquiry
from azukari.subscriptions.models import CancellationRequest
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    log_out,
    ring,
    shots,
    submit,
)
from azukari.web.tests.test_security import _code as totp_code

pytestmark = pytest.mark.browser


@pytest.fixture
def story(cast):
    """The customer after two of three deliveries, on the coffee client's policy."""
    coffee_policy(cast.coffee)
    subscription = story_subscription(
        cast.coffee, started_on=timezone.localdate() - dt.timedelta(days=45)
    )
    return subscription


def _first_three_pages(page, shots, cast, story, walk: str, texts: dict[str, str]) -> Case:
    """Screen pop → identity check and contact logged → cancellation options."""
    page.goto(reverse("desk"))
    assert page.get_attribute("html", "lang") == texts["lang"]
    page.click("#incoming-pop")
    page.wait_for_url(re.compile(r"/desk/customers/\d+/"))
    assert "2 / 3" in page.inner_text("main")
    assert texts["pop"] in page.inner_text("main")
    shots.take(page, walk, 1, "screen-pop")

    page.select_option("#id_caller_relation", "holder")
    page.select_option("#id_identity_check", "verified")
    page.fill("#id_identity_method", texts["identity"])
    page.fill("#id_reason", texts["reason"])
    page.fill("#id_summary", texts["summary"])
    page.select_option("#id_stance", "dissatisfied")
    page.select_option("#id_kind", "cancellation")
    page.fill("#id_subject", texts["subject"])
    page.select_option("#id_subscription", str(story.pk))
    submit(page, "#contact-form button[type=submit]")
    page.wait_for_url(re.compile(r"/desk/cases/\d+/"))
    case = Case.objects.get(customer=story.customer, state=CaseState.OPEN)
    assert texts["case"] in page.inner_text("main")
    shots.take(page, walk, 2, "identity-checked")

    submit(page, "#cancellation-record")
    page.wait_for_url(re.compile(r"/cancellations/\d+/"))
    assert story.terms_snapshot["text"] in page.inner_text("#terms-text")
    assert texts["options"] in page.inner_text("main")
    shots.take(page, walk, 3, "cancellation-options")
    return case


JA = {
    "lang": "ja",
    "pop": "山田",
    "identity": "生年月日と郵便番号",
    "reason": "解約",
    "summary": "2回受け取ったが、もう解約したい。漏れの件も伝えた。",
    "subject": "定期便の解約希望",
    "case": "定期便の解約希望",
    "options": "2024-04",  # the terms version shown with the verbatim terms
}
EN = {
    "lang": "en",
    "pop": "Subscriptions",
    "identity": "Date of birth and postcode",
    "reason": "Cancel",
    "summary": "Received two deliveries, wants to cancel now.",
    "subject": "Wants to cancel the bean subscription",
    "case": "Park as azukari",
    "options": "Options to read out",
}


def test_the_story_in_japanese(browser_page, shots, cast, story):
    page = browser_page
    ring(cast, story.customer, "story-ja")
    log_in(page, cast.operator.username)
    case = _first_three_pages(page, shots, cast, story, "ja", JA)

    # Azukari: the operator cannot decide the exception; the case is parked with the desk.
    page.goto(reverse("desk-case", args=[case.pk]))
    page.select_option("#id_park-reason", "client_decision")
    page.select_option("#id_park-team", str(cast.sapporo_desk.pk))
    page.fill("#id_park-note", "会社に確認し、1週間以内にご連絡すると伝えた")
    submit(page, "#park-form button[type=submit]")
    case.refresh_from_db()
    assert case.state == CaseState.AZUKARI and case.owner_team == cast.sapporo_desk
    shots.take(page, "ja", 4, "azukari")

    # The exception goes to the client as an inquiry, from the cancellation desk.
    request = CancellationRequest.objects.get(case=case)
    page.goto(reverse("cancellation-desk", args=[request.pk]))
    row = page.locator("#option-exceptionhardship")
    row.locator("textarea[name=reason]").fill("収入が大きく減ったとのこと")
    with page.expect_navigation():
        row.locator("form:has(textarea[name=reason]) button[type=submit]").click()
    inquiry = Inquiry.objects.get(case=case)
    case.refresh_from_db()
    assert case.state == CaseState.WAITING_CLIENT
    shots.take(page, "ja", 5, "inquiry-sent")

    # The client approver answers in the portal, behind the second factor.
    log_out(page)
    device = TOTPDevice.objects.create(user=cast.approver, name="app", confirmed=True)
    log_in(page, cast.approver.username)
    page.wait_for_url(re.compile(r"/account/2fa/"))
    page.fill("input[name=token]", totp_code(device))
    submit(page, "main button[type=submit]")
    page.goto(reverse("portal-inquiries"))
    shots.take(page, "ja", 6, "portal-inquiries")
    page.goto(reverse("portal-inquiry", args=[inquiry.pk]))
    page.check("input[name=option][value=grant]")
    page.fill("textarea[name=note]", "事情を考慮し、例外を認めます")
    submit(page, "main form.stacked button[type=submit]")
    shots.take(page, "ja", 7, "portal-answered")
    case.refresh_from_db()
    assert case.state == CaseState.CALLBACK_DUE
    callback = case.callbacks.get(status="to_schedule")

    # The SV reads the handoff brief before calling back.
    log_out(page)
    log_in(page, cast.sv.username)
    page.goto(reverse("callbacks"))
    shots.take(page, "ja", 8, "callbacks")
    page.click(f"a[href='{reverse('callback-brief', args=[callback.pk])}']")
    page.wait_for_url(re.compile(r"/callbacks/\d+/"))
    brief = page.inner_text("main")
    # The operator works in Sapporo, the SV in Osaka: named by site and role, not by name.
    assert "札幌センター・" in brief and cast.operator.display_name not in brief
    assert JA["summary"] in brief
    assert "事情を考慮し、例外を認めます" in brief or "例外" in brief
    shots.take(page, "ja", 9, "handoff-brief")
    submit(page, "#schedule-form button[type=submit]")
    page.select_option("#id_outcome", "reached")
    page.fill("#id_summary", "例外が認められたことを伝え、納得いただいた")
    page.select_option("#id_stance", "softened")
    submit(page, "#attempt-form button[type=submit]")
    callback.refresh_from_db()
    assert callback.status == "done"

    # Resolved, with the outcome told to the customer.
    page.goto(reverse("desk-case", args=[case.pk]))
    page.fill("#id_resolve-outcome", "例外として解約。本人了承済み")
    submit(page, "#resolve-form button[type=submit]")
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED
    shots.take(page, "ja", 10, "resolved")


def test_the_first_three_pages_in_english(browser_page, shots, cast, story):
    page = browser_page
    ring(cast, story.customer, "story-en")
    log_in(page, cast.operator.username)
    page.goto(reverse("desk"))
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.get_attribute("html", "lang") == "en"
    _first_three_pages(page, shots, cast, story, "en", EN)
