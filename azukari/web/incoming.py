"""Does a call ring for me? The idle desk's question, asked every few seconds, answered cheaply.

Every operator's desk asks it all shift long, so its "no" must cost almost nothing. The page
(`azukari.web.pages.desk.desk_incoming`) answers with the incoming-call panel and an ETag
naming what the panel shows; the desk asks again with that tag (`If-None-Match`) and a signed
ticket naming the operator. `IncomingCheck`, in front of the Django application, answers an
unchanged panel with a 304 from one indexed read, without the session, the user and the other
middleware a page needs; anything else (a changed panel, no or a bad ticket, a database
error) goes on to the page, which checks everything as for any page. The 304 says only "what
you show is still right": it reveals nothing a ticket's holder did not already see.
Design notes: docs/design.md, "The idle desk".
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.core.signing import BadSignature, Signer
from django.db import DatabaseError, connections, router
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.utils import timezone

from azukari.cases.models import Contact

PATH = "/desk/incoming/"
TICKET_HEADER = "X-Desk-Ticket"
# How often the desk asks (docs/design.md, "The idle desk": the interval is chosen by cost).
POLL_SECONDS = 5
# A PBX contact older than this that never ended is a lost event, not a call in progress.
WINDOW = dt.timedelta(hours=2)
_SIGNER_SALT = "azukari.web.incoming"


class Ringing(NamedTuple):
    """The call the panel shows: what the template reads and what the tag names."""

    pk: int
    started_at: dt.datetime
    answered_at: dt.datetime | None
    customer_id: int | None
    caller_number: str
    client_id: int


FIELDS = ("pk", "started_at", "answered_at", "customer_id", "caller_number", "client_id")
_HANDLER_MARK = -7_340_000_000_001
_SINCE_MARK = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


@dataclass(frozen=True)
class _Read:
    sql: str
    params: tuple
    handler_at: int  # where the handler's id goes in the parameters
    since_at: int  # and where the start of the window goes
    converters: dict


_READS: dict[tuple[str, str], _Read] = {}


def _newest_call_read(connection: Any) -> _Read:
    """The operator's newest PBX call in the window, not ended and not yet recorded (a
    recorded call has its summary), as the ORM writes it for this database: compiled once,
    through the (handler, ended_at) index. Every idle desk runs it every few seconds, so it
    runs on the driver's connection, without the queryset and cursor wrappers around it."""
    key = (connection.alias, connection.vendor)
    if key not in _READS:
        queryset = (
            Contact.objects.using(connection.alias)
            .filter(
                handler_id=_HANDLER_MARK,
                ended_at__isnull=True,
                summary="",
                started_at__gte=_SINCE_MARK,
            )
            .exclude(pbx_call_id=None)
            .order_by("-started_at", "-id")
            .values_list(*FIELDS)[:1]
        )
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if connection.vendor == "sqlite":  # the driver's own placeholders, as Django's wrapper
            sql = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
        since = connection.ops.adapt_datetimefield_value(_SINCE_MARK)
        columns = [s[0] for s in compiler.select[: compiler.col_count]]
        _READS[key] = _Read(
            sql,
            tuple(params),
            params.index(_HANDLER_MARK),
            params.index(since),
            compiler.get_converters(columns),
        )
    return _READS[key]


def newest_call(handler_id: int, *, now: dt.datetime | None = None) -> Ringing | None:
    """The newest call still ringing or in progress (within the window: a PBX contact older
    than that which never ended is a lost event)."""
    connection = connections[router.db_for_read(Contact)]
    read = _newest_call_read(connection)
    params = list(read.params)
    params[read.handler_at] = handler_id
    since = (now or timezone.now()) - WINDOW
    params[read.since_at] = connection.ops.adapt_datetimefield_value(since)
    with connection.wrap_database_errors:  # the driver's errors as Django's
        connection.ensure_connection()
        row = connection.connection.execute(read.sql, params).fetchone()
    if row is None:
        return None
    row = list(row)
    for position, (converters, expression) in read.converters.items():
        for convert in converters:
            row[position] = convert(row[position], expression, connection)
    return Ringing(*row)


