"""Log-in throttling: too many failures for one name or from one address, and the door waits.

Failures are rows in the database, so every app server and worker process sees the same count.
"""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from azukari.audit.models import LoginAttempt

security_log = logging.getLogger("azukari.security")


def _limits() -> tuple[int, int, dt.timedelta]:
    per_user = getattr(settings, "AZUKARI_LOGIN_MAX_FAILURES", 5)
    per_ip = getattr(settings, "AZUKARI_LOGIN_MAX_FAILURES_PER_IP", 20)
    window = dt.timedelta(minutes=getattr(settings, "AZUKARI_LOGIN_LOCK_MINUTES", 15))
    return per_user, per_ip, window


def login_wait(*, username: str, ip: str | None) -> dt.timedelta | None:
    """How long this name or address must wait before trying again, or None."""
    per_user, per_ip, window = _limits()
    now = timezone.now()
    since = now - window
    recent = LoginAttempt.objects.filter(at__gte=since)
    checks = [(recent.filter(username=username.strip().lower()[:150], forgiven=False), per_user)]
    if ip:
        checks.append((recent.filter(ip=ip), per_ip))
    for qs, limit in checks:
        times = list(qs.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            return times[-1] + window - now
    return None


def login_failure_record(*, username: str, ip: str | None) -> None:
    LoginAttempt.objects.create(username=username.strip().lower()[:150], ip=ip)
    security_log.warning("log-in failed: username=%r ip=%s", username[:150], ip)


def login_failures_clear(*, username: str) -> None:
    """A successful log-in forgives the name's earlier failures (not the address's)."""
    LoginAttempt.objects.filter(username=username.strip().lower()[:150], forgiven=False).update(
        forgiven=True
    )
