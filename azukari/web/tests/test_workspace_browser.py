"""The story across roles in one run, in a real browser, worked in the case workspace.

The call rings; the operator opens it with one key, reads the options on the first screen,
records the request and asks the client for an exception — at most three page loads from the
ring. The customer calls again and the call joins the same case. The client approver answers
in the portal; the SV is refused a time on the customer's day off and schedules one inside
his windows, reads the brief, calls, and resolves the case; the board no longer counts it.
Every page is saved under screenshots/ (workspace-NN-*.png).
"""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from azukari.cases.models import Callback, Case, CaseState, Contact, Inquiry
from azukari.core.businesstime import TOKYO
from azukari.subscriptions.models import CancellationRequest
from azukari.subscriptions.tests.factories import coffee_policy, story_subscription
from azukari.testing.times import callable_time
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
WALK = "workspace"


@pytest.fixture
def story(cast):
    """After two of three deliveries; the customer asked never to be called on Sundays."""
    coffee_policy(cast.coffee)
    subscription = story_subscription(
        cast.coffee, started_on=timezone.localdate() - dt.timedelta(days=45)
    )
    customer = subscription.customer
    customer.days_off = [6]
    customer.save(update_fields=["days_off"])
    return subscription


def next_sunday_afternoon() -> dt.datetime:
    today = timezone.localdate()
    sunday = today + dt.timedelta(days=(6 - today.weekday()) or 7)
    return dt.datetime.combine(sunday, dt.time(14), tzinfo=TOKYO)


