"""Subscriptions and deliveries as the client's systems send them (API sync and file import):
upserts by the client's own ids, checked the same way whichever way they came in."""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.customers.models import Customer
from azukari.org.models import Client
from azukari.subscriptions.models import (
    Delivery,
    DeliveryStatus,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from azukari.subscriptions.services.cancellations import delivery_ship_record


@transaction.atomic
def subscription_upsert(
    *,
    client: Client,
    external_id: str,
    customer_number: str,
    plan_code: str,
    started_on: dt.date,
    status: str = SubscriptionStatus.ACTIVE,
    cancelled_on: dt.date | None = None,
    terms_version: str = "",
    terms_snapshot: dict[str, Any] | None = None,
) -> tuple[Subscription, str]:
    """Creates or updates a subscription by the client's id.

    The sign-up terms snapshot is what the customer saw: once recorded it is never replaced,
    so a later sync cannot lower the floor of a cancellation.
    """
    external_id = (external_id or "").strip()
    if not external_id:
        raise DomainError(_("This field is required."), field="external_id")
    if status not in SubscriptionStatus.values:
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": status}, field="status"
        )
    if cancelled_on is not None and status != SubscriptionStatus.CANCELLED:
        raise DomainError(
            _("Only a cancelled subscription has a cancellation date."), field="cancelled_on"
        )
    if cancelled_on is not None and cancelled_on < started_on:
        raise DomainError(
            _("A subscription cannot be cancelled before it started."), field="cancelled_on"
        )
    customer = Customer.objects.filter(client=client, customer_number=customer_number).first()
    if customer is None:
        raise DomainError(_("No customer has this customer number."), field="customer_number")
    plan = Plan.objects.filter(client=client, code=plan_code).first()
    if plan is None:
        raise DomainError(_("No plan has this code."), field="plan_code")
    snapshot = terms_snapshot or {}
    existing = (
        Subscription.objects.select_for_update()
        .filter(client=client, external_id=external_id)
        .first()
    )
    if existing is None:
        subscription = Subscription.objects.create(
            client=client,
            customer=customer,
            plan=plan,
            external_id=external_id,
            status=status,
            started_on=started_on,
            cancelled_on=cancelled_on,
            terms_version=terms_version.strip(),
            terms_snapshot=snapshot,
        )
        return subscription, "created"
    if existing.customer_id != customer.pk:
        raise DomainError(
            _("This subscription belongs to another customer."), field="customer_number"
        )
    if existing.terms_snapshot and snapshot and snapshot != existing.terms_snapshot:
        raise DomainError(
            _("The terms shown at sign-up are already recorded and cannot change."),
            field="terms_snapshot",
            code="conflict",
        )
    if existing.terms_version and terms_version and terms_version != existing.terms_version:
        raise DomainError(
            _("The terms shown at sign-up are already recorded and cannot change."),
            field="terms_version",
            code="conflict",
        )
    values: dict[str, Any] = {
        "plan": plan,
        "status": status,
        "started_on": started_on,
        "cancelled_on": cancelled_on,
    }
    if not existing.terms_snapshot and snapshot:
        values["terms_snapshot"] = snapshot
    if not existing.terms_version and terms_version:
        values["terms_version"] = terms_version.strip()
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    if not changed:
        return existing, "unchanged"
    for name in changed:
        setattr(existing, name, values[name])
    existing.save(update_fields=changed)
    return existing, "updated"


@transaction.atomic
def delivery_upsert(
    *,
    client: Client,
    external_id: str,
    subscription_external_id: str,
    sequence: int,
    scheduled_on: dt.date,
    status: str = DeliveryStatus.SCHEDULED,
    shipped_on: dt.date | None = None,
    chargeable: bool = True,
) -> tuple[Delivery, str]:
    """Creates or updates a delivery by the client's delivery id."""
    external_id = (external_id or "").strip()
    if not external_id:
        raise DomainError(_("This field is required."), field="external_id")
    if status not in DeliveryStatus.values:
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": status}, field="status"
        )
    if sequence < 1:
        raise DomainError(_("Deliveries are numbered from 1."), field="sequence")
    if status == DeliveryStatus.SHIPPED and shipped_on is None:
        raise DomainError(_("A shipped delivery needs its shipping date."), field="shipped_on")
    if status != DeliveryStatus.SHIPPED and shipped_on is not None:
        raise DomainError(_("Only a shipped delivery has a shipping date."), field="shipped_on")
    subscription = Subscription.objects.filter(
        client=client, external_id=subscription_external_id
    ).first()
    if subscription is None:
        raise DomainError(_("No subscription has this id."), field="subscription_external_id")
    matches = list(
        Delivery.objects.select_for_update().filter(client=client, external_id=external_id)[:2]
    )
    if len(matches) > 1:
        raise DomainError(_("Several deliveries carry this id."), field="external_id")
    existing = matches[0] if matches else None
    if existing is not None and existing.subscription_id != subscription.pk:
        raise DomainError(
            _("This delivery belongs to another subscription."), field="subscription_external_id"
        )
    clash = Delivery.objects.filter(subscription=subscription, sequence=sequence)
    if existing is not None:
        clash = clash.exclude(pk=existing.pk)
    if clash.exists():
        raise DomainError(
            _("Another delivery of this subscription has this number."), field="sequence"
        )
    values: dict[str, Any] = {
        "sequence": sequence,
        "scheduled_on": scheduled_on,
        "status": status,
        "shipped_on": shipped_on,
        "chargeable": chargeable,
    }
    if existing is not None:
        if existing.shipped_on is not None and existing.shipped_on == shipped_on:
            # A shipment found not chargeable stays so, whatever a later file says.
            values["chargeable"] = existing.chargeable and chargeable
        changed = [name for name, value in values.items() if getattr(existing, name) != value]
        if not changed:
            return existing, "unchanged"
    ships_now = shipped_on is not None and (
        existing is None
        or existing.status != DeliveryStatus.SHIPPED
        or existing.shipped_on != shipped_on
    )
    if ships_now:
        # The shipment goes through the cancellation rules below: one that ships after the
        # customer first asked to cancel is not charged, whatever the client's file says.
        values["status"], values["shipped_on"] = DeliveryStatus.SCHEDULED, None
    if existing is None:
        delivery = Delivery.objects.create(
            client=client, subscription=subscription, external_id=external_id, **values
        )
        result = "created"
    else:
        delivery = existing
        for name, value in values.items():
            setattr(delivery, name, value)
        delivery.save(update_fields=list(values))
        result = "updated"
    if ships_now:
        delivery = delivery_ship_record(delivery=delivery, shipped_on=shipped_on)
        if delivery.chargeable and not chargeable:
            Delivery.objects.filter(pk=delivery.pk).update(chargeable=False)
            delivery.chargeable = False
    return delivery, result
