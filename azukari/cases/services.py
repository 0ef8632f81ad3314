"""Writes to contacts and cases. Every state change of a case goes through `_transition`."""

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from azukari.cases.clocks import case_calendar
from azukari.cases.models import (
    AZUKARI_STATES,
    WORKED_STATES,
    AttemptOutcome,
    AzukariReason,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    CallerRelation,
    Case,
    CaseEvent,
    CaseKind,
    CaseState,
    Contact,
    Direction,
    IdentityCheck,
    Inquiry,
    InquiryStatus,
    Stance,
)
from azukari.cases.moves import CaseMove, case_move, case_move_bulk, sites_down_locked
from azukari.cases.selectors import desk_team_for
from azukari.cases.signals import callback_scheduled, inquiry_answered
from azukari.cases.statemachine import CLOCK_OF_STATE, is_legal
from azukari.cases.texts import SystemText, stored
from azukari.core.businesstime import add_business_seconds, business_seconds
from azukari.core.compiled import CompiledQuery
from azukari.core.errors import (
    DomainError,
    IllegalTransition,
    NotVisible,
    PermissionRefused,
    StaleVersion,
)
from azukari.core.phones import normalize_phone
from azukari.core.tasks import enqueue
from azukari.core.timebounds import check_ahead
from azukari.customers.models import Customer
from azukari.org.models import Client, Site, Team, User, business_calendar
from azukari.subscriptions.models import Subscription

# ---------------------------------------------------------------- guards


def require_center_staff(actor: User, client_id: int, *, field: str | None = None) -> None:
    """Center staff serving this client may act; anyone else sees nothing to act on."""
    if client_id not in actor.visible_client_ids():
        raise NotVisible(field=field)
    if not actor.is_center_staff:
        raise PermissionRefused(_("Only center staff can do this."))


