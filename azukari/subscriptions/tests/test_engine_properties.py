"""Properties of the pure engine, over generated terms, policies and subscriptions."""

import datetime as dt
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from azukari.subscriptions.policy import (
    EXCEPTION_PREFIX,
    ApprovalLevel,
    ChargeMethod,
    DeliveryFact,
    GroundRule,
    OptionCode,
    OptionKind,
    PolicyRules,
    SignupTerms,
    SubscriptionState,
    assess,
    explain,
)

GROUND_CODES = ["defect", "bereavement", "moving_abroad", "hardship", "terms_unclear", "pet"]


@st.composite
def terms(draw) -> SignupTerms:
    subsidy = draw(st.integers(0, 60000))
    method = draw(st.sampled_from(ChargeMethod.values))
    return SignupTerms(
        version="v",
        text="terms",
        min_deliveries=draw(st.integers(0, 6)),
        device_subsidy_yen=subsidy,
        charge_method=method,
        fixed_fee_yen=draw(st.integers(0, subsidy)) if method == ChargeMethod.FIXED else 0,
        notice_days=draw(st.integers(0, 30)),
    )


@st.composite
def policies(draw) -> PolicyRules:
    listed = draw(st.integers(0, 60000))
    paid = draw(st.integers(0, listed))
    method = draw(st.sampled_from(ChargeMethod.values))
    codes = draw(st.lists(st.sampled_from(GROUND_CODES), unique=True, max_size=6))
    return PolicyRules(
        number=draw(st.integers(1, 9)),
        effective_from=dt.date(2024, 1, 1),
        min_deliveries=draw(st.integers(0, 6)),
        device_list_price_yen=listed,
        device_price_paid_yen=paid,
        charge_method=method,
        fixed_fee_yen=draw(st.integers(0, listed - paid)) if method == ChargeMethod.FIXED else 0,
        notice_days=draw(st.integers(0, 30)),
        grounds=tuple(
            GroundRule(
                code=code,
                approval_level=draw(st.sampled_from(ApprovalLevel.values)),
                fee_waived_percent=draw(st.integers(1, 100)),
                label=code,
            )
            for code in codes
        ),
    )


@st.composite
def situations(draw):
    """A subscription, the first-request date, and today (on or after it)."""
    started = dt.date(2025, 1, 1) + dt.timedelta(days=draw(st.integers(0, 365)))
    interval = draw(st.integers(7, 60))
    count = draw(st.integers(0, 8))
    deliveries = []
    for n in range(count):
        scheduled = started + dt.timedelta(days=interval * n)
        shipped = draw(st.booleans())
        deliveries.append(
            DeliveryFact(
                sequence=n + 1,
                scheduled_on=scheduled,
                shipped_on=scheduled + dt.timedelta(days=draw(st.integers(0, 5)))
                if shipped
                else None,
                shipped=shipped,
            )
        )
    state = SubscriptionState(
        cancelled=False, started_on=started, interval_days=interval, deliveries=tuple(deliveries)
    )
    first = started + dt.timedelta(days=draw(st.integers(0, interval * 9)))
    today = first + dt.timedelta(days=draw(st.integers(0, 120)))
    return state, first, today


def _run(t, p, situation):
    state, first, today = situation
    return assess(terms=t, policy=p, state=state, first_requested_on=first, today=today)


def _made(state: SubscriptionState, first: dt.date) -> int:
    return sum(1 for d in state.deliveries if d.shipped and d.shipped_on <= first)


def _terms_allow(t: SignupTerms, made: int) -> int:
    """The most the sign-up terms let anyone charge, read on their own."""
    missing = max(0, t.min_deliveries - made)
    if not missing or t.charge_method == ChargeMethod.NONE:
        return 0
    if t.charge_method == ChargeMethod.FIXED:
        return t.fixed_fee_yen
    return t.device_subsidy_yen * missing // t.min_deliveries


def _essentials(assessment):
    return [
        (o.code, o.cost_yen, o.effective_on, o.deliveries_to_ship, o.approval_level)
        for o in assessment.options
    ]


