"""Background tasks of the subscriptions app: thin and idempotent, each calls one service."""

from azukari.subscriptions.services import subscriptions_cancel_due


def subscriptions_cancel_due_task() -> int:
    """Daily: subscriptions whose decided cancellation took effect become cancelled."""
    return subscriptions_cancel_due()
