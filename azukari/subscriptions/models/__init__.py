"""Subscriptions, their cancellation policies, and the cancellation requests made on them."""

from azukari.subscriptions.models.cancellations import (
    OPEN_CANCELLATION_STATES,
    CancellationDecision,
    CancellationDisclosure,
    CancellationRequest,
    CancellationStatus,
    ClientEvent,
    ClientEventKind,
    DisclosureKind,
    ExceptionOutcome,
    ExceptionRequest,
)
from azukari.subscriptions.models.policies import ExceptionGround, Policy, PolicyVersion
from azukari.subscriptions.models.subscriptions import (
    Delivery,
    DeliveryStatus,
    Plan,
    Subscription,
    SubscriptionStatus,
)

__all__ = [
    "OPEN_CANCELLATION_STATES",
    "CancellationDecision",
    "CancellationDisclosure",
    "CancellationRequest",
    "CancellationStatus",
    "ClientEvent",
    "ClientEventKind",
    "Delivery",
    "DeliveryStatus",
    "DisclosureKind",
    "ExceptionGround",
    "ExceptionOutcome",
    "ExceptionRequest",
    "Plan",
    "Policy",
    "PolicyVersion",
    "Subscription",
    "SubscriptionStatus",
]
