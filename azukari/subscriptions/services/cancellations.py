"""Writes for cancellation requests, wired into the case lifecycle.

The first-request date is fixed the first time the customer asks and belongs to the
subscription: it survives the case being closed and reopened, and only an explicit withdrawal
ends it. Every option, exception and decision is computed by the pure engine from that date and
from the policy version in force on it, so time spent in azukari never costs the customer.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from azukari.cases.models import (
    AZUKARI_STATES,
    AzukariReason,
    Case,
    CaseState,
    Contact,
    Inquiry,
    InquiryStatus,
)
from azukari.cases.services import (
    case_event_write,
    case_park,
    case_resolve,
    case_resume,
    inquiry_answer,
    inquiry_send,
    require_center_staff,
)
from azukari.cases.texts import SystemText
from azukari.core.errors import DomainError, IllegalTransition, NotVisible, PermissionRefused
from azukari.org.models import Team, User
from azukari.org.permissions import Cap, user_can
from azukari.subscriptions.models import (
    OPEN_CANCELLATION_STATES,
    CancellationDecision,
    CancellationDisclosure,
    CancellationRequest,
    CancellationStatus,
    ClientEvent,
    ClientEventKind,
    Delivery,
    DeliveryStatus,
    DisclosureKind,
    ExceptionOutcome,
    ExceptionRequest,
    Subscription,
    SubscriptionStatus,
)
from azukari.subscriptions.policy import (
    EXCEPTION_PREFIX,
    ApprovalLevel,
    Assessment,
    Option,
    OptionKind,
    explain,
    explain_fee_basis,
)
from azukari.subscriptions.policy.explain import yen
from azukari.subscriptions.policy.rules import APPROVAL_RANK
from azukari.subscriptions.selectors import (
    assessment_for,
    option_label,
    policy_for,
    request_assessment,
    signup_terms,
    version_in_force,
)

GRANT, REFUSE = "grant", "refuse"

# ---------------------------------------------------------------- helpers


def approval_rank(user: User) -> int:
    """The highest approval level a person holds: operators and desk, SVs and up, the client."""
    if user_can(user, Cap.APPROVE_AS_CLIENT):
        return APPROVAL_RANK[ApprovalLevel.CLIENT]
    if user_can(user, Cap.APPROVE_AS_SV):
        return APPROVAL_RANK[ApprovalLevel.SV]
    return APPROVAL_RANK[ApprovalLevel.OPERATOR]


def _locked_request(request: CancellationRequest) -> CancellationRequest:
    return (
        CancellationRequest.objects.select_for_update()
        .select_related("subscription", "policy_version", "case")
        .get(pk=request.pk)
    )


def _require_open(request: CancellationRequest) -> None:
    if not request.is_open:
        raise IllegalTransition(
            _("This cancellation request has already been decided or withdrawn."),
            field="request",
        )


def _event(
    *,
    kind: str,
    subscription: Subscription,
    key: str,
    payload: dict[str, Any],
    now: dt.datetime,
    request: CancellationRequest | None = None,
    delivery: Delivery | None = None,
) -> ClientEvent:
    """Writes an outbox row once; the same key again returns the row already written."""
    event, _created = ClientEvent.objects.get_or_create(
        key=key,
        defaults={
            "client_id": subscription.client_id,
            "kind": kind,
            "subscription": subscription,
            "delivery": delivery,
            "request": request,
            "payload": {"subscription": subscription.external_id, **payload},
            "created_at": now,
        },
    )
    return event


def _contacts_before(request: CancellationRequest, now: dt.datetime) -> int:
    """Contacts about this cancellation from the first request up to now, both directions."""
    start = dt.datetime.combine(
        request.requested_on, dt.time(0), tzinfo=timezone.get_current_timezone()
    )
    cases = Q(case__subscription_id=request.subscription_id, case__kind="cancellation") | Q(
        case_id=request.case_id
    )
    return Contact.objects.filter(cases, started_at__gte=start, started_at__lte=now).count()


def _option(assessment: Assessment, code: str) -> Option:
    option = assessment.option(code)
    if option is None:
        raise DomainError(_("Choose one of the options offered."), field="option_code")
    return option


def _settle_case(case: Case, *, actor: User, outcome: str) -> None:
    """Resolves the case the decision was made on, if it is still being worked.

    A case with a callback due stays open: the customer has yet to be told the answer.
    """
    case = Case.objects.get(pk=case.pk)
    if case.state == CaseState.OPEN or (
        case.state in AZUKARI_STATES and case.state != CaseState.CALLBACK_DUE
    ):
        case_resolve(case=case, version=case.version, actor=actor, outcome=outcome)


def _outcome_text(option: Option) -> str:
    with translation.override("en"):
        label = option_label(option.code, option.ground.label if option.ground else "")
        return gettext("%(option)s: %(cost)s, effective %(date)s") % {
            "option": label,
            "cost": yen(option.cost_yen),
            "date": option.effective_on.isoformat(),
        }


# ---------------------------------------------------------------- the request


@transaction.atomic
def cancellation_request_record(
    *, actor: User, case: Case, subscription: Subscription | None = None, note: str = ""
) -> CancellationRequest:
    """The customer asks to cancel: dated the first time, the next shipment held.

    Asking again while a request is open counts the ask and keeps the first date.
    """
    require_center_staff(actor, case.client_id)
    subscription = subscription or case.subscription
    if subscription is None:
        raise DomainError(_("Choose the subscription to cancel."), field="subscription")
    if subscription.client_id != case.client_id:
        raise NotVisible()
    if subscription.customer_id != case.customer_id:
        raise DomainError(_("This subscription is not the customer's."), field="subscription")
    subscription = (
        Subscription.objects.select_for_update().select_related("plan").get(pk=subscription.pk)
    )
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise DomainError(_("This subscription is already cancelled."), field="subscription")
    decided = (
        CancellationDecision.objects.filter(request__subscription=subscription)
        .order_by("-decided_at")
        .first()
    )
    if decided is not None:
        raise DomainError(
            _("A cancellation of this subscription was already decided, effective %(date)s.")
            % {"date": decided.effective_on.isoformat()},
            field="subscription",
        )
    now = timezone.now()
    today = timezone.localdate(now)
    open_request = CancellationRequest.objects.filter(
        subscription=subscription, status__in=OPEN_CANCELLATION_STATES
    ).first()
    if open_request is not None:
        CancellationRequest.objects.filter(pk=open_request.pk).update(asks=F("asks") + 1)
        open_request.refresh_from_db()
        case_event_write(
            case,
            actor=actor,
            kind="cancellation_asked_again",
            at=now,
            note=note,
            data={
                "request": open_request.pk,
                "asks": open_request.asks,
                "first_requested_on": open_request.requested_on.isoformat(),
            },
        )
        return open_request

    first_on = subscription.first_cancel_requested_on or today
    version = version_in_force(policy_for(subscription), first_on)
    # Refuse now, before anything is written, if the engine cannot give options.
    assessment = assessment_for(
        subscription=subscription, version=version, first_requested_on=first_on, today=today
    )
    request = CancellationRequest.objects.create(
        client_id=subscription.client_id,
        subscription=subscription,
        case=case,
        requested_on=first_on,
        policy_version=version,
        recorded_by=actor,
    )
    Subscription.objects.filter(pk=subscription.pk, first_cancel_requested_on__isnull=True).update(
        first_cancel_requested_on=first_on
    )
    case_event_write(
        case,
        actor=actor,
        kind="cancellation_requested",
        at=now,
        note=note,
        data={
            "request": request.pk,
            "first_requested_on": first_on.isoformat(),
            "policy_version": version.pk,
            "options": [o.to_dict() for o in assessment.options],
        },
    )
    _hold_next_shipment(subscription, request, now)
    return request


def _hold_next_shipment(
    subscription: Subscription, request: CancellationRequest, now: dt.datetime
) -> None:
    """Tells the client's systems to hold the next shipment while the request is decided."""
    delivery = (
        Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.SCHEDULED)
        .order_by("sequence")
        .first()
    )
    if delivery is not None:
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.HELD)
    _event(
        kind=ClientEventKind.HOLD_SHIPMENT,
        subscription=subscription,
        request=request,
        delivery=delivery,
        key=f"hold_shipment:{request.pk}",
        now=now,
        payload={
            "first_requested_on": request.requested_on.isoformat(),
            "delivery": delivery.external_id or delivery.sequence if delivery else None,
            "scheduled_on": delivery.scheduled_on.isoformat() if delivery else None,
        },
    )


