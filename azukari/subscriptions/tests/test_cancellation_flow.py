"""Cancellation requests through the case lifecycle: dates, holds, decisions, exceptions."""

import datetime as dt

import pytest

from azukari.cases import services as cases
from azukari.cases.models import CaseState, InquiryStatus
from azukari.core.businesstime import TOKYO
from azukari.core.errors import DomainError, IllegalTransition, NotVisible, PermissionRefused
from azukari.subscriptions.models import (
    CancellationDecision,
    CancellationDisclosure,
    CancellationRequest,
    CancellationStatus,
    ClientEvent,
    ClientEventKind,
    DeliveryStatus,
    DisclosureKind,
    ExceptionOutcome,
    ExceptionRequest,
    Subscription,
    SubscriptionStatus,
)
from azukari.subscriptions.policy import PolicyError
from azukari.subscriptions.services import (
    GRANT,
    cancellation_decide,
    cancellation_disclose,
    cancellation_exception_ask,
    cancellation_exception_rule,
    cancellation_inquiry_settle,
    cancellation_request_record,
    cancellation_request_withdraw,
    delivery_ship_record,
    delivery_upsert,
)
from azukari.subscriptions.tests.factories import (
    STORY_TERMS_TEXT,
    cancellation_call,
    coffee_policy,
    story_subscription,
)

# Wording is compared in English; Japanese readers are covered where a test overrides it.
pytestmark = pytest.mark.usefixtures("english")

OCT_20 = dt.date(2026, 10, 20)


def _at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TOKYO)


@pytest.fixture
def request_(cast, subscription, first_call):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    return cancellation_request_record(actor=cast.operator, case=case)


def _reload(obj):
    obj.refresh_from_db()
    return obj


# ---------------------------------------------------------------- the first-request date


def test_first_request_date_belongs_to_the_subscription_and_survives_reopen(
    cast, subscription, request_, first_call
):
    case = request_.case
    assert _reload(subscription).first_cancel_requested_on == OCT_20
    case = cases.case_resolve(
        case=case, version=case.version, actor=cast.operator, outcome="Will think about it"
    )
    first_call.move_to(_at(2026, 11, 20, 10))
    case = cases.case_close(case=case, version=case.version, actor=None)
    case = cases.case_reopen(
        case=case, version=case.version, actor=cast.desk, note="Calls again", team=cast.osaka_desk
    )
    again = cancellation_request_record(actor=cast.desk, case=case)
    assert again.pk == request_.pk
    assert again.requested_on == OCT_20
    assert _reload(subscription).first_cancel_requested_on == OCT_20
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.count("cancellation_requested") == 1
    assert "cancellation_asked_again" in kinds


def test_withdrawal_is_explicit_and_recorded(cast, subscription, request_, first_call):
    with pytest.raises(DomainError) as err:
        cancellation_request_withdraw(actor=cast.operator, request=request_, note=" ")
    assert err.value.field == "note"
    assert _reload(request_).status == CancellationStatus.PENDING

    cancellation_request_withdraw(
        actor=cast.operator, request=request_, note="His wife likes the beans after all"
    )
    request_ = _reload(request_)
    assert request_.status == CancellationStatus.WITHDRAWN
    assert request_.withdrawn_by == cast.operator
    assert _reload(subscription).first_cancel_requested_on is None
    assert subscription.deliveries.get(sequence=3).status == DeliveryStatus.SCHEDULED
    assert set(ClientEvent.objects.values_list("kind", flat=True)) == {
        ClientEventKind.HOLD_SHIPMENT,
        ClientEventKind.RELEASE_HOLD,
        ClientEventKind.CANCELLATION_WITHDRAWN,
    }
    # Asking again later starts a new request with a new date.
    first_call.move_to(_at(2026, 12, 1, 10))
    call = cases.contact_log(
        actor=cast.operator, client=subscription.client, customer=subscription.customer
    )
    case = cases.case_contact_add(case=request_.case, contact=call, actor=cast.operator)
    later = cancellation_request_record(actor=cast.operator, case=case)
    assert later.pk != request_.pk
    assert later.requested_on == dt.date(2026, 12, 1)


