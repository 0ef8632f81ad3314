"""Writes of the floor: notices and their reads, ending a call under a criterion, SV help."""

import datetime as dt
from types import SimpleNamespace

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.audit.services import criterion_change_record
from azukari.cases.models import Contact
from azukari.core.errors import DomainError, IllegalTransition, NotVisible, PermissionRefused
from azukari.customers.models import Customer
from azukari.floor.models import (
    CallEnding,
    FloorIntervention,
    HarassmentCriterion,
    HarassmentCriterionVersion,
    InterventionKind,
    Notice,
    NoticeRead,
)
from azukari.org.models import Client, Site, User
from azukari.org.permissions import Cap, require, user_can


def _require_serving(actor: User, client_id: int, capability: Cap | None = None) -> None:
    if client_id not in actor.visible_client_ids():
        raise NotVisible()
    if not user_can(actor, Cap.CENTER_PAGES):
        raise PermissionRefused(_("Only center staff can do this."))
    if capability is not None:
        require(actor, capability)


@transaction.atomic
def notice_publish(
    *,
    actor: User,
    client: Client,
    title: str,
    body: str,
    site: Site | None = None,
    expires_at: dt.datetime | None = None,
) -> Notice:
    """An SV, desk or manager posts an instruction for one client's operators."""
    _require_serving(actor, client.pk, Cap.NOTICES_PUBLISH)
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        raise DomainError(_("This field is required."), field="title")
    if len(title) > 200:
        raise DomainError(_("At most %(n)d characters.") % {"n": 200}, field="title")
    if not body:
        raise DomainError(_("This field is required."), field="body")
    now = timezone.now()
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise DomainError(_("A time zone is required."), field="expires_at")
        if expires_at <= now:
            raise DomainError(_("This time is in the past."), field="expires_at")
    return Notice.objects.create(
        client=client,
        site=site,
        title=title,
        body=body,
        published_at=now,
        published_by=actor,
        expires_at=expires_at,
    )


@transaction.atomic
def notice_confirm_read(*, actor: User, notice: Notice) -> NoticeRead:
    """Confirms the reader has read the notice; confirming twice keeps the first time."""
    _require_serving(actor, notice.client_id)
    existing = NoticeRead.objects.filter(notice=notice, reader=actor).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return NoticeRead.objects.create(
                client_id=notice.client_id, notice=notice, reader=actor, read_at=timezone.now()
            )
    except IntegrityError:  # a double click raced us; the first confirmation stands
        return NoticeRead.objects.get(notice=notice, reader=actor)


@transaction.atomic
def call_end_under_criterion(
    *,
    actor: User,
    contact: Contact,
    criterion: HarassmentCriterion,
    note: str = "",
    flag_customer: bool = False,
) -> CallEnding:
    """Ends a call under one of the client's written criteria and records which one.

    Flagging the customer lets the desk and the next operator see it on the customer.
    """
    _require_serving(actor, contact.client_id)
    if contact.handler_id != actor.pk and not user_can(actor, Cap.FLOOR_INTERVENE):
        raise PermissionRefused(_("Only the operator on the call or a supervisor can end it."))
    if criterion.client_id != contact.client_id or not criterion.is_active:
        raise DomainError(_("Choose one of the client's criteria."), field="criterion")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if CallEnding.objects.filter(contact=contact).exists():
        raise IllegalTransition(
            _("This call was already ended under a criterion."), field="contact"
        )
    now = timezone.now()
    if contact.ended_at is None:
        contact.ended_at = now
        contact.save(update_fields=["ended_at"])
    note = (note or "").strip()
    flagged = bool(flag_customer and contact.customer_id)
    if flagged:
        Customer.objects.filter(pk=contact.customer_id).update(
            harassment_flag=True,
            harassment_note=(f"{criterion.label}: {note}" if note else str(criterion.label))[:300],
        )
    return CallEnding.objects.create(
        client_id=contact.client_id,
        contact=contact,
        criterion=criterion,
        by=actor,
        at=now,
        note=note,
        customer_flagged=flagged,
    )


def _in_progress(actor: User, contact: Contact) -> Contact:
    _require_serving(actor, contact.client_id, Cap.FLOOR_INTERVENE)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.ended_at is not None or contact.answered_at is None:
        raise IllegalTransition(_("This call is no longer in progress."), field="contact")
    return contact


