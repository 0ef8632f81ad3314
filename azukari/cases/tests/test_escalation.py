"""The client answers on time: a reminder before the due time, escalation after it."""

import datetime as dt

import pytest
import time_machine

from azukari.cases import services
from azukari.cases.background import inquiries_escalate, inquiries_remind
from azukari.cases.escalation import overdue_inquiries
from azukari.cases.models import CaseKind
from azukari.core.businesstime import TOKYO
from azukari.testing.factories import CustomerFactory

SENT = dt.datetime(2026, 6, 1, 10, tzinfo=TOKYO)
DUE = SENT + dt.timedelta(days=2)


@pytest.fixture
def inquiry(cast):
    cast.approver.email = "tanaka@coffee.example"
    cast.approver.language = "en"
    cast.approver.save()
    customer = CustomerFactory(client=cast.coffee)
    with time_machine.travel(SENT, tick=False):
        contact = services.contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
        case = services.case_open(
            contact=contact, actor=cast.operator, kind=CaseKind.CANCELLATION, subject="Cancel"
        )
        return services.inquiry_send(
            case=case,
            version=case.version,
            actor=cast.operator,
            question="Exception for a defect?",
            options=[{"code": "yes", "label": "Yes"}],
            due_at=DUE,
            team=cast.sapporo_desk,
        )


def test_approver_is_reminded_once_before_the_due_time(cast, inquiry, mailoutbox):
    with time_machine.travel(DUE - dt.timedelta(hours=5), tick=False):
        assert inquiries_remind() == 0
    with time_machine.travel(DUE - dt.timedelta(hours=3), tick=False):
        assert inquiries_remind() == 1
        assert inquiries_remind() == 0  # a second scan (or a redelivered task) sends nothing
    assert [m.to for m in mailoutbox] == [["tanaka@coffee.example"]]
    assert f"#{inquiry.case_id}" in mailoutbox[0].subject
    assert "Reminder" in mailoutbox[0].subject
    # No customer data leaves the center by e-mail.
    assert inquiry.case.customer.family_name not in mailoutbox[0].body
    inquiry.refresh_from_db()
    assert inquiry.reminded_at == DUE - dt.timedelta(hours=3)
    assert inquiry.case.events.filter(kind="inquiry_reminded").count() == 1


def test_overdue_inquiry_escalates_once_and_shows_on_the_board(cast, inquiry, mailoutbox):
    with time_machine.travel(DUE + dt.timedelta(minutes=1), tick=False):
        assert inquiries_remind() == 0  # too late for a reminder
        assert inquiries_escalate() == 1
        assert inquiries_escalate() == 0
        assert list(overdue_inquiries(cast.desk)) == [inquiry]
        assert list(overdue_inquiries(cast.outsider)) == []
    assert [m.to for m in mailoutbox] == [["escalation@coffee.example"]]
    inquiry.refresh_from_db()
    assert inquiry.escalated_at is not None
    assert inquiry.case.events.filter(kind="inquiry_escalated").count() == 1


def test_no_escalation_contact_means_the_approvers_hear_it(cast, inquiry, mailoutbox):
    cast.coffee.escalation_email = ""
    cast.coffee.save()
    with time_machine.travel(DUE + dt.timedelta(hours=1), tick=False):
        assert inquiries_escalate() == 1
    assert [m.to for m in mailoutbox] == [["tanaka@coffee.example"]]


def test_an_answered_inquiry_is_neither_reminded_nor_escalated(cast, inquiry, mailoutbox):
    with time_machine.travel(SENT + dt.timedelta(hours=1), tick=False):
        services.inquiry_answer(inquiry=inquiry, actor=cast.approver, option="yes")
    with time_machine.travel(DUE + dt.timedelta(days=1), tick=False):
        assert inquiries_remind() == 0
        assert inquiries_escalate() == 0
    assert mailoutbox == []