# ---------------------------------------------------------------- deciding standard options


def test_cancel_now_paying_the_fee_is_decided_on_the_call(cast, subscription, request_):
    decision = cancellation_decide(
        actor=cast.operator, request=request_, option_code="cancel_now_with_fee"
    )
    assert decision.cost_yen == 4940
    assert decision.effective_on == OCT_20
    assert decision.approver == cast.operator
    assert decision.policy_version == request_.policy_version
    assert decision.terms_snapshot["text"] == STORY_TERMS_TEXT
    assert decision.terms_version == "2024-04"
    assert decision.contacts_before == 1
    assert len(decision.options) == 7
    subscription = _reload(subscription)
    assert subscription.status == SubscriptionStatus.CANCELLED
    assert subscription.cancelled_on == OCT_20
    assert subscription.deliveries.get(sequence=3).status == DeliveryStatus.CANCELLED
    case = _reload(request_.case)
    assert case.state == CaseState.RESOLVED
    assert "4,940 yen" in case.outcome
    event = ClientEvent.objects.get(kind=ClientEventKind.CANCELLATION_DECIDED)
    assert event.payload["option"]["cost_yen"] == 4940
    # A second request for the same subscription is refused, nothing written.
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    with pytest.raises(DomainError) as err:
        cancellation_request_record(actor=cast.operator, case=case)
    assert err.value.field == "subscription"
    assert CancellationRequest.objects.count() == 1


def test_cancel_after_the_remaining_delivery_releases_the_hold(cast, subscription, request_):
    decision = cancellation_decide(
        actor=cast.operator, request=request_, option_code="cancel_after_remaining"
    )
    assert (decision.cost_yen, decision.deliveries_to_ship) == (0, 1)
    assert decision.effective_on == dt.date(2026, 10, 31)
    subscription = _reload(subscription)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.cancelled_on == dt.date(2026, 10, 31)
    third = subscription.deliveries.get(sequence=3)
    assert third.status == DeliveryStatus.SCHEDULED
    assert delivery_ship_record(delivery=third, shipped_on=dt.date(2026, 10, 31)).chargeable


def test_a_shipment_synced_from_the_client_after_the_first_request_is_not_charged(
    cast, subscription, request_
):
    third = subscription.deliveries.get(sequence=3)
    common = {
        "client": cast.coffee,
        "external_id": third.external_id,
        "subscription_external_id": subscription.external_id,
        "sequence": 3,
        "scheduled_on": third.scheduled_on,
    }
    # The client's file says shipped and chargeable; the first request was on 10-20.
    delivery, result = delivery_upsert(**common, status="shipped", shipped_on=dt.date(2026, 10, 25))
    assert result == "updated"
    assert (delivery.status, delivery.chargeable) == (DeliveryStatus.SHIPPED, False)
    assert _reload(third).chargeable is False
    # The same file again changes nothing.
    assert delivery_upsert(**common, status="shipped", shipped_on=dt.date(2026, 10, 25))[1] == (
        "unchanged"
    )


def test_an_exception_cannot_be_chosen_as_a_standard_option(cast, request_):
    with pytest.raises(DomainError) as err:
        cancellation_decide(actor=cast.operator, request=request_, option_code="exception:defect")
    assert err.value.field == "option_code"
    assert not CancellationDecision.objects.exists()


# ---------------------------------------------------------------- exceptions


def test_sv_ground_needs_an_sv(cast, request_):
    exception = cancellation_exception_ask(
        actor=cast.operator,
        request=request_,
        ground_code="defect",
        reason="The machine leaks",
        team=cast.sapporo_desk,
    )
    assert _reload(request_).status == CancellationStatus.AWAITING_APPROVAL
    assert _reload(request_.case).state == CaseState.AZUKARI
    with pytest.raises(PermissionRefused):
        cancellation_exception_rule(
            actor=cast.operator, exception=exception, granted=True, reason="ok"
        )
    assert _reload(exception).outcome == ExceptionOutcome.PENDING

    cancellation_exception_rule(
        actor=cast.sv, exception=exception, granted=True, reason="Leak confirmed by photo"
    )
    exception = _reload(exception)
    assert exception.outcome == ExceptionOutcome.GRANTED
    assert exception.approver == cast.sv
    assert exception.deliveries_made == 2
    assert exception.terms_snapshot["text"] == STORY_TERMS_TEXT
    assert exception.policy_version == request_.policy_version
    decision = _reload(request_).decision
    assert (decision.option_code, decision.cost_yen, decision.ground_code) == (
        "exception:defect",
        0,
        "defect",
    )
    assert decision.approver == cast.sv
    assert decision.exception == exception