def newest_calls(handler_ids: Iterable[int]) -> dict[int, Ringing]:
    """`newest_call` of many operators at once, as the long wait reads them (its loop asks for
    every waiting desk each second): one query per few hundred operators, through the same
    (handler, ended_at) index. Only the operators with a call are in the answer."""
    ids = sorted(handler_ids)
    since = timezone.now() - WINDOW
    newest: dict[int, Ringing] = {}
    for start in range(0, len(ids), 500):
        rows = (
            Contact.objects.filter(
                handler_id__in=ids[start : start + 500],
                ended_at__isnull=True,
                summary="",
                started_at__gte=since,
            )
            .exclude(pbx_call_id=None)
            .order_by()
            .values_list("handler_id", *FIELDS)
        )
        for handler_id, *row in rows:
            call = Ringing(*row)
            kept = newest.get(handler_id)
            if kept is None or (call.started_at, call.pk) > (kept.started_at, kept.pk):
                newest[handler_id] = call
    return newest


def incoming_call(user) -> Ringing | None:
    """The call the user's desk shows: the newest one, if it is of a client the user serves."""
    call = newest_call(user.pk)
    if call is None or call.client_id not in user.visible_client_ids():
        return None
    return call


def incoming_tag(call: Ringing | None, language: str) -> str:
    """The panel in a few characters (an ETag): the same tag, the same panel. The words
    follow the user's language, which the tag starts with."""
    if call is None:
        return f'"{language}.none"'
    state = "on" if call.answered_at else "ring"
    who = call.customer_id or ("number" if call.caller_number else "withheld")
    return f'"{language}.{call.pk}.{state}.{who}"'


def full_check_every() -> int:
    """One check in this many goes without the ticket, through the page and its session
    middleware: at least three times per idle period, so a desk waiting for calls keeps its
    session as the polls through the page did."""
    idle_seconds = settings.AZUKARI_SESSION_IDLE_MINUTES * 60
    return max(1, idle_seconds // 3 // POLL_SECONDS)


def ticket_for(user) -> str:
    """Names the operator to `IncomingCheck`. It needs no expiry: all it ever gets its holder
    is a 304 for a panel it already shows."""
    return Signer(salt=_SIGNER_SALT).sign(str(user.pk))


@functools.lru_cache(maxsize=8192)  # a desk sends the same ticket all shift
def ticket_user(ticket: str) -> int | None:
    """The operator a desk's ticket names, or None for anything that is not a ticket."""
    try:
        return int(Signer(salt=_SIGNER_SALT).unsign(ticket))
    except (BadSignature, ValueError):
        return None


def is_tag(tag: str) -> bool:
    """Whether `tag` has the shape `incoming_tag` gives (it starts with the language)."""
    return tag.startswith('"') and "." in tag


def unchanged(tag: str, ticket: str) -> bool:
    """Whether the panel tagged `tag` is still what the ticket's operator should see."""
    user_id = ticket_user(ticket)
    if user_id is None or not is_tag(tag):
        return False
    language = tag[1:].split(".", 1)[0]
    try:
        return incoming_tag(newest_call(user_id), language) == tag
    except DatabaseError:  # the page reconnects and answers
        connections[router.db_for_read(Contact)].close()
        return False


NOT_MODIFIED_HEADERS = [
    ("Cache-Control", "no-store, no-cache, must-revalidate, private"),
    ("Vary", "Cookie"),
]


class IncomingCheck:
    """WSGI middleware: the unchanged incoming-call panel's 304, before Django's request
    handling; every other request passes through untouched."""

    def __init__(self, application: Callable[..., Iterable[bytes]]) -> None:
        self.application = application
        self.header = "HTTP_" + TICKET_HEADER.upper().replace("-", "_")

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "GET":
            tag = environ.get("HTTP_IF_NONE_MATCH", "")
            ticket = environ.get(self.header, "")
            if tag and ticket and unchanged(tag, ticket):
                start_response("304 Not Modified", [("ETag", tag), *NOT_MODIFIED_HEADERS])
                return []
        return self.application(environ, start_response)