def _choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise DomainError(_("“%(value)s” is not a valid choice.") % {"value": value}, field=field)
    return value


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A time without a zone is ambiguous (Tokyo or UTC?); refuse it rather than guess."""
    if value is not None and timezone.is_naive(value):
        raise DomainError(_("A time zone is required."), field=field)
    return value


def _future(value: dt.datetime | None, field: str, now: dt.datetime) -> dt.datetime | None:
    if _aware(value, field) is None:
        return None
    if value <= now:
        raise DomainError(_("This time is in the past."), field=field)
    return check_ahead(value, field=field, now=now)


def _required_text(value: str, field: str, *, max_length: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(_("This field is required."), field=field)
    if max_length and len(value) > max_length:
        raise DomainError(_("At most %(n)d characters.") % {"n": max_length}, field=field)
    return value


# ---------------------------------------------------------------- contacts


def _call_record(
    *,
    caller_relation: str,
    identity_check: str,
    identity_method: str,
    reason: str,
    summary: str,
    stance: str,
) -> dict[str, Any]:
    """What the operator records about a call, checked: the same for a logged contact and a
    PBX contact filled in."""
    return {
        "caller_relation": _choice(caller_relation, CallerRelation, "caller_relation"),
        "identity_check": _choice(identity_check, IdentityCheck, "identity_check"),
        "identity_method": identity_method.strip(),
        "reason": reason.strip(),
        "summary": summary.strip(),
        "stance": _choice(stance, Stance, "stance") if stance else "",
    }


@transaction.atomic
def contact_log(
    *,
    actor: User,
    client: Client,
    customer: Customer | None = None,
    direction: str = Direction.INBOUND,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    caller_number: str | None = None,
    caller_relation: str = CallerRelation.UNKNOWN,
    identity_check: str = IdentityCheck.NOT_CHECKED,
    identity_method: str = "",
    reason: str = "",
    summary: str = "",
    stance: str = "",
    pbx_call_id: str | None = None,
    recording_id: str = "",
) -> Contact:
    require_center_staff(actor, client.pk, field="client")
    if customer is not None and customer.client_id != client.pk:
        raise NotVisible(field="customer")
    now = timezone.now()
    started_at = _aware(started_at, "started_at") or now
    ended_at = _aware(ended_at, "ended_at")
    if ended_at is not None and ended_at < started_at:
        raise DomainError(_("A contact cannot end before it started."), field="ended_at")
    record = _call_record(
        caller_relation=caller_relation,
        identity_check=identity_check,
        identity_method=identity_method,
        reason=reason,
        summary=summary,
        stance=stance,
    )
    return Contact.objects.create(
        client=client,
        customer=customer,
        handler=actor,
        site_id=actor.home_site_id,
        direction=_choice(direction, Direction, "direction"),
        caller_number=normalize_phone(caller_number, field="caller_number") or "",
        started_at=started_at,
        answered_at=started_at,
        ended_at=ended_at,
        pbx_call_id=pbx_call_id or None,
        recording_id=recording_id,
        **record,
    )


@transaction.atomic
def contact_wrap_up(
    *,
    actor: User,
    contact: Contact,
    customer: Customer,
    caller_relation: str = CallerRelation.UNKNOWN,
    identity_check: str = IdentityCheck.NOT_CHECKED,
    identity_method: str = "",
    reason: str = "",
    summary: str = "",
    stance: str = "",
) -> Contact:
    """The operator's record of a call the PBX announced fills in that call's contact, so one
    call stays one contact (its times and recording keep coming from the PBX)."""
    require_center_staff(actor, contact.client_id, field="contact")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.handler_id != actor.pk:
        raise PermissionRefused(_("This call was answered by someone else."), field="contact")
    if customer.client_id != contact.client_id:
        raise NotVisible(field="customer")
    if contact.customer_id not in (None, customer.pk) or contact.summary:
        raise DomainError(
            _("This call is already recorded; log another contact instead."), field="contact"
        )
    record = _call_record(
        caller_relation=caller_relation,
        identity_check=identity_check,
        identity_method=identity_method,
        reason=reason,
        summary=summary,
        stance=stance,
    )
    Contact.objects.filter(pk=contact.pk).update(customer=customer, **record)
    contact.refresh_from_db()
    return contact


# ---------------------------------------------------------------- case lifecycle


# History entries the client's systems hear about by webhook (named in
# `azukari.api.services.CASE_EVENT_WEBHOOKS`).
WEBHOOK_EVENT_KINDS = frozenset({"parked", "inquiry_sent", "resolved"})


def case_event_write(
    case: Case,
    *,
    actor: User | None,
    kind: str,
    at: dt.datetime,
    from_state: str = "",
    to_state: str = "",
    note: str | SystemText = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    words, code, params = stored(note)
    event = CaseEvent.objects.create(
        client_id=case.client_id,
        case=case,
        at=at,
        actor=actor,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=words,
        note_code=code,
        note_params=params,
        data=data or {},
    )
    if kind in WEBHOOK_EVENT_KINDS and _heard(case.client_id, kind, at):
        # Queued with the event, whichever way the change came in (page, API, task): the
        # client's systems hear of it at once, and the sweep catches what a lost task missed.
        enqueue("azukari.api.tasks.webhooks_emit_case_event_task", event.pk, group="webhooks")
    return event


def _heard(client_id: int, kind: str, at: dt.datetime) -> bool:
    from azukari.api.services import case_event_heard  # the API imports these services

    return case_event_heard(client_id, kind, at)


def _enqueue_clock_recompute(case_id: int) -> None:
    enqueue("azukari.cases.tasks.case_clocks_recompute", case_id, group="clocks")


def _transition(
    *,
    case: Case,
    version: int,
    actor: User | None,
    to_state: str,
    kind: str,
    note: str | SystemText = "",
    data: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
) -> Case:
    """Moves a case if the move is legal and nobody changed it since `version` was read."""
    from_state = case.state
    if case.version != version:
        raise StaleVersion(current_version=case.version)
    if not is_legal(from_state, to_state):
        raise IllegalTransition(
            _("A case that is “%(from)s” cannot become “%(to)s”.")
            % {"from": CaseState(from_state).label, "to": CaseState(to_state).label},
            field="state",
        )
    now = timezone.now()
    updates: dict[str, Any] = dict(fields or {})
    running = CLOCK_OF_STATE.get(from_state)
    if running and case.clock_since:
        spent = business_seconds(case.clock_since, now, case_calendar(case))
        updates[f"{running}_seconds"] = F(f"{running}_seconds") + spent
    updates["clock_since"] = now if to_state in CLOCK_OF_STATE else None
    updates["state"] = to_state
    updates["version"] = F("version") + 1
    changed = Case.objects.filter(pk=case.pk, version=version, state=from_state).update(**updates)
    if not changed:
        current = Case.objects.filter(pk=case.pk).values_list("version", flat=True).first()
        raise StaleVersion(current_version=current)
    if from_state == CaseState.WAITING_CLIENT and kind != "inquiry_answered":
        # The question is no longer with the client: it must not show as overdue nor be
        # answered into a case that has moved on.
        _withdraw_open_inquiries(case, now)
    # The site whose hours the clocks run on from now; the recompute reads it back.
    site_id = updates.get("site_id", case.site_id)
    case_event_write(
        case,
        actor=actor,
        kind=kind,
        at=now,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data={**(data or {}), "site": site_id},
    )
    # Queued in the move's own transaction: the task commits with the move or not at all,
    # and the move pays no second commit.
    _enqueue_clock_recompute(case.pk)
    return _reload(case)


# Every move reloads its case and most check a team: compiled once (see core.compiled).
_CASE_ROW = CompiledQuery[Case](lambda pk: Case.objects.filter(pk=pk))
_TEAM_SERVES = CompiledQuery[int](
    lambda team_id, client_id: Team.clients.through.objects.filter(
        team_id=team_id, client_id=client_id
    ).values_list("id", flat=True)[:1]
)


# Asked by every case opened about a subscription: compiled once.
_OPEN_CASE_ABOUT = CompiledQuery[int](
    lambda customer_id, subscription_id, kind: (
        Case.objects.filter(customer_id=customer_id, subscription_id=subscription_id, kind=kind)
        .filter(state__in=WORKED_STATES)
        .order_by("-opened_at")
        .values_list("pk", flat=True)[:1]
    )
)


def _reload(case: Case) -> Case:
    """`refresh_from_db()`: every column read again and the cached relations let go."""
    fresh = _CASE_ROW(case.pk)[0]
    for field in Case._meta.concrete_fields:
        setattr(case, field.attname, getattr(fresh, field.attname))
        if field.is_relation and field.is_cached(case):
            field.delete_cached_value(case)
    for rel in Case._meta.related_objects:
        if rel.is_cached(case):
            rel.delete_cached_value(case)
    return case


def _check_team(team: Team, case: Case) -> Team:
    if not _TEAM_SERVES(team.pk, case.client_id):
        raise DomainError(_("This team does not serve the case's client."), field="team")
    if sites_down_locked([team.site_id]):
        raise DomainError(_("This team's site is down."), field="team")
    return team


def _check_assignee(assignee: User | None, case: Case) -> User | None:
    if assignee is None:
        return None
    if (
        not assignee.is_center_staff
        or assignee.is_service_account
        or case.client_id not in assignee.visible_client_ids()
    ):
        raise DomainError(_("This person does not serve the case's client."), field="assignee")
    return assignee


@transaction.atomic
def case_open(
    *,
    contact: Contact,
    actor: User,
    kind: str,
    subject: str,
    subscription: Subscription | None = None,
    note: str = "",
) -> Case:
    """Opens a case from the contact in which the customer asked for something."""
    require_center_staff(actor, contact.client_id)
    if contact.customer_id is None:
        raise DomainError(_("Identify the customer before opening a case."), field="customer")
    if contact.case_id is not None:
        raise DomainError(_("This contact already belongs to a case."), field="contact")
    if subscription is not None and subscription.customer_id != contact.customer_id:
        raise DomainError(_("This subscription is not the customer's."), field="subscription")
    site_id = contact.site_id or actor.home_site_id
    if site_id is None:
        raise DomainError(_("The handler has no site."), field="site")
    if subscription is not None:
        # Matched by customer, subscription and kind, never by the subject's words.
        already = _OPEN_CASE_ABOUT.first(contact.customer_id, subscription.pk, str(kind))
        if already is not None:
            raise DomainError(
                _(
                    "Case #%(id)d about this subscription is still open: log the call on it "
                    "instead of opening a second one."
                )
                % {"id": already},
                field="kind",
                code="duplicate_case",
            )
    now = timezone.now()
    case = Case.objects.create(
        client_id=contact.client_id,
        customer_id=contact.customer_id,
        subscription=subscription,
        kind=_choice(kind, CaseKind, "kind"),
        subject=_required_text(subject, "subject", max_length=200),
        state=CaseState.OPEN,
        site_id=site_id,
        opened_by=actor,
        opened_at=now,
    )
    Contact.objects.filter(pk=contact.pk).update(case=case)
    contact.case = case
    case_event_write(
        case,
        actor=actor,
        kind="opened",
        at=now,
        to_state=CaseState.OPEN,
        note=note,
        data={"contact": contact.pk},
    )
    return case


def _callback_due(
    case: Case, *, origin: str, promised_for: dt.datetime | None, now: dt.datetime
) -> Callback:
    """A callback the case now owes, to schedule (DESIGN: whatever makes it due creates it
    so); a promised time has already passed `callback_time_check`."""
    return Callback.objects.create(
        client_id=case.client_id,
        case=case,
        customer_id=case.customer_id,
        origin=origin,
        status=CallbackStatus.TO_SCHEDULE,
        created_at=now,
        promised_for=promised_for,
        team=case.owner_team,
        assignee=case.assignee,
    )


def _promise_check(
    case: Case, *, at: dt.datetime | None, site: Site, customer_requested: bool, field: str
) -> None:
    if at is not None:
        callback_time_check(
            customer=case.customer,
            client=case.client,
            site=site,
            at=at,
            customer_requested=customer_requested,
            field=field,
        )


PARK_STATES = frozenset({CaseState.AZUKARI, CaseState.WAITING_CUSTOMER, CaseState.CALLBACK_DUE})


@transaction.atomic
def case_park(
    *,
    case: Case,
    version: int,
    actor: User,
    reason: str,
    team: Team,
    assignee: User | None = None,
    state: str = CaseState.AZUKARI,
    promised_callback_at: dt.datetime | None = None,
    customer_requested: bool = False,
    due_at: dt.datetime | None = None,
    note: str = "",
) -> Case:
    """Takes a case that could not be settled on the call into custody (預かり)."""
    require_center_staff(actor, case.client_id)
    now = timezone.now()
    _choice(reason, AzukariReason, "reason")
    if state not in PARK_STATES:
        raise DomainError(
            _(
                "A case is parked as azukari, waiting for the customer or with a callback due; "
                "to ask the client, send an inquiry."
            ),
            field="state",
        )
    if case.state != CaseState.OPEN:
        raise IllegalTransition(_("Only a case still on the call can be parked."), field="state")
    _check_team(team, case)
    _check_assignee(assignee, case)
    promised = _future(promised_callback_at, "promised_callback_at", now)
    if state == CaseState.CALLBACK_DUE and promised is None:
        raise DomainError(
            _("Say when the callback was promised for."), field="promised_callback_at"
        )
    if promised is not None:  # the team's site is read only for a promise
        _promise_check(
            case,
            at=promised,
            site=team.site,
            customer_requested=customer_requested,
            field="promised_callback_at",
        )
    due = _future(due_at, "due_at", now)
    case = _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=state,
        kind="parked",
        note=note,
        data={"reason": reason, "team": team.pk, "assignee": assignee.pk if assignee else None},
        fields={
            "azukari_reason": reason,
            "owner_team": team,
            "site_id": team.site_id,
            "assignee": assignee,
            "parked_at": case.parked_at or now,
            "promised_callback_at": promised,
            "due_at": due,
        },
    )
    if promised is not None:
        _callback_due(case, origin="promise", promised_for=promised, now=now)
    return case


@transaction.atomic
def case_assign(
    *,
    case: Case,
    version: int,
    actor: User,
    team: Team,
    assignee: User | None = None,
    note: str = "",
) -> Case:
    """Hands an azukari to another team or person without changing its state."""
    require_center_staff(actor, case.client_id)
    if case.state not in AZUKARI_STATES:
        raise IllegalTransition(_("Only an open azukari can be reassigned."), field="state")
    if case.version != version:
        raise StaleVersion(current_version=case.version)
    _check_team(team, case)
    _check_assignee(assignee, case)
    return case_move(
        case=case,
        version=version,
        actor=actor,
        team=team,
        assignee=assignee,
        kind="assigned",
        note=note,
        data={"team": team.pk, "assignee": assignee.pk if assignee else None},
    )


def cases_release_from(*, person: User, actor: User | None) -> int:
    """A person who can no longer work their cases (they left): each open azukari assigned
    to them stays with its team, unassigned, for the team's desk to pick up — a parked case
    always has an owner. Their pending callbacks go back to the team's queue with it."""
    moves = [
        CaseMove(case_id=pk, version=version, team_id=team_id, data={"released_from": person.pk})
        for pk, version, team_id in Case.objects.filter(
            assignee=person, state__in=AZUKARI_STATES, owner_team__isnull=False
        ).values_list("pk", "version", "owner_team_id")
    ]
    if moves:
        case_move_bulk(
            moves=moves,
            actor=actor,
            kind="assigned",
            note=SystemText("released_left"),
        )
    Callback.objects.filter(
        assignee=person, status__in=(CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)
    ).update(assignee=None)
    return len(moves)