@settings(max_examples=300)
@given(terms(), policies(), situations())
def test_options_are_deterministic(t, p, situation):
    first, second = _run(t, p, situation), _run(t, p, situation)
    assert first == second
    assert [explain(o, "en") for o in first.options] == [explain(o, "en") for o in second.options]


@settings(max_examples=300)
@given(terms(), policies(), situations())
def test_commitment_met_means_cancel_now_at_no_cost(t, p, situation):
    state, first, _today = situation
    assessment = _run(t, p, situation)
    if _made(state, first) >= min(t.min_deliveries, p.min_deliveries):
        cancel_now = assessment.option(OptionCode.CANCEL_NOW)
        assert cancel_now is not None
        assert cancel_now.cost_yen == 0
        assert cancel_now.deliveries_to_ship == 0


@settings(max_examples=300)
@given(terms(), policies(), situations())
def test_no_option_costs_more_than_the_subsidy_or_the_terms_allow(t, p, situation):
    state, first, _today = situation
    made = _made(state, first)
    required = min(t.min_deliveries, p.min_deliveries)
    missing = max(0, required - made)
    subsidy = min(t.device_subsidy_yen, p.device_list_price_yen - p.device_price_paid_yen)
    unrecovered = subsidy * missing // required if required else 0
    for option in _run(t, p, situation).options:
        assert isinstance(option.cost_yen, int)
        assert 0 <= option.cost_yen <= unrecovered
        assert option.cost_yen <= _terms_allow(t, made)
        assert option.deliveries_to_ship <= max(0, t.min_deliveries - made)
        if not option.deliveries_to_ship:
            # Never a longer notice than the terms stated.
            assert option.effective_on <= first + dt.timedelta(days=t.notice_days)


@settings(max_examples=300)
@given(terms(), policies(), situations(), st.integers(1, 200), st.integers(0, 3))
def test_effective_date_never_early_and_never_later_for_time_in_azukari(
    t, p, situation, waited, shipped_anyway
):
    state, first, today = situation
    assessment = _run(t, p, situation)
    earliest = first + dt.timedelta(days=min(t.notice_days, p.notice_days))
    for option in assessment.options:
        assert option.effective_on >= earliest
        assert option.effective_on >= first
    # Weeks later, with shipments that went out anyway and held ones moved on: same options.
    later = today + dt.timedelta(days=waited)
    extra = tuple(
        DeliveryFact(
            sequence=100 + k,
            scheduled_on=first + dt.timedelta(days=k + 1),
            shipped_on=first + dt.timedelta(days=k + 1),
            shipped=True,
        )
        for k in range(shipped_anyway)
    )
    moved = tuple(
        replace(d, scheduled_on=d.scheduled_on + dt.timedelta(days=waited))
        if not d.shipped and d.scheduled_on > first
        else d
        for d in state.deliveries
    )
    after = assess(
        terms=t,
        policy=p,
        state=replace(state, deliveries=moved + extra),
        first_requested_on=first,
        today=later,
    )
    assert _essentials(after) == _essentials(assessment)


@settings(max_examples=300)
@given(terms(), policies(), situations())
def test_every_approval_level_matches_the_policy(t, p, situation):
    assessment = _run(t, p, situation)
    fee = max((o.cost_yen for o in assessment.options if o.kind == OptionKind.STANDARD), default=0)
    exceptions = [o for o in assessment.options if o.kind == OptionKind.EXCEPTION]
    for option in assessment.options:
        if option.kind == OptionKind.STANDARD:
            assert option.approval_level == ApprovalLevel.OPERATOR
        else:
            ground = p.ground(option.code.removeprefix(EXCEPTION_PREFIX))
            assert ground is not None
            assert option.approval_level == ground.approval_level
            assert option.cost_yen == fee * (100 - ground.fee_waived_percent) // 100
    expected = {EXCEPTION_PREFIX + g.code for g in p.grounds} if fee else set()
    assert {o.code for o in exceptions} == expected