def _release_holds(
    subscription: Subscription, request: CancellationRequest, now: dt.datetime, *, reason: str
) -> None:
    held = list(Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.HELD))
    Delivery.objects.filter(pk__in=[d.pk for d in held]).update(status=DeliveryStatus.SCHEDULED)
    _event(
        kind=ClientEventKind.RELEASE_HOLD,
        subscription=subscription,
        request=request,
        key=f"release_hold:{request.pk}",
        now=now,
        payload={"reason": reason, "deliveries": [d.external_id or d.sequence for d in held]},
    )


@transaction.atomic
def cancellation_request_withdraw(
    *, actor: User, request: CancellationRequest, note: str
) -> CancellationRequest:
    """The customer no longer wants to cancel: an explicit, recorded act that ends the date."""
    require_center_staff(actor, request.client_id)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say why the customer withdrew the request."), field="note")
    request = _locked_request(request)
    _require_open(request)
    now = timezone.now()
    CancellationRequest.objects.filter(pk=request.pk).update(
        status=CancellationStatus.WITHDRAWN,
        withdrawn_at=now,
        withdrawn_by=actor,
        withdrawal_note=note,
    )
    pending = ExceptionRequest.objects.filter(request=request, outcome=ExceptionOutcome.PENDING)
    inquiry_ids = [i for i in pending.values_list("inquiry_id", flat=True) if i]
    pending.update(outcome=ExceptionOutcome.WITHDRAWN, decided_at=now)
    Subscription.objects.filter(pk=request.subscription_id).update(first_cancel_requested_on=None)
    _release_holds(request.subscription, request, now, reason="withdrawn")
    _event(
        kind=ClientEventKind.CANCELLATION_WITHDRAWN,
        subscription=request.subscription,
        request=request,
        key=f"cancellation_withdrawn:{request.pk}",
        now=now,
        payload={"first_requested_on": request.requested_on.isoformat()},
    )
    case = Case.objects.get(pk=request.case_id)
    case_event_write(
        case,
        actor=actor,
        kind="cancellation_withdrawn",
        at=now,
        note=note,
        data={"request": request.pk},
    )
    open_inquiry = Inquiry.objects.filter(
        pk__in=inquiry_ids, case=case, status=InquiryStatus.OPEN
    ).exists()
    if open_inquiry and case.state == CaseState.WAITING_CLIENT:
        case_resume(case=case, version=case.version, actor=actor, note=note)
    request.refresh_from_db()
    return request


