"""Bad input: a clear error naming the field, in the user's language, and nothing written."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone, translation

from azukari.cases import services
from azukari.cases.tests.builders import OPTIONS, fresh, move, new_case, row_counts, tomorrow
from azukari.core.errors import DomainError, IllegalTransition, NotVisible
from azukari.core.phones import InvalidPhone
from azukari.customers.selectors import customers_by_phone
from azukari.customers.services import customer_create
from azukari.org.models import Client, Team

PAST = "This time is in the past."
NAIVE = "A time zone is required."
MISSING_CLIENT_ID = 987_654_321


def yesterday() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=1)


def naive_tomorrow() -> dt.datetime:
    return dt.datetime.now() + dt.timedelta(days=1)  # deliberately naive


def refused(
    call: Callable[[], object],
    *,
    field: str,
    message: str | None = None,
    error: type[DomainError] = DomainError,
    case=None,
) -> DomainError:
    """Calls a service that must refuse; checks the error and that no row was written."""
    counts = row_counts()
    version = fresh(case).version if case else None
    with translation.override("en"), pytest.raises(error) as info:
        call()
    refusal = info.value
    assert refusal.field == field
    if message is not None:
        with translation.override("en"):
            assert str(refusal) == message
    assert row_counts() == counts
    if case is not None:
        assert fresh(case).version == version
    return refusal


@pytest.fixture
def parked(cast):
    return move(cast, new_case(cast), "azukari")


# ---------------------------------------------------------------- phone numbers


@pytest.mark.parametrize("number", ["12345", "090-1234-567", "abc", "電話番号"])
def test_invalid_caller_number_is_refused(cast, number):
    customer = new_case(cast).customer
    refusal = refused(
        lambda: services.contact_log(
            actor=cast.operator, client=cast.coffee, customer=customer, caller_number=number
        ),
        field="caller_number",
        error=InvalidPhone,
    )
    assert number in str(refusal)


def test_invalid_phone_of_a_new_customer_names_which_one(cast):
    refused(
        lambda: customer_create(
            client=cast.coffee,
            customer_number="C-900",
            family_name="山田",
            phones=["090-1234-5678", "03-1234"],
        ),
        field="phones.1",
        message="“03-1234” is not a valid phone number.",
        error=InvalidPhone,
    )


def test_screen_pop_with_a_garbled_number_is_refused(cast):
    with pytest.raises(InvalidPhone) as info:
        customers_by_phone(viewer=cast.operator, client_id=cast.coffee.pk, raw_number="0x12")
    assert info.value.field == "caller_number"


def test_withheld_caller_number_is_not_an_error(cast):
    customer = new_case(cast).customer
    contact = services.contact_log(
        actor=cast.operator, client=cast.coffee, customer=customer, caller_number="非通知"
    )
    assert contact.caller_number == ""


# ---------------------------------------------------------------- unknown clients


def test_a_client_the_operator_does_not_serve_is_unknown(cast):
    refused(
        lambda: services.contact_log(actor=cast.operator, client=cast.tea, summary="?"),
        field="client",
        message="Not found.",
        error=NotVisible,
    )


def test_a_client_that_does_not_exist_is_unknown(cast):
    ghost = Client(pk=MISSING_CLIENT_ID, code="ghost", name="Ghost")
    refusal = refused(
        lambda: services.contact_log(actor=cast.operator, client=ghost, summary="?"),
        field="client",
        error=NotVisible,
    )
    # Exactly as for a client that exists but is not served.
    with pytest.raises(NotVisible) as other:
        services.contact_log(actor=cast.operator, client=cast.tea)
    assert (str(refusal), refusal.code) == (str(other.value), other.value.code)


def test_a_customer_of_another_client_is_unknown(cast):
    tea_customer = new_case(cast, client=cast.tea, operator=cast.outsider).customer
    refused(
        lambda: services.contact_log(
            actor=cast.operator, client=cast.coffee, customer=tea_customer
        ),
        field="customer",
        error=NotVisible,
    )


# ---------------------------------------------------------------- wrong state


def test_waiting_on_the_customer_before_parking_is_refused(cast):
    case = new_case(cast)
    refused(
        lambda: services.case_wait_on_customer(
            case=case, version=case.version, actor=cast.desk, note="Form"
        ),
        field="state",
        message="Park the case first.",
        error=IllegalTransition,
        case=case,
    )


def test_parking_twice_is_refused(cast, parked):
    refused(
        lambda: services.case_park(
            case=parked,
            version=parked.version,
            actor=cast.operator,
            reason="investigation",
            team=cast.sapporo_desk,
        ),
        field="state",
        message="Only a case still on the call can be parked.",
        error=IllegalTransition,
        case=parked,
    )


def test_resolving_a_resolved_case_is_refused(cast, parked):
    case = move(cast, parked, "resolved")
    refused(
        lambda: services.case_resolve(
            case=case, version=case.version, actor=cast.sv, outcome="Again"
        ),
        field="state",
        message="A case that is “Resolved” cannot become “Resolved”.",
        error=IllegalTransition,
        case=case,
    )


def test_parking_straight_into_waiting_for_the_client_is_refused(cast):
    case = new_case(cast)
    refused(
        lambda: services.case_park(
            case=case,
            version=case.version,
            actor=cast.operator,
            reason="client_decision",
            team=cast.sapporo_desk,
            state="waiting_client",
        ),
        field="state",
        case=case,
    )


# ------------------------------------------------ callbacks in the past, naive times


def test_a_callback_promised_for_the_past_is_refused(cast, parked):
    refused(
        lambda: services.case_promise_callback(
            case=parked, version=parked.version, actor=cast.sv, promised_for=yesterday()
        ),
        field="promised_for",
        message=PAST,
        case=parked,
    )


def test_a_callback_promised_for_right_now_is_refused(cast, parked, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    refused(
        lambda: services.case_promise_callback(
            case=parked, version=parked.version, actor=cast.sv, promised_for=timezone.now()
        ),
        field="promised_for",
        message=PAST,
        case=parked,
    )


def test_parking_with_a_callback_promised_in_the_past_is_refused(cast):
    case = new_case(cast)
    refused(
        lambda: services.case_park(
            case=case,
            version=case.version,
            actor=cast.operator,
            reason="sv_callback",
            team=cast.sapporo_desk,
            state="callback_due",
            promised_callback_at=yesterday(),
        ),
        field="promised_callback_at",
        message=PAST,
        case=case,
    )


def test_parking_with_a_callback_due_but_no_time_is_refused(cast):
    case = new_case(cast)
    refused(
        lambda: services.case_park(
            case=case,
            version=case.version,
            actor=cast.operator,
            reason="sv_callback",
            team=cast.sapporo_desk,
            state="callback_due",
        ),
        field="promised_callback_at",
        case=case,
    )


def test_scheduling_a_callback_in_the_past_is_refused(cast, parked):
    case = services.case_promise_callback(
        case=parked, version=parked.version, actor=cast.sv, promised_for=tomorrow()
    )
    callback = case.callbacks.get()
    refused(
        lambda: services.callback_schedule(callback=callback, actor=cast.sv, at=yesterday()),
        field="scheduled_for",
        message=PAST,
    )
    callback.refresh_from_db()
    assert callback.scheduled_for is None


@pytest.mark.parametrize(
    ("field", "call"),
    [
        (
            "promised_for",
            lambda cast, case: services.case_promise_callback(
                case=case, version=case.version, actor=cast.sv, promised_for=naive_tomorrow()
            ),
        ),
        (
            "due_at",
            lambda cast, case: services.inquiry_send(
                case=case,
                version=case.version,
                actor=cast.desk,
                question="?",
                options=OPTIONS,
                due_at=naive_tomorrow(),
            ),
        ),
        (
            "due_at",
            lambda cast, case: services.case_wait_on_customer(
                case=case, version=case.version, actor=cast.desk, note="x", due_at=naive_tomorrow()
            ),
        ),
        (
            "started_at",
            lambda cast, case: services.contact_log(
                actor=cast.operator,
                client=cast.coffee,
                customer=case.customer,
                started_at=dt.datetime(2026, 6, 1, 10, 0),  # naive
            ),
        ),
        (
            "ended_at",
            lambda cast, case: services.contact_log(
                actor=cast.operator,
                client=cast.coffee,
                customer=case.customer,
                ended_at=dt.datetime(2026, 6, 1, 10, 0),  # naive
            ),
        ),
    ],
)
def test_times_without_a_zone_are_refused(cast, parked, field, call):
    refused(lambda: call(cast, parked), field=field, message=NAIVE, case=parked)


def test_a_contact_cannot_end_before_it_started(cast, parked):
    now = timezone.now()
    refused(
        lambda: services.contact_log(
            actor=cast.operator,
            client=cast.coffee,
            customer=parked.customer,
            started_at=now,
            ended_at=now - dt.timedelta(minutes=1),
        ),
        field="ended_at",
        message="A contact cannot end before it started.",
    )


# ---------------------------------------------------------------- options and other choices


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "Propose at least one option."),
        (None, "Propose at least one option."),
        ([{"code": "cancel_now", "label": "  "}], "Every option needs a code and a label."),
        ([{"label": "Cancel now"}], "Every option needs a code and a label."),
        (
            [{"code": "x", "label": "One"}, {"code": "x", "label": "Two"}],
            "Option “x” is listed twice.",
        ),
    ],
)
def test_an_inquiry_needs_proper_options(cast, parked, options, message):
    refused(
        lambda: services.inquiry_send(
            case=parked,
            version=parked.version,
            actor=cast.desk,
            question="May we waive the device price?",
            options=options,
            due_at=tomorrow(),
        ),
        field="options",
        message=message,
        case=parked,
    )


def test_an_inquiry_needs_a_question(cast, parked):
    refused(
        lambda: services.inquiry_send(
            case=parked, version=parked.version, actor=cast.desk, question="   ", options=OPTIONS
        ),
        field="question",
        message="This field is required.",
        case=parked,
    )


def test_an_inquiry_from_the_call_goes_to_the_senders_desk(cast):
    case = new_case(cast)
    services.inquiry_send(
        case=case, version=case.version, actor=cast.desk, question="?", options=OPTIONS
    )
    case.refresh_from_db()
    assert case.owner_team == cast.sapporo_desk  # the desk of the sender's home site


def test_an_inquiry_from_the_call_needs_a_team_where_no_desk_serves_the_client(cast):
    Team.objects.filter(clients=cast.coffee).update(is_azukari_desk=False)
    case = new_case(cast)
    refused(
        lambda: services.inquiry_send(
            case=case, version=case.version, actor=cast.desk, question="?", options=OPTIONS
        ),
        field="team",
        message="Choose the team that owns the azukari.",
        case=case,
    )


def test_answering_with_an_option_not_proposed_is_refused(cast, parked):
    inquiry = services.inquiry_send(
        case=parked, version=parked.version, actor=cast.desk, question="?", options=OPTIONS
    )
    refused(
        lambda: services.inquiry_answer(inquiry=inquiry, actor=cast.approver, option="refund_all"),
        field="option",
        message="Choose one of the proposed options.",
        case=parked,
    )


@pytest.mark.parametrize(
    ("field", "call"),
    [
        (
            "reason",
            lambda cast, case: services.case_park(
                case=case,
                version=case.version,
                actor=cast.operator,
                reason="pushy",
                team=cast.sapporo_desk,
            ),
        ),
        (
            "outcome",
            lambda cast, case: services.case_resolve(
                case=case, version=case.version, actor=cast.sv, outcome="  "
            ),
        ),
    ],
)
def test_unknown_choices_and_empty_text_are_refused(cast, field, call):
    case = new_case(cast)
    refused(lambda: call(cast, case), field=field, case=case)


def test_opening_a_case_with_an_unknown_kind_is_refused(cast):
    customer = new_case(cast).customer
    contact = services.contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
    refused(
        lambda: services.case_open(contact=contact, actor=cast.operator, kind="lunch", subject="x"),
        field="kind",
        message="“lunch” is not a valid choice.",
    )


def test_reopening_needs_a_note(cast, parked):
    case = move(cast, parked, "resolved")
    refused(
        lambda: services.case_reopen(case=case, version=case.version, actor=cast.desk, note=""),
        field="note",
        message="This field is required.",
        case=case,
    )


# ---------------------------------------------------------------- the user's language


def test_refusals_speak_japanese_to_japanese_users(cast, parked):
    def promise_in_the_past():
        services.case_promise_callback(
            case=parked, version=parked.version, actor=cast.sv, promised_for=yesterday()
        )

    with translation.override("ja"), pytest.raises(DomainError) as info:
        promise_in_the_past()
    assert info.value.field == "promised_for"
    with translation.override("ja"):
        japanese = str(info.value)
    assert japanese != PAST
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in japanese)
