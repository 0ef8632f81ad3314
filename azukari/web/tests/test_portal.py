"""The client portal: a client approver answers its own company's inquiries, and only those."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from azukari.audit.models import AccessEvent
from azukari.cases.models import CaseState, InquiryStatus
from azukari.cases.services import inquiry_answer
from azukari.floor.tests.factories import asked_case, login_verified
from azukari.subscriptions.models import ExceptionOutcome
from azukari.subscriptions.services.cancellations import (
    cancellation_exception_ask,
    cancellation_request_record,
)
from azukari.subscriptions.tests.factories import (
    cancellation_call,
    coffee_policy,
    story_subscription,
)


@pytest.fixture
def inquiry(cast):
    return asked_case(client=cast.coffee, operator=cast.operator, team=cast.sapporo_desk)


@pytest.fixture
def tea_inquiry(cast):
    return asked_case(client=cast.tea, operator=cast.outsider, team=cast.tea_desk)


@pytest.fixture
def approver(cast, client):
    login_verified(client, cast.approver)
    return client


def test_an_approver_must_pass_the_second_factor_first(cast, client, inquiry):
    client.force_login(cast.approver)
    response = client.get(reverse("portal-inquiries"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))


def test_the_approver_sees_only_its_company_s_inquiries(approver, inquiry, tea_inquiry):
    response = approver.get(reverse("portal-inquiries"))
    assert [i.pk for i in response.context["page"]] == [inquiry.pk]
    assert approver.get(reverse("portal-inquiry", args=[tea_inquiry.pk])).status_code == 404
    assert approver.get(reverse("portal-inquiry", args=[999999])).status_code == 404


def test_the_detail_masks_the_phone_and_shows_no_address(approver, inquiry):
    response = approver.get(reverse("portal-inquiry", args=[inquiry.pk]))
    body = response.content.decode()
    customer = inquiry.case.customer
    assert customer.customer_number in body
    assert customer.address not in body and customer.postcode not in body
    assert response.context["phones"][0].endswith(customer.phones.first().number[-4:])
    assert "*" in response.context["phones"][0]
    assert AccessEvent.objects.filter(
        customer_ref=customer.pk, actor=inquiry.case.client.approvers.first()
    ).exists()


def test_the_approver_answers_and_the_case_moves_on(approver, inquiry):
    response = approver.post(
        reverse("portal-inquiry", args=[inquiry.pk]), {"option": "waive", "note": "OK this once"}
    )
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED and inquiry.answer_option == "waive"
    assert inquiry.case.state == CaseState.CALLBACK_DUE
    page = approver.get(reverse("portal-inquiry", args=[inquiry.pk])).content.decode()
    assert "Waive the fee" in page


def test_a_bad_answer_keeps_what_was_typed(approver, inquiry):
    response = approver.post(
        reverse("portal-inquiry", args=[inquiry.pk]), {"option": "nonsense", "note": "typed text"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["option"]
    assert "typed text" in response.content.decode()
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN


def _hardship_asked(cast, reason: str):
    with time_machine.travel(timezone.now(), tick=False):
        subscription = story_subscription(
            cast.coffee, started_on=timezone.localdate() - dt.timedelta(days=50)
        )
        case = cancellation_call(actor=cast.operator, subscription=subscription)
        request_ = cancellation_request_record(actor=cast.operator, case=case)
        return cancellation_exception_ask(
            actor=cast.operator,
            request=request_,
            ground_code="hardship",
            reason=reason,
            team=cast.sapporo_desk,
        )


def test_an_exception_inquiry_is_ruled_with_precedents_and_needs_a_reason(cast, approver):
    coffee_policy(cast.coffee)
    exception = _hardship_asked(cast, "Lost his job")
    url = reverse("portal-inquiry", args=[exception.inquiry_id])
    page = approver.get(url)
    assert page.context["exception"].pk == exception.pk
    assert "Lost his job" in page.content.decode()
    refused = approver.post(url, {"option": "grant", "note": ""})
    assert refused.status_code == 400 and refused.context["form"].errors["note"]
    assert approver.post(url, {"option": "grant", "note": "Hardship shown"}).status_code == 302
    exception.refresh_from_db()
    assert exception.outcome == ExceptionOutcome.GRANTED
    assert exception.approver == cast.approver
    # The next approver sees this ruling as a precedent for the same ground.
    second = _hardship_asked(cast, "Hospital bills")
    page = approver.get(reverse("portal-inquiry", args=[second.inquiry_id]))
    precedents = page.context["precedents"]
    assert [(p.exception_id, str(label)) for p, label in precedents] == [
        (exception.pk, str(ExceptionOutcome.GRANTED.label))
    ]
    assert "Hardship shown" in page.content.decode()


def test_response_time_figures_are_the_company_s_own(cast, approver, inquiry, tea_inquiry):
    approver.post(reverse("portal-inquiry", args=[inquiry.pk]), {"option": "waive"})
    figures = approver.get(reverse("portal-inquiries")).context["figures"]
    assert figures["sent"] == 1 and figures["answered"] == 1 and figures["on_time"] == 1
    assert figures["on_time_percent"] == 100


def test_others_get_404_and_wrong_methods_405(cast, client, inquiry):
    login_verified(client, cast.tea_approver)
    url = reverse("portal-inquiry", args=[inquiry.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"option": "waive"}).status_code == 404
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("portal-inquiries")).status_code == 404
    client.force_login(cast.operator)  # center staff use the center's pages, not the portal
    assert client.get(url).status_code == 404
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN
    login_verified(client, cast.approver)
    assert client.put(url).status_code == 405
    assert client.post(reverse("portal-inquiries")).status_code == 405


def test_answer_form_fields_are_labelled(approver, inquiry):
    body = approver.get(reverse("portal-inquiry", args=[inquiry.pk])).content.decode()
    assert '<label for="id_note"' in body
    assert '<label for="id_option_0"' in body and '<label for="id_option_1"' in body
    assert "<legend>" in body


def test_query_count_does_not_grow_with_inquiries(cast, approver):
    def add(n):
        for _ in range(n):
            asked_case(client=cast.coffee, operator=cast.operator, team=cast.sapporo_desk)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert approver.get(reverse("portal-inquiries")).status_code == 200
        return len(ctx.captured_queries)

    add(3)
    few = count()
    add(22)
    assert count() == few


def test_an_inquiry_answered_meanwhile_says_so_and_keeps_what_was_typed(cast, approver, inquiry):
    cast.approver.language = "en"
    cast.approver.save(update_fields=["language"])
    inquiry_answer(inquiry=inquiry, actor=cast.desk, option="charge", note="Answered by phone")
    response = approver.post(
        reverse("portal-inquiry", args=[inquiry.pk]), {"option": "waive", "note": "Waive it"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="stale-answer"' in body
    assert "already been answered" in body
    assert "Waive it" in body and "Charge the fee" in body
    inquiry.refresh_from_db()
    assert inquiry.answer_option == "charge" and inquiry.answer_note == "Answered by phone"
