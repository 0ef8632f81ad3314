"""Two events of one new call at the same moment, each on its own database connection: the
call still becomes one contact holding both (on PostgreSQL the second INSERT fails on the
call's unique key and is folded into the first one's contact; SQLite writes one at a time)."""

import datetime as dt
import threading

import pytest
from django.db import connection

from azukari.api.services import contact_event_record
from azukari.cases.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def test_two_events_of_a_new_call_at_once_make_one_contact_with_both(cast):
    calls = [f"race-{i}" for i in range(6)]
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def send(event: str, minutes: int) -> None:
        try:
            for call_id in calls:
                barrier.wait(timeout=30)
                contact_event_record(
                    viewer=cast.operator,
                    client=cast.coffee,
                    call_id=call_id,
                    event=event,
                    at=T0 + dt.timedelta(minutes=minutes),
                )
        except Exception as exc:  # the test reports what a side got
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=("answered", 1)),
        threading.Thread(target=send, args=("ended", 9)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    contacts = Contact.objects.filter(pbx_call_id__in=calls)
    assert contacts.count() == len(calls)
    for contact in contacts:
        assert contact.answered_at == T0 + dt.timedelta(minutes=1)
        assert contact.ended_at == T0 + dt.timedelta(minutes=9)
