"""Rows the API tests need beyond the shared factories, built through the real services."""

import datetime as dt

from django.utils import timezone

from azukari.cases import services as cases
from azukari.cases.models import Case, CaseKind
from azukari.customers.models import Customer
from azukari.org.models import User
from azukari.subscriptions.models import Delivery, DeliveryStatus, Subscription


def shipped(subscription: Subscription, count: int) -> None:
    start = subscription.started_on
    Delivery.objects.bulk_create(
        Delivery(
            client_id=subscription.client_id,
            subscription=subscription,
            sequence=i + 1,
            external_id=f"{subscription.external_id}-D{i + 1}",
            scheduled_on=start + dt.timedelta(days=30 * i),
            shipped_on=start + dt.timedelta(days=30 * i),
            status=DeliveryStatus.SHIPPED,
        )
        for i in range(count)
    )


def open_case(
    *, customer: Customer, operator: User, subject: str = "Wants to cancel", summary: str = ""
) -> Case:
    contact = cases.contact_log(
        actor=operator,
        client=customer.client,
        customer=customer,
        caller_number="090-1234-5678",
        summary=summary or subject,
        started_at=timezone.now() - dt.timedelta(minutes=5),
    )
    return cases.case_open(
        contact=contact, actor=operator, kind=CaseKind.CANCELLATION, subject=subject
    )
