"""Reads the API serves; every one goes through the visibility door with a token as viewer."""

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.api.models import ApiToken
from azukari.cases.models import Case
from azukari.cases.overdue import case_overdue_q
from azukari.core.compiled import CompiledQuery
from azukari.core.dbrouting import primary_reads
from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import is_withheld, normalize_phone
from azukari.core.sqlite_hints import hinted_sql, ids_in_index_order
from azukari.core.visibility import Viewer
from azukari.customers.models import Customer, CustomerPhone
from azukari.customers.selectors import customer_search, load_cards
from azukari.org.models import Client, ClientLine

MAX_POP_MATCHES = 20


def client_for(viewer: ApiToken, code: str | None) -> Client:
    """The client a request acts for: the token's own, or the one named among those it sees."""
    ids = viewer.visible_client_ids()
    if code:
        client = Client.objects.filter(code=code, pk__in=ids).first()
        if client is None:
            raise NotVisible()
        return client
    if viewer.client_id is not None:
        if viewer.client_id not in ids:
            raise NotVisible()
        return viewer.client
    if len(ids) == 1:
        return Client.objects.get(pk=next(iter(ids)))
    raise DomainError(_("Name the client: this token serves several."), field="client")


def customers_with_number(*, viewer: Viewer, client_id: int, number: str) -> list[Customer]:
    """The client's customers with this E.164 number, driven by the (client, number) index.

    Written as a subquery on the phones so that the database starts from the phone index;
    a join (as in customers_by_phone) lets SQLite's planner walk every customer of the
    client instead.
    """
    if client_id not in viewer.visible_client_ids():
        return []
    return _CUSTOMERS_WITH_NUMBER(client_id, number)


# The client is checked before and named once: repeating it (`client_id IN (..) AND
# client_id = ..`, as visible_to() would) makes SQLite's planner pick the single-column
# client index over (client, number) and read every phone of the client.
_CUSTOMERS_WITH_NUMBER = CompiledQuery[Customer](
    lambda client_id, number: Customer.objects.filter(
        client_id=client_id,
        pk__in=CustomerPhone.objects.filter(client_id=client_id, number=number).values(
            "customer_id"
        ),
    ).order_by("id")[:MAX_POP_MATCHES]  # another order makes SQLite walk that column's index
)
_LINE = CompiledQuery[ClientLine](
    lambda number: ClientLine.objects.select_related("client").filter(number=number)[:1]
)


@dataclass(frozen=True)
class ScreenPop:
    client: Client
    line: ClientLine
    caller_number: str | None
    withheld: bool
    matches: list[Customer]


@primary_reads()
def screen_pop(*, viewer: Viewer, dialled_number: str, caller_number: str | None) -> ScreenPop:
    """The dialled number names the client; only that client's customers can match the caller.

    One indexed lookup for the line, one for the customers, four prefetches: the count does
    not grow with the number of customers, subscriptions, cases or contacts.
    """
    dialled = normalize_phone(dialled_number, field="dialled_number")
    if dialled is None:
        raise DomainError(_("This field is required."), field="dialled_number")
    line = _LINE.first(dialled)
    if line is None or line.client_id not in viewer.visible_client_ids():
        raise NotVisible(_("No client line has this number."))
    if is_withheld(caller_number):
        return ScreenPop(line.client, line, None, True, [])
    number = normalize_phone(caller_number, field="caller_number")
    matches = load_cards(
        customers_with_number(viewer=viewer, client_id=line.client_id, number=number)
    )
    return ScreenPop(line.client, line, number, False, matches)


def customers_find(
    *, viewer: Viewer, query: str, client_id: int | None, limit: int
) -> list[Customer]:
    """Search by name (kana/width folded), customer number or phone in any format."""
    qs = customer_search(viewer=viewer, query=query, client_id=client_id)
    return list(
        qs.select_related("client")
        .prefetch_related("phones")
        .order_by("family_name_kana", "given_name_kana", "id")[:limit]
    )


# ---------------------------------------------------------------- cases