def test_refused_exception_leaves_the_standard_options(cast, request_):
    exception = cancellation_exception_ask(
        actor=cast.operator, request=request_, ground_code="moving_abroad", reason="Moving"
    )
    cancellation_exception_rule(
        actor=cast.sv, exception=exception, granted=False, reason="Moving within Japan"
    )
    assert _reload(exception).outcome == ExceptionOutcome.REFUSED
    assert _reload(request_).status == CancellationStatus.PENDING
    decision = cancellation_decide(
        actor=cast.operator, request=request_, option_code="cancel_after_remaining"
    )
    assert decision.exception is None


def test_client_ground_sends_an_inquiry_with_the_options(cast, request_):
    exception = cancellation_exception_ask(
        actor=cast.operator,
        request=request_,
        ground_code="hardship",
        reason="Lost his job",
        team=cast.sapporo_desk,
    )
    inquiry = exception.inquiry
    assert inquiry.status == InquiryStatus.OPEN
    assert [o["code"] for o in inquiry.options] == ["grant", "refuse"]
    assert "2,470 yen" in inquiry.options[0]["label"]
    for line in ("4,940 yen", "Cancel after the remaining deliveries", "2 of 3 deliveries"):
        assert line in inquiry.question
    assert _reload(request_.case).state == CaseState.WAITING_CLIENT
    with pytest.raises(PermissionRefused):
        cancellation_exception_rule(actor=cast.sv, exception=exception, granted=True, reason="x")
    with pytest.raises(NotVisible):
        cancellation_exception_rule(
            actor=cast.tea_approver, exception=exception, granted=True, reason="x"
        )

    cancellation_exception_rule(
        actor=cast.approver, exception=exception, granted=True, reason="Hardship documented"
    )
    assert _reload(inquiry).status == InquiryStatus.ANSWERED
    decision = _reload(request_).decision
    assert (decision.cost_yen, decision.approver) == (2470, cast.approver)
    # The customer still has to be told: the callback stays due.
    assert _reload(request_.case).state == CaseState.CALLBACK_DUE


def test_answer_through_the_generic_inquiry_flow_is_applied_once(cast, request_):
    exception = cancellation_exception_ask(
        actor=cast.operator,
        request=request_,
        ground_code="terms_unclear",
        reason="Says the minimum was never shown",
        team=cast.sapporo_desk,
    )
    cases.inquiry_answer(
        inquiry=exception.inquiry, actor=cast.approver, option=GRANT, note="Screen was unclear"
    )
    # The answer itself rules on the exception, in the same transaction.
    settled = _reload(exception)
    assert settled.outcome == ExceptionOutcome.GRANTED
    assert settled.approver_reason == "Screen was unclear"
    assert settled.approver == cast.approver
    assert cancellation_inquiry_settle(inquiry=exception.inquiry) is None
    assert CancellationDecision.objects.count() == 1


# ---------------------------------------------------------------- what the customer is told


def test_what_the_customer_was_told_is_recorded_word_for_word(cast, request_):
    options = cancellation_disclose(
        actor=cast.operator, request=request_, kind=DisclosureKind.OPTIONS, language="en"
    )
    assert "4,940 yen" in options.text
    basis = cancellation_disclose(
        actor=cast.operator,
        request=request_,
        kind=DisclosureKind.FEE_BASIS,
        language="en",
        option_code="cancel_now_with_fee",
    )
    assert basis.text == (
        "The device was sold 14,820 yen below its list price on condition of 3 deliveries. "
        "1 of them has not been made, so the fee is 14,820 yen × 1 ÷ 3 = 4,940 yen, in whole "
        "yen rounded down, tax included."
    )
    terms = cancellation_disclose(
        actor=cast.operator, request=request_, kind=DisclosureKind.TERMS, language="ja"
    )
    assert terms.text == STORY_TERMS_TEXT
    assert CancellationDisclosure.objects.filter(request=request_).count() == 3
    assert request_.case.events.filter(kind="cancellation_disclosed").count() == 3