# ---------------------------------------------------------------- telling the customer


@transaction.atomic
def cancellation_disclose(
    *,
    actor: User,
    request: CancellationRequest,
    kind: str,
    language: str,
    option_code: str = "",
) -> CancellationDisclosure:
    """Records what the customer was told, word for word: the options, a fee's basis, or the
    sign-up terms verbatim."""
    require_center_staff(actor, request.client_id)
    if kind not in DisclosureKind.values:
        raise DomainError(_("“%(value)s” is not a valid choice.") % {"value": kind}, field="kind")
    if language not in ("ja", "en"):
        raise DomainError(
            _("“%(value)s” is not a valid choice.") % {"value": language}, field="language"
        )
    request = CancellationRequest.objects.select_related("subscription", "policy_version").get(
        pk=request.pk
    )
    if kind == DisclosureKind.TERMS:
        text = signup_terms(request.subscription).text
        if not text:
            raise DomainError(
                _("No sign-up terms are recorded for this subscription."), field="kind"
            )
    else:
        _require_open(request)
        assessment = request_assessment(request)
        if kind == DisclosureKind.OPTIONS:
            text = "\n".join(explain(o, language) for o in assessment.options)
        else:
            option = _option(assessment, option_code)
            if not option.cost_yen:
                raise DomainError(_("This option has no fee."), field="option_code")
            text = explain_fee_basis(option, language)
    now = timezone.now()
    disclosure = CancellationDisclosure.objects.create(
        client_id=request.client_id,
        request=request,
        kind=kind,
        option_code=option_code,
        language=language,
        text=text,
        at=now,
        by=actor,
    )
    case_event_write(
        Case.objects.get(pk=request.case_id),
        actor=actor,
        kind="cancellation_disclosed",
        at=now,
        data={"request": request.pk, "disclosure": disclosure.pk, "kind": kind},
    )
    return disclosure