def _withdraw_open_inquiries(case: Case, now: dt.datetime) -> None:
    Inquiry.objects.filter(case=case, status=InquiryStatus.OPEN).update(
        status=InquiryStatus.WITHDRAWN, answered_at=now
    )


def _cancel_pending_callbacks(case: Case) -> None:
    Callback.objects.filter(
        case=case, status__in=[CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED]
    ).update(status=CallbackStatus.CANCELLED)


@transaction.atomic
def case_resume(*, case: Case, version: int, actor: User, note: str = "") -> Case:
    """The center's turn again (e.g. the customer's document arrived)."""
    require_center_staff(actor, case.client_id)
    if case.state == CaseState.OPEN:
        raise IllegalTransition(_("Park the case first."), field="state")
    if case.state in (CaseState.RESOLVED, CaseState.CLOSED):
        raise IllegalTransition(_("Reopen a settled case instead."), field="state")
    return _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=CaseState.AZUKARI,
        kind="resumed",
        note=note,
    )


@transaction.atomic
def case_wait_on_customer(
    *, case: Case, version: int, actor: User, note: str, due_at: dt.datetime | None = None
) -> Case:
    require_center_staff(actor, case.client_id)
    if case.state == CaseState.OPEN:
        raise IllegalTransition(_("Park the case first."), field="state")
    due = _future(due_at, "due_at", timezone.now())
    note = _required_text(note, "note")
    fields = {"due_at": due} if due else {}
    return _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=CaseState.WAITING_CUSTOMER,
        kind="waiting_customer",
        note=note,
        fields=fields,
    )


