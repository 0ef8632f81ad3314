"""Log-in throttling: too many failures for one name or from one address, and the door waits.
And a cap on exports of personal data per person and hour.

Log-in failures are rows in the database, so every app server and worker process sees the same
count.
"""

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from azukari.audit.models import LoginAttempt
from azukari.core.ratelimit import window_count

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


# ---------------------------------------------------------------- exports

EXPORT_WINDOW_SECONDS = 3600


def export_quota_take(*, viewer_id: int) -> int | None:
    """Counts one export of personal data by this person; returns the seconds to wait when
    they have already made AZUKARI_EXPORTS_PER_HOUR exports this hour, else None.

    Counted in Django's cache (a fixed one-hour window, `cache.add` then `cache.incr`): with
    the default local-memory cache each server process counts alone. Every export is also in
    the audit trail, and bulk exporters show on the access review whatever this allows.
    """
    limit = int(getattr(settings, "AZUKARI_EXPORTS_PER_HOUR", 0) or 0)
    if limit <= 0:
        return None
    count, seconds_left = window_count("export-rate", viewer_id, EXPORT_WINDOW_SECONDS)
    if count <= limit:
        return None
    security_log.warning("export refused: user=%s over %d exports/hour", viewer_id, limit)
    return seconds_left
