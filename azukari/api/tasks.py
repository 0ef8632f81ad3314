"""Background work for webhooks: thin and idempotent, since a task may run more than once."""

from django.utils import timezone

from azukari.api import services
from azukari.api.webhooks import send
from azukari.cases.models import CaseEvent


def webhook_deliver(delivery_id: int) -> str:
    """One attempt at one delivery; a delivery that is done, not due or taken is left alone."""
    delivery = services.webhook_delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return "skipped"
    now = timezone.now()
    result = send(
        url=delivery.endpoint.url,
        secret=delivery.endpoint.secret,
        event=delivery.event,
        delivery_id=delivery.pk,
        payload=delivery.payload,
        now=int(now.timestamp()),
    )
    delivery = services.webhook_attempt_record(
        delivery=delivery,
        at=now,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
    )
    return delivery.state


def webhooks_emit_case_event_task(event_id: int) -> int:
    """Queued by the case services with each notified event: emits its webhooks (once, by the
    event's dedupe key, however often it runs)."""
    event = (
        CaseEvent.objects.select_related("case__customer", "case__subscription")
        .filter(pk=event_id)
        .first()
    )
    return 0 if event is None else len(services.webhooks_emit_case_event(event))


def webhooks_retry_due() -> int:
    """Scheduled every minute: hands due retries (and lost first attempts) to the workers."""
    due = services.webhook_deliveries_due()
    for delivery_id in due:
        services.webhook_delivery_enqueue(delivery_id)
    return len(due)


def webhooks_sweep() -> int:
    """Scheduled every minute: case history and client events become webhook deliveries."""
    return services.webhooks_sweep()
