"""Writes of customer self-service: links, identity, and what the customer does online.

Every act goes through the same services the desk uses (contacts, cases, cancellation
requests, exceptions, callbacks, the customer's preferences), with the client's self-service
user as the actor, so it lands in the flow the center works and shows on the desk at once.
"""

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.cases.models import (
    AzukariReason,
    Callback,
    CallbackStatus,
    CallerRelation,
    Case,
    CaseKind,
    CaseState,
    Contact,
    Direction,
    IdentityCheck,
)
from azukari.cases.scheduling import call_calendar_for, preferences_of, propose_callback_times
from azukari.cases.selectors import desk_team_for
from azukari.cases.services import (
    callback_schedule,
    callback_time_check,
    case_contact_add,
    case_open,
    case_park,
    contact_log,
)
from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.core.phones import normalize_phone
from azukari.core.tasks import enqueue
from azukari.customers.models import Customer, CustomerPhone, PhoneKind
from azukari.customers.services import customer_update
from azukari.org.models import Client, Role, Team, User
from azukari.org.people import SELF_SERVICE_NAME
from azukari.selfservice.models import (
    IdentityFact,
    Link,
    LinkChannel,
    LinkOrigin,
    OfferShown,
    PageView,
    SelfServiceSettings,
)
from azukari.subscriptions.models import (
    OPEN_CANCELLATION_STATES,
    CancellationRequest,
    Subscription,
    SubscriptionStatus,
)
from azukari.subscriptions.services import (
    cancellation_decide,
    cancellation_exception_ask,
    cancellation_request_record,
    cancellation_request_withdraw,
)

log = logging.getLogger("azukari.selfservice")

MAX_WRONG_ANSWERS = 5
SESSION_MINUTES = 30
# The first callback offered after an online request: not sooner than this.
CALLBACK_LEAD = dt.timedelta(minutes=30)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# ---------------------------------------------------------------- the client's settings


def _home_site_for(client: Client) -> int | None:
    """The site whose azukari desk takes what customers do online: the first desk serving
    the client, else any team serving it."""
    teams = Team.objects.filter(clients=client).order_by("-is_azukari_desk", "site_id", "pk")
    return teams.values_list("site_id", flat=True).first()


@transaction.atomic
def selfservice_settings_ensure(*, client: Client) -> SelfServiceSettings:
    """The client's settings, created with their defaults (and the acting user) the first
    time self-service is used for the client."""
    found = SelfServiceSettings.objects.select_related("service_user").filter(client=client).first()
    if found is not None:
        return found
    user = User(
        username=f"selfservice-{client.code}"[:150],
        first_name=SELF_SERVICE_NAME,
        display_name=SELF_SERVICE_NAME,
        role=Role.OPERATOR,
        is_service_account=True,
        home_site_id=_home_site_for(client),
        # Customers act for themselves; the center's contract with the client covers it.
        agreement_signed_on=timezone.localdate(),
        agreement_version="self-service",
    )
    user.set_unusable_password()
    user.save()
    user.clients.set([client])
    return SelfServiceSettings.objects.create(client=client, service_user=user)


def signed_up_online(subscription: Subscription) -> bool:
    """Whether the sign-up terms say the customer signed up online (`"channel": "online"`
    in the terms snapshot): he may then always cancel online."""
    return (subscription.terms_snapshot or {}).get("channel") == "online"


# ---------------------------------------------------------------- links


def link_token(link: Link) -> str:
    """The link's secret: derived from its random salt with the server's key, so it can be
    sent again by a retried task without ever being stored."""
    mac = hmac.new(
        settings.SECRET_KEY.encode(), f"selfservice-link:{link.salt}".encode(), hashlib.sha256
    )
    return mac.hexdigest()


def _destination(customer: Customer, channel: str, phone: str | None = None) -> str:
    if channel == LinkChannel.EMAIL:
        if not customer.email:
            raise DomainError(_("The customer has no e-mail address on record."), field="channel")
        return customer.email.strip().lower()
    numbers = list(customer.phones.order_by("pk").values_list("number", "kind"))
    if phone is not None:
        if phone not in {n for n, _k in numbers}:
            raise DomainError(_("This number is not the customer's."), field="phone")
        return phone
    mobiles = [n for n, k in numbers if k == PhoneKind.MOBILE]
    if not mobiles:
        raise DomainError(_("The customer has no mobile phone on record."), field="channel")
    return mobiles[0]


