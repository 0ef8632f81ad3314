"""Background work of the audit: thin and safe to run twice."""

from azukari.audit.services import audit_seal_all


def audit_seal_pending() -> dict[int, int]:
    """Scheduled every minute: chain whatever was appended since the last run."""
    return audit_seal_all()


def incidents_remind() -> int:
    """Scheduled daily: mails managers about incident reports due within a day or overdue."""
    from azukari.audit.reminders import incident_reminders_send

    return incident_reminders_send()
