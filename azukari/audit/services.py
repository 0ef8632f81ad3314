"""Writes of the audit app: access events, sealing, reveals, confidentiality events, incidents,
changes of the call-ending criteria.

The screen pop calls `personal_data_access`, which is one INSERT and nothing else; the chain is
built later by `audit_seal`, run by the worker, which is the only code that locks a chain head.
"""

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.audit import chain
from azukari.audit.masking import REVEALABLE, reveal_value
from azukari.audit.models import (
    AccessAction,
    AccessEvent,
    AuditCheckpoint,
    ChainHead,
    Incident,
    IncidentEntry,
    IncidentKind,
    IncidentStatus,
    IncidentStep,
    NamedStaffRequest,
    NotifyMethod,
    ReminderError,
)
from azukari.audit.netaddr import client_ip
from azukari.core.errors import DomainError, IllegalTransition, NotVisible
from azukari.core.visibility import Viewer, get_visible
from azukari.customers.models import Customer
from azukari.org.models import Client, User
from azukari.org.permissions import Cap, require

SEAL_BATCH = 5000
PURPOSE_MAX = 200
# Put in `chain_hash` of an unsealed row the sealer refused (it is never a hex digest).
REFUSED = "refused: not written by the audit service"

security_log = logging.getLogger("azukari.security")


def actor_of(viewer: Any) -> int | None:
    """The person (or an integration's service user) behind a viewer."""
    service_user_id = getattr(viewer, "service_user_id", None)
    if service_user_id is not None:
        return service_user_id
    return getattr(viewer, "pk", None)


def _clean_fields(fields: Sequence[str]) -> list[str]:
    cleaned = sorted({str(f).strip()[:40] for f in fields if f and str(f).strip()})
    if not cleaned:
        raise DomainError(_("Name the personal data fields that were shown."), field="fields")
    return cleaned


@transaction.atomic
def personal_data_access(
    *,
    viewer: Viewer,
    customers: Iterable[Customer],
    fields: Sequence[str],
    action: str = AccessAction.VIEW,
    purpose: str = "",
    request: HttpRequest | None = None,
    object_type: str = "customer",
    object_ref: str = "",
) -> int:
    """Records that `viewer` was shown `fields` of each customer; returns how many events.

    Call it after fetching the customers through the visibility door and before returning
    them. It appends only (one bulk INSERT); the hash chain is sealed later by a worker.
    """
    if action not in AccessAction.values:
        raise DomainError(_("Unknown audit action."), field="action")
    cleaned = _clean_fields(fields)
    fields_json = connection.ops.adapt_json_value(cleaned, None)
    visible = viewer.visible_client_ids()
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    ip = client_ip(request)
    actor_id = actor_of(viewer)
    object_type = object_type[:32]
    object_ref = str(object_ref)[:64]
    purpose = (purpose or "")[:PURPOSE_MAX]
    rows = []
    for customer in customers:
        if customer.client_id not in visible:
            raise NotVisible(field="customer")
        signed = _Unsaved(
            client_id=customer.client_id,
            at=now,
            actor_id=actor_id,
            action=action,
            customer_ref=customer.pk,
            object_type=object_type,
            object_ref=object_ref,
            fields=cleaned,
            purpose=purpose,
            ip=ip,
            count=1,
        )
        rows.append(
            (
                customer.client_id,
                at,
                actor_id,
                action,
                customer.pk,
                object_type,
                object_ref,
                fields_json,
                purpose,
                ip,
                chain.row_mac(signed),
            )
        )
    if rows:
        # A prepared INSERT without the ORM's per-call SQL compilation: this runs on every
        # screen pop, and the compilation was most of its cost.
        with connection.cursor() as cursor:
            cursor.executemany(_insert_sql(), rows)
    return len(rows)


_INSERT_COLUMNS = (
    "client_id",
    "at",
    "actor_id",
    "action",
    "customer_ref",
    "object_type",
    "object_ref",
    "fields",
    "purpose",
    "ip",
    "row_mac",
)