# ---------------------------------------------------------------- deciding


def _record_decision(
    *,
    request: CancellationRequest,
    assessment: Assessment,
    option: Option,
    approver: User,
    actor: User,
    note: str,
    now: dt.datetime,
    exception: ExceptionRequest | None = None,
    contacts: int | None = None,
) -> CancellationDecision:
    subscription = request.subscription
    decision = CancellationDecision.objects.create(
        client_id=request.client_id,
        request=request,
        option_code=option.code,
        option=option.to_dict(),
        options=[o.to_dict() for o in assessment.options],
        cost_yen=option.cost_yen,
        effective_on=option.effective_on,
        deliveries_to_ship=option.deliveries_to_ship,
        approval_level=option.approval_level,
        exception=exception,
        ground_code=option.ground.code if option.ground else "",
        approver=approver,
        decided_by=actor,
        decided_at=now,
        note=note,
        first_requested_on=request.requested_on,
        policy_version=request.policy_version,
        terms_version=subscription.terms_version,
        terms_snapshot=subscription.terms_snapshot,
        contacts_before=contacts if contacts is not None else _contacts_before(request, now),
    )
    CancellationRequest.objects.filter(pk=request.pk).update(
        status=CancellationStatus.DECIDED, decided_at=now
    )
    ExceptionRequest.objects.filter(request=request, outcome=ExceptionOutcome.PENDING).exclude(
        pk=exception.pk if exception else None
    ).update(outcome=ExceptionOutcome.WITHDRAWN, decided_at=now)
    today = timezone.localdate(now)
    Subscription.objects.filter(pk=subscription.pk).update(
        cancelled_on=option.effective_on,
        status=SubscriptionStatus.CANCELLED
        if option.effective_on <= today
        else subscription.status,
    )
    if option.deliveries_to_ship:
        _release_holds(subscription, request, now, reason="remaining_deliveries")
    else:
        Delivery.objects.filter(
            subscription=subscription, status__in=[DeliveryStatus.HELD, DeliveryStatus.SCHEDULED]
        ).update(status=DeliveryStatus.CANCELLED)
    _event(
        kind=ClientEventKind.CANCELLATION_DECIDED,
        subscription=subscription,
        request=request,
        key=f"cancellation_decided:{request.pk}",
        now=now,
        payload={
            "first_requested_on": request.requested_on.isoformat(),
            "option": option.to_dict(),
            "policy_version": request.policy_version.number,
            "terms_version": subscription.terms_version,
        },
    )
    case = Case.objects.get(pk=request.case_id)
    case_event_write(
        case,
        actor=actor,
        kind="cancellation_decided",
        at=now,
        note=note,
        data={
            "request": request.pk,
            "decision": decision.pk,
            "option": option.to_dict(),
            "approver": approver.pk,
            "policy_version": request.policy_version_id,
        },
    )
    _settle_case(case, actor=actor, outcome=_outcome_text(option))
    return decision