@transaction.atomic
def case_promise_callback(
    *,
    case: Case,
    version: int,
    actor: User,
    promised_for: dt.datetime,
    customer_requested: bool = False,
    note: str = "",
) -> Case:
    """The center promised to call the customer; a callback becomes due."""
    require_center_staff(actor, case.client_id)
    if case.state == CaseState.OPEN:
        raise IllegalTransition(_("Park the case first."), field="state")
    now = timezone.now()
    promised = _future(promised_for, "promised_for", now)
    if promised is None:
        raise DomainError(_("Say when the callback was promised for."), field="promised_for")
    _promise_check(
        case,
        at=promised,
        site=case.owner_team.site if case.owner_team_id else case.site,
        customer_requested=customer_requested,
        field="promised_for",
    )
    case = _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=CaseState.CALLBACK_DUE,
        kind="callback_promised",
        note=note,
        fields={"promised_callback_at": promised},
    )
    _callback_due(case, origin="promise", promised_for=promised, now=now)
    return case


@transaction.atomic
def case_note(*, case: Case, actor: User, note: str) -> CaseEvent:
    """An internal note on the case's history: read by whoever works it next, never by the
    customer nor the client. It changes nothing else, so it needs no version."""
    require_center_staff(actor, case.client_id)
    note = _required_text(note, "note", max_length=2000)
    return case_event_write(case, actor=actor, kind="note", at=timezone.now(), note=note)


