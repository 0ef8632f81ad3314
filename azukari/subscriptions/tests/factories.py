"""Builders for the policy tests and benchmarks: real rows through the real services."""

import datetime as dt
from typing import Any

from azukari.cases import services as cases
from azukari.cases.models import Case, CaseKind
from azukari.customers.models import Customer
from azukari.org.models import Client, User
from azukari.subscriptions.models import Delivery, DeliveryStatus, Policy, Subscription
from azukari.subscriptions.services import policy_load
from azukari.testing.factories import CustomerFactory, PlanFactory, SubscriptionFactory

STORY_TERMS_TEXT = (
    "The bean subscription requires at least 3 deliveries. If you cancel before the 3rd "
    "delivery, you pay the part of the coffee machine discount (14,820 yen) not yet recovered, "
    "pro rata to the deliveries not made."
)


def coffee_policy_data(
    *, effective_from: dt.date = dt.date(2024, 1, 1), **overrides: Any
) -> dict[str, Any]:
    """The coffee client's policy: 3 deliveries, a 14,820 yen machine discount, five grounds."""
    version = {
        "effective_from": effective_from,
        "min_deliveries": 3,
        "device_list_price_yen": 19800,
        "device_price_paid_yen": 4980,
        "charge_method": "pro_rata",
        "notice_days": 0,
        "decision_limit_days": 10,
        "grounds": [
            {"code": "bereavement", "approval": "operator"},
            {"code": "defect", "approval": "sv"},
            {"code": "moving_abroad", "approval": "sv"},
            {"code": "hardship", "approval": "client", "fee_waived_percent": 50},
            {"code": "terms_unclear", "approval": "client"},
        ],
        **overrides,
    }
    return {"policy": {"code": "standard", "name": "Machine with beans"}, "versions": [version]}


def coffee_policy(client: Client, **overrides: Any) -> Policy:
    return policy_load(client=client, data=coffee_policy_data(**overrides)).policy


def story_subscription(
    client: Client,
    *,
    started_on: dt.date,
    shipped: int = 2,
    planned: int = 4,
    customer: Customer | None = None,
) -> Subscription:
    """A bean subscription with `shipped` deliveries made, each on its scheduled day."""
    customer = customer or CustomerFactory(client=client, phones=["+819012345678"])
    plan = PlanFactory(client=client)
    subscription = SubscriptionFactory(
        customer=customer,
        plan=plan,
        started_on=started_on,
        terms_version="2024-04",
        terms_snapshot={
            "schema": 1,
            "text": STORY_TERMS_TEXT,
            "min_deliveries": 3,
            "device_subsidy_yen": 14820,
            "charge_method": "pro_rata",
        },
    )
    for n in range(1, planned + 1):
        day = started_on + dt.timedelta(days=plan.interval_days * (n - 1))
        Delivery.objects.create(
            client=client,
            subscription=subscription,
            sequence=n,
            external_id=f"{subscription.external_id}-{n}",
            scheduled_on=day,
            shipped_on=day if n <= shipped else None,
            status=DeliveryStatus.SHIPPED if n <= shipped else DeliveryStatus.SCHEDULED,
        )
    return subscription


def cancellation_call(
    *, actor: User, subscription: Subscription, summary: str = "wants to cancel"
) -> Case:
    """An inbound call about cancelling: the contact and its case, through the case services."""
    contact = cases.contact_log(
        actor=actor,
        client=subscription.client,
        customer=subscription.customer,
        summary=summary,
    )
    return cases.case_open(
        contact=contact,
        actor=actor,
        kind=CaseKind.CANCELLATION,
        subject="Wants to cancel the bean subscription",
        subscription=subscription,
    )


def exception_ruling(
    *,
    request,
    ground_code: str,
    granted: bool,
    contacts: int,
    approver: User,
    decided_at,
    deliveries_made: int = 2,
    reason: str = "",
):
    """A decided exception, written directly: for reports and precedents over many rulings."""
    from azukari.subscriptions.models import ExceptionOutcome, ExceptionRequest

    ground = request.policy_version.grounds.get(code=ground_code)
    return ExceptionRequest.objects.create(
        client_id=request.client_id,
        request=request,
        ground=ground,
        ground_code=ground_code,
        approval_level=ground.approval_level,
        asked_at=decided_at,
        asked_by=request.recorded_by,
        deliveries_made=deliveries_made,
        policy_version=request.policy_version,
        outcome=ExceptionOutcome.GRANTED if granted else ExceptionOutcome.REFUSED,
        decided_at=decided_at,
        approver=approver,
        approver_role=approver.role,
        approver_reason=reason,
        site_id=request.case.site_id,
        contacts_before=contacts,
    )
