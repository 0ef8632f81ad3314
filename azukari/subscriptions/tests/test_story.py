"""DESIGN.md §1: the coffee customer calls after 2 of 3 deliveries and wants to cancel.

On the first call he is told every option, in words the operator can read out, and he gets the
same options however many times he calls and however long the case sits in azukari.
"""

import datetime as dt

from azukari.cases import services as cases
from azukari.core.businesstime import TOKYO
from azukari.subscriptions.models import ClientEvent, ClientEventKind, DeliveryStatus
from azukari.subscriptions.selectors import cancellation_desk
from azukari.subscriptions.services import cancellation_request_record, delivery_ship_record
from azukari.subscriptions.tests.factories import STORY_TERMS_TEXT, cancellation_call

OCT_20, OCT_31 = dt.date(2026, 10, 20), dt.date(2026, 10, 31)


def _table(desk):
    return [
        (o.code, o.cost_yen, o.effective_on, o.deliveries_to_ship, o.approval_level)
        for o in desk.options
    ]


FIRST_CALL_OPTIONS = [
    ("cancel_after_remaining", 0, OCT_31, 1, "operator"),
    ("cancel_now_with_fee", 4940, OCT_20, 0, "operator"),
    ("exception:bereavement", 0, OCT_20, 0, "operator"),
    ("exception:defect", 0, OCT_20, 0, "sv"),
    ("exception:hardship", 2470, OCT_20, 0, "client"),
    ("exception:moving_abroad", 0, OCT_20, 0, "sv"),
    ("exception:terms_unclear", 0, OCT_20, 0, "client"),
]


def test_first_call_after_two_of_three_deliveries(cast, subscription, first_call):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    request = cancellation_request_record(actor=cast.operator, case=case)

    desk = cancellation_desk(viewer=cast.operator, request_id=request.pk, language="en")

    assert desk.terms_text == STORY_TERMS_TEXT  # shown verbatim
    assert desk.first_requested_on == OCT_20
    assert _table(desk) == FIRST_CALL_OPTIONS
    explained = {o.code: o.explanation for o in desk.options}
    assert explained["cancel_after_remaining"] == (
        "The minimum commitment is 3 deliveries, and 2 deliveries had been made by your first "
        "request on 2026-10-20. If you receive the remaining 1 delivery, you can cancel at no "
        "charge: the last one is planned for 2026-10-31 and the cancellation takes effect on "
        "2026-10-31."
    )
    assert explained["cancel_now_with_fee"] == (
        "The minimum commitment is 3 deliveries, and 2 deliveries had been made by your first "
        "request on 2026-10-20. You can also cancel now by paying 4,940 yen, tax included, for "
        "the part of the device discount not yet recovered. The cancellation takes effect on "
        "2026-10-20."
    )
    assert explained["exception:hardship"] == (
        "On the ground of financial hardship, you may ask for an exception: cancel now for "
        "2,470 yen, tax included, taking effect on 2026-10-20. It needs the company's approval; "
        "we will call you back with its answer."
    )
    japanese = cancellation_desk(viewer=cast.operator, request_id=request.pk, language="ja")
    assert [o.cost_yen for o in japanese.options] == [o.cost_yen for o in desk.options]
    assert all("4,940" in o.explanation for o in japanese.options if o.cost_yen == 4940)

    # The client's systems are told to hold the 3rd delivery.
    hold = ClientEvent.objects.get(kind=ClientEventKind.HOLD_SHIPMENT)
    assert hold.delivery.sequence == 3
    assert hold.delivery.status == DeliveryStatus.HELD
    assert hold.payload["first_requested_on"] == "2026-10-20"


def test_weeks_in_azukari_and_more_calls_change_nothing(cast, subscription, first_call):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    request = cancellation_request_record(actor=cast.operator, case=case)
    case = cases.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason="client_decision",
        team=cast.sapporo_desk,
    )
    first = _table(cancellation_desk(viewer=cast.operator, request_id=request.pk, language="en"))

    # Three weeks later the 3rd delivery shipped anyway; the SV calls; he calls again himself.
    first_call.move_to(dt.datetime(2026, 11, 10, 10, 0, tzinfo=TOKYO))
    third = subscription.deliveries.get(sequence=3)
    third = delivery_ship_record(delivery=third, shipped_on=dt.date(2026, 11, 2))
    assert third.chargeable is False
    assert ClientEvent.objects.filter(kind=ClientEventKind.DELIVERY_NOT_CHARGEABLE).count() == 1
    # He calls again: the call joins the open case (継続対応), never a second case.
    call = cases.contact_log(
        actor=cast.sv, client=cast.coffee, customer=subscription.customer, summary="asks again"
    )
    again = cases.case_contact_add(case=case, contact=call, actor=cast.sv)
    same = cancellation_request_record(actor=cast.sv, case=again)

    assert same.pk == request.pk
    assert same.requested_on == OCT_20
    assert same.asks == 2
    later = cancellation_desk(viewer=cast.sv, request_id=request.pk, language="en")
    assert _table(later) == first  # same options, same dates, same costs
    assert "1 delivery sent after your first request is not charged." in (
        later.options[0].explanation
    )
