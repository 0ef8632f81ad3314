"""Writes made by integrations: tokens, PBX contact events, data sync and webhooks.

Every function is keyword-only, atomic and validates before it writes; refusals raise
DomainError with the field at fault, and nothing is written when they do.
"""

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.api.models import (
    ApiToken,
    DeliveryState,
    Scope,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from azukari.api.selectors import customers_with_number
from azukari.api.webhooks import resolve_target
from azukari.cases.models import CaseEvent, Contact, Direction, Inquiry
from azukari.cases.services import WEBHOOK_EVENT_KINDS
from azukari.core.compiled import CompiledQuery
from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import normalize_phone
from azukari.core.tasks import enqueue
from azukari.core.timebounds import check_happened
from azukari.core.visibility import Viewer
from azukari.org.models import Client, Role, User
from azukari.org.permissions import Cap, require
from azukari.subscriptions.models import ClientEvent, ClientEventKind

TOKEN_PREFIX = "azk"

# ---------------------------------------------------------------- tokens


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted({s.strip() for s in scopes if s and s.strip()})
    unknown = [s for s in cleaned if s not in Scope.values]
    if unknown:
        raise DomainError(
            _("Unknown scope(s): %(scopes)s.") % {"scopes": ", ".join(unknown)}, field="scopes"
        )
    if not cleaned:
        raise DomainError(_("Give the token at least one scope."), field="scopes")
    return cleaned


def api_token_issuer_check(
    *, issuer: User | None, client: Client | None, center_clients: Sequence[Client] = ()
) -> None:
    """Whoever issues a token saw its secret: only a manager or administrator, and only for
    clients they serve (a token reads everything of its client). `None` is the command line."""
    if issuer is None:
        return
    require(issuer, Cap.INTEGRATIONS_MANAGE)
    wanted = {client.pk} if client is not None else {c.pk for c in center_clients}
    if not issuer.is_superuser and not wanted <= issuer.visible_client_ids():
        raise NotVisible(_("You do not serve this client."), field="client")


@transaction.atomic
def api_token_create(
    *,
    name: str,
    scopes: Iterable[str],
    client: Client | None = None,
    center_clients: Sequence[Client] = (),
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Creates a token and its service user; the raw token is returned once and never stored.

    A client token acts as a client approver of that client; a center token acts as center
    staff serving `center_clients`, so the services' own permission checks apply unchanged.
    """
    api_token_issuer_check(issuer=created_by, client=client, center_clients=center_clients)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("This field is required."), field="name")
    if len(name) > 100:
        raise DomainError(_("At most %(n)d characters.") % {"n": 100}, field="name")
    cleaned = _clean_scopes(scopes)
    if client is not None and center_clients:
        raise DomainError(
            _("A token belongs to one client or to the center, not both."), field="client"
        )
    if client is None and not center_clients:
        raise DomainError(
            _("Name the client, or the clients a center token serves."), field="client"
        )
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    today = timezone.localdate()
    user = User(
        username=f"api-{prefix}",
        first_name=name[:150],
        display_name=name[:50],
        role=Role.CLIENT_APPROVER if client else Role.OPERATOR,
        client=client,
        # The integration is covered by the center's contract with the client and by the
        # agreement of the admin who issued it; the date records when it was issued.
        agreement_signed_on=None if client else today,
        agreement_version="" if client else "api-token",
        is_service_account=True,
    )
    user.set_unusable_password()
    user.save()
    if center_clients:
        user.clients.set(center_clients)
    token = ApiToken.objects.create(
        name=name,
        client=client,
        prefix=prefix,
        secret_hash=token_hash(raw),
        scopes=cleaned,
        service_user=user,
        created_by=created_by,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoked at once: the next request with it fails. Idempotent."""
    if token.revoked_at is None:
        now = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        User.objects.filter(pk=token.service_user_id).update(is_active=False)
    token.refresh_from_db()
    return token


# Every API request looks its token up: compiled once.
_ACTIVE_TOKEN = CompiledQuery[ApiToken](
    lambda secret_hash: ApiToken.objects.select_related("service_user", "client").filter(
        secret_hash=secret_hash, revoked_at__isnull=True
    )[:1]
)


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token for a raw secret, or None; notes its use at most every few minutes."""
    if not raw or not raw.startswith(TOKEN_PREFIX + "_") or len(raw) > 200:
        return None
    token = _ACTIVE_TOKEN.first(token_hash(raw))
    if token is None or not token.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# ---------------------------------------------------------------- PBX contact events


class CallEvent:
    STARTED = "started"
    ANSWERED = "answered"
    ENDED = "ended"
    ABANDONED = "abandoned"
    ALL = (STARTED, ANSWERED, ENDED, ABANDONED)


def contact_status(contact: Contact) -> str:
    """What the PBX events so far say about the call."""
    if contact.ended_at is None:
        return "in_progress" if contact.answered_at else "ringing"
    return "ended" if contact.answered_at else "abandoned"


def _agent(agent_id: str, client: Client) -> User:
    agent = User.objects.filter(agent_id=agent_id).first()
    if agent is None or not agent.is_center_staff or client.pk not in agent.visible_client_ids():
        raise DomainError(
            _("No staff member with this agent id serves this client."), field="agent_id"
        )
    return agent


def contact_event_record(
    *,
    viewer: Viewer,
    client: Client,
    call_id: str,
    event: str,
    at: dt.datetime,
    caller_number: str | None = None,
    agent_id: str | None = None,
    recording_id: str = "",
) -> tuple[Contact, bool]:
    """Folds one PBX event into the call's Contact, keyed by (client, call id).

    Times only ever move towards the truth (earliest start and answer, latest end), the first
    agent and recording stay, so an event sent twice or out of order leaves the same contact.
    """
    if client.pk not in viewer.visible_client_ids():
        raise NotVisible()
    call_id = (call_id or "").strip()
    if not call_id:
        raise DomainError(_("This field is required."), field="call_id")
    if len(call_id) > 100:
        raise DomainError(_("At most %(n)d characters.") % {"n": 100}, field="call_id")
    if event not in CallEvent.ALL:
        raise DomainError(_("“%(value)s” is not a valid choice.") % {"value": event}, field="event")
    if timezone.is_naive(at):
        raise DomainError(_("A time zone is required."), field="at")
    check_happened(at, field="at", now=timezone.now())
    recording_id = (recording_id or "").strip()
    if len(recording_id) > 100:
        raise DomainError(_("At most %(n)d characters.") % {"n": 100}, field="recording_id")
    caller = normalize_phone(caller_number, field="caller_number") or ""
    agent = _agent(agent_id.strip(), client) if agent_id and agent_id.strip() else None
    # Read before the transaction: on SQLite it takes the write lock when it begins.
    caller_matches = _caller_matches(viewer, client, caller) if caller else None
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _contact_event_fold(
                    viewer=viewer,
                    client=client,
                    call_id=call_id,
                    event=event,
                    at=at,
                    caller=caller,
                    caller_matches=caller_matches,
                    agent=agent,
                    recording_id=recording_id,
                )
        except IntegrityError:
            # Another event of the same call created its contact first: fold into that one.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _caller_matches(viewer: Viewer, client: Client, number: str) -> list[int]:
    """The client's customers with this number, through the (client, number) phone index,
    as the screen pop finds them."""
    found = customers_with_number(viewer=viewer, client_id=client.pk, number=number)
    return [customer.pk for customer in found[:2]]


def _contact_event_fold(
    *,
    viewer: Viewer,
    client: Client,
    call_id: str,
    event: str,
    at: dt.datetime,
    caller: str,
    caller_matches: list[int] | None,
    agent: User | None,
    recording_id: str,
) -> tuple[Contact, bool]:
    # The call's contact, locked; or a new one, folded before it is written (one INSERT: a
    # second event of the call inserting it at the same time fails on the unique key).
    contact = Contact.objects.select_for_update().filter(client=client, pbx_call_id=call_id).first()
    created = contact is None
    if contact is None:
        contact = Contact(
            client=client,
            pbx_call_id=call_id,
            started_at=at,
            direction=Direction.INBOUND,
            caller_number=caller,
        )
    changed: dict[str, Any] = {}

    def put(field: str, value: Any) -> None:
        if getattr(contact, field) != value:
            setattr(contact, field, value)
            changed[field] = value

    put("started_at", min(contact.started_at, at))
    if event == CallEvent.ANSWERED:
        put("answered_at", min(contact.answered_at or at, at))
    if event in (CallEvent.ENDED, CallEvent.ABANDONED):
        put("ended_at", max(contact.ended_at or at, at))
    if contact.answered_at and contact.answered_at < contact.started_at:
        put("started_at", contact.answered_at)
    if caller and not contact.caller_number:
        put("caller_number", caller)
    if agent is not None and contact.handler_id is None:
        put("handler", agent)
        put("site_id", agent.home_site_id)
    if recording_id and not contact.recording_id:
        put("recording_id", recording_id)
    if contact.customer_id is None and contact.caller_number:
        matches = caller_matches
        if matches is None or contact.caller_number != caller:
            # An event without the caller, on a call whose caller is known: still indexed.
            matches = _caller_matches(viewer, client, contact.caller_number)
        if len(matches) == 1:
            put("customer_id", matches[0])
    if created:
        contact.save(force_insert=True)
    elif changed:
        fk_names = {"site_id": "site", "customer_id": "customer"}
        contact.save(update_fields=[fk_names.get(f, f) for f in changed])
    return contact, created


# ---------------------------------------------------------------- webhooks

MAX_ATTEMPTS = 7
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
    dt.timedelta(hours=24),
)


def claim_lease() -> dt.timedelta:
    """How long a claimed delivery is left to the worker that took it.

    An attempt is one HTTP request (10 s per connection step) inside a task that django-q2
    kills after Q_CLUSTER["timeout"]; the lease must outlast that, or a slow attempt that is
    still running would be sent a second time by another worker. Its length is also how long
    the deliveries of a killed worker wait before the retry scan (every minute) sends them
    again: 5 minutes by default, `AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS` to shorten it (the
    settings refuse a lease shorter than the task timeout plus 30 s)."""
    return dt.timedelta(seconds=settings.AZUKARI_WEBHOOK_CLAIM_LEASE_SECONDS)


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after the n-th failed attempt (1-based)."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def _clean_events(events: Iterable[str]) -> list[str]:
    cleaned = sorted({e for e in events if e})
    unknown = [e for e in cleaned if e not in WebhookEvent.values]
    if unknown:
        raise DomainError(
            _("Unknown event(s): %(events)s.") % {"events": ", ".join(unknown)}, field="events"
        )
    if not cleaned:
        raise DomainError(_("Pick at least one event."), field="events")
    return cleaned


@transaction.atomic
def webhook_endpoint_register(
    *,
    viewer: Viewer,
    client: Client,
    url: str,
    events: Iterable[str],
    description: str = "",
    token: ApiToken | None = None,
) -> WebhookEndpoint:
    """Registers a URL after checking it is https to a public address (resolved now)."""
    if client.pk not in viewer.visible_client_ids():
        raise NotVisible()
    url = (url or "").strip()
    if not url:
        raise DomainError(_("This field is required."), field="url")
    if len(url) > 500:
        raise DomainError(_("At most %(n)d characters.") % {"n": 500}, field="url")
    cleaned = _clean_events(events)
    description = (description or "").strip()
    if len(description) > 200:
        raise DomainError(_("At most %(n)d characters.") % {"n": 200}, field="description")
    resolve_target(url)
    if WebhookEndpoint.objects.filter(client=client, url=url, is_active=True).count() >= 1:
        raise DomainError(_("This URL is already registered."), field="url", code="conflict")
    if WebhookEndpoint.objects.filter(client=client, is_active=True).count() >= 20:
        raise DomainError(_("A client can register at most 20 webhooks."), field="url")
    return WebhookEndpoint.objects.create(
        client=client,
        url=url,
        description=description,
        events=cleaned,
        secret="whsec_" + secrets.token_urlsafe(32),
        created_by_token=token,
    )


@transaction.atomic
def webhook_endpoint_deactivate(*, viewer: Viewer, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stops deliveries to the URL; its history stays. Idempotent."""
    if endpoint.client_id not in viewer.visible_client_ids():
        raise NotVisible()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    endpoint.refresh_from_db()
    return endpoint


def webhook_delivery_enqueue(delivery_id: int) -> None:
    enqueue("azukari.api.tasks.webhook_deliver", delivery_id, group="webhooks")


@transaction.atomic
def webhooks_emit(
    *,
    client_id: int,
    event: str,
    data: dict[str, Any],
    dedupe_key: str,
    occurred_at: dt.datetime | None = None,
) -> list[WebhookDelivery]:
    """Queues `event` for every active endpoint of the client that picked it.

    Call it inside the transaction that made the fact; deliveries go out after commit. The
    same `dedupe_key` emitted twice creates nothing new.
    """
    if event not in WebhookEvent.values:
        raise DomainError(_("Unknown event(s): %(events)s.") % {"events": event}, field="event")
    now = timezone.now()
    occurred_at = occurred_at or now
    client_code = Client.objects.filter(pk=client_id).values_list("code", flat=True).first()
    endpoints = WebhookEndpoint.objects.filter(
        client_id=client_id, is_active=True, created_at__lte=occurred_at
    )
    created: list[WebhookDelivery] = []
    for endpoint in endpoints:
        if event not in endpoint.events:
            continue
        payload = {
            "id": dedupe_key,
            "event": event,
            "occurred_at": occurred_at.isoformat(),
            "client": client_code,
            "data": data,
        }
        delivery, is_new = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint,
            dedupe_key=dedupe_key,
            defaults={
                "client_id": client_id,
                "event": event,
                "payload": payload,
                "created_at": now,
                "next_attempt_at": now,
            },
        )
        if is_new:
            created.append(delivery)
            transaction.on_commit(partial(webhook_delivery_enqueue, delivery.pk))
    return created


# Which case history entries are webhook events.
CASE_EVENT_WEBHOOKS: dict[str, str] = {
    "parked": WebhookEvent.CASE_PARKED,
    "inquiry_sent": WebhookEvent.INQUIRY_CREATED,
    "resolved": WebhookEvent.CASE_RESOLVED,
}
assert set(CASE_EVENT_WEBHOOKS) == WEBHOOK_EVENT_KINDS  # the case services queue these

# The subscriptions outbox (ClientEvent) written with cancellation decisions and shipment holds.
CLIENT_EVENT_WEBHOOKS: dict[str, str] = {
    ClientEventKind.CANCELLATION_DECIDED: WebhookEvent.CANCELLATION_DECIDED,
    ClientEventKind.CANCELLATION_WITHDRAWN: WebhookEvent.CANCELLATION_WITHDRAWN,
    ClientEventKind.HOLD_SHIPMENT: WebhookEvent.SHIPMENT_HOLD,
    ClientEventKind.RELEASE_HOLD: WebhookEvent.SHIPMENT_RELEASE,
    ClientEventKind.DELIVERY_NOT_CHARGEABLE: WebhookEvent.DELIVERY_NOT_CHARGEABLE,
}
CLIENT_EVENT_KEY = "client-event-"


def _case_event_payload(event: CaseEvent) -> dict[str, Any]:
    case = event.case
    data: dict[str, Any] = {
        "case": {
            "id": case.pk,
            "kind": case.kind,
            "subject": case.subject,
            "state": event.to_state or case.state,
            "azukari_reason": case.azukari_reason,
            "customer_number": case.customer.customer_number,
            "subscription_external_id": case.subscription.external_id
            if case.subscription_id
            else None,
            "due_at": case.due_at.isoformat() if case.due_at else None,
        },
        "history": {
            "kind": event.kind,
            "at": event.at.isoformat(),
            "from_state": event.from_state,
            "to_state": event.to_state,
            "data": event.data,
        },
    }
    if event.kind == "resolved":
        data["case"]["outcome"] = case.outcome
    if event.kind == "inquiry_sent":
        inquiry = (
            Inquiry.objects.filter(case=case, sent_at__lte=event.at)
            .order_by("-sent_at", "-id")
            .first()
        )
        if inquiry is not None:
            data["inquiry"] = {
                "id": inquiry.pk,
                "question": inquiry.question_text,
                "options": inquiry.options_shown,
                "due_at": inquiry.due_at.isoformat(),
            }
    return data


# Asked for every case event a client may hear: compiled once.
_LISTENERS = CompiledQuery[tuple[list[str], dt.datetime]](
    lambda client_id: WebhookEndpoint.objects.filter(
        client_id=client_id, is_active=True
    ).values_list("events", "created_at")
)


def _has_listener(client_id: int, name: str, at: dt.datetime) -> bool:
    return any(name in events and created <= at for events, created in _LISTENERS(client_id))


def case_event_heard(client_id: int, kind: str, at: dt.datetime) -> bool:
    """Whether a client's systems listen for this kind of case event: the case services queue
    its webhook task only then (the sweep would find nothing to send for the others)."""
    name = CASE_EVENT_WEBHOOKS.get(kind)
    return name is not None and _has_listener(client_id, name, at)


def webhooks_emit_case_event(event: CaseEvent) -> list[WebhookDelivery]:
    """Turns one case history entry into webhook deliveries, if it is an event clients hear."""
    name = CASE_EVENT_WEBHOOKS.get(event.kind)
    if name is None or not _has_listener(event.client_id, name, event.at):
        return []
    return webhooks_emit(
        client_id=event.client_id,
        event=name,
        data=_case_event_payload(event),
        dedupe_key=f"case-event-{event.pk}",
        occurred_at=event.at,
    )


def webhooks_emit_client_event(event: ClientEvent) -> list[WebhookDelivery]:
    """Turns one row of the subscriptions outbox into webhook deliveries."""
    name = CLIENT_EVENT_WEBHOOKS.get(event.kind)
    if name is None or not _has_listener(event.client_id, name, event.created_at):
        return []
    subscription = event.subscription
    delivery = event.delivery
    data = {
        "kind": event.kind,
        "key": event.key,
        "subscription_external_id": subscription.external_id,
        "customer_number": subscription.customer.customer_number,
        "delivery": {
            "external_id": delivery.external_id,
            "sequence": delivery.sequence,
            "scheduled_on": delivery.scheduled_on.isoformat(),
        }
        if delivery is not None
        else None,
        "cancellation_request_id": event.request_id,
        "details": event.payload,
    }
    return webhooks_emit(
        client_id=event.client_id,
        event=name,
        data=data,
        dedupe_key=f"{CLIENT_EVENT_KEY}{event.pk}",
        occurred_at=event.created_at,
    )


SWEEP_SETTLE = dt.timedelta(minutes=2)


def _sweep(name: str, rows, at_field: str, emit, limit: int) -> int:
    """Emits the rows past the cursor; the cursor passes only rows older than a settling time,
    so a transaction that committed after a newer id is still seen (deliveries dedupe)."""
    cursor, created = WebhookCursor.objects.select_for_update().get_or_create(name=name)
    if created:
        # Start from now: endpoints never receive history from before the sweep existed.
        last = rows.model.objects.order_by("-id").values_list("id", flat=True).first() or 0
        WebhookCursor.objects.filter(pk=cursor.pk).update(last_id=last)
        return 0
    settled_before = timezone.now() - SWEEP_SETTLE
    emitted = 0
    settled = cursor.last_id
    settling = False
    for row in rows.filter(id__gt=cursor.last_id).order_by("id")[:limit]:
        emitted += len(emit(row))
        settling = settling or getattr(row, at_field) > settled_before
        if not settling:
            settled = row.pk
    if settled != cursor.last_id:
        WebhookCursor.objects.filter(pk=cursor.pk).update(last_id=settled)
    return emitted


@transaction.atomic
def webhooks_sweep(*, limit: int = 500) -> int:
    """The outbox sweep: case history and client events written anywhere (pages, services,
    API) reach the webhooks. Entries the API already emitted are not sent twice."""
    case_events = CaseEvent.objects.filter(kind__in=CASE_EVENT_WEBHOOKS).select_related(
        "case__customer", "case__subscription"
    )
    client_events = ClientEvent.objects.filter(kind__in=CLIENT_EVENT_WEBHOOKS).select_related(
        "subscription__customer", "delivery"
    )
    emitted = _sweep("case_events", case_events, "at", webhooks_emit_case_event, limit)
    emitted += _sweep(
        "client_events", client_events, "created_at", webhooks_emit_client_event, limit
    )
    return emitted


def webhook_delivery_claim(*, delivery_id: int) -> WebhookDelivery | None:
    """Takes a due delivery for one attempt; None when it is done, not due, or taken."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING],
            next_attempt_at__lte=now,
        )
        .filter(endpoint__is_active=True)
        .update(next_attempt_at=now + claim_lease())
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


@transaction.atomic
def webhook_attempt_record(
    *,
    delivery: WebhookDelivery,
    at: dt.datetime,
    status_code: int | None,
    error: str,
    duration_ms: int,
) -> WebhookDelivery:
    """Writes the attempt to the history and decides: delivered, retry later, or give up."""
    from azukari.api.models import WebhookAttempt

    WebhookAttempt.objects.create(
        client_id=delivery.client_id,
        delivery=delivery,
        at=at,
        status_code=status_code,
        error=error[:300],
        duration_ms=duration_ms,
    )
    attempts = delivery.attempts + 1
    if status_code is not None and 200 <= status_code < 300:
        fields = {"state": DeliveryState.DELIVERED, "delivered_at": at, "next_attempt_at": None}
        if delivery.dedupe_key.startswith(CLIENT_EVENT_KEY):
            # The subscriptions outbox asks its consumers to mark what reached the client.
            ClientEvent.objects.filter(
                pk=int(delivery.dedupe_key.removeprefix(CLIENT_EVENT_KEY)),
                delivered_at__isnull=True,
            ).update(delivered_at=at)
    elif attempts >= MAX_ATTEMPTS:
        fields = {"state": DeliveryState.FAILED, "next_attempt_at": None}
    else:
        fields = {"state": DeliveryState.RETRYING, "next_attempt_at": at + retry_delay(attempts)}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=attempts, **fields)
    delivery.refresh_from_db()
    return delivery


def webhook_deliveries_due(*, limit: int = 200) -> list[int]:
    """Deliveries whose next attempt is due (retries, and any whose first task was lost)."""
    return list(
        WebhookDelivery.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING],
            next_attempt_at__lte=timezone.now(),
            endpoint__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