@transaction.atomic
def contact_join(*, actor: User, contact: Contact) -> FloorIntervention:
    """An SV listens in on (joins) a long call; the handler stays the same."""
    contact = _in_progress(actor, contact)
    return FloorIntervention.objects.create(
        client_id=contact.client_id,
        contact=contact,
        kind=InterventionKind.JOIN,
        by=actor,
        at=timezone.now(),
        previous_handler_id=contact.handler_id,
    )


@transaction.atomic
def contact_take_over(*, actor: User, contact: Contact) -> FloorIntervention:
    """An SV takes the call over: from now on the SV is its handler."""
    contact = _in_progress(actor, contact)
    if contact.handler_id == actor.pk:
        raise IllegalTransition(_("You are already handling this call."), field="contact")
    previous = contact.handler_id
    contact.handler = actor
    contact.save(update_fields=["handler"])
    return FloorIntervention.objects.create(
        client_id=contact.client_id,
        contact=contact,
        kind=InterventionKind.TAKE_OVER,
        by=actor,
        at=timezone.now(),
        previous_handler_id=previous,
    )


# ---------------------------------------------------------------- harassment criteria

CRITERION_LABEL_MAX = 200


def _criterion_fields(label: str, description: str) -> tuple[str, str]:
    label = (label or "").strip()
    if not label:
        raise DomainError(_("This field is required."), field="label")
    if len(label) > CRITERION_LABEL_MAX:
        raise DomainError(
            _("At most %(n)d characters.") % {"n": CRITERION_LABEL_MAX}, field="label"
        )
    return label, (description or "").strip()


@transaction.atomic
def criterion_create(
    *,
    actor: User,
    client: Client,
    code: str,
    label: str,
    description: str = "",
    request: HttpRequest | None = None,
) -> HarassmentCriterion:
    """Adds one of the client's written criteria under which a call may be ended; the
    addition is an event of the client's audit chain."""
    _require_serving(actor, client.pk, Cap.CRITERIA_EDIT)
    code = (code or "").strip().lower()
    if not code:
        raise DomainError(_("This field is required."), field="code")
    if len(code) > 32 or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in code):
        raise DomainError(
            _("Use at most 32 letters, digits, hyphens or underscores."), field="code"
        )
    if HarassmentCriterion.objects.filter(client=client, code=code).exists():
        raise DomainError(_("This client already has a criterion with this code."), field="code")
    label, description = _criterion_fields(label, description)
    criterion = HarassmentCriterion.objects.create(
        client=client, code=code, label=label, description=description
    )
    version = _criterion_version(criterion, actor)
    criterion_change_record(by=actor, criterion=criterion, new=version, request=request)
    return criterion


def _criterion_version(criterion: HarassmentCriterion, actor: User) -> HarassmentCriterionVersion:
    return HarassmentCriterionVersion.objects.create(
        client_id=criterion.client_id,
        criterion=criterion,
        label=criterion.label,
        description=criterion.description,
        is_active=criterion.is_active,
        at=timezone.now(),
        by=actor,
    )


@transaction.atomic
def criterion_update(
    *,
    actor: User,
    criterion: HarassmentCriterion,
    label: str,
    description: str = "",
    is_active: bool = True,
    request: HttpRequest | None = None,
) -> HarassmentCriterion:
    """Rewords a criterion or takes it out of use. Its code stays, and so do the calls already
    ended under it; a criterion is never deleted, only made inactive. Each wording is kept,
    and each change is an event of the client's audit chain."""
    _require_serving(actor, criterion.client_id, Cap.CRITERIA_EDIT)
    label, description = _criterion_fields(label, description)
    criterion = HarassmentCriterion.objects.select_for_update().get(pk=criterion.pk)
    wording = (label, description, bool(is_active))
    if wording == (criterion.label, criterion.description, criterion.is_active):
        raise DomainError(_("Nothing was changed."), field="label")
    before = SimpleNamespace(
        label=criterion.label, description=criterion.description, is_active=criterion.is_active
    )
    criterion.label, criterion.description, criterion.is_active = wording
    criterion.save(update_fields=["label", "description", "is_active"])
    version = _criterion_version(criterion, actor)
    criterion_change_record(by=actor, criterion=criterion, new=version, old=before, request=request)
    return criterion
