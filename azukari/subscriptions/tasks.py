"""Background tasks of the subscriptions app: thin and idempotent, each calls one service."""

from azukari.cases.models import Inquiry
from azukari.subscriptions.services import cancellation_inquiry_settle, subscriptions_cancel_due


def subscriptions_cancel_due_task() -> int:
    """Daily: subscriptions whose decided cancellation took effect become cancelled."""
    return subscriptions_cancel_due()


def cancellation_inquiry_settle_task(inquiry_id: int) -> bool:
    """After a client answered an inquiry: applies it if it was about an exception (once)."""
    inquiry = Inquiry.objects.filter(pk=inquiry_id).first()
    if inquiry is None:
        return False
    return cancellation_inquiry_settle(inquiry=inquiry) is not None