@transaction.atomic
def case_contact_add(*, case: Case, contact: Contact, actor: User) -> Case:
    """The customer called again about a case still being worked (継続対応).

    The call joins the case's history and brief and counts as one more contact before the
    decision; nothing is opened twice and no callback is cancelled.
    """
    require_center_staff(actor, case.client_id)
    if contact.customer_id != case.customer_id:
        raise DomainError(_("This call is not from the case's customer."), field="case")
    if contact.case_id is not None and contact.case_id != case.pk:
        raise DomainError(_("This contact already belongs to a case."), field="contact")
    if case.state in (CaseState.RESOLVED, CaseState.CLOSED):
        raise IllegalTransition(
            _("This case is settled: reopen it if the customer is still waiting."),
            field="case",
        )
    Contact.objects.filter(pk=contact.pk).update(case=case)
    contact.case = case
    case_event_write(
        case,
        actor=actor,
        kind="contact_added",
        at=timezone.now(),
        note=contact.summary,
        data={"contact": contact.pk, "stance": contact.stance},
    )
    return case


def _clean_options(options: list[dict[str, Any]]) -> list[dict[str, str]]:
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in options or []:
        code = str(item.get("code", "")).strip()
        label = str(item.get("label", "")).strip()
        if not code or not label:
            raise DomainError(_("Every option needs a code and a label."), field="options")
        if code in seen:
            raise DomainError(
                _("Option “%(code)s” is listed twice.") % {"code": code}, field="options"
            )
        seen.add(code)
        cleaned.append({"code": code, "label": label})
    if not cleaned:
        raise DomainError(_("Propose at least one option."), field="options")
    return cleaned