def destination_is_current(link: Link) -> bool:
    """Whether the number or address the link went to is still the customer's: a number
    reassigned or an address changed takes the link with it."""
    if link.channel == LinkChannel.EMAIL:
        email = Customer.objects.filter(pk=link.customer_id).values_list("email", flat=True)
        return any(_sha256(e.strip().lower()) == link.destination_hash for e in email if e)
    numbers = CustomerPhone.objects.filter(customer_id=link.customer_id).values_list(
        "number", flat=True
    )
    return any(_sha256(n) == link.destination_hash for n in numbers)


@transaction.atomic
def link_issue(
    *,
    customer: Customer,
    channel: str,
    origin: str,
    issued_by: User | None = None,
    phone: str | None = None,
) -> Link:
    """A new one-time link for the customer, sent by a task once this commits."""
    if channel not in LinkChannel.values:
        raise DomainError(_("Choose SMS or e-mail."), field="channel")
    if origin not in LinkOrigin.values:
        raise DomainError(_("Unknown origin."), field="origin")
    if issued_by is not None and customer.client_id not in issued_by.visible_client_ids():
        raise NotVisible(field="customer")
    ss = selfservice_settings_ensure(client=customer.client)
    destination = _destination(customer, channel, phone)
    now = timezone.now()
    link = Link(
        client_id=customer.client_id,
        customer=customer,
        salt=secrets.token_hex(32),
        channel=channel,
        destination_hash=_sha256(destination),
        origin=origin,
        issued_by=issued_by,
        created_at=now,
        expires_at=now + dt.timedelta(hours=ss.link_hours),
    )
    link.token_hash = _sha256(link_token(link))
    link.save()
    enqueue("azukari.selfservice.tasks.link_send_task", link.pk, group="selfservice")
    return link


def link_send(*, link_id: int) -> bool:
    """Sends the link once (a retried task finds it sent and does nothing); says whether
    it sent. A link revoked, expired or whose destination changed is not sent."""
    from azukari.selfservice.sending import send_link_message

    with transaction.atomic():
        link = (
            Link.objects.select_for_update(of=("self",))
            .select_related("customer", "client")
            .filter(pk=link_id)
            .first()
        )
        if link is None or link.sent_at is not None or link.revoked_at is not None:
            return False
        if link.expires_at <= timezone.now() or not destination_is_current(link):
            return False
        send_link_message(link=link, token=link_token(link), destination=_resolve(link))
        Link.objects.filter(pk=link.pk).update(sent_at=timezone.now())
    return True


def _resolve(link: Link) -> str:
    """The destination in clear, found again from its hash among the customer's own."""
    if link.channel == LinkChannel.EMAIL:
        return link.customer.email.strip().lower()
    for number in link.customer.phones.values_list("number", flat=True):
        if _sha256(number) == link.destination_hash:
            return number
    raise DomainError(_("This link is no longer valid."), field="link")


def link_request_public(*, client: Client, customer_number: str, phone: str) -> None:
    """The public form: a link by SMS if the number and phone belong together, else
    nothing. The caller answers the same either way; nothing here says which it was."""
    try:
        number = normalize_phone(phone, field="phone")
    except DomainError:
        return
    customer = (
        Customer.objects.filter(client=client, customer_number=(customer_number or "").strip())
        .only("pk", "client_id")
        .first()
    )
    if customer is None or not number:
        return
    if not CustomerPhone.objects.filter(customer=customer, number=number).exists():
        return
    link_issue(
        customer=customer, channel=LinkChannel.SMS, origin=LinkOrigin.PUBLIC_FORM, phone=number
    )


class LinkInvalid(DomainError):
    code = "link_invalid"
    status = 404


def _invalid() -> LinkInvalid:
    # One message for unknown, used, expired, locked and revoked: nothing to learn from it.
    return LinkInvalid(
        _("This link is no longer valid. Ask for a new one; each link works once."),
        field="link",
    )


@transaction.atomic
def link_open(*, token: str) -> tuple[Link, str]:
    """Exchanges the one-time link for a short session: returns the link and the session's
    secret (for the signed cookie). The link cannot be opened again."""
    link = (
        Link.objects.select_for_update(of=("self",)).filter(token_hash=_sha256(token or "")).first()
    )
    now = timezone.now()
    if (
        link is None
        or link.used_at is not None
        or link.revoked_at is not None
        or link.locked_at is not None
        or link.expires_at <= now
        or not destination_is_current(link)
    ):
        raise _invalid()
    secret = secrets.token_urlsafe(32)
    Link.objects.filter(pk=link.pk).update(
        used_at=now,
        session_hash=_sha256(secret),
        session_expires_at=now + dt.timedelta(minutes=SESSION_MINUTES),
    )
    link.refresh_from_db()
    return link, secret