def encode_cursor(case: Case) -> str:
    raw = json.dumps([case.opened_at.isoformat(), case.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        opened_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = dt.datetime.fromisoformat(opened_at)
        if timezone.is_naive(at) or not isinstance(pk, int):
            raise ValueError
        return at, pk
    except (ValueError, TypeError, binascii.Error, UnicodeError) as exc:
        raise DomainError(_("This cursor is not valid."), field="cursor") from exc


@dataclass(frozen=True)
class CaseFilter:
    states: list[str]
    reason: str | None = None
    site: str | None = None
    client: str | None = None
    customer_number: str | None = None
    min_age_days: int | None = None
    overdue: bool | None = None


def newest_ids_per_state(ordered: QuerySet[Case], *, states: list[str], limit: int) -> list[int]:
    """The ids of the first `limit` cases of `ordered` (newest first) in any of `states`.

    The first `limit` of each state, each read in order from the (state, opened_at, id)
    index, hold them: one statement takes each state's few and keeps the newest. One walk
    over the newest cases checking each one's state reads every case of the other states on
    the way (at a million cases, tens of thousands of closed ones before the oldest open
    page), and an IN over the states on the state index makes the database sort every case of
    those states. The SQL is written once and run with each state in turn."""
    arm = ordered.filter(state=_STATE_MARK).values_list("pk", "opened_at")[:limit]
    try:
        sql, params = hinted_sql(arm, index="case_list_state")
    except EmptyResultSet:  # a viewer who sees no client
        return []
    at = params.index(_STATE_MARK)
    arms, values = [], []
    for i, state in enumerate(sorted(set(states))):
        arms.append(f"SELECT * FROM ({sql}) arm{i}")
        values += [*params[:at], state, *params[at + 1 :]]
    merged = (
        f"SELECT pk FROM ({' UNION ALL '.join(arms)}) arms "
        f"ORDER BY opened_at DESC, pk DESC LIMIT {int(limit)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(merged, values)
        return [row[0] for row in cursor.fetchall()]


_STATE_MARK = "\x00state"  # stands for each state in turn in the compiled SQL


_LIST_RELATED = ("client", "customer", "site", "owner_team", "assignee", "subscription")


def cases_list(
    *, viewer: Viewer, filters: CaseFilter, cursor: str | None, limit: int
) -> tuple[list[Case], str | None]:
    """Newest first, keyset-paginated on (opened_at, id) so pages stay fast and stable."""
    now = timezone.now()
    qs = Case.objects.visible_to(viewer).select_related(*_LIST_RELATED)
    if filters.states:
        qs = qs.filter(state__in=filters.states)
    if filters.reason:
        qs = qs.filter(azukari_reason=filters.reason)
    if filters.site:
        qs = qs.filter(site__code=filters.site)
    if filters.client:
        # Another client's code answers as an unknown one does, like every other endpoint.
        qs = qs.filter(client=client_for(viewer, filters.client))
    if filters.customer_number:
        qs = qs.filter(customer__customer_number=filters.customer_number)
    if filters.min_age_days is not None:
        qs = qs.filter(opened_at__lte=now - dt.timedelta(days=filters.min_age_days))
    overdue = case_overdue_q(now)
    if filters.overdue is True:
        qs = qs.filter(overdue)
    elif filters.overdue is False:
        qs = qs.exclude(overdue)
    if cursor:
        at, pk = decode_cursor(cursor)
        # The first term bounds the index range; the second picks the rows after the cursor.
        qs = qs.filter(opened_at__lte=at).filter(Q(opened_at__lt=at) | Q(pk__lt=pk))
    ordered = qs.order_by("-opened_at", "-id")
    if filters.customer_number:  # a handful of rows: the customer's index finds them
        rows = list(ordered[: limit + 1])
    else:
        if filters.states:
            ids = newest_ids_per_state(ordered, states=filters.states, limit=limit + 1)
        else:
            ids = ids_in_index_order(ordered, index="case_list_newest", limit=limit + 1)
        # Read back by their ids alone: the filters chose them already, and given the client
        # and states again SQLite reads a whole (client, state) range instead of 26 rows.
        found = {c.pk: c for c in Case.objects.select_related(*_LIST_RELATED).filter(pk__in=ids)}
        rows = [found[pk] for pk in ids]
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def case_detail(*, viewer: Viewer, case_id: int) -> Case:
    case = (
        Case.objects.visible_to(viewer)
        .select_related("client", "customer", "site", "owner_team", "assignee", "subscription")
        .prefetch_related("events__actor", "inquiries", "callbacks")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotVisible()
    return case
