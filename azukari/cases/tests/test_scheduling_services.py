"""Scheduling and calling back through the services: windows, spacing, the cap, next step."""

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from azukari.cases import services
from azukari.cases.background import callbacks_propose
from azukari.cases.models import AttemptOutcome, CallbackStatus, CaseKind, CaseState
from azukari.core.businesstime import TOKYO
from azukari.core.errors import DomainError
from azukari.testing.factories import CustomerFactory

MONDAY_10 = dt.datetime(2026, 6, 1, 10, tzinfo=TOKYO)


@pytest.fixture
def callback(cast):
    """The story's customer: off on Wednesdays, quiet after 20:00, prefers 18:00-20:00."""
    customer = CustomerFactory(
        client=cast.coffee,
        quiet_from=dt.time(20),
        quiet_until=dt.time(9),
        days_off=[2],
        call_windows=[{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "20:00"}],
    )
    with time_machine.travel(MONDAY_10, tick=False):
        contact = services.contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
        case = services.case_open(
            contact=contact, actor=cast.operator, kind=CaseKind.CANCELLATION, subject="Cancel"
        )
        case = services.case_park(
            case=case,
            version=case.version,
            actor=cast.operator,
            reason="sv_callback",
            team=cast.sapporo_desk,
            state=CaseState.CALLBACK_DUE,
            promised_callback_at=MONDAY_10 + dt.timedelta(hours=9),
        )
    return case.callbacks.get()


@translation.override("en")
@time_machine.travel(MONDAY_10, tick=False)
def test_scheduling_refuses_times_the_customer_does_not_want(cast, callback):
    for when, reason in [
        (dt.datetime(2026, 6, 1, 20, 30, tzinfo=TOKYO), "quiet hours"),
        (dt.datetime(2026, 6, 3, 18, 0, tzinfo=TOKYO), "not to be called"),
        (dt.datetime(2026, 6, 1, 14, 0, tzinfo=TOKYO), "outside the times"),
    ]:
        with pytest.raises(DomainError) as refused:
            services.callback_schedule(callback=callback, actor=cast.sv, at=when)
        assert refused.value.field == "scheduled_for"
        assert reason in str(refused.value)
    good = dt.datetime(2026, 6, 1, 18, 30, tzinfo=TOKYO)
    scheduled = services.callback_schedule(callback=callback, actor=cast.sv, at=good)
    assert scheduled.status == CallbackStatus.SCHEDULED and scheduled.scheduled_for == good


@time_machine.travel(MONDAY_10, tick=False)
def test_a_time_the_customer_asked_for_is_kept_if_the_site_works(cast, callback):
    asked = dt.datetime(2026, 6, 3, 11, 0, tzinfo=TOKYO)  # his day off, but he asked
    scheduled = services.callback_schedule(
        callback=callback, actor=cast.sv, at=asked, customer_requested=True
    )
    assert scheduled.scheduled_for == asked
    with pytest.raises(DomainError):
        services.callback_schedule(
            callback=callback,
            actor=cast.sv,
            at=dt.datetime(2026, 6, 3, 22, 0, tzinfo=TOKYO),  # Sapporo closes at 21:00
            customer_requested=True,
        )


def test_attempts_are_spaced_capped_and_end_in_the_clients_next_step(cast, callback):
    cast.coffee.unreachable_next_step = "letter"
    cast.coffee.callback_retry_minutes = 60
    cast.coffee.save()
    now = dt.datetime(2026, 6, 1, 18, 0, tzinfo=TOKYO)
    with time_machine.travel(now, tick=False) as clock:
        services.callback_attempt_record(
            callback=callback, actor=cast.sv, outcome=AttemptOutcome.NO_ANSWER
        )
        callback.refresh_from_db()
        assert callback.status == CallbackStatus.TO_SCHEDULE
        assert callback.next_attempt_not_before == now + dt.timedelta(minutes=60)
        with pytest.raises(DomainError):
            services.callback_attempt_record(
                callback=callback, actor=cast.sv, outcome=AttemptOutcome.BUSY
            )
        with pytest.raises(DomainError):
            services.callback_schedule(
                callback=callback, actor=cast.sv, at=now + dt.timedelta(minutes=30)
            )
        assert callbacks_propose() == 1
        callback.refresh_from_db()
        offered = [dt.datetime.fromisoformat(t) for t in callback.proposed_times]
        assert offered and all(t >= now + dt.timedelta(minutes=60) for t in offered)
        assert offered[0] == dt.datetime(2026, 6, 1, 19, 0, tzinfo=TOKYO)
        for _ in range(2):
            clock.shift(dt.timedelta(hours=1))
            services.callback_attempt_record(
                callback=callback, actor=cast.sv, outcome=AttemptOutcome.NO_ANSWER
            )
    callback.refresh_from_db()
    case = callback.case
    case.refresh_from_db()
    assert callback.status == CallbackStatus.UNREACHABLE
    assert case.state == CaseState.WAITING_CUSTOMER
    last = case.events.last()
    assert last.kind == "callback_unreachable" and last.data["next_step"] == "letter"
