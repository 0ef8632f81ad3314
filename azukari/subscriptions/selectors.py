"""Reads that pages, the API, commands and services share: engine inputs, options, precedents,
time to decision. Every read of client data goes through `visible_to(viewer)`."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.visibility import Viewer, get_visible
from azukari.subscriptions.models import (
    OPEN_CANCELLATION_STATES,
    CancellationRequest,
    DeliveryStatus,
    ExceptionOutcome,
    ExceptionRequest,
    Policy,
    PolicyVersion,
    Subscription,
    SubscriptionStatus,
)
from azukari.subscriptions.policy import (
    EXCEPTION_PREFIX,
    ApprovalLevel,
    Assessment,
    BuiltinGround,
    DeliveryFact,
    OptionCode,
    PolicyError,
    PolicyRules,
    SignupTerms,
    SubscriptionState,
    assess,
    explain,
)

# ---------------------------------------------------------------- engine inputs


def signup_terms(subscription: Subscription) -> SignupTerms:
    return SignupTerms.from_snapshot(
        subscription.terms_snapshot, version=subscription.terms_version
    )


def subscription_state(subscription: Subscription) -> SubscriptionState:
    return SubscriptionState(
        cancelled=subscription.status == SubscriptionStatus.CANCELLED,
        started_on=subscription.started_on,
        interval_days=subscription.plan.interval_days,
        deliveries=tuple(
            DeliveryFact(
                sequence=d.sequence,
                scheduled_on=d.scheduled_on,
                shipped_on=d.shipped_on,
                shipped=d.status == DeliveryStatus.SHIPPED,
            )
            for d in subscription.deliveries.all()
        ),
    )


def policy_for(subscription: Subscription) -> Policy:
    """The plan's own policy, else the client-wide one."""
    policies = {
        p.plan_id: p
        for p in Policy.objects.filter(
            Q(plan_id=subscription.plan_id) | Q(plan__isnull=True),
            client_id=subscription.client_id,
        )
    }
    policy = policies.get(subscription.plan_id) or policies.get(None)
    if policy is None:
        raise PolicyError(
            _("No cancellation policy is set up for this plan."), field="policy_version"
        )
    return policy


def version_in_force(policy: Policy, on: dt.date) -> PolicyVersion:
    version = (
        policy.versions.filter(effective_from__lte=on)
        .order_by("-effective_from")
        .prefetch_related("grounds")
        .first()
    )
    if version is None:
        raise PolicyError(
            _("No version of the policy “%(policy)s” was in force on %(date)s.")
            % {"policy": policy.name, "date": on.isoformat()},
            field="policy_version",
        )
    return version


