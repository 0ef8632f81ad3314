"""Remembers each login's session key, so that ending someone's access can end every session.

This is bookkeeping on Django's own log-in signal, not a business rule.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from azukari.audit.models import UserSession
from azukari.audit.netaddr import client_ip


@receiver(user_logged_in, dispatch_uid="audit_session_started")
def _session_started(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    now = timezone.now()
    # Read by the session-lifetime middleware: the absolute and idle clocks start here.
    session["azk_login_at"] = session["azk_seen_at"] = int(now.timestamp())
    if session.session_key is None:
        session.save()
    UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={"user": user, "started_at": now, "ip": client_ip(request)},
    )


@receiver(user_logged_out, dispatch_uid="audit_session_ended")
def _session_ended(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