@transaction.atomic
def inquiry_send(
    *,
    case: Case,
    version: int,
    actor: User,
    question: str | SystemText,
    options: list[dict[str, Any]],
    due_at: dt.datetime | None = None,
    team: Team | None = None,
) -> Inquiry:
    """Asks the client to decide (伺い); the client's clock runs until it answers. A question
    the system composed is a `SystemText`, shown to each reader in their language."""
    require_center_staff(actor, case.client_id)
    now = timezone.now()
    system_question = question if isinstance(question, SystemText) else None
    question = _required_text(str(question), "question")
    cleaned = _clean_options(options)
    due = _future(due_at, "due_at", now)
    fields: dict[str, Any] = {}
    if case.state == CaseState.OPEN:
        team = team or desk_team_for(case, actor)
        if team is None:
            raise DomainError(_("Choose the team that owns the azukari."), field="team")
        _check_team(team, case)
        fields = {
            "owner_team": team,
            "site_id": team.site_id,
            "parked_at": now,
            "azukari_reason": AzukariReason.CLIENT_DECISION,
        }
    if due is None:
        # Due in the client's business hours, counted on the site that will own the azukari.
        site = team.site if fields else case.site
        calendar = business_calendar(client=case.client, site=site)
        try:
            due = add_business_seconds(now, case.client.inquiry_due_hours * 3600, calendar)
        except ValueError as exc:
            raise DomainError(
                _("The site has no working hours in the coming year; give a due time."),
                field="due_at",
            ) from exc
    case = _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=CaseState.WAITING_CLIENT,
        kind="inquiry_sent",
        note=system_question or question,
        fields=fields,
    )
    inquiry = Inquiry.objects.create(
        client_id=case.client_id,
        case=case,
        question=question,
        question_code=system_question.code if system_question else "",
        question_params=system_question.params if system_question else {},
        options=cleaned,
        sent_at=now,
        sent_by=actor,
        due_at=due,
    )
    return inquiry


@transaction.atomic
def inquiry_answer(*, inquiry: Inquiry, actor: User, option: str, note: str = "") -> Inquiry:
    """The client decides; the case waits for the center's callback to the customer."""
    if inquiry.client_id not in actor.visible_client_ids():
        raise NotVisible()
    if not (actor.is_client_approver or actor.is_center_staff):
        raise PermissionRefused(_("You cannot answer inquiries."))
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.status != InquiryStatus.OPEN:
        raise IllegalTransition(
            _("This inquiry has already been answered or withdrawn."), field="inquiry"
        )
    codes = {o["code"] for o in inquiry.options}
    if option not in codes:
        raise DomainError(_("Choose one of the proposed options."), field="option")
    now = timezone.now()
    updated = Inquiry.objects.filter(pk=inquiry.pk, status=InquiryStatus.OPEN).update(
        status=InquiryStatus.ANSWERED,
        answer_option=option,
        answer_note=note.strip(),
        answered_at=now,
        answered_by=actor,
    )
    if not updated:
        raise IllegalTransition(
            _("This inquiry has already been answered or withdrawn."), field="inquiry"
        )
    case = Case.objects.select_related("client", "site").get(pk=inquiry.case_id)
    case = _transition(
        case=case,
        version=case.version,
        actor=actor,
        to_state=CaseState.CALLBACK_DUE,
        kind="inquiry_answered",
        note=note,
        data={"inquiry": inquiry.pk, "option": option},
    )
    _callback_due(case, origin="inquiry_answered", promised_for=None, now=now)
    inquiry.refresh_from_db()
    inquiry_answered.send(sender=Inquiry, inquiry=inquiry)
    return inquiry


