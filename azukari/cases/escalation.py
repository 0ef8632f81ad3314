"""Inquiries the client has not answered: a reminder before the due time, escalation after.

Each inquiry is reminded once and escalated once. The mark (`reminded_at`, `escalated_at`)
and the case event are written in the transaction that sends the e-mail, under a row lock:
two workers (or a redelivered task) cannot both send, and a worker killed before the commit
leaves the inquiry unmarked, so the next scan sends it (at least once, never silently lost).
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext

from azukari.cases.models import Inquiry, InquiryStatus
from azukari.cases.overdue import inquiry_overdue_q
from azukari.cases.services import case_event_write
from azukari.cases.texts import SystemText
from azukari.org.models import Client, EmploymentStatus, Role, User

log = logging.getLogger(__name__)

REMINDED = "inquiry_reminded"
ESCALATED = "inquiry_escalated"


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str


def remind_at(inquiry: Inquiry, client: Client) -> dt.datetime | None:
    """When the approver is reminded; None when the inquiry was sent too close to its due
    time for a reminder to help (escalation still follows)."""
    at = inquiry.due_at - dt.timedelta(hours=client.inquiry_remind_hours)
    return at if at > inquiry.sent_at else None


def approvers_of(client: Client) -> list[Recipient]:
    """Client approvers who may act now: active, with the company's contract on record."""
    if client.contract_signed_on is None:
        return []
    people = (
        User.objects.people()
        .filter(
            client=client,
            role=Role.CLIENT_APPROVER,
            is_active=True,
            employment_status=EmploymentStatus.ACTIVE,
        )
        .exclude(email="")
    )
    return [Recipient(u.email, u.language) for u in people.order_by("id")]


def escalation_contacts(client: Client) -> list[Recipient]:
    if client.escalation_email:
        return [Recipient(client.escalation_email, settings.LANGUAGE_CODE)]
    # No escalation contact on record: the approvers hear it again rather than nobody.
    return approvers_of(client)


def _mail(recipients: list[Recipient], subject_and_body) -> int:
    """One message per recipient, in the recipient's language; no customer data inside."""
    sent = 0
    for recipient in recipients:
        with translation.override(recipient.language):
            subject, body = subject_and_body()
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
    return sent


def _locked_open(inquiry_id: int) -> Inquiry | None:
    return (
        Inquiry.objects.select_for_update(of=("self",))
        .select_related("client", "case")
        .filter(pk=inquiry_id, status=InquiryStatus.OPEN)
        .first()
    )


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def inquiry_remind(*, inquiry_id: int, now: dt.datetime | None = None) -> bool:
    """Reminds the client's approvers of an inquiry soon due; False if not (or no longer) due."""
    now = now or timezone.now()
    inquiry = _locked_open(inquiry_id)
    if inquiry is None or inquiry.reminded_at or inquiry.escalated_at:
        return False
    at = remind_at(inquiry, inquiry.client)
    if at is None or now < at or now >= inquiry.due_at:
        return False
    recipients = approvers_of(inquiry.client)

    def message() -> tuple[str, str]:
        subject = gettext("Reminder: inquiry on case #%(case)s is due %(due)s") % {
            "case": inquiry.case_id,
            "due": _when(inquiry.due_at),
        }
        body = gettext(
            "The call center is waiting for your answer to an inquiry on case #%(case)s.\n"
            "It is due %(due)s. Please answer it in the client portal."
        ) % {"case": inquiry.case_id, "due": _when(inquiry.due_at)}
        return subject, body

    sent = _mail(recipients, message)
    Inquiry.objects.filter(pk=inquiry.pk).update(reminded_at=now)
    case_event_write(
        inquiry.case,
        actor=None,
        kind=REMINDED,
        at=now,
        note=SystemText("approvers_reminded", {"n": sent}),
        data={"inquiry": inquiry.pk, "emails": sent},
    )
    return True


@transaction.atomic
def inquiry_escalate(*, inquiry_id: int, now: dt.datetime | None = None) -> bool:
    """Tells the client's escalation contact that an inquiry is overdue; once per inquiry."""
    now = now or timezone.now()
    inquiry = _locked_open(inquiry_id)
    if inquiry is None or inquiry.escalated_at or now < inquiry.due_at:
        return False
    recipients = escalation_contacts(inquiry.client)

    def message() -> tuple[str, str]:
        subject = gettext("Overdue: inquiry on case #%(case)s was due %(due)s") % {
            "case": inquiry.case_id,
            "due": _when(inquiry.due_at),
        }
        body = gettext(
            "An inquiry from the call center on case #%(case)s was due %(due)s and has not "
            "been answered. The customer is waiting. Please see that it is answered in the "
            "client portal."
        ) % {"case": inquiry.case_id, "due": _when(inquiry.due_at)}
        return subject, body

    sent = _mail(recipients, message)
    Inquiry.objects.filter(pk=inquiry.pk).update(escalated_at=now)
    case_event_write(
        inquiry.case,
        actor=None,
        kind=ESCALATED,
        at=now,
        note=SystemText("escalated", {"n": sent}),
        data={"inquiry": inquiry.pk, "emails": sent},
    )
    return True


def _scan(queryset: QuerySet, action, now: dt.datetime, limit: int) -> int:
    done = 0
    for inquiry_id in queryset.order_by("due_at").values_list("id", flat=True)[:limit]:
        try:
            done += action(inquiry_id=inquiry_id, now=now)
        except Exception:  # one bad address must not stop the others; the next scan retries
            log.exception("inquiry %s: %s failed", inquiry_id, action.__name__)
    return done


def inquiries_remind_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Sends the reminders that are due; safe to run as often as wanted."""
    now = now or timezone.now()
    longest = Client.objects.aggregate(h=Max("inquiry_remind_hours"))["h"] or 0
    candidates = Inquiry.objects.filter(
        status=InquiryStatus.OPEN,
        reminded_at__isnull=True,
        escalated_at__isnull=True,
        due_at__gt=now,
        due_at__lte=now + dt.timedelta(hours=longest),
    )
    return _scan(candidates, inquiry_remind, now, limit)


def inquiries_escalate_overdue(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Escalates overdue inquiries not yet escalated."""
    now = now or timezone.now()
    candidates = Inquiry.objects.filter(
        status=InquiryStatus.OPEN, escalated_at__isnull=True, due_at__lte=now
    )
    return _scan(candidates, inquiry_escalate, now, limit)


def overdue_inquiries(viewer, *, now: dt.datetime | None = None) -> QuerySet:
    """Open inquiries past their due time, for the backlog board (escalated ones marked)."""
    now = now or timezone.now()
    return (
        Inquiry.objects.visible_to(viewer)
        .filter(inquiry_overdue_q(now))
        .select_related("case", "client")
        .order_by("due_at")
    )
