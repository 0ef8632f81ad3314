"""Reminders of the APPI report deadlines, sent once per incident, stage and day."""

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from azukari.audit.selectors import incidents_open
from azukari.org.models import Role, User
from azukari.org.receipts import run_once


def _stage(incident, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    if incident.preliminary_reported_at is None and incident.preliminary_due - now < dt.timedelta(
        days=1
    ):
        return "preliminary", incident.preliminary_due
    if incident.final_due - now < dt.timedelta(days=3):
        return "final", incident.final_due
    return None


def incident_reminders_send(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    recipients = list(
        User.objects.filter(role__in=[Role.MANAGER, Role.ADMIN], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    sent = 0
    for incident in incidents_open():
        stage = _stage(incident, now)
        if stage is None:
            continue
        name, due = stage
        key = f"incident-remind:{incident.pk}:{name}:{timezone.localdate(now):%Y-%m-%d}"
        subject = _("Incident report due: %(title)s") % {"title": incident.title}
        body = _("The %(stage)s report for “%(title)s” is due by %(due)s.") % {
            "stage": _("preliminary") if name == "preliminary" else _("final"),
            "title": incident.title,
            "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
        }

        def effect(s=subject, b=body) -> dict:
            if recipients:
                transaction.on_commit(
                    lambda: send_mail(
                        s, b, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True
                    )
                )
            return {"recipients": len(recipients)}

        ran, _result = run_once(key, effect)
        sent += int(ran)
    return sent
