"""Cases built the way the product builds them: through the lifecycle services."""

import datetime as dt

from django.db.models import Model
from django.utils import timezone

from azukari.cases import services
from azukari.cases.models import (
    AzukariReason,
    Callback,
    CallbackAttempt,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Contact,
    Inquiry,
)
from azukari.core.businesstime import TOKYO, is_public_holiday
from azukari.customers.models import Customer, CustomerPhone
from azukari.testing.factories import CustomerFactory

OPTIONS = [
    {"code": "cancel_now", "label": "Cancel now, waiving the device price"},
    {"code": "after_third", "label": "Cancel after the third delivery"},
]
WRITTEN_MODELS: tuple[type[Model], ...] = (
    Case,
    CaseEvent,
    Contact,
    Inquiry,
    Callback,
    CallbackAttempt,
    Customer,
    CustomerPhone,
)


def row_counts() -> dict[str, int]:
    """How many rows each table the services write to holds; equal before and after a refusal."""
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def fresh(case: Case) -> Case:
    return Case.objects.select_related("client", "site").get(pk=case.pk)


def new_case(cast, *, client=None, operator=None, subject: str = "Wants to cancel") -> Case:
    """A case still on the call: a customer, the inbound contact, the case opened from it."""
    client = client or cast.coffee
    operator = operator or cast.operator
    customer = CustomerFactory(client=client, phones=["+819012345678"])
    contact = services.contact_log(
        actor=operator,
        client=client,
        customer=customer,
        caller_number="090-1234-5678",
        summary="Wants to cancel after two deliveries",
    )
    return services.case_open(
        contact=contact, actor=operator, kind=CaseKind.CANCELLATION, subject=subject
    )


def tomorrow(days: int = 1) -> dt.datetime:
    """11:00 in Tokyo, `days` ahead or the next day after that which is not a public holiday.

    Promises go through the callback scheduler: this is a time it accepts for a customer with
    no stated preferences at the factories' sites (open 9:00-21:00 every day), whatever the
    hour the tests run at.
    """
    day = timezone.localdate() + dt.timedelta(days=days)
    while is_public_holiday(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(11), tzinfo=TOKYO)


def move(cast, case: Case, to_state: str, *, team=None) -> Case:
    """Moves a case to `to_state` with the service a person would use from its present state."""
    case = fresh(case)
    version = case.version
    state = case.state
    team = team or cast.sapporo_desk
    if to_state == CaseState.AZUKARI:
        if state == CaseState.OPEN:
            return services.case_park(
                case=case,
                version=version,
                actor=cast.operator,
                reason=AzukariReason.INVESTIGATION,
                team=team,
            )
        if state in (CaseState.RESOLVED, CaseState.CLOSED):
            return services.case_reopen(
                case=case, version=version, actor=cast.desk, note="Customer called again", team=team
            )
        return services.case_resume(case=case, version=version, actor=cast.desk)
    if to_state == CaseState.WAITING_CLIENT:
        services.inquiry_send(
            case=case,
            version=version,
            actor=cast.desk,
            question="May we waive the device price?",
            options=OPTIONS,
            team=team if state == CaseState.OPEN else None,
        )
        return fresh(case)
    if to_state == CaseState.WAITING_CUSTOMER:
        if state == CaseState.OPEN:
            return services.case_park(
                case=case,
                version=version,
                actor=cast.operator,
                reason=AzukariReason.CUSTOMER_ACTION,
                team=team,
                state=CaseState.WAITING_CUSTOMER,
            )
        return services.case_wait_on_customer(
            case=case, version=version, actor=cast.desk, note="Sending the return form"
        )
    if to_state == CaseState.CALLBACK_DUE:
        if state == CaseState.OPEN:
            return services.case_park(
                case=case,
                version=version,
                actor=cast.operator,
                reason=AzukariReason.SV_CALLBACK,
                team=team,
                state=CaseState.CALLBACK_DUE,
                promised_callback_at=tomorrow(),
            )
        if state == CaseState.WAITING_CLIENT:
            inquiry = case.inquiries.get(status="open")
            services.inquiry_answer(inquiry=inquiry, actor=cast.approver, option="cancel_now")
            return fresh(case)
        return services.case_promise_callback(
            case=case, version=version, actor=cast.sv, promised_for=tomorrow()
        )
    if to_state == CaseState.RESOLVED:
        return services.case_resolve(
            case=case, version=version, actor=cast.sv, outcome="Cancelled from the first request"
        )
    if to_state == CaseState.CLOSED:
        return services.case_close(case=case, version=version, actor=cast.desk)
    raise ValueError(f"nothing moves a case to {to_state}")