class _Unsaved:
    """The values of a row about to be inserted, as `chain.content_of` reads them."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _insert_sql() -> str:
    table = connection.ops.quote_name(AccessEvent._meta.db_table)
    # count = 1 and the chain columns empty: the sealing task fills them.
    names = (*_INSERT_COLUMNS, "count", "content_hash", "prev_hash", "chain_hash")
    columns = ", ".join(connection.ops.quote_name(c) for c in names)
    values = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    return f"INSERT INTO {table} ({columns}) VALUES ({values}, 1, '', '', '')"


def _append(**values: Any) -> AccessEvent:
    return access_event_signed_create(AccessEvent(at=timezone.now(), **values))


def access_events_signed(events: list[AccessEvent]) -> list[AccessEvent]:
    """Signs events the audit service made, for a `bulk_create`."""
    for event in events:
        event.row_mac = chain.row_mac(event)
    return events


def access_event_signed_create(event: AccessEvent) -> AccessEvent:
    """Saves an event the audit service made, with its row signature."""
    event.row_mac = chain.row_mac(event)
    event.save(force_insert=True)
    return event


@transaction.atomic
def audit_seal(*, client_id: int, batch: int = SEAL_BATCH) -> int:
    """Chains one client's unsealed events (in id order) onto its head; returns how many.

    Idempotent: a second run finds nothing unsealed and writes nothing. The head row lock
    serialises two workers sealing the same client; the request path never takes it.
    """
    ChainHead.objects.get_or_create(client_id=client_id)
    head = ChainHead.objects.select_for_update().get(client_id=client_id)
    unsealed = AccessEvent.objects.filter(client_id=client_id, seq__isnull=True, chain_hash="")
    pending = []
    for event in unsealed.order_by("id")[:batch]:
        if chain.row_mac_ok(event):
            pending.append(event)
        else:
            _refuse_unsigned(event)
    if not pending:
        return 0
    seq = head.last_seq
    prev = head.head_hash or chain.genesis(client_id)
    first = seq + 1
    for event in pending:
        seq += 1
        event.seq = seq
        event.content_hash = chain.content_hash(event)
        event.prev_hash = prev
        event.chain_hash = chain.link(client_id, seq, prev, event.content_hash)
        prev = event.chain_hash
    # One prepared UPDATE per row: Django's bulk_update builds CASE expressions that grow
    # quadratically on SQLite; executemany stays linear on both databases.
    table = connection.ops.quote_name(AccessEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET seq = %s, content_hash = %s, prev_hash = %s, chain_hash = %s "
            "WHERE id = %s AND seq IS NULL",
            [(e.seq, e.content_hash, e.prev_hash, e.chain_hash, e.pk) for e in pending],
        )
    AuditCheckpoint.objects.create(
        client_id=client_id,
        first_seq=first,
        last_seq=seq,
        head_hash=prev,
        sealed_at=timezone.now(),
    )
    head.last_seq = seq
    head.head_hash = prev
    head.save(update_fields=["last_seq", "head_hash"])
    return len(pending)


def _refuse_unsigned(event: AccessEvent) -> None:
    """A row the audit service did not write (or edited since) stays out of the chain, marked
    so that `audit verify` names it and later runs skip it."""
    AccessEvent.objects.filter(pk=event.pk, seq__isnull=True).update(chain_hash=REFUSED)
    security_log.warning(
        "audit seal refused event %s of client %s: no valid row signature",
        event.pk,
        event.client_id,
    )


def audit_seal_all() -> dict[int, int]:
    """Seals every client with unsealed events, each in its own transaction."""
    sealed: dict[int, int] = {}
    client_ids = (
        AccessEvent.objects.filter(seq__isnull=True)
        .values_list("client_id", flat=True)
        .distinct()
        .order_by()
    )
    for client_id in list(client_ids):
        total = 0
        while count := audit_seal(client_id=client_id):
            total += count
        sealed[client_id] = total
    return sealed


@transaction.atomic
def personal_data_reveal(
    *,
    viewer: User,
    customer_id: int,
    field: str,
    purpose: str,
    request: HttpRequest | None = None,
) -> str:
    """The clear value of a masked field; the reveal itself is an audit event."""
    if field not in REVEALABLE:
        raise DomainError(_("This field cannot be revealed."), field="field")
    purpose = (purpose or "").strip()
    if not purpose:
        raise DomainError(_("Say why you need to see it."), field="purpose")
    customer = get_visible(Customer.objects.prefetch_related("phones"), viewer, pk=customer_id)
    personal_data_access(
        viewer=viewer,
        customers=[customer],
        fields=[field],
        action=AccessAction.REVEAL,
        purpose=purpose,
        request=request,
    )
    return reveal_value(customer, field)


WORDING_FIELDS = ("label", "description", "is_active")


def wording_digest(wording: Any) -> str:
    """SHA-256 of a criterion wording (label, description, active): what the chain keeps of it."""
    parts = [getattr(wording, name) for name in WORDING_FIELDS]
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def criterion_change_record(
    *,
    by: User | None,
    criterion: Any,
    new: Any,
    old: Any = None,
    request: HttpRequest | None = None,
) -> AccessEvent:
    """Writes one change of a call-ending criterion to its client's audit chain.

    The event names the criterion (code and id), the new wording's id, the person and which
    parts changed; old and new wording enter as digests, so the kept history cannot be rewritten
    unnoticed and nothing typed into a wording is copied into the chain.
    """
    changed = [
        name for name in WORDING_FIELDS if old is None or getattr(old, name) != getattr(new, name)
    ]
    before = wording_digest(old) if old is not None else "-"
    return _append(
        client_id=criterion.client_id,
        actor_id=getattr(by, "pk", None),
        action=AccessAction.CRITERION,
        customer_ref=None,
        object_type="criterion",
        object_ref=f"{criterion.pk}/{new.pk}",
        fields=changed,
        purpose=f"{criterion.code} {before}>{wording_digest(new)}"[:PURPOSE_MAX],
        ip=client_ip(request),
    )


@transaction.atomic
def named_staff_request_record(
    *,
    operator: User,
    client: Client,
    case: Any = None,
    contact: Any = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> NamedStaffRequest:
    """One click: 'the caller asked for a staff member by name'. Nothing about staff is shown;
    the event is reported per client and site and appended to the client's audit chain."""
    if client.pk not in operator.visible_client_ids():
        raise NotVisible(field="client")
    for name, obj in (("case", case), ("contact", contact)):
        if obj is not None and obj.client_id != client.pk:
            raise NotVisible(field=name)
    note = (note or "").strip()
    if len(note) > 300:
        raise DomainError(_("At most %(n)d characters.") % {"n": 300}, field="note")
    event = NamedStaffRequest.objects.create(
        client=client,
        at=timezone.now(),
        site=operator.home_site,
        recorded_by=operator,
        case=case,
        contact=contact,
        note=note,
    )
    _append(
        client_id=client.pk,
        actor_id=operator.pk,
        action=AccessAction.NAMED_STAFF,
        customer_ref=getattr(case, "customer_id", None) or getattr(contact, "customer_id", None),
        object_type="named_staff_request",
        object_ref=str(event.pk),
        fields=[],
        purpose=f"case:{case.pk}" if case is not None else "",
        ip=client_ip(request),
    )
    return event