def session_link(secret: str | None) -> Link | None:
    """The link behind a session cookie while the session lasts; None once it ended, the
    link was locked or revoked, or its destination is no longer the customer's."""
    if not secret:
        return None
    link = (
        Link.objects.select_related("customer", "client")
        .filter(
            session_hash=_sha256(secret),
            session_expires_at__gt=timezone.now(),
            revoked_at__isnull=True,
            locked_at__isnull=True,
        )
        .first()
    )
    if link is None or not destination_is_current(link):
        return None
    return link


def session_end(*, link: Link) -> None:
    Link.objects.filter(pk=link.pk).update(session_hash="", session_expires_at=None)


# ---------------------------------------------------------------- identity


def _digits(value: str) -> str:
    return "".join(c for c in (value or "") if c.isdigit())


def _fact_matches(customer: Customer, fact: str, answer: str) -> bool:
    given = _digits(answer.translate(_FULL_WIDTH_DIGITS))
    if fact == IdentityFact.POSTCODE:
        expected = [_digits(customer.postcode)]
    elif fact == IdentityFact.BIRTH_DATE:
        # None on record compares as "", which never matches: the same path as a wrong answer.
        born = customer.birth_date
        expected = [born.strftime("%Y%m%d") if born else ""]
        given = _date_digits(answer.translate(_FULL_WIDTH_DIGITS))
    else:
        expected = [_digits(n)[-4:] for n in customer.phones.values_list("number", flat=True)]
        if len(given) > 4:
            given = given[-4:] if len(given) >= 10 else given
    found = False
    for value in expected:  # compared in constant time, every one
        found |= bool(value) and hmac.compare_digest(value, given)
    return found


def _date_digits(answer: str) -> str:
    """A date as YYYYMMDD, from the date input's 1980-04-05 or a typed 1980/4/5."""
    parts = [p for p in re.split(r"\D+", answer) if p]
    if len(parts) == 3 and len(parts[0]) == 4 and all(len(p) <= 2 for p in parts[1:]):
        return parts[0] + parts[1].zfill(2) + parts[2].zfill(2)
    return "".join(parts)


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９－", "0123456789-")


def identity_confirm(*, link: Link, answer: str) -> bool:
    """Checks the one fact the client chose. A wrong answer is counted; the fifth locks the
    link and ends its session. Says whether it matched."""
    ss = selfservice_settings_ensure(client=link.client)
    with transaction.atomic():
        link = (
            Link.objects.select_for_update(of=("self",)).select_related("customer").get(pk=link.pk)
        )
        if link.locked_at is not None:
            return False
        if _fact_matches(link.customer, ss.identity_fact, answer):
            Link.objects.filter(pk=link.pk).update(
                identity_confirmed_at=timezone.now(), failed_answers=0
            )
            return True
        wrong = link.failed_answers + 1
        updates: dict[str, Any] = {"failed_answers": wrong}
        if wrong >= MAX_WRONG_ANSWERS:
            updates.update(locked_at=timezone.now(), session_hash="", session_expires_at=None)
            log.warning("self-service link %s locked after %d wrong answers", link.pk, wrong)
        Link.objects.filter(pk=link.pk).update(**updates)
    return False


# ---------------------------------------------------------------- what the customer does


@dataclass(frozen=True)
class Done:
    """What an act did, for the page's confirmation and the receipt."""

    case: Case
    message: str
    receipt: dict[str, Any]


def _settings_and_actor(link: Link) -> tuple[SelfServiceSettings, User]:
    if link.identity_confirmed_at is None:
        raise PermissionRefused(_("Confirm who you are first."))
    ss = selfservice_settings_ensure(client=link.client)
    return ss, ss.service_user


def _subscription(link: Link, subscription_id: int) -> Subscription:
    """One of the link's customer's own subscriptions, else the same refusal as missing."""
    subscription = (
        Subscription.objects.select_related("plan", "customer", "client")
        .filter(pk=subscription_id, customer_id=link.customer_id, client_id=link.client_id)
        .first()
    )
    if subscription is None:
        raise NotVisible(field="subscription")
    return subscription