@transaction.atomic
def cancellation_decide(
    *, actor: User, request: CancellationRequest, option_code: str, note: str = ""
) -> CancellationDecision:
    """Records the customer's choice of a standard option; the case is resolved with it."""
    require_center_staff(actor, request.client_id)
    request = _locked_request(request)
    _require_open(request)
    assessment = request_assessment(request)
    option = _option(assessment, option_code)
    if option.kind == OptionKind.EXCEPTION:
        raise DomainError(
            _("An exception is asked for on its ground and granted by its approver."),
            field="option_code",
        )
    return _record_decision(
        request=request,
        assessment=assessment,
        option=option,
        approver=actor,
        actor=actor,
        note=note,
        now=timezone.now(),
    )


# ---------------------------------------------------------------- exceptions


def _inquiry_question(
    exception: ExceptionRequest, assessment: Assessment, reason: str
) -> SystemText:
    """The question put to the client, kept as a code and facts so that each reader reads it
    in their own language (see cases.texts)."""
    option = _option(assessment, EXCEPTION_PREFIX + exception.ground_code)
    facts = assessment.facts
    return SystemText(
        "exception_question",
        {
            "ground": exception.ground_code,
            "ground_label": option.ground.label if option.ground else "",
            "reason": reason,
            "date": facts.first_requested_on.isoformat(),
            "made": facts.deliveries_made,
            "required": facts.required,
            "version": facts.policy_number,
            "options": [
                {
                    "code": o.code,
                    "ground_label": o.ground.label if o.ground else "",
                    "cost": o.cost_yen,
                    "date": o.effective_on.isoformat(),
                    "n": o.deliveries_to_ship,
                }
                for o in assessment.options
            ],
        },
    )


@transaction.atomic
def cancellation_exception_ask(
    *,
    actor: User,
    request: CancellationRequest,
    ground_code: str,
    reason: str,
    team: Team | None = None,
    due_at: dt.datetime | None = None,
) -> ExceptionRequest:
    """Asks for an exception on a ground the policy lists; its approver decides.

    A ground needing the client's approval sends an inquiry with every option attached; one
    needing an SV parks a case still on the call with the given team.
    """
    require_center_staff(actor, request.client_id)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say what the customer told us about the ground."), field="reason")
    request = _locked_request(request)
    _require_open(request)
    if request.status == CancellationStatus.AWAITING_APPROVAL:
        raise IllegalTransition(
            _("An exception for this request is already awaiting approval."), field="ground"
        )
    ground = request.policy_version.grounds.filter(code=ground_code).first()
    if ground is None:
        raise DomainError(
            _("The policy in force on %(date)s has no ground “%(code)s”.")
            % {"date": request.requested_on.isoformat(), "code": ground_code},
            field="ground",
        )
    assessment = request_assessment(request)
    option = assessment.option(EXCEPTION_PREFIX + ground.code)
    if option is None:
        raise DomainError(
            _("No exception is needed: the customer can already cancel at no charge."),
            field="ground",
        )
    now = timezone.now()
    exception = ExceptionRequest.objects.create(
        client_id=request.client_id,
        request=request,
        ground=ground,
        ground_code=ground.code,
        approval_level=ground.approval_level,
        option=option.to_dict(),
        options=[o.to_dict() for o in assessment.options],
        asked_at=now,
        asked_by=actor,
        reason=reason,
        deliveries_made=assessment.facts.deliveries_made,
        policy_version=request.policy_version,
        terms_version=request.subscription.terms_version,
        terms_snapshot=request.subscription.terms_snapshot,
    )
    CancellationRequest.objects.filter(pk=request.pk).update(
        status=CancellationStatus.AWAITING_APPROVAL
    )
    case = Case.objects.select_related("client").get(pk=request.case_id)
    case_event_write(
        case,
        actor=actor,
        kind="exception_asked",
        at=now,
        note=reason,
        data={"exception": exception.pk, "ground": ground.code, "option": option.to_dict()},
    )
    if ground.approval_level == ApprovalLevel.CLIENT:
        grant_label = gettext("Grant: %(option)s, %(cost)s") % {
            "option": option_label(option.code, ground.label),
            "cost": yen(option.cost_yen),
        }
        inquiry = inquiry_send(
            case=case,
            version=case.version,
            actor=actor,
            question=_inquiry_question(exception, assessment, reason),
            options=[
                {"code": GRANT, "label": grant_label},
                {
                    "code": REFUSE,
                    "label": gettext("Refuse: the customer keeps the standard options"),
                },
            ],
            due_at=due_at,
            team=team,
        )
        ExceptionRequest.objects.filter(pk=exception.pk).update(inquiry=inquiry)
    elif (
        ground.approval_level == ApprovalLevel.SV
        and team is not None
        and case.state == CaseState.OPEN
    ):
        case_park(
            case=case,
            version=case.version,
            actor=actor,
            reason=AzukariReason.SV_CALLBACK,
            team=team,
            due_at=due_at,
            note=reason,
        )
    exception.refresh_from_db()
    return exception


