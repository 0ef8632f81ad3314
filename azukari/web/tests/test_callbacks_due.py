"""When a callback is due, overdue or still to schedule: the callbacks list, the board and the
API agree because they read one definition (azukari.cases.overdue)."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from azukari.audit.models import AccessAction, AccessEvent
from azukari.cases import services as cases
from azukari.cases.models import Callback, CallbackStatus
from azukari.cases.overdue import CALLBACK_GRACE
from azukari.cases.scheduling import callback_proposals
from azukari.floor.tests.factories import asked_case, at

# A Wednesday morning in Tokyo: the inquiry is sent, answered at once.
START = at("2026-11-25", "10:00")


def answered_callback(cast, *, when: dt.datetime = START, customer=None) -> Callback:
    """The client answered an inquiry: the center owes the customer a call, time not set."""
    with time_machine.travel(when, tick=False):
        inquiry = asked_case(
            client=cast.coffee,
            operator=cast.operator,
            team=cast.osaka_desk,
            due_at=when + dt.timedelta(days=2),
        )
        if customer is not None:
            inquiry.case.customer = customer
            inquiry.case.save(update_fields=["customer"])
        cases.inquiry_answer(inquiry=inquiry, actor=cast.approver, option="waive")
        return Callback.objects.get(case=inquiry.case)


def scheduled(cast, callback: Callback, *, after: dt.datetime) -> Callback:
    """Scheduled through the scheduler at its first allowed time after `after`."""
    with time_machine.travel(after - dt.timedelta(minutes=1), tick=False):
        when = callback_proposals(callback=callback, now=after)[0]
        cases.callback_schedule(callback=callback, actor=cast.sv, at=when)
    callback.refresh_from_db()
    return callback


def listed(client, now: dt.datetime) -> dict[int, str]:
    """Callback id → where the list puts it ("overdue", "due", "upcoming", "to_schedule")."""
    with time_machine.travel(now, tick=False):
        page = client.get(reverse("callbacks")).context["page"]
    return {cb.pk: cb.when for cb in page}


def board_overdue(client, now: dt.datetime) -> int:
    with time_machine.travel(now, tick=False):
        return client.get(reverse("backlog")).context["callback_count"]


def test_a_callback_with_no_time_is_to_schedule_not_overdue(client, cast):
    callback = answered_callback(cast)
    assert callback.status == CallbackStatus.TO_SCHEDULE and callback.promised_for is None
    client.force_login(cast.sv)
    # Created a moment ago, and the next morning: still "to schedule", never overdue.
    for now in (START + dt.timedelta(minutes=1), START + dt.timedelta(days=1)):
        assert listed(client, now) == {callback.pk: "to_schedule"}
        assert board_overdue(client, now) == 0
    with time_machine.travel(START, tick=False):
        html = client.get(reverse("callbacks")).content.decode()
    assert "予定未設定" in html  # "To schedule"
    assert "overdue ·" not in html


def test_due_when_the_time_comes_overdue_after_the_grace_and_the_board_agrees(client, cast):
    callback = scheduled(cast, answered_callback(cast), after=START)
    due = callback.scheduled_for
    client.force_login(cast.sv)
    assert listed(client, due - dt.timedelta(hours=1)) == {callback.pk: "upcoming"}
    assert board_overdue(client, due - dt.timedelta(hours=1)) == 0
    assert listed(client, due) == {callback.pk: "due"}
    assert listed(client, due + CALLBACK_GRACE) == {callback.pk: "due"}
    assert board_overdue(client, due + CALLBACK_GRACE) == 0
    late = due + CALLBACK_GRACE + dt.timedelta(seconds=1)
    assert listed(client, late) == {callback.pk: "overdue"}
    assert board_overdue(client, late) == 1
    # The board's click-through list holds it too.
    with time_machine.travel(late, tick=False):
        page = client.get(reverse("backlog-list", args=["callbacks"]))
    assert page.status_code == 200 and len(page.context["rows"]) == 1


def test_a_time_days_away_is_not_listed_as_due(client, cast):
    callback = scheduled(cast, answered_callback(cast), after=START + dt.timedelta(days=6))
    client.force_login(cast.sv)
    assert callback.scheduled_for >= START + dt.timedelta(days=6)
    assert callback.pk not in listed(client, START + dt.timedelta(minutes=5))
    assert board_overdue(client, START + dt.timedelta(minutes=5)) == 0


def test_one_row_per_callback_grouped_by_customer(client, cast):
    first = answered_callback(cast)
    second = answered_callback(cast, customer=first.customer)
    other = answered_callback(cast)
    second = scheduled(cast, second, after=START)
    client.force_login(cast.sv)
    now = second.scheduled_for + dt.timedelta(hours=1)
    with time_machine.travel(now, tick=False):
        response = client.get(reverse("callbacks"))
    rows = list(response.context["page"])
    assert sorted(cb.pk for cb in rows) == sorted([first.pk, second.pk, other.pk])
    # The customer with an overdue callback comes first, both of his callbacks together.
    assert [cb.pk for cb in rows][:2] == [second.pk, first.pk]
    html = response.content.decode()
    assert html.count('class="customer-group"') == 2
    assert len(re.findall(r'data-callback="\d+"', html)) == 3


@pytest.mark.django_db
def test_the_brief_shows_the_number_to_dial_masked_and_reveals_it_audited(client, cast):
    callback = answered_callback(cast)
    number = callback.customer.phones.get().number
    client.force_login(cast.sv)
    html = client.get(reverse("callback-brief", args=[callback.pk])).content.decode()
    dial = re.search(r'<p id="dial">(.*?)</p>', html, re.S).group(1)
    local = "0" + number[3:]  # +8190... is dialled 090... in Japan
    assert local[-4:] in dial and local not in dial and number not in dial
    assert reverse("customer-reveal", args=[callback.customer_id]) in dial
    before = AccessEvent.objects.filter(action=AccessAction.REVEAL).count()
    revealed = client.post(
        reverse("customer-reveal", args=[callback.customer_id]),
        {"field": "phones", "purpose": f"case:{callback.case_id}"},
    )
    assert revealed.status_code == 200
    assert local[-8:].replace("-", "") in revealed.content.decode().replace("-", "")
    assert AccessEvent.objects.filter(action=AccessAction.REVEAL).count() == before + 1


def _queries(client, now: dt.datetime) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(now, tick=False), CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("callbacks")).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_asks_as_many_queries_for_many_callbacks_as_for_few(client, cast):
    first = answered_callback(cast)
    client.force_login(cast.sv)
    few = _queries(client, START + dt.timedelta(hours=1))
    for _ in range(6):
        answered_callback(cast, customer=first.customer)
        answered_callback(cast)
    assert _queries(client, START + dt.timedelta(hours=1)) == few