def version_rules(version: PolicyVersion) -> PolicyRules:
    """The version as the engine sees it, with the day its successor takes over."""
    until = (
        PolicyVersion.objects.filter(
            policy_id=version.policy_id, effective_from__gt=version.effective_from
        )
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    return version.rules(effective_until=until)


def assessment_for(
    *,
    subscription: Subscription,
    version: PolicyVersion,
    first_requested_on: dt.date,
    today: dt.date | None = None,
) -> Assessment:
    return assess(
        terms=signup_terms(subscription),
        policy=version_rules(version),
        state=subscription_state(subscription),
        first_requested_on=first_requested_on,
        today=today or timezone.localdate(),
    )


def request_assessment(request: CancellationRequest, *, today: dt.date | None = None) -> Assessment:
    """The options for a recorded request: always from its first-request date and its version."""
    subscription = (
        Subscription.objects.select_related("plan")
        .prefetch_related("deliveries")
        .get(pk=request.subscription_id)
    )
    if request.is_open and subscription.status == SubscriptionStatus.CANCELLED:
        raise PolicyError(_("This subscription is already cancelled."), field="subscription")
    return assessment_for(
        subscription=subscription,
        version=request.policy_version,
        first_requested_on=request.requested_on,
        today=today,
    )


# ---------------------------------------------------------------- the operator's desk


@dataclass(frozen=True)
class DeskOption:
    code: str
    label: str
    cost_yen: int
    effective_on: dt.date
    deliveries_to_ship: int
    approval_level: str
    explanation: str

    @property
    def approval_label(self) -> str:
        return str(ApprovalLevel(self.approval_level).label)

    @property
    def is_exception(self) -> bool:
        return self.code.startswith(EXCEPTION_PREFIX)

    @property
    def ground(self) -> str:
        return self.code.removeprefix(EXCEPTION_PREFIX) if self.is_exception else ""


@dataclass(frozen=True)
class CancellationDesk:
    """What an operator sees on the call: the terms verbatim, then the options to read out."""

    request: CancellationRequest
    terms_version: str
    terms_text: str
    first_requested_on: dt.date
    policy_version: PolicyVersion
    options: tuple[DeskOption, ...]


def option_label(code: str, ground_label: str = "") -> str:
    """The option's name in the active language."""
    if code.startswith(EXCEPTION_PREFIX):
        ground = code.removeprefix(EXCEPTION_PREFIX)
        name = BuiltinGround(ground).label if ground in BuiltinGround.values else ground_label
        return str(_("Exception: %(ground)s") % {"ground": name or ground})
    return str(OptionCode(code).label) if code in OptionCode.values else code


def cancellation_desk(
    *, viewer: Viewer, request_id: int, language: str, today: dt.date | None = None
) -> CancellationDesk:
    request = get_visible(
        CancellationRequest.objects.select_related(
            "subscription", "subscription__plan", "policy_version"
        ),
        viewer,
        pk=request_id,
    )
    assessment = request_assessment(request, today=today)
    terms = signup_terms(request.subscription)
    return CancellationDesk(
        request=request,
        terms_version=terms.version,
        terms_text=terms.text,
        first_requested_on=request.requested_on,
        policy_version=request.policy_version,
        options=_desk_options(assessment, language),
    )


def _desk_options(assessment: Assessment, language: str) -> tuple[DeskOption, ...]:
    return tuple(
        DeskOption(
            code=o.code,
            label=option_label(o.code, o.ground.label if o.ground else ""),
            cost_yen=o.cost_yen,
            effective_on=o.effective_on,
            deliveries_to_ship=o.deliveries_to_ship,
            approval_level=o.approval_level,
            explanation=explain(o, language),
        )
        for o in assessment.options
    )


def subscription_options(
    *, subscription: Subscription, language: str, today: dt.date | None = None
) -> tuple[DeskOption, ...]:
    """The options the customer would have if the request were recorded now: from the first
    day the customer ever asked (today if never), on the policy version in force that day.
    What the pop shows before anything is recorded, and exactly what recording gives."""
    today = today or timezone.localdate()
    first_on = subscription.first_cancel_requested_on or today
    version = version_in_force(policy_for(subscription), first_on)
    assessment = assessment_for(
        subscription=subscription, version=version, first_requested_on=first_on, today=today
    )
    return _desk_options(assessment, language)


# ---------------------------------------------------------------- precedents


@dataclass(frozen=True)
class Precedent:
    exception_id: int
    decided_at: dt.datetime
    ground_code: str
    deliveries_made: int
    outcome: str
    approver: str
    approver_reason: str
    contacts_before: int | None


def exception_precedents(
    *, viewer: Viewer, exception: ExceptionRequest, limit: int = 5
) -> list[Precedent]:
    """Up to `limit` past rulings of the same client, same ground, deliveries within one."""
    rows = (
        ExceptionRequest.objects.visible_to(viewer)
        .filter(
            client_id=exception.client_id,
            ground_code=exception.ground_code,
            outcome__in=[ExceptionOutcome.GRANTED, ExceptionOutcome.REFUSED],
            deliveries_made__gte=max(0, exception.deliveries_made - 1),
            deliveries_made__lte=exception.deliveries_made + 1,
        )
        .exclude(pk=exception.pk)
        .select_related("approver")
        .order_by("-decided_at", "-id")[:limit]
    )
    return [
        Precedent(
            exception_id=r.pk,
            decided_at=r.decided_at,
            ground_code=r.ground_code,
            deliveries_made=r.deliveries_made,
            outcome=r.outcome,
            approver=(r.approver.display_name or str(r.approver)) if r.approver else "",
            approver_reason=r.approver_reason,
            contacts_before=r.contacts_before,
        )
        for r in rows
    ]


# ---------------------------------------------------------------- time to decision


@dataclass(frozen=True)
class Timeline:
    """From the first request, through any azukari, to the decision and its effective date."""

    request_id: int
    case_id: int
    first_requested_on: dt.date
    first_parked_on: dt.date | None
    decided_on: dt.date | None
    effective_on: dt.date | None
    days_to_decision: int  # so far, if not decided yet
    days_to_effective: int | None
    limit_days: int
    overdue: bool


def request_timeline(request: CancellationRequest, *, today: dt.date) -> Timeline:
    decision = getattr(request, "decision", None) if request.status == "decided" else None
    decided_on = timezone.localdate(request.decided_at) if request.decided_at else None
    withdrawn_on = timezone.localdate(request.withdrawn_at) if request.withdrawn_at else None
    end = decided_on or withdrawn_on or today
    days = (end - request.requested_on).days
    limit = request.policy_version.decision_limit_days
    parked = request.case.parked_at
    return Timeline(
        request_id=request.pk,
        case_id=request.case_id,
        first_requested_on=request.requested_on,
        first_parked_on=timezone.localdate(parked) if parked else None,
        decided_on=decided_on,
        effective_on=decision.effective_on if decision else None,
        days_to_decision=days,
        days_to_effective=(decision.effective_on - request.requested_on).days if decision else None,
        limit_days=limit,
        overdue=days > limit if request.status != "withdrawn" else False,
    )


def cancellation_timeline(*, viewer: Viewer, request_id: int, today: dt.date | None = None):
    request = get_visible(
        CancellationRequest.objects.select_related("policy_version", "case", "decision"),
        viewer,
        pk=request_id,
    )
    return request_timeline(request, today=today or timezone.localdate())


def cancellations_overdue(
    *,
    viewer: Viewer,
    today: dt.date | None = None,
    client_id: int | None = None,
    site_id: int | None = None,
) -> list[Timeline]:
    """Open requests past their client's limit, oldest first: the backlog board shows these.

    The database drops every request younger than the shortest limit in use, so only the
    few candidates are read and priced against their own version's limit.
    """
    today = today or timezone.localdate()
    shortest = PolicyVersion.objects.aggregate(m=Min("decision_limit_days"))["m"] or 0
    rows = (
        CancellationRequest.objects.visible_to(viewer)
        .filter(
            status__in=OPEN_CANCELLATION_STATES,
            requested_on__lt=today - dt.timedelta(days=shortest),
        )
        .select_related("policy_version", "case")
        .order_by("requested_on", "id")
    )
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    if site_id is not None:
        rows = rows.filter(case__site_id=site_id)
    timelines = [request_timeline(r, today=today) for r in rows]
    return [t for t in timelines if t.overdue]


@dataclass(frozen=True)
class TimeToDecisionReport:
    rows: list[Timeline]
    decided: int
    within_limit: int
    median_days: float | None
    p90_days: int | None
    max_days: int | None


def time_to_decision_report(
    *, viewer: Viewer, client_id: int, date_from: dt.date, date_to: dt.date
) -> TimeToDecisionReport:
    """Requests first made in the range, with how long each took to a decision."""
    today = timezone.localdate()
    rows = [
        request_timeline(r, today=today)
        for r in CancellationRequest.objects.visible_to(viewer)
        .filter(client_id=client_id, requested_on__gte=date_from, requested_on__lte=date_to)
        .exclude(status="withdrawn")
        .select_related("policy_version", "case", "decision")
        .order_by("requested_on", "id")
    ]
    days = sorted(t.days_to_decision for t in rows if t.decided_on is not None)
    median = None
    if days:
        mid = len(days) // 2
        median = float(days[mid]) if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    return TimeToDecisionReport(
        rows=rows,
        decided=len(days),
        within_limit=sum(1 for t in rows if t.decided_on is not None and not t.overdue),
        median_days=median,
        p90_days=days[min(len(days) - 1, (len(days) * 9) // 10)] if days else None,
        max_days=days[-1] if days else None,
    )