def _rule(
    *,
    exception: ExceptionRequest,
    approver: User,
    actor: User,
    granted: bool,
    reason: str,
    now: dt.datetime,
) -> ExceptionRequest:
    request = _locked_request(exception.request)
    case = Case.objects.get(pk=request.case_id)
    contacts = _contacts_before(request, now)
    ExceptionRequest.objects.filter(pk=exception.pk).update(
        outcome=ExceptionOutcome.GRANTED if granted else ExceptionOutcome.REFUSED,
        decided_at=now,
        approver=approver,
        approver_role=approver.role,
        approver_reason=reason,
        site_id=case.site_id,
        contacts_before=contacts,
    )
    exception.refresh_from_db()
    case_event_write(
        case,
        actor=actor,
        kind="exception_granted" if granted else "exception_refused",
        at=now,
        note=reason,
        data={"exception": exception.pk, "ground": exception.ground_code, "approver": approver.pk},
    )
    if granted:
        assessment = request_assessment(request)
        option = _option(assessment, EXCEPTION_PREFIX + exception.ground_code)
        _record_decision(
            request=request,
            assessment=assessment,
            option=option,
            approver=approver,
            actor=actor,
            note=reason,
            now=now,
            exception=exception,
            contacts=contacts,
        )
    else:
        CancellationRequest.objects.filter(pk=request.pk).update(status=CancellationStatus.PENDING)
    return exception


def _pending_exception(exception: ExceptionRequest) -> ExceptionRequest:
    exception = ExceptionRequest.objects.select_for_update().get(pk=exception.pk)
    if exception.outcome != ExceptionOutcome.PENDING:
        raise IllegalTransition(_("This exception has already been decided."), field="exception")
    return exception


@transaction.atomic
def cancellation_exception_rule(
    *, actor: User, exception: ExceptionRequest, granted: bool, reason: str
) -> ExceptionRequest:
    """The approver grants or refuses an exception, with a reason; granting decides the request.

    A ground needing the client's approval is ruled by a client approver of that company,
    through the inquiry that was sent.
    """
    if exception.client_id not in actor.visible_client_ids():
        raise NotVisible()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the ruling."), field="reason")
    exception = _pending_exception(exception)
    if exception.approval_level == ApprovalLevel.CLIENT:
        if not actor.is_client_approver:
            raise PermissionRefused(_("This exception needs the client's approval."))
        inquiry = exception.inquiry
        if inquiry is not None and inquiry.status == InquiryStatus.OPEN:
            inquiry_answer(
                inquiry=inquiry, actor=actor, option=GRANT if granted else REFUSE, note=reason
            )
            exception.refresh_from_db()  # the answer settles it (see cancellation_inquiry_settle)
            if exception.outcome != ExceptionOutcome.PENDING:
                return exception
    else:
        if not actor.is_center_staff:
            raise PermissionRefused(_("Center staff rule on this exception."))
        if approval_rank(actor) < APPROVAL_RANK[ApprovalLevel(exception.approval_level)]:
            raise PermissionRefused(_("This exception needs a supervisor's approval."))
    return _rule(
        exception=exception,
        approver=actor,
        actor=actor,
        granted=granted,
        reason=reason,
        now=timezone.now(),
    )


