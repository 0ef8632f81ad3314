"""The cancellation policy engine: the same situation always gives the same options.

`assess` is a pure function of (sign-up terms, policy version, subscription state, first-request
date, today). It reads no database and no clock, so two operators on two sites, or an approver a
week later, see exactly what the customer was offered on the first call.

Rules, each in the customer's favour where terms and policy differ:
- a delivery counts towards the commitment only if it shipped on or before the first-request
  date; one shipped later (while the request was pending) neither counts nor is charged;
- the commitment is the lower of the terms' and the policy's minimum, the notice the shorter;
- a fee is the lowest of what the terms allow, what the policy asks, and the unrecovered part of
  the device subsidy (subsidy × deliveries missing ÷ deliveries required, rounded down);
- dates count from the first-request date, never from today, so time spent in azukari never
  moves an effective date or adds a delivery.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from azukari.subscriptions.policy.rules import (
    EXCEPTION_PREFIX,
    ApprovalLevel,
    Assessment,
    ChargeMethod,
    Facts,
    FeeBasis,
    Option,
    OptionCode,
    OptionKind,
    PolicyError,
    PolicyRules,
    SignupTerms,
    SubscriptionState,
)


def deliveries_made(state: SubscriptionState, first_requested_on: dt.date) -> int:
    """Deliveries that count: shipped on or before the day the customer first asked."""
    return sum(
        1
        for d in state.deliveries
        if d.shipped and d.shipped_on is not None and d.shipped_on <= first_requested_on
    )


def shipped_after_request(state: SubscriptionState, first_requested_on: dt.date) -> int:
    return sum(
        1
        for d in state.deliveries
        if d.shipped and d.shipped_on is not None and d.shipped_on > first_requested_on
    )


def delivery_slots(
    state: SubscriptionState, first_requested_on: dt.date, count: int
) -> list[dt.date]:
    """The next `count` delivery dates after the first request, on the schedule as it stood then.

    Anchored on the last delivery that counts (or the start), stepping by the plan's interval:
    a shipment held or rescheduled while the request was pending cannot push a date later.
    """
    if count <= 0:
        return []
    interval = dt.timedelta(days=max(1, state.interval_days))
    counted = [
        d
        for d in state.deliveries
        if d.shipped and d.shipped_on is not None and d.shipped_on <= first_requested_on
    ]
    slot = max(d.scheduled_on for d in counted) + interval if counted else state.started_on
    if slot <= first_requested_on:
        slot += interval * ((first_requested_on - slot).days // interval.days + 1)
    return [slot + interval * k for k in range(count)]


def _pro_rata(subsidy: int, required: int, made: int) -> int:
    remaining = max(0, required - made)
    if required <= 0 or remaining == 0:
        return 0
    return subsidy * remaining // required


def _fee_candidates(
    terms: SignupTerms, policy: PolicyRules, made: int, required: int, unrecovered: int
) -> list[FeeBasis]:
    """What the terms allow, what the policy asks, and the cap; the lowest one applies."""
    candidates: list[FeeBasis] = []
    for source, method, subsidy, minimum, fixed in (
        ("terms", terms.charge_method, terms.device_subsidy_yen, terms.min_deliveries,
         terms.fixed_fee_yen),
        ("policy", policy.charge_method, policy.subsidy_yen, policy.min_deliveries,
         policy.fixed_fee_yen),
    ):  # fmt: skip
        remaining = max(0, minimum - made)
        if method == ChargeMethod.FIXED:
            fee = fixed if remaining else 0
            candidates.append(
                FeeBasis(
                    method=ChargeMethod.FIXED,
                    source=source,
                    fixed_fee_yen=fixed,
                    unrecovered_yen=unrecovered,
                    fee_yen=min(fee, unrecovered),
                )
            )
        elif method == ChargeMethod.PRO_RATA:
            fee = _pro_rata(subsidy, minimum, made)
            candidates.append(
                FeeBasis(
                    method=ChargeMethod.PRO_RATA,
                    source=source,
                    subsidy_yen=subsidy,
                    required=minimum,
                    remaining=remaining,
                    unrecovered_yen=unrecovered,
                    fee_yen=min(fee, unrecovered),
                )
            )
        else:
            candidates.append(
                FeeBasis(method=ChargeMethod.NONE, source=source, unrecovered_yen=unrecovered)
            )
    return candidates


def assess(
    *,
    terms: SignupTerms,
    policy: PolicyRules,
    state: SubscriptionState,
    first_requested_on: dt.date,
    today: dt.date,
) -> Assessment:
    """The options a customer may choose, each with cost, effective date and approval level."""
    if state.cancelled:
        raise PolicyError(_("This subscription is already cancelled."), field="subscription")
    if first_requested_on > today:
        raise PolicyError(
            _("The first request cannot be in the future."), field="first_requested_on"
        )
    if first_requested_on < state.started_on:
        raise PolicyError(
            _("The first request cannot be earlier than the subscription."),
            field="first_requested_on",
        )
    if not policy.in_force_on(first_requested_on):
        raise PolicyError(
            _("Policy version %(number)d was not in force on %(date)s.")
            % {"number": policy.number, "date": first_requested_on.isoformat()},
            field="policy_version",
        )

    made = deliveries_made(state, first_requested_on)
    required = min(terms.min_deliveries, policy.min_deliveries)
    remaining = max(0, required - made)
    subsidy = min(terms.device_subsidy_yen, policy.subsidy_yen)
    unrecovered = _pro_rata(subsidy, required, made)
    notice = min(terms.notice_days, policy.notice_days)
    earliest = first_requested_on + dt.timedelta(days=notice)
    facts = Facts(
        first_requested_on=first_requested_on,
        today=today,
        deliveries_made=made,
        required=required,
        subsidy_yen=subsidy,
        unrecovered_yen=unrecovered,
        notice_days=notice,
        earliest_effective_on=earliest,
        shipped_after_request=shipped_after_request(state, first_requested_on),
        terms_version=terms.version,
        policy_number=policy.number,
    )

    if remaining == 0:
        return Assessment(
            facts=facts,
            options=(
                Option(
                    code=OptionCode.CANCEL_NOW,
                    kind=OptionKind.STANDARD,
                    cost_yen=0,
                    effective_on=earliest,
                    deliveries_to_ship=0,
                    approval_level=ApprovalLevel.OPERATOR,
                    facts=facts,
                ),
            ),
        )

    slots = delivery_slots(state, first_requested_on, remaining)
    options: list[Option] = [
        Option(
            code=OptionCode.CANCEL_AFTER_REMAINING,
            kind=OptionKind.STANDARD,
            cost_yen=0,
            effective_on=max(slots[-1], earliest),
            deliveries_to_ship=remaining,
            approval_level=ApprovalLevel.OPERATOR,
            facts=facts,
            last_delivery_on=slots[-1],
        )
    ]
    basis = min(
        _fee_candidates(terms, policy, made, required, unrecovered),
        key=lambda b: (b.fee_yen, b.source != "terms"),
    )
    fee = basis.fee_yen
    options.append(
        Option(
            code=OptionCode.CANCEL_NOW_WITH_FEE if fee else OptionCode.CANCEL_NOW,
            kind=OptionKind.STANDARD,
            cost_yen=fee,
            effective_on=earliest,
            deliveries_to_ship=0,
            approval_level=ApprovalLevel.OPERATOR,
            facts=facts,
            basis=basis if fee else None,
        )
    )
    if fee:
        for ground in policy.grounds:
            cost = fee * (100 - ground.fee_waived_percent) // 100
            options.append(
                Option(
                    code=EXCEPTION_PREFIX + ground.code,
                    kind=OptionKind.EXCEPTION,
                    cost_yen=cost,
                    effective_on=earliest,
                    deliveries_to_ship=0,
                    approval_level=ground.approval_level,
                    facts=facts,
                    ground=ground,
                    basis=basis if cost else None,
                )
            )
    return Assessment(facts=facts, options=tuple(options))
