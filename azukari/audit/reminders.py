"""Reminders of the APPI report deadlines, once per incident, stage and day.

They go to the people who keep the register for the incident's client and have an e-mail
address. With nobody to send to, the reminder is not "sent": the register shows the error
until a later reminder reaches someone.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from azukari.audit.models import Incident, ReminderError
from azukari.audit.selectors import incidents_open
from azukari.audit.services import incident_reminder_record
from azukari.org.models import EmploymentStatus, User
from azukari.org.permissions import Cap, roles_with
from azukari.org.receipts import run_once

logger = logging.getLogger(__name__)


def _stage(incident: Incident, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    if incident.preliminary_reported_at is None and incident.preliminary_due - now < dt.timedelta(
        days=1
    ):
        return "preliminary", incident.preliminary_due
    if incident.final_reported_at is None and incident.final_due - now < dt.timedelta(days=3):
        return "final", incident.final_due
    return None


def incident_reminder_recipients(incident: Incident) -> list[str]:
    """E-mail addresses of the active people who keep the register for this client."""
    return sorted(
        set(
            User.objects.people()
            .filter(
                role__in=roles_with(Cap.INCIDENTS_RECORD),
                clients=incident.client_id,
                is_active=True,
                employment_status=EmploymentStatus.ACTIVE,
            )
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def _message(incident: Incident, stage: str, due: dt.datetime) -> tuple[str, str]:
    # Sent in the product's default language: the recipients' own may differ from one another.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Incident report due: %(title)s") % {"title": incident.title}
        body = _("The %(stage)s report for “%(title)s” is due by %(due)s.") % {
            "stage": _("preliminary") if stage == "preliminary" else _("final"),
            "title": incident.title,
            "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
        }
    return subject, body


def _mail(incident: Incident, stage: str, due: dt.datetime, to: list[str], s: str, b: str):
    """After the commit: a mail server that refuses the mail turns the reminder into an error."""
    try:
        send_mail(s, b, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)
    except Exception:  # any failure of the mail backend: SMTP, DNS, a refused address
        logger.exception("incident %s: reminder mail failed", incident.pk)
        incident_reminder_record(
            incident=incident,
            stage=stage,
            due=due,
            recipients=len(to),
            error=ReminderError.SEND_FAILED,
        )


def incident_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Sends the reminders due today; returns how many went out. A reminder with no recipient
    is recorded on its incident as an error instead."""
    now = now or timezone.now()
    sent = 0
    for incident in incidents_open().select_related("client"):
        stage = _stage(incident, now)
        if stage is None:
            continue
        name, due = stage
        key = f"incident-remind:{incident.pk}:{name}:{timezone.localdate(now):%Y-%m-%d}"
        recipients = incident_reminder_recipients(incident)
        subject, body = _message(incident, name, due)

        def effect(incident=incident, name=name, due=due, to=recipients, s=subject, b=body):
            incident_reminder_record(incident=incident, stage=name, due=due, recipients=len(to))
            if to:
                transaction.on_commit(lambda: _mail(incident, name, due, to, s, b))
            return {"recipients": len(to)}

        ran, result = run_once(key, effect)
        sent += int(ran and bool(result.get("recipients")))
    return sent
