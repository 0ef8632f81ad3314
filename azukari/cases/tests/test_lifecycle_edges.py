"""DESIGN.md's state table, edge by edge: each legal move works, each other one is refused."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone, translation

from azukari.cases import services
from azukari.cases.models import CallbackStatus, InquiryStatus
from azukari.cases.statemachine import TRANSITIONS
from azukari.cases.tests.builders import fresh, move, new_case, row_counts
from azukari.core.businesstime import TOKYO
from azukari.core.errors import IllegalTransition

OPEN, AZUKARI, W_CLIENT, W_CUSTOMER, CB_DUE, RESOLVED, CLOSED = (
    "open",
    "azukari",
    "waiting_client",
    "waiting_customer",
    "callback_due",
    "resolved",
    "closed",
)
PARKED = {AZUKARI, W_CLIENT, W_CUSTOMER, CB_DUE}
# Written out from DESIGN.md §4, not derived from the code under test.
DESIGN_TABLE: dict[str, set[str]] = {
    OPEN: PARKED | {RESOLVED},
    AZUKARI: {W_CLIENT, W_CUSTOMER, CB_DUE, RESOLVED},
    W_CLIENT: {AZUKARI, W_CUSTOMER, CB_DUE, RESOLVED},
    W_CUSTOMER: {AZUKARI, W_CLIENT, CB_DUE, RESOLVED},
    CB_DUE: {AZUKARI, W_CLIENT, W_CUSTOMER, RESOLVED},
    RESOLVED: {AZUKARI, CLOSED},
    CLOSED: {AZUKARI},
}
STATES = list(DESIGN_TABLE)
LEGAL = sorted((a, b) for a, targets in DESIGN_TABLE.items() for b in targets)
# Nothing ever moves a case back to `open`, so those pairs have no service to try.
ILLEGAL = sorted(
    (a, b) for a, b in itertools.product(STATES, STATES) if b not in DESIGN_TABLE[a] and b != OPEN
)
KIND_OF_MOVE = {
    (OPEN, AZUKARI): "parked",
    (OPEN, W_CUSTOMER): "parked",
    (OPEN, CB_DUE): "parked",
    (W_CLIENT, CB_DUE): "inquiry_answered",
    (RESOLVED, AZUKARI): "reopened",
    (CLOSED, AZUKARI): "reopened",
}
KIND_OF_TARGET = {
    AZUKARI: "resumed",
    W_CLIENT: "inquiry_sent",
    W_CUSTOMER: "waiting_customer",
    CB_DUE: "callback_promised",
    RESOLVED: "resolved",
    CLOSED: "closed",
}
START = dt.datetime(2026, 6, 1, 10, 0, tzinfo=TOKYO)


def test_the_code_holds_exactly_the_design_table():
    assert {a: set(b) for a, b in TRANSITIONS.items()} == DESIGN_TABLE
    assert len(LEGAL) == 24


def bring_to(cast, state, time_machine):
    """A fresh case in `state`, reached by the shortest path a person would take."""
    case = new_case(cast)
    if state == OPEN:
        return case
    if state in (RESOLVED, CLOSED):
        case = move(cast, move(cast, case, AZUKARI), RESOLVED)
        if state == CLOSED:
            time_machine.shift(dt.timedelta(days=cast.coffee.reopen_window_days, minutes=1))
            case = move(cast, case, CLOSED)
        return case
    case = move(cast, case, state)
    assert case.state == state
    return case


@pytest.mark.parametrize(("from_state", "to_state"), LEGAL)
def test_each_legal_move_writes_one_event_and_a_new_version(
    cast, time_machine, from_state, to_state
):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, from_state, time_machine)
    if to_state == CLOSED:
        time_machine.shift(dt.timedelta(days=cast.coffee.reopen_window_days, minutes=1))
    else:
        time_machine.shift(dt.timedelta(minutes=5))
    before = fresh(case)
    events_before = before.events.count()

    after = move(cast, before, to_state)

    after = fresh(after)
    assert after.state == to_state
    assert after.version == before.version + 1
    assert after.events.count() == events_before + 1
    event = after.events.last()
    assert (event.from_state, event.to_state) == (from_state, to_state)
    assert event.at == timezone.now()
    assert event.actor is not None
    assert event.kind == KIND_OF_MOVE.get((from_state, to_state), KIND_OF_TARGET[to_state])
    # What the new state promises is there.
    open_inquiries = after.inquiries.filter(status=InquiryStatus.OPEN).count()
    assert open_inquiries == (1 if to_state == W_CLIENT else 0)
    if to_state == CB_DUE:
        assert after.callbacks.filter(status=CallbackStatus.TO_SCHEDULE).exists()
    if to_state in (RESOLVED, CLOSED):
        assert not after.callbacks.filter(
            status__in=[CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED]
        ).exists()
    if to_state == AZUKARI and from_state in (RESOLVED, CLOSED):
        assert after.reopen_count == 1
        assert after.resolved_at is None and after.closed_at is None


@pytest.mark.parametrize(("from_state", "to_state"), ILLEGAL)
def test_each_illegal_move_is_refused_and_writes_nothing(cast, time_machine, from_state, to_state):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, from_state, time_machine)
    time_machine.shift(dt.timedelta(days=30))  # no reopen window in the way
    before = fresh(case)
    counts = row_counts()

    with pytest.raises(IllegalTransition) as info:
        move(cast, before, to_state)

    assert info.value.field == "state"
    assert info.value.status == 409
    assert str(info.value)
    after = fresh(case)
    assert (after.state, after.version) == (before.state, before.version)
    assert row_counts() == counts


def test_illegal_move_message_names_both_states(cast):
    case = new_case(cast)
    with translation.override("en"), pytest.raises(IllegalTransition) as info:
        services.case_close(case=case, version=case.version, actor=cast.desk)
    assert "Open (on the call)" in str(info.value)
    assert "Closed" in str(info.value)


@pytest.mark.parametrize("from_state", [OPEN, RESOLVED, CLOSED])
def test_resume_is_not_a_back_door_to_parking_or_reopening(cast, time_machine, from_state):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, from_state, time_machine)
    counts = row_counts()
    with pytest.raises(IllegalTransition):
        services.case_resume(case=case, version=case.version, actor=cast.desk)
    assert row_counts() == counts
    assert fresh(case).state == from_state


@pytest.mark.parametrize("from_state", [OPEN, *sorted(PARKED)])
def test_only_settled_cases_can_be_reopened(cast, time_machine, from_state):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, from_state, time_machine)
    counts = row_counts()
    with pytest.raises(IllegalTransition):
        services.case_reopen(case=case, version=case.version, actor=cast.desk, note="Again")
    assert row_counts() == counts
    assert fresh(case).reopen_count == 0


def test_a_resolved_case_closes_only_after_its_reopen_window(cast, time_machine):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, RESOLVED, time_machine)
    time_machine.shift(dt.timedelta(days=cast.coffee.reopen_window_days) - dt.timedelta(seconds=1))
    counts = row_counts()
    with translation.override("en"), pytest.raises(IllegalTransition) as info:
        services.case_close(case=case, version=case.version, actor=cast.desk)
    assert "reopened until 2026-06-15 10:00" in str(info.value)
    assert row_counts() == counts
    time_machine.shift(dt.timedelta(seconds=1))
    assert services.case_close(case=case, version=case.version, actor=None).state == CLOSED


@pytest.mark.parametrize("leave_to", [AZUKARI, W_CUSTOMER, CB_DUE, RESOLVED])
def test_leaving_the_client_withdraws_the_open_inquiry(cast, time_machine, leave_to):
    """An inquiry is open exactly while the case waits for the client, however it leaves."""
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, W_CLIENT, time_machine)
    inquiry = case.inquiries.get()
    if leave_to == CB_DUE:
        services.case_promise_callback(
            case=case,
            version=case.version,
            actor=cast.sv,
            promised_for=timezone.now() + dt.timedelta(hours=2),
        )
    else:
        move(cast, case, leave_to)
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.WITHDRAWN
    counts = row_counts()
    with pytest.raises(IllegalTransition) as info:
        services.inquiry_answer(inquiry=inquiry, actor=cast.approver, option="cancel_now")
    assert info.value.field == "inquiry"
    assert row_counts() == counts


def test_answering_the_inquiry_makes_a_callback_to_schedule(cast, time_machine):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, W_CLIENT, time_machine)
    inquiry = case.inquiries.get()
    answered = services.inquiry_answer(
        inquiry=inquiry, actor=cast.approver, option="after_third", note="Policy applies"
    )
    assert answered.status == InquiryStatus.ANSWERED
    assert answered.answered_by == cast.approver
    callback = fresh(case).callbacks.get()
    assert (callback.status, callback.origin) == (CallbackStatus.TO_SCHEDULE, "inquiry_answered")


def test_an_unreachable_customer_goes_back_to_the_desk(cast, time_machine):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, CB_DUE, time_machine)
    callback = case.callbacks.get()
    for attempt in range(1, cast.coffee.callback_max_attempts + 1):
        time_machine.shift(dt.timedelta(hours=3))
        services.callback_attempt_record(callback=callback, actor=cast.sv, outcome="no_answer")
        callback.refresh_from_db()
        assert callback.attempts == attempt
    case = fresh(case)
    assert callback.status == CallbackStatus.UNREACHABLE
    assert case.state == AZUKARI
    assert case.events.last().kind == "callback_unreachable"
    counts = row_counts()
    with pytest.raises(IllegalTransition) as info:
        services.callback_attempt_record(callback=callback, actor=cast.sv, outcome="reached")
    assert info.value.field == "callback"
    assert row_counts() == counts


def test_reaching_the_customer_closes_the_callback_not_the_case(cast, time_machine):
    time_machine.move_to(START, tick=False)
    case = bring_to(cast, CB_DUE, time_machine)
    callback = case.callbacks.get()
    attempt = services.callback_attempt_record(
        callback=callback, actor=cast.sv, outcome="reached", summary="Explained the options"
    )
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE
    assert attempt.contact.case_id == case.pk
    assert fresh(case).state == CB_DUE
    assert fresh(case).version == case.version
