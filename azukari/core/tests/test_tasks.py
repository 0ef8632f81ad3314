"""Queueing a task keeps the request's database connection and commits with its work."""

import pytest
from django.db import connection, transaction
from django_q.models import OrmQ

from azukari.core.tasks import enqueue


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_keeps_the_connection():
    connection.ensure_connection()
    before = connection.connection
    enqueue("azukari.core.tasks.enqueue", group="test")
    assert connection.connection is before  # no reconnect (and no WAL checkpoint) per task
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_work_that_rolls_back_is_not_queued():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue("azukari.core.tasks.enqueue", group="test")
        raise RuntimeError
    assert OrmQ.objects.count() == 0
