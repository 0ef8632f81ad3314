"""Background work of the audit: thin and safe to run twice."""

from azukari.audit.services import audit_seal_all


def audit_seal_pending() -> dict[int, int]:
    """Scheduled every minute: chain whatever was appended since the last run."""
    return audit_seal_all()


def incidents_remind() -> int:
    """Scheduled daily: mails managers about incident reports due within a day or overdue."""
    from azukari.audit.reminders import incident_reminders_send

    return incident_reminders_send()


def retention_scheduled(client_id: int) -> int | None:
    """Scheduled per client by its retention policy: applies it; returns the run's id."""
    from azukari.audit.models import RetentionSource
    from azukari.audit.retention import retention_apply
    from azukari.org.models import Client

    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return None
    return retention_apply(client=client, dry_run=False, source=RetentionSource.SCHEDULE).run_id