# ---------------------------------------------------------------- bad input


def test_cancelled_subscription_is_refused_and_nothing_recorded(cast, subscription, first_call):
    Subscription.objects.filter(pk=subscription.pk).update(
        status=SubscriptionStatus.CANCELLED, cancelled_on=dt.date(2026, 10, 1)
    )
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    with pytest.raises(DomainError) as err:
        cancellation_request_record(actor=cast.operator, case=case)
    assert err.value.field == "subscription"
    assert "already cancelled" in str(err.value)
    assert not CancellationRequest.objects.exists()
    assert not ClientEvent.objects.exists()
    assert _reload(subscription).first_cancel_requested_on is None


def test_unknown_ground_is_refused_and_nothing_recorded(cast, request_):
    with pytest.raises(DomainError) as err:
        cancellation_exception_ask(
            actor=cast.operator, request=request_, ground_code="cat_allergy", reason="Sneezes"
        )
    assert err.value.field == "ground"
    assert "cat_allergy" in str(err.value)
    assert not ExceptionRequest.objects.exists()
    assert _reload(request_).status == CancellationStatus.PENDING


def test_no_policy_version_in_force_on_the_date_is_refused(cast, first_call):
    coffee_policy(cast.coffee, effective_from=dt.date(2026, 11, 1))
    subscription = story_subscription(cast.coffee, started_on=dt.date(2026, 9, 1))
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    with pytest.raises(PolicyError) as err:
        cancellation_request_record(actor=cast.operator, case=case)
    assert err.value.field == "policy_version"
    assert "2026-10-20" in str(err.value)
    assert not CancellationRequest.objects.exists()
    assert _reload(subscription).first_cancel_requested_on is None
    assert not ClientEvent.objects.exists()


def test_another_clients_staff_cannot_record_a_request(cast, subscription, first_call):
    case = cancellation_call(actor=cast.operator, subscription=subscription)
    with pytest.raises(NotVisible):
        cancellation_request_record(actor=cast.outsider, case=case)
    assert not CancellationRequest.objects.exists()


def test_decided_request_cannot_be_decided_twice(cast, request_):
    cancellation_decide(actor=cast.operator, request=request_, option_code="cancel_now_with_fee")
    with pytest.raises(IllegalTransition):
        cancellation_decide(
            actor=cast.operator, request=request_, option_code="cancel_after_remaining"
        )
    assert CancellationDecision.objects.count() == 1


def test_cancellation_takes_effect_on_its_date_once(cast, subscription, request_, first_call):
    from azukari.subscriptions.tasks import subscriptions_cancel_due_task

    cancellation_decide(actor=cast.operator, request=request_, option_code="cancel_after_remaining")
    assert subscriptions_cancel_due_task() == 0
    first_call.move_to(_at(2026, 10, 31, 9))
    assert subscriptions_cancel_due_task() == 1
    assert subscriptions_cancel_due_task() == 0
    assert _reload(subscription).status == SubscriptionStatus.CANCELLED


def test_the_closed_request_prints_its_cost_as_the_options_do(cast, request_):
    """The decision's cost reads "4,940" as the "4,940 yen" of the options and explanations."""
    from azukari.audit.tests.test_isolation_matrix import _verified_browser

    cancellation_decide(actor=cast.operator, request=request_, option_code="cancel_now_with_fee")
    cast.operator.language = "en"
    cast.operator.save(update_fields=["language"])
    page = _verified_browser(cast.operator).get(f"/cancellations/{request_.pk}/")
    assert page.status_code == 200
    assert "<td>4,940</td>" in page.content.decode()
