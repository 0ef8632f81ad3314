import datetime as dt

from django.utils import timezone

from azukari.cases import services
from azukari.cases.models import CallbackStatus, CaseKind, CaseState
from azukari.testing.factories import CustomerFactory


def test_story_moves_through_inquiry_to_resolution(cast):
    customer = CustomerFactory(client=cast.coffee, phones=["+819012345678"])
    contact = services.contact_log(
        actor=cast.operator,
        client=cast.coffee,
        customer=customer,
        caller_number="090-1234-5678",
        summary="wants to cancel",
    )
    case = services.case_open(
        contact=contact,
        actor=cast.operator,
        kind=CaseKind.CANCELLATION,
        subject="Cancel after 2 deliveries",
    )
    case = services.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason="client_decision",
        team=cast.sapporo_desk,
    )
    inquiry = services.inquiry_send(
        case=case,
        version=case.version,
        actor=cast.desk,
        question="Exception?",
        options=[{"code": "cancel_now", "label": "Cancel now"}],
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    inquiry = services.inquiry_answer(inquiry=inquiry, actor=cast.approver, option="cancel_now")
    case.refresh_from_db()
    assert case.state == CaseState.CALLBACK_DUE
    assert case.callbacks.get().status == CallbackStatus.TO_SCHEDULE
    case = services.case_resolve(
        case=case, version=case.version, actor=cast.sv, outcome="Cancelled"
    )
    assert case.state == CaseState.RESOLVED
    assert list(case.events.values_list("kind", flat=True)) == [
        "opened",
        "parked",
        "inquiry_sent",
        "inquiry_answered",
        "resolved",
    ]