def _require(offered: bool, *, always: bool = False) -> None:
    if not (offered or always):
        raise PermissionRefused(_("This is not offered online; please call us."))


def _online_contact(actor: User, link: Link, summary: str, reason: str) -> Contact:
    now = timezone.now()
    return contact_log(
        actor=actor,
        client=link.client,
        customer=link.customer,
        direction=Direction.ONLINE,
        started_at=now,
        ended_at=now,
        caller_relation=CallerRelation.HOLDER,
        identity_check=IdentityCheck.VERIFIED,
        identity_method=str(_("Self-service link and one identity fact")),
        reason=reason,
        summary=summary,
    )


def _open_case(link: Link, subscription: Subscription | None, kind: str) -> Case | None:
    cases = Case.objects.filter(customer_id=link.customer_id, kind=kind).exclude(
        state__in=(CaseState.RESOLVED, CaseState.CLOSED)
    )
    if subscription is not None:
        cases = cases.filter(subscription=subscription)
    return cases.order_by("-opened_at").first()


def first_callback_time(*, customer: Customer, client: Client, team: Team) -> dt.datetime | None:
    """The earliest time the customer's preferences and the team's site allow."""
    proposals = propose_callback_times(
        prefs=preferences_of(customer),
        calendar=call_calendar_for(client=client, site=team.site),
        after=timezone.now() + CALLBACK_LEAD,
        count=1,
    )
    return proposals[0] if proposals else None


def _park_with_callback(case: Case, actor: User, note: str) -> Case:
    """Hands the online act to the azukari desk with a callback inside the customer's
    windows (none promised when the next three weeks have no allowed time)."""
    if case.state != CaseState.OPEN:
        return case
    team = desk_team_for(case, actor)
    if team is None:
        raise DomainError(_("No team serves this client yet; please call us."), field="case")
    at = first_callback_time(customer=case.customer, client=case.client, team=team)
    return case_park(
        case=case,
        version=case.version,
        actor=actor,
        reason=AzukariReason.SV_CALLBACK,
        team=team,
        state=CaseState.CALLBACK_DUE if at else CaseState.AZUKARI,
        promised_callback_at=at,
        note=note,
    )


def _cancellation_case(link: Link, actor: User, subscription: Subscription, summary: str) -> Case:
    contact = _online_contact(actor, link, summary, str(_("Cancellation")))
    case = _open_case(link, subscription, CaseKind.CANCELLATION)
    if case is not None:
        return case_contact_add(case=case, contact=contact, actor=actor)
    return case_open(
        contact=contact,
        actor=actor,
        kind=CaseKind.CANCELLATION,
        subject=str(_("The customer asks to cancel (self-service)")),
        subscription=subscription,
        note=summary,
    )


def _open_request(subscription: Subscription) -> CancellationRequest | None:
    return CancellationRequest.objects.filter(
        subscription=subscription, status__in=OPEN_CANCELLATION_STATES
    ).first()


def _open_or_new_request(
    link: Link, actor: User, subscription: Subscription
) -> CancellationRequest:
    """The subscription's open cancellation request, recorded first when he never asked."""
    request = _open_request(subscription)
    if request is None:
        summary = str(_("The customer recorded his cancellation request online."))
        case = _cancellation_case(link, actor, subscription, summary)
        request = cancellation_request_record(actor=actor, case=case, subscription=subscription)
    return request


def _receipt(link: Link, kind: str, **data: Any) -> dict[str, Any]:
    return {"kind": kind, "at": timezone.now().isoformat(), **data}


@transaction.atomic
def selfservice_request_record(*, link: Link, subscription_id: int) -> Done:
    """The customer asks to cancel: dated today (or the first day he ever asked), the next
    shipment held, and the case with the azukari desk with a callback in his windows."""
    ss, actor = _settings_and_actor(link)
    subscription = _subscription(link, subscription_id)
    _require(ss.offers_request, always=signed_up_online(subscription))
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise DomainError(_("This subscription is already cancelled."), field="subscription")
    summary = str(_("The customer recorded his cancellation request online."))
    case = _cancellation_case(link, actor, subscription, summary)
    request = cancellation_request_record(actor=actor, case=case, subscription=subscription)
    case = _park_with_callback(case, actor, summary)
    _notify_receipt(link, "request", request_id=request.pk, requested_on=request.requested_on)
    return Done(
        case,
        str(
            _("Your cancellation request is recorded, dated %(date)s.")
            % {"date": request.requested_on.strftime("%Y/%m/%d")}
        ),
        _receipt(link, "request", requested_on=request.requested_on.isoformat()),
    )


