"""Reads that may lag go to a streaming replica; everything else stays on the primary.

With `DATABASE_REPLICA_URL` set, settings add a `replica` database. Nothing reads from it
unless the code asks, narrowly: a view or function wrapped in `replica_reads()` (the monthly
report, record exports, the board's trend). Even there the primary answers

- every write, and every read inside a transaction (`transaction.atomic`: the services that
  move a case or save what a person edits read and lock their rows there), and every read of
  a request that is not a GET;
- the screen pop, marked `primary_reads()`: the caller's cases as they are now;
- the tables that decide who may see what and the machinery (accounts, clients, sites and
  teams, API tokens, sessions, the task queue): a right just taken away is never granted
  again by a replica a moment behind.

A replica may be a fraction of a second behind (docs/topology.md): fine for a month's
figures or a day-by-day trend, wrong for a form that is about to be saved.
"""

import contextvars
import functools
from collections.abc import Callable, Iterable, Iterator

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, StreamingHttpResponse

REPLICA = "replica"

# The apps whose rows a lagging read may show: case and customer records, reports, the
# audit trail (an export of it). Never "org", "auth", "api", "sessions", "django_q".
REPLICA_APPS = frozenset({"cases", "customers", "subscriptions", "reports", "audit"})

_on_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class replica_reads:
    """Reads in this block or function may come from the replica. On a view, the rows a
    streamed response (a CSV export) reads while it is sent are covered too; a request that
    is not a GET or HEAD reads from the primary."""

    on = True

    def __enter__(self) -> None:
        self._token = _on_replica.set(self.on)

    def __exit__(self, *exc_info: object) -> None:
        _on_replica.reset(self._token)

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            request = args[0] if args and isinstance(args[0], HttpRequest) else None
            if self.on and request is not None and request.method not in ("GET", "HEAD"):
                return func(*args, **kwargs)
            with self.__class__():
                result = func(*args, **kwargs)
            if isinstance(result, StreamingHttpResponse):
                result.streaming_content = _streamed(result.streaming_content, self.__class__)
            return result

        return wrapper


class primary_reads(replica_reads):
    """Reads in this block or function come from the primary even inside `replica_reads()`:
    what an operator acts on at once (the screen pop) must not be a moment old."""

    on = False


def _streamed(chunks: Iterable, reads: type[replica_reads]) -> Iterator:
    """Each chunk is produced under `reads`, and the flag is back as it was between chunks
    (a generator runs in its consumer's context: the WSGI server's, after the view returned)."""
    iterator = iter(chunks)
    while True:
        with reads():
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


class ReplicaRouter:
    """DATABASE_ROUTERS' one router: see the module's docstring for what may lag. None leaves
    the choice to Django (the instance's own database, else the default)."""

    def db_for_read(self, model, **hints) -> str | None:
        if (
            _on_replica.get()
            and model._meta.app_label in REPLICA_APPS
            and replica_configured()
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return _primary_for_replica_rows(hints)

    def db_for_write(self, model, **hints) -> str | None:
        return _primary_for_replica_rows(hints)

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        if REPLICA in (obj1._state.db, obj2._state.db):
            return True  # the same rows on both: a replica copies the primary
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == REPLICA else None


def _primary_for_replica_rows(hints: dict) -> str | None:
    """A row read from the replica and handed on (saved, refreshed, followed to its related
    rows) is the primary's business from then on; Django would stay on the row's database."""
    instance = hints.get("instance")
    if instance is not None and instance._state.db == REPLICA:
        return DEFAULT_DB_ALIAS
    return None
