"""What the system writes into a case is read in the reader's language, whoever wrote it."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from azukari.cases.models import CaseEvent, Inquiry
from azukari.floor.tests.factories import login_verified
from azukari.subscriptions.services.cancellations import (
    cancellation_exception_ask,
    cancellation_request_record,
)
from azukari.subscriptions.tests.factories import (
    cancellation_call,
    coffee_policy,
    story_subscription,
)

ASKED_EN = "The customer asks for an exception on the ground"
ASKED_JA = "を理由に例外を求めています"


def _exception_asked(cast, *, language: str):
    """An operator asks the client for an exception with their page in `language`."""
    coffee_policy(cast.coffee)
    with time_machine.travel(timezone.now(), tick=False), translation.override(language):
        subscription = story_subscription(
            cast.coffee, started_on=timezone.localdate() - dt.timedelta(days=50)
        )
        case = cancellation_call(actor=cast.operator, subscription=subscription)
        request_ = cancellation_request_record(actor=cast.operator, case=case)
        return cancellation_exception_ask(
            actor=cast.operator,
            request=request_,
            ground_code="hardship",
            reason="Lost his job",
            team=cast.sapporo_desk,
        )


@pytest.fixture(autouse=True)
def _reader_language():
    # Each page activates its reader's language on this thread; give the next test its own.
    with translation.override(None):
        yield


def test_a_question_written_in_japanese_reads_in_english_for_an_english_approver(cast, client):
    exception = _exception_asked(cast, language="ja")
    inquiry = Inquiry.objects.get(pk=exception.inquiry_id)
    assert ASKED_JA in inquiry.question  # the words as written stay on the row
    cast.approver.language = "en"
    cast.approver.save(update_fields=["language"])
    login_verified(client, cast.approver)
    page = client.get(reverse("portal-inquiry", args=[inquiry.pk])).content.decode()
    assert ASKED_EN in page and ASKED_JA not in page
    assert "Grant: " in page and "承認：" not in page  # the options too


def test_a_history_written_in_english_reads_in_japanese_for_a_japanese_supervisor(cast, client):
    exception = _exception_asked(cast, language="en")
    event = CaseEvent.objects.get(case_id=exception.request.case_id, kind="inquiry_sent")
    assert ASKED_EN in event.note and event.note_code == "exception_question"
    cast.sv.language = "ja"
    cast.sv.save(update_fields=["language"])
    client.force_login(cast.sv)
    page = client.get(reverse("case-detail", args=[event.case_id])).content.decode()
    assert ASKED_JA in page and ASKED_EN not in page
    # And the same history read by an English supervisor is in English.
    cast.sv.language = "en"
    cast.sv.save(update_fields=["language"])
    page = client.get(reverse("case-detail", args=[event.case_id])).content.decode()
    assert ASKED_EN in page and ASKED_JA not in page


def test_rows_written_before_codes_keep_their_text(cast, client):
    exception = _exception_asked(cast, language="ja")
    CaseEvent.objects.filter(case_id=exception.request.case_id).update(note_code="", note_params={})
    cast.sv.language = "en"
    cast.sv.save(update_fields=["language"])
    client.force_login(cast.sv)
    page = client.get(reverse("case-detail", args=[exception.request.case_id])).content.decode()
    assert ASKED_JA in page


def test_the_worker_s_closing_note_reads_in_each_reader_s_language(cast):
    from azukari.cases.services import case_open, case_resolve, contact_log
    from azukari.cases.tasks import cases_close_expired
    from azukari.testing.factories import CustomerFactory

    contact = contact_log(
        actor=cast.operator, client=cast.coffee, customer=CustomerFactory(client=cast.coffee)
    )
    case = case_open(contact=contact, actor=cast.operator, kind="billing", subject="請求確認")
    case_resolve(case=case, version=case.version, actor=cast.operator, outcome="説明済み")
    with time_machine.travel(timezone.now() + dt.timedelta(days=20), tick=False):
        assert cases_close_expired() == 1
    event = CaseEvent.objects.get(case=case, kind="closed")
    with translation.override("en"):
        assert event.note_text == "Closed: the reopen window passed."
    with translation.override("ja"):
        assert event.note_text == "再オープン可能期間が過ぎたため完了しました。"