@transaction.atomic
def selfservice_option_choose(*, link: Link, subscription_id: int, option_code: str) -> Done:
    """The customer chooses a standard option (after its final confirmation): the request
    is recorded first if it was not, and the decision settles the case."""
    ss, actor = _settings_and_actor(link)
    subscription = _subscription(link, subscription_id)
    _require(ss.offers_choice)
    request = _open_or_new_request(link, actor, subscription)
    decision = cancellation_decide(
        actor=actor,
        request=request,
        option_code=option_code,
        note=str(_("Chosen by the customer online after the final confirmation.")),
    )
    case = Case.objects.get(pk=request.case_id)
    _notify_receipt(link, "choice", request_id=request.pk, option=option_code)
    return Done(
        case,
        str(
            _("Your choice is recorded: the cancellation takes effect on %(date)s.")
            % {"date": decision.effective_on.strftime("%Y/%m/%d")}
        ),
        _receipt(link, "choice", option=option_code),
    )


@transaction.atomic
def selfservice_exception_ask(
    *, link: Link, subscription_id: int, ground_code: str, reason: str
) -> Done:
    """The customer asks for an exception on a listed ground, in his own words: the same
    approval and inquiry flow as at the desk, with its precedents."""
    ss, actor = _settings_and_actor(link)
    subscription = _subscription(link, subscription_id)
    _require(ss.offers_exception)
    request = _open_or_new_request(link, actor, subscription)
    case = Case.objects.select_related("customer", "client").get(pk=request.case_id)
    team = desk_team_for(case, actor)
    cancellation_exception_ask(
        actor=actor, request=request, ground_code=ground_code, reason=reason, team=team
    )
    case.refresh_from_db()
    case = _park_with_callback(case, actor, reason)
    _notify_receipt(link, "exception", request_id=request.pk, ground=ground_code)
    return Done(
        case,
        str(_("Your request for an exception is recorded; we will tell you the answer.")),
        _receipt(link, "exception", ground=ground_code),
    )


@transaction.atomic
def selfservice_withdraw(*, link: Link, subscription_id: int) -> Done:
    """The customer no longer wants to cancel."""
    _ss, actor = _settings_and_actor(link)
    subscription = _subscription(link, subscription_id)
    request = _open_request(subscription)
    if request is None:
        raise DomainError(_("There is no open request to withdraw."), field="subscription")
    _online_contact(actor, link, str(_("The customer withdrew his request online.")), "")
    cancellation_request_withdraw(
        actor=actor, request=request, note=str(_("Withdrawn by the customer online."))
    )
    _notify_receipt(link, "withdraw", request_id=request.pk)
    return Done(
        Case.objects.get(pk=request.case_id),
        str(_("Your request is withdrawn; your deliveries continue.")),
        _receipt(link, "withdraw"),
    )


@transaction.atomic
def selfservice_question(*, link: Link, text: str) -> Done:
    """A question in the customer's words: a contact and a case with the azukari desk."""
    _ss, actor = _settings_and_actor(link)
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Write your question."), field="text")
    if len(text) > 2000:
        raise DomainError(_("At most %(n)d characters.") % {"n": 2000}, field="text")
    contact = _online_contact(actor, link, text, str(_("Question")))
    case = case_open(
        contact=contact,
        actor=actor,
        kind=CaseKind.INFORMATION,
        subject=str(_("Question asked online")),
        note=text,
    )
    case = _park_with_callback(case, actor, text)
    _notify_receipt(link, "question", text=text)
    return Done(case, str(_("Your question is sent; we will call you back.")), {})


def open_offer(link: Link, subscription: Subscription) -> OfferShown | None:
    """The retention offer he was shown, while he may still accept it: once shown, never
    accepted, and no cancellation request recorded since."""
    shown = OfferShown.objects.filter(subscription=subscription, accepted_at__isnull=True).first()
    if shown is None or _open_request(subscription) is not None:
        return None
    return shown