@transaction.atomic
def cancellation_inquiry_settle(*, inquiry: Inquiry) -> ExceptionRequest | None:
    """Applies a client's answer given through the generic inquiry flow (portal or API).

    Idempotent: an answer already applied, or an inquiry that is no exception's, changes nothing.
    """
    exception = ExceptionRequest.objects.select_for_update().filter(inquiry=inquiry).first()
    inquiry = Inquiry.objects.get(pk=inquiry.pk)
    if exception is None or exception.outcome != ExceptionOutcome.PENDING:
        return None
    if inquiry.status != InquiryStatus.ANSWERED or inquiry.answer_option not in (GRANT, REFUSE):
        return None
    approver = inquiry.answered_by
    return _rule(
        exception=exception,
        approver=approver,
        actor=approver,
        granted=inquiry.answer_option == GRANT,
        reason=inquiry.answer_note,
        now=inquiry.answered_at or timezone.now(),
    )


# ---------------------------------------------------------------- deliveries


@transaction.atomic
def delivery_ship_record(*, delivery: Delivery, shipped_on: dt.date) -> Delivery:
    """A delivery left the warehouse. One that ships after the first request while the request
    is open, or after a decision to cancel without more deliveries, is not charged."""
    delivery = (
        Delivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
    )
    if delivery.status == DeliveryStatus.SHIPPED and delivery.shipped_on == shipped_on:
        return delivery
    if shipped_on < delivery.subscription.started_on:
        raise DomainError(
            _("A delivery cannot ship before the subscription started."), field="shipped_on"
        )
    request = (
        CancellationRequest.objects.filter(
            subscription_id=delivery.subscription_id,
            status__in=[*OPEN_CANCELLATION_STATES, CancellationStatus.DECIDED],
        )
        .select_related("decision")
        .order_by("-requested_on")
        .first()
    )
    chargeable = True
    if request is not None and shipped_on > request.requested_on:
        if request.is_open:
            chargeable = False
        else:
            decision = request.decision
            decided_on = timezone.localdate(decision.decided_at)
            chargeable = decision.deliveries_to_ship > 0 and shipped_on >= decided_on
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SHIPPED, shipped_on=shipped_on, chargeable=chargeable
    )
    if not chargeable:
        _event(
            kind=ClientEventKind.DELIVERY_NOT_CHARGEABLE,
            subscription=delivery.subscription,
            request=request,
            delivery=delivery,
            key=f"delivery_not_chargeable:{delivery.pk}",
            now=timezone.now(),
            payload={
                "delivery": delivery.external_id or delivery.sequence,
                "shipped_on": shipped_on.isoformat(),
                "first_requested_on": request.requested_on.isoformat() if request else None,
            },
        )
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def subscriptions_cancel_due(*, today: dt.date | None = None) -> int:
    """Marks as cancelled the subscriptions whose decided cancellation has taken effect.

    Idempotent; meant for a daily schedule.
    """
    today = today or timezone.localdate()
    return (
        Subscription.objects.filter(
            cancelled_on__lte=today,
            cancellation_requests__status=CancellationStatus.DECIDED,
        )
        .exclude(status=SubscriptionStatus.CANCELLED)
        .update(status=SubscriptionStatus.CANCELLED)
    )
