"""PBX contact events: one Contact per call, whatever arrives twice or out of order."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from azukari.cases.models import Contact
from azukari.testing.factories import CustomerFactory

EVENTS = "/api/v1/contacts/events"
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def event(kind: str, minutes: int, **extra) -> dict:
    return {
        "event": kind,
        "call_id": "pbx-0001",
        "dialled_number": "0120-123-456",
        "caller_number": "090-1234-5678",
        "at": (T0 + dt.timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


CALL = [
    event("started", 0),
    event("answered", 1, agent_id="4001"),
    event("ended", 9, recording_id="rec-77"),
]


@pytest.fixture
def yamada(cast):
    return CustomerFactory(client=cast.coffee, customer_number="C-1", phones=["+819012345678"])


def test_a_call_becomes_one_contact_with_agent_recording_and_customer(
    api, cast, lines, pbx_token, yamada
):
    bodies = [api.post(EVENTS, pbx_token, e).json() for e in CALL]
    assert [b["status"] for b in bodies] == ["ringing", "in_progress", "ended"]
    assert [b["created"] for b in bodies] == [True, False, False]
    contact = Contact.objects.get()
    assert contact.client == cast.coffee
    assert contact.handler == cast.operator
    assert contact.site == cast.sapporo
    assert contact.recording_id == "rec-77"
    assert contact.customer == yamada
    assert (contact.started_at, contact.answered_at, contact.ended_at) == (
        T0,
        T0 + dt.timedelta(minutes=1),
        T0 + dt.timedelta(minutes=9),
    )


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_any_order_and_repeats_give_the_same_contact(api, lines, pbx_token, yamada, order):
    for i in [*order, *order]:
        assert api.post(EVENTS, pbx_token, CALL[i]).status_code == 200
    contact = Contact.objects.get()
    assert contact.started_at == T0
    assert contact.answered_at == T0 + dt.timedelta(minutes=1)
    assert contact.ended_at == T0 + dt.timedelta(minutes=9)
    assert contact.recording_id == "rec-77"
    assert contact.handler.agent_id == "4001"


def test_abandoned_call_has_no_answer(api, lines, pbx_token):
    api.post(EVENTS, pbx_token, event("started", 0))
    body = api.post(EVENTS, pbx_token, event("abandoned", 1)).json()
    assert body["status"] == "abandoned"
    assert body["answered_at"] is None and body["handler"] is None


def test_unknown_or_foreign_agent_is_refused_and_nothing_written(api, cast, lines, pbx_token):
    for agent in ("9999", cast.outsider.agent_id or "no-such"):
        response = api.post(EVENTS, pbx_token, event("answered", 1, agent_id=agent))
        assert response.status_code == 400
        assert "agent_id" in response.json()["field_errors"]
    assert not Contact.objects.exists()


def test_same_call_id_at_two_clients_are_two_contacts(api, lines, pbx_token):
    api.post(EVENTS, pbx_token, event("started", 0))
    api.post(EVENTS, pbx_token, event("started", 0, dialled_number="0120-987-654"))
    assert Contact.objects.count() == 2


def test_token_of_another_client_gets_404(api, lines, tea_token, coffee_token):
    assert api.post(EVENTS, tea_token, event("started", 0)).status_code == 404
    assert api.post(EVENTS, coffee_token, event("started", 0)).status_code == 200
    assert Contact.objects.count() == 1


def test_naive_time_is_refused(api, lines, pbx_token):
    body = event("started", 0, at=timezone.now().replace(tzinfo=None).isoformat())
    response = api.post(EVENTS, pbx_token, body)
    assert response.status_code == 400
    assert "at" in response.json()["field_errors"]


def test_the_caller_is_found_through_the_phone_index_before_the_write_lock(cast, lines, yamada):
    """The lookup reads the (client, number) phone index, outside the transaction (on SQLite
    the transaction takes the write lock), in the same queries with 1 customer or 31."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from azukari.api.services import contact_event_record

    def answered(call_id: str) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            contact, _ = contact_event_record(
                viewer=cast.operator,
                client=cast.coffee,
                call_id=call_id,
                event="answered",
                at=T0,
                caller_number="090-1234-5678",
            )
        assert contact.customer == yamada
        return [q["sql"] for q in ctx.captured_queries]

    answered("call-0")  # the viewer's clients, read once and kept
    few = answered("call-1")
    for i in range(30):
        CustomerFactory(client=cast.coffee, phones=[f"+81904444{i:04d}"])
    many = answered("call-2")
    assert len(few) == len(many)
    lookup = next(i for i, sql in enumerate(many) if "customers_customerphone" in sql)
    begin = next(i for i, sql in enumerate(many) if sql.upper().startswith("SAVEPOINT"))
    assert lookup < begin
    assert sum("customers_customerphone" in sql for sql in many) == 1