@transaction.atomic
def selfservice_offer_accept(*, link: Link, subscription_id: int) -> Done:
    """He takes the retention offer (after its final confirmation): a case for the azukari
    desk, who applies it and calls him in his windows."""
    _ss, actor = _settings_and_actor(link)
    subscription = _subscription(link, subscription_id)
    shown = open_offer(link, subscription)
    if shown is None:
        raise DomainError(_("This offer is no longer open."), field="offer")
    summary = str(_("The customer accepted the offer online: %(offer)s") % {"offer": shown.offer})
    contact = _online_contact(actor, link, summary, str(_("Offer")))
    case = case_open(
        contact=contact,
        actor=actor,
        kind=CaseKind.DELIVERY,
        subject=str(_("Offer accepted online")),
        subscription=subscription,
        note=summary,
    )
    case = _park_with_callback(case, actor, summary)
    OfferShown.objects.filter(pk=shown.pk).update(accepted_at=timezone.now())
    _notify_receipt(link, "offer", offer=shown.offer)
    return Done(
        case,
        str(_("Thank you: the offer is accepted; we will confirm it with you.")),
        _receipt(link, "offer", offer=shown.offer),
    )


@transaction.atomic
def selfservice_preferences_set(
    *,
    link: Link,
    days_off: list[int],
    window_start: dt.time | None,
    window_end: dt.time | None,
    quiet_from: dt.time | None = None,
    quiet_until: dt.time | None = None,
) -> int:
    """When the customer may be called, through the customer service; callbacks already
    planned at a time he no longer allows move to the first time he does. Says how many
    moved."""
    ss, actor = _settings_and_actor(link)
    _require(ss.offers_preferences)
    days_off = sorted({int(d) for d in days_off})
    windows: list[dict[str, Any]] = []
    if window_start and window_end:
        if window_end <= window_start:
            raise DomainError(_("The window must end after it starts."), field="window_end")
        days = [d for d in range(7) if d not in days_off]
        windows = [
            {
                "days": days,
                "start": window_start.strftime("%H:%M"),
                "end": window_end.strftime("%H:%M"),
            }
        ]
    customer, _changed = customer_update(
        customer=link.customer,
        days_off=days_off,
        call_windows=windows,
        quiet_from=quiet_from,
        quiet_until=quiet_until,
    )
    moved = callbacks_follow_preferences(customer=customer, actor=actor)
    _online_contact(actor, link, str(_("The customer set when he may be called.")), "")
    return moved


def callbacks_follow_preferences(*, customer: Customer, actor: User) -> int:
    """Moves the customer's open callbacks whose time his preferences now refuse to the
    first time they allow (a time he named himself stays)."""
    moved = 0
    callbacks = Callback.objects.select_related("case__site", "client", "customer", "team__site")
    for callback in callbacks.filter(
        customer=customer, status__in=(CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)
    ):
        at = callback.scheduled_for or callback.promised_for
        if at is None:
            continue
        site = callback.team.site if callback.team_id else callback.case.site
        try:
            callback_time_check(customer=customer, client=callback.client, site=site, at=at)
            continue
        except DomainError:
            pass
        team = callback.team or callback.case.owner_team
        new = first_callback_time(customer=customer, client=callback.client, team=team)
        if new is not None:
            callback_schedule(callback=callback, actor=actor, at=new)
            # What we told him follows: his status page says the new time.
            Callback.objects.filter(pk=callback.pk, promised_for=at).update(promised_for=new)
            Case.objects.filter(pk=callback.case_id, promised_callback_at=at).update(
                promised_callback_at=new, version=F("version") + 1
            )
            moved += 1
    return moved


# ---------------------------------------------------------------- records and receipts


def page_view_record(
    *, link: Link, page: str, language: str, shown: dict[str, Any], schema: int = 1
) -> PageView:
    """Keeps exactly what a page showed (options, terms text, offer), hashed as written."""
    import json

    canonical = json.dumps(shown, sort_keys=True, ensure_ascii=False, default=str)
    return PageView.objects.create(
        client_id=link.client_id,
        link=link,
        customer_id=link.customer_id,
        at=timezone.now(),
        page=page[:32],
        language=language[:8],
        schema=schema,
        shown=json.loads(canonical),
        content_hash=_sha256(canonical),
    )


def _notify_receipt(link: Link, kind: str, **data: Any) -> None:
    """A receipt by e-mail of what he asked and what he was told (the newest page record),
    if the customer has an address; queued with the act."""
    if not link.customer.email:
        return
    enqueue(
        "azukari.selfservice.tasks.receipt_send_task",
        link.pk,
        kind,
        {k: str(v) for k, v in data.items()},
        group="selfservice",
    )