def test_the_story_from_ring_to_resolution_across_roles(browser_page, shots, cast, story):
    page = browser_page
    log_in(page, cast.operator.username)
    page.goto(reverse("desk"))
    ring(cast, story.customer, "call-1")
    page.wait_for_selector("#incoming-pop", timeout=15_000)  # the panel's poll shows it
    shots.take(page, WALK, 1, "ringing")

    # From the ring: every document load the operator waits for is counted.
    loads = []
    page.on("load", lambda: loads.append(page.url))

    # 1. One key opens the ringing call: the pop, with the options on the first screen.
    with page.expect_navigation():
        page.keyboard.press("F2")
    page.wait_for_url(re.compile(r"/desk/customers/\d+/"))
    assert page.is_visible("#cancellation-options")
    assert not page.is_visible("#exception-grounds table")  # apart, folded, not read out
    assert "4,940" in page.inner_text("#cancellation-options")
    shots.take(page, WALK, 2, "pop-with-options")

    # 2. Identity checked, the options read out, the request recorded with the call.
    page.select_option("#id_caller_relation", "holder")
    page.select_option("#id_identity_check", "verified")
    page.fill("#id_identity_method", "生年月日")
    page.fill("#id_summary", "2回受け取ったが解約したい。収入が大きく減ったとのこと。")
    page.select_option("#id_stance", "dissatisfied")
    submit(page, f"#record-request-{story.pk}")
    page.wait_for_url(re.compile(r"/desk/cases/\d+/"))
    case = Case.objects.get(customer=story.customer)
    request = CancellationRequest.objects.get(case=case)
    assert request.requested_on == timezone.localdate()
    assert page.is_visible("#cancellation-options")
    shots.take(page, WALK, 3, "request-recorded")

    # 3. The customer raised hardship: the exception goes to the client as an inquiry, and
    # the case is parked with the operator's desk.
    page.select_option("#id_exception-ground", "hardship")
    page.fill("#id_exception-reason", "収入が大きく減ったとのこと")
    submit(page, "#exception-form button[type=submit]")
    case.refresh_from_db()
    assert case.state == CaseState.WAITING_CLIENT
    assert case.owner_team == cast.sapporo_desk
    assert page.is_visible("#open-inquiry")
    shots.take(page, WALK, 4, "parked-with-inquiry")
    assert len(loads) <= 3, loads  # ring → options → request → parked with an inquiry

    # The customer calls again about the same cancellation: one case, the call on it.
    page.goto(reverse("desk"))
    assert not page.is_visible("#incoming-pop")  # the first call is recorded: no longer offered
    ring(cast, story.customer, "call-2")
    page.wait_for_selector("#incoming-pop", timeout=15_000)
    with page.expect_navigation():
        page.keyboard.press("F2")
    assert page.is_visible("#open-cases-banner")
    assert "期限" in page.inner_text("#open-cases-banner")  # the inquiry's due time
    shots.take(page, WALK, 5, "second-call-banner")
    page.select_option("#id_caller_relation", "holder")
    page.select_option("#id_identity_check", "verified")
    page.fill("#id_summary", "まだ回答がないのかとのお問い合わせ")
    submit(page, f"#open-case-{case.pk} button.on-case")
    page.wait_for_url(re.compile(rf"/desk/cases/{case.pk}/"))
    assert Case.objects.filter(customer=story.customer).count() == 1
    assert Contact.objects.filter(case=case).count() == 2
    shots.take(page, WALK, 6, "second-call-on-the-case")

    # The client approver answers in the portal, behind the second factor.
    log_out(page)
    inquiry = Inquiry.objects.get(case=case)
    device = TOTPDevice.objects.create(user=cast.approver, name="app", confirmed=True)
    log_in(page, cast.approver.username)
    page.wait_for_url(re.compile(r"/account/2fa/"))
    page.fill("input[name=token]", totp_code(device))
    submit(page, "main button[type=submit]")
    page.goto(reverse("portal-inquiry", args=[inquiry.pk]))
    page.check("input[name=option][value=grant]")
    page.fill("textarea[name=note]", "事情を考慮し、例外を認めます")
    submit(page, "main form.stacked button[type=submit]")
    shots.take(page, WALK, 7, "portal-answered")
    case.refresh_from_db()
    assert case.state == CaseState.CALLBACK_DUE
    callback = Callback.objects.get(case=case, status="to_schedule")

    # The SV schedules the callback: his day off is refused, a time in his windows is kept.
    log_out(page)
    log_in(page, cast.sv.username)
    page.goto(reverse("callback-brief", args=[callback.pk]))
    brief = page.inner_text("main")
    assert "まだ回答がないのか" in brief  # the second call is in the brief
    assert page.is_visible("#dial")
    page.fill(
        "#schedule-form input[type=datetime-local]",
        next_sunday_afternoon().strftime("%Y-%m-%dT%H:%M"),
    )
    submit(page, "#schedule-form button[type=submit]")
    assert "曜日" in page.inner_text("#schedule-form")  # refused: his day off
    callback.refresh_from_db()
    assert callback.scheduled_for is None
    shots.take(page, WALK, 8, "forbidden-time-refused")
    allowed = callable_time(case, after=timezone.now() + dt.timedelta(days=1))
    page.fill(
        "#schedule-form input[type=datetime-local]",
        allowed.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
    )
    submit(page, "#schedule-form button[type=submit]")
    callback.refresh_from_db()
    assert callback.scheduled_for == allowed
    shots.take(page, WALK, 9, "callback-scheduled")

    # The SV calls, and resolves the case in the workspace.
    page.select_option("#id_outcome", "reached")
    page.fill("#id_summary", "例外が認められたことを伝え、納得いただいた")
    page.select_option("#id_stance", "softened")
    submit(page, "#attempt-form button[type=submit]")
    page.goto(reverse("desk-case", args=[case.pk]))
    page.fill("#id_resolve-outcome", "例外として解約。本人了承済み")
    submit(page, "#resolve-form button[type=submit]")
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED
    assert page.is_visible("ul.messages")  # the page says it worked
    shots.take(page, WALK, 10, "resolved")

    # The board no longer counts it among the open azukari.
    page.goto(reverse("backlog"))
    shots.take(page, WALK, 11, "board")
    assert case.pk not in [
        c.pk for c in Case.objects.filter(state__in=["azukari", "waiting_client", "callback_due"])
    ]


def test_the_desk_works_a_parked_case_by_keyboard(browser_page, shots, cast, story):
    """The workspace's main actions are reachable without a mouse: Tab to a field, type,
    Enter sends its form."""
    from azukari.cases import services as cases

    contact = cases.contact_log(actor=cast.operator, client=cast.coffee, customer=story.customer)
    case = cases.case_open(
        contact=contact, actor=cast.operator, kind="complaint", subject="Grinder broken"
    )
    case = cases.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason="investigation",
        team=cast.sapporo_desk,
    )
    log_in(page := browser_page, cast.desk.username)
    page.goto(reverse("desk-case", args=[case.pk]))
    page.focus("#id_note-note")
    page.keyboard.type("Asked the warehouse for the serial number")
    page.keyboard.press("Tab")  # to the form's button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert case.events.filter(kind="note").exists()
    page.focus("#id_assign-team")
    page.keyboard.press("ArrowUp")  # from the desk's own (Sapporo) to Osaka's
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Osaka checks the warehouse")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    case.refresh_from_db()
    assert case.owner_team == cast.osaka_desk
    shots.take(page, "workspace-keyboard", 1, "handed-over")