# ---------------------------------------------------------------- incidents
#
# One function per step of the register, in the order the steps are owed: discovery, the
# client company told (what an outsourced center owes first), the preliminary and the final
# report to the regulator, closing. Each locks the incident, checks the order and the dates,
# updates the current state and appends an `IncidentEntry`, whose writing is an event in the
# client's audit chain. Nothing is ever deleted: a mistake is put right by `incident_correct`,
# another entry that keeps the value before and after.

_STEP_ORDER = [
    IncidentStatus.OPEN,
    IncidentStatus.CLIENT_NOTIFIED,
    IncidentStatus.PRELIMINARY_REPORTED,
    IncidentStatus.FINAL_REPORTED,
    IncidentStatus.CLOSED,
]
NAME_MAX = 200
REFERENCE_MAX = 100


def _reached(incident: Incident, status: str) -> bool:
    return _STEP_ORDER.index(incident.status) >= _STEP_ORDER.index(status)


def _incident_locked(by: User, incident: Incident) -> Incident:
    """The incident, locked, for a person who keeps the register and serves its client."""
    require(by, Cap.INCIDENTS_RECORD)
    if incident.client_id not in by.visible_client_ids():
        raise NotVisible(field="incident")
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _moment(value: Any, *, field: str, not_before: Any = None) -> Any:
    """A step's time: given, with a time zone, not in the future, not before `not_before`."""
    if value is None:
        raise DomainError(_("Enter the date and time."), field=field)
    if timezone.is_naive(value):
        raise DomainError(_("A time zone is required."), field=field)
    if value > timezone.now():
        raise DomainError(_("This date is in the future."), field=field)
    if not_before is not None and value < not_before:
        when = timezone.localtime(not_before).strftime("%Y-%m-%d %H:%M")
        raise DomainError(
            _("This date is before the step it follows (%(when)s).") % {"when": when},
            field=field,
        )
    return value


