"""Writes of the audit app: access events, sealing, reveals, confidentiality events, incidents.

The screen pop calls `personal_data_access`, which is one INSERT and nothing else; the chain is
built later by `audit_seal`, run by the worker, which is the only code that locks a chain head.
"""

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
    IncidentKind,
    IncidentStatus,
    NamedStaffRequest,
)
from azukari.audit.netaddr import client_ip
from azukari.core.errors import DomainError, NotVisible
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


def _require_incident_role(user: User) -> None:
    require(user, Cap.INCIDENTS_RECORD)


@transaction.atomic
def incident_record(
    *,
    by: User,
    title: str,
    kind: str,
    discovered_at: Any,
    client: Client | None = None,
    description: str = "",
    intentional: bool = False,
    affected_count: int = 0,
) -> Incident:
    """Opens an incident; its legal clocks start at `discovered_at`."""
    _require_incident_role(by)
    title = (title or "").strip()
    if not title:
        raise DomainError(_("This field is required."), field="title")
    if kind not in IncidentKind.values:
        raise DomainError(_("Choose a kind of incident."), field="kind")
    if discovered_at is None or discovered_at > timezone.now():
        raise DomainError(_("The discovery time cannot be in the future."), field="discovered_at")
    if affected_count < 0:
        raise DomainError(_("Cannot be negative."), field="affected_count")
    return Incident.objects.create(
        client=client,
        title=title[:200],
        kind=kind,
        description=description,
        discovered_at=discovered_at,
        intentional=intentional,
        affected_count=affected_count,
        recorded_by=by,
    )


@transaction.atomic
def incident_report_preliminary(*, by: User, incident: Incident) -> Incident:
    _require_incident_role(by)
    if incident.preliminary_reported_at is not None:
        raise DomainError(_("The preliminary report is already recorded."), field="status")
    incident.preliminary_reported_at = timezone.now()
    incident.status = IncidentStatus.PRELIMINARY_REPORTED
    incident.save(update_fields=["preliminary_reported_at", "status"])
    return incident


@transaction.atomic
def incident_report_final(*, by: User, incident: Incident) -> Incident:
    _require_incident_role(by)
    if incident.final_reported_at is not None:
        raise DomainError(_("The final report is already recorded."), field="status")
    now = timezone.now()
    incident.final_reported_at = now
    if incident.preliminary_reported_at is None:
        # A final report made within the preliminary window also counts as the preliminary one.
        incident.preliminary_reported_at = now
    incident.status = IncidentStatus.CLOSED
    incident.save(update_fields=["final_reported_at", "preliminary_reported_at", "status"])
    return incident