@transaction.atomic
def callback_schedule(
    *,
    callback: Callback,
    actor: User,
    at: dt.datetime,
    assignee: User | None = None,
    customer_requested: bool = False,
) -> Callback:
    """Schedules a callback inside the customer's windows and the site's hours.

    `customer_requested` means the customer named this time: their stated preferences then
    give way, but the site must still be open and the client's day not closed.
    """
    require_center_staff(actor, callback.client_id)
    callback = (
        Callback.objects.select_for_update(of=("self",))
        .select_related("case__site", "client", "customer", "team__site")
        .get(pk=callback.pk)
    )
    if callback.status not in (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED):
        raise IllegalTransition(_("This callback is no longer open."), field="callback")
    at = _future(at, "scheduled_for", timezone.now())
    if at is None:
        raise DomainError(_("This field is required."), field="scheduled_for")
    if callback.next_attempt_not_before and at < callback.next_attempt_not_before:
        raise DomainError(
            _("The client's policy spaces attempts: not before %(time)s.")
            % {"time": timezone.localtime(callback.next_attempt_not_before).strftime("%H:%M")},
            field="scheduled_for",
        )
    callback_time_check(
        customer=callback.customer,
        client=callback.client,
        site=callback.team.site if callback.team_id else callback.case.site,
        at=at,
        customer_requested=customer_requested,
        field="scheduled_for",
    )
    _check_assignee(assignee, callback.case)
    Callback.objects.filter(pk=callback.pk).update(
        status=CallbackStatus.SCHEDULED,
        scheduled_for=at,
        assignee=assignee or callback.assignee,
    )
    case_event_write(
        callback.case,
        actor=actor,
        kind="callback_scheduled",
        at=timezone.now(),
        data={
            "callback": callback.pk,
            "at": at.isoformat(),
            "customer_requested": customer_requested,
        },
    )
    callback.refresh_from_db()
    callback_scheduled.send(sender=Callback, callback=callback, actor=actor)
    return callback


def callback_time_check(
    *,
    customer: Customer,
    client: Client,
    site: Site | None,
    at: dt.datetime,
    customer_requested: bool = False,
    field: str = "scheduled_for",
) -> None:
    """The one rule for when the center may promise or schedule a call to a customer.

    Parking with a promise, promising from the workspace, the callbacks page and the API all
    ask it, so a time refused in one place is refused in every other, with the same words and
    the next times that would be allowed.
    """
    from azukari.cases.scheduling import (
        ContactPreferences,
        call_calendar_for,
        preferences_of,
        propose_callback_times,
        slot_refusal,
    )

    prefs = ContactPreferences(holidays_ok=True) if customer_requested else preferences_of(customer)
    calendar = call_calendar_for(client=client, site=site)
    refusal = slot_refusal(at, prefs=prefs, calendar=calendar)
    if refusal is None:
        return
    # The next allowed times from the day the caller had in mind (never in the past).
    day_start = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
    proposals = propose_callback_times(
        prefs=prefs, calendar=calendar, after=max(day_start, timezone.now())
    )
    message = str(CALL_TIME_REFUSALS[refusal])
    if proposals:
        times = ", ".join(
            formats.date_format(timezone.localtime(p), "SHORT_DATETIME_FORMAT") for p in proposals
        )
        message = str(
            _("%(why)s Times that would be allowed: %(times)s.") % {"why": message, "times": times}
        )
    raise DomainError(message, field=field, code="call_time_refused")


CALL_TIME_REFUSALS = {
    "closed_day": _("The client is closed that day."),
    "holiday": _("That is a public holiday and the customer did not agree to holiday calls."),
    "day_off": _("The customer asked not to be called on that weekday."),
    "site_closed": _("The site is not working at that time."),
    "quiet": _("That falls in the customer's quiet hours."),
    "outside_windows": _("That is outside the times the customer prefers."),
}


