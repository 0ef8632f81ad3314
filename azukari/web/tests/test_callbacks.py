"""Callbacks as an SV meets them: the due list, the handoff brief, the attempt, the schedule."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from azukari.audit.models import AccessAction, AccessEvent
from azukari.cases import services as cases
from azukari.cases.models import AzukariReason, Callback, CallbackStatus, CaseKind, CaseState
from azukari.floor.tests.factories import asked_case
from azukari.testing.factories import CustomerFactory
from azukari.testing.times import callable_time
from azukari.web.tests.test_desk import unlabelled_fields


def promised_callback(
    cast, *, summary: str = "Wants to cancel", hours: int = 2, team=None
) -> Callback:
    """A call parked with a callback promised: the operator's words, then the callback."""
    customer = CustomerFactory(client=cast.coffee, phones=["+819012345678"])
    contact = cases.contact_log(
        actor=cast.operator,
        client=cast.coffee,
        customer=customer,
        summary=summary,
        stance="hardened",
    )
    case = cases.case_open(
        contact=contact, actor=cast.operator, kind=CaseKind.CANCELLATION, subject="Cancel"
    )
    cases.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason=AzukariReason.SV_CALLBACK,
        team=team or cast.osaka_desk,
        state=CaseState.CALLBACK_DUE,
        promised_callback_at=callable_time(
            case,
            after=timezone.now() + dt.timedelta(hours=hours),
            site=(team or cast.osaka_desk).site,
        ),
        note="Promised a call from a supervisor today",
    )
    return case.callbacks.get()


@pytest.fixture
def callback(cast):
    return promised_callback(cast)


def test_the_sv_sees_due_callbacks_and_operators_do_not(client, cast, callback):
    client.force_login(cast.sv)
    response = client.get(reverse("callbacks"))
    assert response.status_code == 200
    assert reverse("callback-brief", args=[callback.pk]) in response.content.decode()
    client.force_login(cast.operator)
    assert client.get(reverse("callbacks")).status_code == 403
    client.force_login(cast.outsider)  # another client's operator: the brief looks missing
    assert client.get(reverse("callback-brief", args=[callback.pk])).status_code == 404


def test_the_list_spans_the_sites_the_sv_covers_overdue_first(client, cast, callback):
    with time_machine.travel(timezone.now() - dt.timedelta(days=1), tick=False):
        late = promised_callback(cast, team=cast.sapporo_desk)
    client.force_login(cast.sv)
    rows = list(client.get(reverse("callbacks")).context["page"])
    assert [c.pk for c in rows] == [late.pk, callback.pk]
    at_sapporo = client.get(reverse("callbacks"), {"site": cast.sapporo.pk}).context["page"]
    assert [c.pk for c in at_sapporo] == [late.pk]


def test_another_clients_sv_gets_404_on_the_brief(client, cast, callback):
    from azukari.org.models import Role
    from azukari.testing.factories import UserFactory

    tea_sv = UserFactory(username="sv_tea", role=Role.SV, home_site=cast.osaka, clients=[cast.tea])
    client.force_login(tea_sv)
    assert client.get(reverse("callback-brief", args=[callback.pk])).status_code == 404
    assert "Cancel" not in client.get(reverse("callbacks")).content.decode()


def test_the_brief_tells_who_said_what_promised_and_the_stance(client, cast, callback):
    client.force_login(cast.sv)
    response = client.get(reverse("callback-brief", args=[callback.pk]))
    body = response.content.decode()
    # The Osaka SV reads the Sapporo operator as site and role, not by name.
    assert cast.operator.display_name not in body and "札幌センター・" in body
    assert "Wants to cancel" in body
    assert "Promised a call from a supervisor today" in body
    assert response.context["stance"].stance == "hardened"
    assert response.context["proposals"]
    assert AccessEvent.objects.filter(
        actor_id=cast.sv.pk, customer_ref=callback.customer_id, action=AccessAction.VIEW
    ).exists()


def test_the_brief_shows_what_was_offered_and_the_client_s_answer(client, cast):
    inquiry = asked_case(client=cast.coffee, operator=cast.operator, team=cast.osaka_desk)
    cases.inquiry_answer(
        inquiry=inquiry, actor=cast.approver, option="waive", note="Once, as a courtesy"
    )
    callback = inquiry.case.callbacks.get()
    client.force_login(cast.sv)
    response = client.get(reverse("callback-brief", args=[callback.pk]))
    offers = response.context["offers"]
    assert [o.options for o in offers] == [["Waive the fee", "Charge the fee"]]
    assert offers[0].answer == "Waive the fee — Once, as a courtesy"
    body = response.content.decode()
    assert "Charge the fee" in body and "Once, as a courtesy" in body


def test_recording_a_reached_attempt_closes_the_callback(client, cast, callback):
    client.force_login(cast.sv)
    response = client.post(
        reverse("callback-brief", args=[callback.pk]),
        {"action": "attempt", "outcome": "reached", "summary": "He accepted", "stance": "softened"},
    )
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE and callback.attempts == 1


def test_a_callback_closed_meanwhile_says_so_and_keeps_what_was_typed(client, cast, callback):
    cases.callback_attempt_record(
        callback=callback, actor=cast.desk, outcome="reached", summary="Desk reached him"
    )
    cast.sv.language = "en"
    cast.sv.save(update_fields=["language"])
    client.force_login(cast.sv)
    response = client.post(
        reverse("callback-brief", args=[callback.pk]),
        {"action": "attempt", "outcome": "reached", "summary": "I reached him", "stance": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="stale-callback"' in body and "no longer open" in body
    assert "I reached him" in body and "Desk reached him" in body
    callback.refresh_from_db()
    assert callback.attempts == 1


def test_scheduling_outside_the_customers_windows_is_refused_with_typed_values(
    client, cast, callback
):
    customer = callback.customer
    customer.days_off = list(range(7))
    customer.save(update_fields=["days_off"])
    client.force_login(cast.sv)
    when = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=11, minute=0)
    response = client.post(
        reverse("callback-brief", args=[callback.pk]),
        {"action": "schedule", "at": when.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400
    assert response.context["schedule_form"].errors["at"]
    assert when.strftime("%Y-%m-%dT%H:%M") in response.content.decode()
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.TO_SCHEDULE


def test_every_form_field_on_the_callback_pages_has_a_label(client, cast, callback):
    client.force_login(cast.sv)
    for url in (reverse("callbacks"), reverse("callback-brief", args=[callback.pk])):
        assert unlabelled_fields(client.get(url).content.decode()) == [], url


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_callback_query_counts_do_not_grow_with_data(client, cast, callback):
    client.force_login(cast.sv)
    brief = reverse("callback-brief", args=[callback.pk])
    for _ in range(2):
        promised_callback(cast)
    small = (_count(client, reverse("callbacks")), _count(client, brief))
    for _ in range(27):
        promised_callback(cast)
    for _ in range(10):
        cases.contact_log(actor=cast.operator, client=cast.coffee, customer=callback.customer)
    large = (_count(client, reverse("callbacks")), _count(client, brief))
    assert small == large
