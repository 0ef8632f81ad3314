"""Queueing work for the worker (django-q2 with its ORM broker)."""

from functools import cache
from typing import Any

from django.db import transaction


@cache
def _broker():
    """One broker per process: building it costs more than queueing a task."""
    from django_q.brokers import get_broker

    return get_broker()


def enqueue(func: str, *args: Any, group: str) -> None:
    """Queues `func(*args)` for the worker.

    The ORM broker closes the database connection before every enqueue made outside a
    transaction (it expects to run in a long-lived thread), so each write that queued a task
    paid a reconnect, and on SQLite a checkpoint of the write-ahead log. In a transaction it
    keeps the connection; the task row then commits with the block, or with the caller's
    transaction when there is one.
    """
    from django_q.tasks import async_task

    with transaction.atomic(savepoint=False):  # no savepoint when the caller has a transaction
        async_task(func, *args, group=group, broker=_broker())