def _text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > limit:
        raise DomainError(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return value


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _incident_entry(
    *,
    incident: Incident,
    step: str,
    by: User | None,
    happened_at: Any = None,
    details: dict | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> IncidentEntry:
    """Appends one entry to the incident's history and its writing to the audit chain."""
    entry = IncidentEntry.objects.create(
        client_id=incident.client_id,
        incident=incident,
        step=step,
        at=timezone.now(),
        happened_at=happened_at,
        by=by,
        details={k: _iso(v) for k, v in (details or {}).items()},
        note=note,
    )
    _append(
        client_id=incident.client_id,
        actor_id=getattr(by, "pk", None),
        action=AccessAction.INCIDENT,
        customer_ref=None,
        object_type="incident",
        object_ref=f"{incident.pk}/{entry.pk}",
        fields=[],
        purpose=step,
        ip=client_ip(request),
    )
    return entry


def _incident_step(
    incident: Incident,
    *,
    status: str,
    step: str,
    values: dict[str, Any],
    by: User,
    happened_at: Any,
    details: dict | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> Incident:
    """Saves a step of the register's workflow (its `values` and the new status) and appends
    it to the incident's history: every step is kept the same way."""
    for name, value in values.items():
        setattr(incident, name, value)
    incident.status = status
    incident.save(update_fields=[*values, "status"])
    _incident_entry(
        incident=incident,
        step=step,
        by=by,
        happened_at=happened_at,
        details=details,
        note=(note or "").strip(),
        request=request,
    )
    return incident


@transaction.atomic
def incident_record(
    *,
    by: User,
    client: Client,
    title: str,
    kind: str,
    discovered_at: Any,
    description: str = "",
    intentional: bool = False,
    affected_count: int = 0,
    request: HttpRequest | None = None,
) -> Incident:
    """Opens an incident of one client; its legal clocks start at `discovered_at`."""
    require(by, Cap.INCIDENTS_RECORD)
    if client is None or client.pk not in by.visible_client_ids():
        raise DomainError(_("Choose one of the clients you serve."), field="client")
    title = _text(title, field="title", limit=NAME_MAX)
    if kind not in IncidentKind.values:
        raise DomainError(_("Choose a kind of incident."), field="kind")
    _moment(discovered_at, field="discovered_at")
    if affected_count is None or affected_count < 0:
        raise DomainError(_("Cannot be negative."), field="affected_count")
    description = (description or "").strip()
    incident = Incident.objects.create(
        client=client,
        title=title,
        kind=kind,
        description=description,
        discovered_at=discovered_at,
        intentional=intentional,
        affected_count=affected_count,
        recorded_by=by,
    )
    _incident_entry(
        incident=incident,
        step=IncidentStep.RECORDED,
        by=by,
        happened_at=discovered_at,
        details={
            "title": title,
            "kind": kind,
            "intentional": intentional,
            "affected_count": affected_count,
        },
        note=description,
        request=request,
    )
    return incident


@transaction.atomic
def incident_notify_client(
    *,
    by: User,
    incident: Incident,
    notified_at: Any,
    whom: str,
    how: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> Incident:
    """Records that the client company was told: when, whom and how."""
    incident = _incident_locked(by, incident)
    if incident.status != IncidentStatus.OPEN:
        raise IllegalTransition(_("The client company is already notified."), field="status")
    _moment(notified_at, field="notified_at", not_before=incident.discovered_at)
    whom = _text(whom, field="whom", limit=NAME_MAX)
    if how not in NotifyMethod.values:
        raise DomainError(_("Choose how the client was told."), field="how")
    return _incident_step(
        incident,
        status=IncidentStatus.CLIENT_NOTIFIED,
        step=IncidentStep.CLIENT_NOTIFIED,
        values={
            "client_notified_at": notified_at,
            "client_notified_whom": whom,
            "client_notified_how": how,
        },
        by=by,
        happened_at=notified_at,
        details={"whom": whom, "how": how},
        note=note,
        request=request,
    )


@transaction.atomic
def incident_report_preliminary(
    *,
    by: User,
    incident: Incident,
    reported_at: Any,
    reference: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> Incident:
    """Records the preliminary report to the regulator (速報), with its reference."""
    incident = _incident_locked(by, incident)
    if _reached(incident, IncidentStatus.PRELIMINARY_REPORTED):
        raise IllegalTransition(_("The preliminary report is already recorded."), field="status")
    if incident.status == IncidentStatus.OPEN:
        raise IllegalTransition(
            _("Record first that the client company was notified."), field="status"
        )
    _moment(reported_at, field="reported_at", not_before=incident.client_notified_at)
    reference = _text(reference, field="reference", limit=REFERENCE_MAX)
    return _incident_step(
        incident,
        status=IncidentStatus.PRELIMINARY_REPORTED,
        step=IncidentStep.PRELIMINARY,
        values={"preliminary_reported_at": reported_at, "preliminary_reference": reference},
        by=by,
        happened_at=reported_at,
        details={"reference": reference, "late": reported_at > incident.preliminary_due},
        note=note,
        request=request,
    )


@transaction.atomic
def incident_report_final(
    *,
    by: User,
    incident: Incident,
    reported_at: Any,
    reference: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> Incident:
    """Records the final report to the regulator (確報), with its reference."""
    incident = _incident_locked(by, incident)
    if _reached(incident, IncidentStatus.FINAL_REPORTED):
        raise IllegalTransition(_("The final report is already recorded."), field="status")
    if incident.status != IncidentStatus.PRELIMINARY_REPORTED:
        raise IllegalTransition(
            _("The final report comes after the preliminary report."), field="status"
        )
    _moment(reported_at, field="reported_at", not_before=incident.preliminary_reported_at)
    reference = _text(reference, field="reference", limit=REFERENCE_MAX)
    return _incident_step(
        incident,
        status=IncidentStatus.FINAL_REPORTED,
        step=IncidentStep.FINAL,
        values={"final_reported_at": reported_at, "final_reference": reference},
        by=by,
        happened_at=reported_at,
        details={"reference": reference, "late": reported_at > incident.final_due},
        note=note,
        request=request,
    )


@transaction.atomic
def incident_close(
    *, by: User, incident: Incident, note: str = "", request: HttpRequest | None = None
) -> Incident:
    """Closes an incident once the final report is made; it stays in the register."""
    incident = _incident_locked(by, incident)
    if incident.status == IncidentStatus.CLOSED:
        raise IllegalTransition(_("This incident is already closed."), field="status")
    if incident.status != IncidentStatus.FINAL_REPORTED:
        raise IllegalTransition(
            _("An incident is closed only after the final report."), field="status"
        )
    now = timezone.now()
    return _incident_step(
        incident,
        status=IncidentStatus.CLOSED,
        step=IncidentStep.CLOSED,
        values={"closed_at": now},
        by=by,
        happened_at=now,
        note=note,
        request=request,
    )


# The fields a correction may change, with the step that must have been recorded first.
CORRECTABLE: dict[str, str] = {
    "title": IncidentStatus.OPEN,
    "kind": IncidentStatus.OPEN,
    "description": IncidentStatus.OPEN,
    "discovered_at": IncidentStatus.OPEN,
    "intentional": IncidentStatus.OPEN,
    "affected_count": IncidentStatus.OPEN,
    "client_notified_at": IncidentStatus.CLIENT_NOTIFIED,
    "client_notified_whom": IncidentStatus.CLIENT_NOTIFIED,
    "client_notified_how": IncidentStatus.CLIENT_NOTIFIED,
    "preliminary_reported_at": IncidentStatus.PRELIMINARY_REPORTED,
    "preliminary_reference": IncidentStatus.PRELIMINARY_REPORTED,
    "final_reported_at": IncidentStatus.FINAL_REPORTED,
    "final_reference": IncidentStatus.FINAL_REPORTED,
}
# Each step's time, in order: a correction keeps them in this order.
_STEP_TIMES = [
    "discovered_at",
    "client_notified_at",
    "preliminary_reported_at",
    "final_reported_at",
]


def _check_correction(incident: Incident, name: str, value: Any) -> Any:
    if name in _STEP_TIMES:
        position = _STEP_TIMES.index(name)
        before = [getattr(incident, n) for n in _STEP_TIMES[:position]]
        after = [getattr(incident, n) for n in _STEP_TIMES[position + 1 :]]
        _moment(value, field=name, not_before=max((t for t in before if t), default=None))
        if any(t is not None and t < value for t in after):
            raise DomainError(_("This date is after a step that follows it."), field=name)
        return value
    if name == "kind" and value not in IncidentKind.values:
        raise DomainError(_("Choose a kind of incident."), field=name)
    if name == "client_notified_how" and value not in NotifyMethod.values:
        raise DomainError(_("Choose how the client was told."), field=name)
    if name == "affected_count" and (value is None or value < 0):
        raise DomainError(_("Cannot be negative."), field=name)
    if name == "intentional":
        return bool(value)
    if name in ("title", "client_notified_whom"):
        return _text(value, field=name, limit=NAME_MAX)
    if name in ("preliminary_reference", "final_reference"):
        return _text(value, field=name, limit=REFERENCE_MAX)
    if name == "description":
        return (value or "").strip()
    return value


@transaction.atomic
def incident_correct(
    *,
    by: User,
    incident: Incident,
    changes: dict[str, Any],
    reason: str,
    request: HttpRequest | None = None,
) -> Incident:
    """Puts a recorded value right: the history keeps the value before and after, and why.

    Only what differs is recorded; a correction that changes nothing is refused.
    """
    incident = _incident_locked(by, incident)
    reason = _text(reason, field="reason", limit=2000)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in CORRECTABLE:
            raise DomainError(_("This field cannot be corrected."), field=name)
        if not _reached(incident, CORRECTABLE[name]):
            raise DomainError(_("This step is not recorded yet."), field=name)
        value = _check_correction(incident, name, value)
        if value != getattr(incident, name):
            before[name] = _iso(getattr(incident, name))
            after[name] = _iso(value)
            setattr(incident, name, value)
    if not after:
        raise DomainError(_("Nothing was changed."), field="changes")
    incident.save(update_fields=list(after))
    _incident_entry(
        incident=incident,
        step=IncidentStep.CORRECTED,
        by=by,
        details={"before": before, "after": after},
        note=reason,
        request=request,
    )
    return incident


@transaction.atomic
def incident_reminder_record(
    *, incident: Incident, stage: str, due: Any, recipients: int, error: str = ""
) -> IncidentEntry:
    """The reminder task's result for one incident: sent to `recipients` people, or an error
    (nobody to send it to, the mail refused) that stays on the register until a reminder
    goes out."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not recipients and not error:
        error = ReminderError.NO_RECIPIENT
    if error:
        incident.reminder_error = error
        incident.reminder_error_at = timezone.now()
        step = IncidentStep.REMINDER_FAILED
    else:
        incident.reminder_error = ""
        incident.reminder_error_at = None
        step = IncidentStep.REMINDER_SENT
    incident.save(update_fields=["reminder_error", "reminder_error_at"])
    details = {"stage": stage, "due": due, "recipients": recipients}
    if error:
        details["error"] = error
    return _incident_entry(incident=incident, step=step, by=None, details=details)