@transaction.atomic
def callback_attempt_record(
    *,
    callback: Callback,
    actor: User,
    outcome: str,
    summary: str = "",
    stance: str = "",
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
) -> CallbackAttempt:
    """Logs one outbound call; past the client's cap an unreachable customer goes to the desk."""
    require_center_staff(actor, callback.client_id)
    callback = (
        Callback.objects.select_for_update(of=("self",))
        .select_related("case", "client")
        .get(pk=callback.pk)
    )
    if callback.status not in (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED):
        raise IllegalTransition(_("This callback is no longer open."), field="callback")
    _choice(outcome, AttemptOutcome, "outcome")
    now = timezone.now()
    if callback.next_attempt_not_before and now < callback.next_attempt_not_before:
        raise DomainError(
            _("The client's policy spaces attempts: not before %(time)s.")
            % {"time": timezone.localtime(callback.next_attempt_not_before).strftime("%H:%M")},
            field="callback",
        )
    contact = contact_log(
        actor=actor,
        client=callback.client,
        customer=callback.customer,
        direction=Direction.OUTBOUND,
        started_at=started_at or now,
        ended_at=ended_at or now,
        summary=summary,
        stance=stance,
        caller_relation=CallerRelation.HOLDER
        if outcome == AttemptOutcome.REACHED
        else CallerRelation.UNKNOWN,
    )
    Contact.objects.filter(pk=contact.pk).update(case=callback.case)
    contact.case = callback.case
    attempt = CallbackAttempt.objects.create(
        client_id=callback.client_id,
        callback=callback,
        contact=contact,
        at=now,
        by=actor,
        outcome=outcome,
    )
    attempts = callback.attempts + 1
    if outcome == AttemptOutcome.REACHED:
        status = CallbackStatus.DONE
    elif attempts >= callback.client.callback_max_attempts:
        status = CallbackStatus.UNREACHABLE
    else:
        status = CallbackStatus.TO_SCHEDULE
    retry = dt.timedelta(minutes=callback.client.callback_retry_minutes)
    Callback.objects.filter(pk=callback.pk).update(
        attempts=attempts,
        last_attempt_at=now,
        status=status,
        next_attempt_not_before=now + retry if status == CallbackStatus.TO_SCHEDULE else None,
        proposed_times=[],
    )
    case = callback.case
    case_event_write(
        case,
        actor=actor,
        kind="callback_attempt",
        at=now,
        note=summary,
        data={"callback": callback.pk, "outcome": outcome, "attempt": attempts},
    )
    if status == CallbackStatus.UNREACHABLE:
        # A named next step from the client's policy instead of limbo: the desk reviews the
        # case, or a letter goes out and the customer has a week to answer.
        next_step = callback.client.unreachable_next_step
        to_state = CaseState.WAITING_CUSTOMER if next_step == "letter" else CaseState.AZUKARI
        fields = {"due_at": now + dt.timedelta(days=7)} if next_step == "letter" else {}
        note = SystemText("callback_unreachable", {"n": attempts})
        if case.state != to_state:
            _transition(
                case=case,
                version=case.version,
                actor=actor,
                to_state=to_state,
                kind="callback_unreachable",
                note=note,
                data={"next_step": next_step, "callback": callback.pk},
                fields=fields,
            )
        else:
            case_event_write(
                case,
                actor=actor,
                kind="callback_unreachable",
                at=now,
                note=str(note),
                data={"next_step": next_step, "callback": callback.pk},
            )
    return attempt


@transaction.atomic
def case_resolve(*, case: Case, version: int, actor: User, outcome: str, note: str = "") -> Case:
    require_center_staff(actor, case.client_id)
    outcome = _required_text(outcome, "outcome")
    now = timezone.now()
    first_contact = case.state == CaseState.OPEN
    case = _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=CaseState.RESOLVED,
        kind="resolved",
        note=note,
        data={"first_contact_resolution": first_contact},
        fields={"outcome": outcome, "resolved_at": now},
    )
    _withdraw_open_inquiries(case, now)
    _cancel_pending_callbacks(case)
    return case


@transaction.atomic
def case_close(
    *, case: Case, version: int, actor: User | None, note: str | SystemText = ""
) -> Case:
    """Closes a resolved case once its reopen window has passed."""
    if actor is not None:
        require_center_staff(actor, case.client_id)
    now = timezone.now()
    if case.state == CaseState.RESOLVED and case.resolved_at:
        window_ends = case.resolved_at + dt.timedelta(days=case.client.reopen_window_days)
        if now < window_ends:
            raise IllegalTransition(
                _("This case can be reopened until %(date)s; it closes after that.")
                % {"date": timezone.localtime(window_ends).strftime("%Y-%m-%d %H:%M")},
                field="state",
            )
    return _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=CaseState.CLOSED,
        kind="closed",
        note=note,
        fields={"closed_at": now},
    )


@transaction.atomic
def case_reopen(
    *, case: Case, version: int, actor: User, note: str, team: Team | None = None
) -> Case:
    """The customer came back about a settled case: it is azukari again, history kept."""
    require_center_staff(actor, case.client_id)
    if case.state not in (CaseState.RESOLVED, CaseState.CLOSED):
        raise IllegalTransition(_("Only a resolved or closed case can be reopened."), field="state")
    note = _required_text(note, "note")
    fields: dict[str, Any] = {
        "reopen_count": F("reopen_count") + 1,
        "resolved_at": None,
        "closed_at": None,
        "outcome": "",
    }
    team = team or case.owner_team
    if team is None:
        raise DomainError(_("Choose the team that owns the azukari."), field="team")
    _check_team(team, case)
    fields.update(owner_team=team, site_id=team.site_id, parked_at=case.parked_at or timezone.now())
    return _transition(
        case=case,
        version=version,
        actor=actor,
        to_state=CaseState.AZUKARI,
        kind="reopened",
        note=note,
        fields=fields,
    )
