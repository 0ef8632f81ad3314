"""The demo's open cases, moved on through the services: each state has its records, on
SQLite and PostgreSQL alike."""

import pytest
from django.core.management import call_command
from django.db.models import Exists, OuterRef

from azukari.cases.models import (
    AZUKARI_STATES,
    Callback,
    CallbackStatus,
    Case,
    CaseEvent,
    CaseState,
    Inquiry,
    InquiryStatus,
)
from azukari.demo.story import reference_data
from azukari.demo.workload import demo_azukari_move_on


@pytest.mark.django_db
def test_every_open_case_of_the_demo_has_the_records_its_state_implies():
    reference_data()
    call_command("generate", customers=250, open_as_azukari=True, verbosity=0)
    assert not Case.objects.filter(
        state__in=[CaseState.WAITING_CLIENT, CaseState.WAITING_CUSTOMER, CaseState.CALLBACK_DUE]
    ).exists()  # the bulk loader leaves them to the services
    moved = demo_azukari_move_on()
    assert moved["inquiries"] and moved["promised"] and moved["assigned"]
    open_inquiry = Inquiry.objects.filter(case=OuterRef("pk"), status=InquiryStatus.OPEN)
    open_callback = Callback.objects.filter(
        case=OuterRef("pk"), status__in=[CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED]
    )
    waiting = Case.objects.filter(state=CaseState.WAITING_CLIENT)
    owing = Case.objects.filter(state=CaseState.CALLBACK_DUE)
    assert waiting.exists() and owing.exists()
    assert not waiting.filter(~Exists(open_inquiry)).exists()
    assert not owing.filter(~Exists(open_callback)).exists()
    # Each move is an event in the case's history, as the desk's own moves are.
    for case in waiting[:3]:
        assert CaseEvent.objects.filter(case=case, kind="inquiry_sent").exists()
    assert Case.objects.filter(state__in=AZUKARI_STATES, assignee__isnull=False).exists()
