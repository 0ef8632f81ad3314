"""Reads of the backlog tallies: the board's figures without reading every open azukari.

The tallies (BacklogTally, ClockTally) are kept exact by triggers on cases_case (migration
0005). They are keyed by UTC day and hour, so an age bucket or a clock cut that falls inside a
day or an hour is settled by reading the cases of that day or hour only, through an index.
"""

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, Min, Q, QuerySet, Sum
from django.db.models.functions import Cast, ExtractMinute, ExtractSecond, Substr, Trunc

from azukari.cases.models import AZUKARI_STATES, BacklogTally, Case, ClockTally, DueTally
from azukari.core.visibility import Viewer

UTC = dt.UTC
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
GROUP_KEY = ("client_id", "site_id", "owner_team_id", "state", "azukari_reason")
TALLY_KEY = ("client_id", "site_id", "team_id", "state", "azukari_reason")
# An age bucket as (after, up to): first parked after the one (if any) and at or before the other.
Edges = tuple[dt.datetime | None, dt.datetime | None]


@dataclass(frozen=True)
class DayPrice:
    """One local day of a calendar, for pricing in SQL the clocks that started in its whole
    hours: the UTC hours it spans (`first_hour` to `last_hour`, as the tallies write them), the
    UTC hour it starts in, and in seconds from its start: its working interval (`opens`,
    `closes`), where its business time up to the current hour ends (`rest_until`), and the
    business seconds after it up to the current hour (`after`)."""

    first_hour: str
    last_hour: str
    start_hour: int
    opens: int
    closes: int
    rest_until: int
    after: int


def clock_hour_and_offset() -> tuple[Any, Any]:
    """SQL for the UTC hour a case's clock started in, and its seconds into that hour.

    SQLite keeps UTC times as text; slicing it avoids a Python function call per row."""
    if connection.vendor == "sqlite":
        hour = Substr("clock_since", 1, 13)
        offset = Cast(Substr("clock_since", 15, 2), IntegerField()) * 60 + Cast(
            Substr("clock_since", 18, 2), IntegerField()
        )
        return hour, offset
    hour = Trunc("clock_since", "hour", tzinfo=UTC)
    offset = ExtractMinute("clock_since", tzinfo=UTC) * 60 + ExtractSecond(
        "clock_since", tzinfo=UTC
    )
    return hour, offset


def parse_hour(value: dt.datetime | str) -> dt.datetime:
    """A UTC hour as SQLite slices it ('YYYY-MM-DD HH') or as PostgreSQL truncates it."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value + ":00").replace(tzinfo=UTC)
    return value


def bucket_q(edges: Edges) -> Q:
    after, upto = edges
    q = Q()
    if upto is not None:
        q &= Q(parked_at__lte=upto)
    if after is not None:
        q &= Q(parked_at__gt=after)
    return q


def _utc_day(at: dt.datetime) -> dt.date:
    return at.astimezone(UTC).date()


def _scope(qs: QuerySet, viewer: Viewer, lookups: Mapping[str, Any]) -> QuerySet:
    return qs.visible_to(viewer).filter(**lookups)


def _read_through(queryset: QuerySet, *, index: str) -> list[dict[str, Any]]:
    """The rows of a values() queryset of cases, read on SQLite through `index` (INDEXED BY).

    SQLite prefers the index that matches the client and state equalities, and then reads
    every open case of the client; PostgreSQL weighs the clock range and needs no hint."""
    if connection.vendor != "sqlite":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    table = f"FROM {connection.ops.quote_name(Case._meta.db_table)}"
    hinted = sql.replace(table, f"{table} INDEXED BY {connection.ops.quote_name(index)}", 1)
    with connection.cursor() as cursor:
        cursor.execute(hinted, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def backlog_groups(
    *, viewer: Viewer, lookups: Mapping[str, Any], buckets: Mapping[str, Edges]
) -> list[dict[str, Any]]:
    """Open azukari grouped by (client, site, owning team, state, reason): the number of cases,
    their stored clocks (`center`, `client_s`, `customer`) and `b_<code>` per age bucket.

    `lookups` filter on client_id, site_id and state only. A tally row whose day holds no
    bucket edge lies in one bucket whole; the cases of the (few) days that hold an edge are
    counted one by one, so every figure is exact. Cases never parked are in no bucket."""
    edge_days = sorted({_utc_day(e) for edges in buckets.values() for e in edges if e})
    edge_texts = [d.isoformat() for d in edge_days]
    whole = {}
    for code, (after, upto) in buckets.items():
        # Strictly after and before its own edges' days; another edge's day inside the range
        # (buckets that overlap) is left to the edge-day count too.
        low = _utc_day(after).isoformat() if after is not None else ""
        high = _utc_day(upto).isoformat() if upto is not None else None
        q = Q(parked_day__gt=low)
        if high is not None:
            q &= Q(parked_day__lt=high)
        inside = [d for d in edge_texts if d > low and (high is None or d < high)]
        if inside:
            q &= ~Q(parked_day__in=inside)
        whole[f"b_{code}"] = Sum("n", filter=q)
    tallied = (
        _scope(BacklogTally.objects, viewer, lookups)
        .filter(n__gt=0)
        .values("client_id", "site_id", "team_id", "state", "azukari_reason")
        .annotate(
            n_=Sum("n"),
            center=Sum("center_seconds"),
            client_s=Sum("client_seconds"),
            customer=Sum("customer_seconds"),
            **whole,
        )
        .order_by()
    )
    groups: dict[tuple, dict[str, Any]] = {}
    for row in tallied:
        team = row.pop("team_id") or None
        row["owner_team_id"] = team
        row["n"] = row.pop("n_")
        for code in buckets:
            row[f"b_{code}"] = row[f"b_{code}"] or 0
        groups[tuple(row[k] for k in GROUP_KEY)] = row
    visible = viewer.visible_client_ids()
    if edge_days and visible:
        _count_edge_days(groups, viewer, lookups, buckets, visible, edge_texts)
    return list(groups.values())


def _count_edge_days(
    groups: dict[tuple, dict[str, Any]],
    viewer: Viewer,
    lookups: Mapping[str, Any],
    buckets: Mapping[str, Edges],
    visible: frozenset[int],
    edge_texts: list[str],
) -> None:
    """Adds to each group its cases of the days that hold a bucket edge.

    With one edge per day (the board's edges are whole business days apart), only the shorter
    side of the edge is read; the other side is the day's tally less that. Each branch names
    the clients and states, so that SQLite reads one range of the (client, state, parked_at)
    index; filtered once outside, it reads every case."""
    edges = sorted({e for pair in buckets.values() for e in pair if e})
    sides = []  # (edge, read the part at or before it, its day's start and end)
    for edge in edges:
        start = dt.datetime.combine(_utc_day(edge), dt.time(), tzinfo=UTC)
        sides.append((edge, edge - start <= start + DAY - edge, start, start + DAY))
    if len({start for _e, _b, start, _end in sides}) < len(sides):
        return _count_edge_days_whole(groups, lookups, buckets, visible, edge_texts)
    scope = {"client_id__in": visible, "state__in": AZUKARI_STATES, **lookups}
    branches, counts = Q(), {}
    for i, (edge, before, start, end) in enumerate(sides):
        side = (
            Q(parked_at__gte=start, parked_at__lte=edge)
            if before
            else Q(parked_at__gt=edge, parked_at__lt=end)
        )
        branches |= Q(side, **scope)
        counts[f"e{i}"] = Count("id", filter=side)
    read = {
        tuple(row[k] for k in GROUP_KEY): row
        for row in Case.objects.filter(branches).values(*GROUP_KEY).annotate(**counts).order_by()
    }
    day_totals = {}
    for row in (
        _scope(BacklogTally.objects, viewer, lookups)
        .filter(parked_day__in=edge_texts, n__gt=0)
        .values(*TALLY_KEY, "parked_day", "n")
    ):
        client_id, site_id, team_id, state, reason = (row[k] for k in TALLY_KEY)
        day_totals[(client_id, site_id, team_id or None, state, reason, row["parked_day"])] = row[
            "n"
        ]
    older = {upto: f"b_{code}" for code, (_after, upto) in buckets.items() if upto}
    younger = {after: f"b_{code}" for code, (after, _upto) in buckets.items() if after}
    for key, group in groups.items():
        row = read.get(key)
        for i, (edge, before, start, _end) in enumerate(sides):
            total = day_totals.get((*key, start.date().isoformat()), 0)
            side = min(row[f"e{i}"], total) if row else 0
            at_or_before, after = (side, total - side) if before else (total - side, side)
            if edge in older:
                group[older[edge]] += at_or_before
            if edge in younger:
                group[younger[edge]] += after


def _count_edge_days_whole(
    groups: dict[tuple, dict[str, Any]],
    lookups: Mapping[str, Any],
    buckets: Mapping[str, Edges],
    visible: frozenset[int],
    edge_texts: list[str],
) -> None:
    """As `_count_edge_days`, reading the whole of each edge day (two edges in one day)."""
    in_edge_days = Q()
    for text in edge_texts:
        start = dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
        in_edge_days |= Q(
            client_id__in=visible,
            state__in=AZUKARI_STATES,
            parked_at__gte=start,
            parked_at__lt=start + DAY,
            **lookups,
        )
    counted = (
        Case.objects.filter(in_edge_days)
        .values(*GROUP_KEY)
        .annotate(**{f"b_{code}": Count("id", filter=bucket_q(e)) for code, e in buckets.items()})
        .order_by()
    )
    for row in counted:
        group = groups.get(tuple(row[k] for k in GROUP_KEY))
        if group is None:  # parked after the tallies were read
            continue
        for code in buckets:
            group[f"b_{code}"] += row[f"b_{code}"]


def late_count(*, viewer: Viewer, lookups: Mapping[str, Any], now: dt.datetime) -> int:
    """Open azukari past their due time: the days before today's (UTC) whole from the due
    tally; of today, the cases due before `now`, or the day's tally less the cases due from
    `now` on, whichever part of the day is shorter (an index range either way)."""
    start = dt.datetime.combine(_utc_day(now), dt.time(), tzinfo=UTC)
    today = start.date().isoformat()
    sums = (
        _scope(DueTally.objects, viewer, lookups)
        .filter(due_day__lte=today)
        .aggregate(
            before=Sum("n", filter=Q(due_day__lt=today)), today=Sum("n", filter=Q(due_day=today))
        )
    )
    cases = _scope(Case.objects, viewer, lookups).filter(state__in=AZUKARI_STATES)
    if now - start <= start + DAY - now:
        due_today = cases.filter(due_at__gte=start, due_at__lt=now).count()
    else:
        later = cases.filter(due_at__gte=now, due_at__lt=start + DAY).count()
        due_today = max(0, (sums["today"] or 0) - later)
    return (sums["before"] or 0) + due_today


def clock_starts(
    *, viewer: Viewer, lookups: Mapping[str, Any], now: dt.datetime
) -> dict[tuple[int, int], dt.datetime]:
    """The first UTC hour before now's in which a running clock started, per (client, site),
    or earlier (a row at zero may remain): read from the tally's key alone."""
    this_hour = now.astimezone(UTC).strftime("%Y-%m-%d %H")
    firsts = (
        _scope(ClockTally.objects, viewer, lookups)
        .filter(since_hour__lt=this_hour)
        .values("client_id", "site_id")
        .annotate(first=Min("since_hour"))
        .order_by()
    )
    return {(f["client_id"], f["site_id"]): parse_hour(f["first"]) for f in firsts}


def priced_clock_sums(
    *,
    viewer: Viewer,
    lookups: Mapping[str, Any],
    prices: Mapping[tuple[int, int], Sequence[DayPrice]],
) -> list[tuple[int, int, str, int, int]]:
    """The running clocks that started in whole hours before now's, priced in the database
    with each (client, site)'s `DayPrice`s: `(client_id, site_id, state, n, seconds)`, where
    `seconds` leaves out the business time of the current hour (n times it is to add).

    Per tally row, as `backlog_clocks.hour_seconds` with the business seconds after the hour:
    a board reads a few rows instead of one per hour its clocks started in. The prices are
    numbers and hour texts made here, written into the statement as literals. CROSS JOIN keeps
    SQLite's loop over days and states, each a range of the tally's key (client, site, state,
    hour); rows at zero add nothing."""
    days = [
        _values(client_id, site_id, tuple(day_list))
        for (client_id, site_id), day_list in prices.items()
        if day_list
    ]
    if not days:
        return []
    visible = sorted(viewer.visible_client_ids())
    if not visible:
        return []
    greatest, least = ("max", "min") if connection.vendor == "sqlite" else ("GREATEST", "LEAST")
    where = [f"t.client_id IN ({', '.join(str(int(c)) for c in visible)})"]
    params: list[Any] = []
    for name in ("client_id", "site_id", "state"):
        if name in lookups:
            where.append(f"t.{name} = %s")
            params.append(lookups[name])
    states = ", ".join(f"('{s}')" for s in sorted(AZUKARI_STATES))
    table = connection.ops.quote_name(ClockTally._meta.db_table)
    day = (
        "t.client_id = d.client_id AND t.site_id = d.site_id AND t.state = st.state "
        "AND t.since_hour >= d.first_hour AND t.since_hour <= d.last_hour"
    )
    if connection.vendor == "sqlite":
        hours = f"{table} t"
        where.append(day)
    else:
        # A range of the index per day and state; flattened into a join, PostgreSQL would
        # hash the tally on (client, site) and test every day's range on every row.
        hours = f"LATERAL (SELECT * FROM {table} t WHERE {day} OFFSET 0) t"
    sql = f"""
        WITH st (state) AS (VALUES {states}),
        d (client_id, site_id, first_hour, last_hour, start_hour, opens, closes,
                rest_until, after_day) AS (VALUES {", ".join(days)}),
        hours AS (
            SELECT t.client_id, t.site_id, t.state, CAST(t.n AS BIGINT) AS n,
                   t.offset_seconds AS off, d.opens, d.closes, d.rest_until, d.after_day,
                   3600 * ((CAST(substr(t.since_hour, 12, 2) AS INTEGER) - d.start_hour + 24)
                           %% 24) AS s
            FROM d CROSS JOIN st CROSS JOIN {hours}
            WHERE {" AND ".join(where)}
        ),
        priced AS (
            SELECT client_id, site_id, state, n, after_day,
                   {greatest}(0, {least}(closes, s + 3600) - {greatest}(opens, s))
                       * (3600 * n - off) AS p,
                   {greatest}(0, rest_until - {greatest}(opens, s + 3600)) AS rest
            FROM hours
        )
        SELECT client_id, site_id, state, SUM(n),
               SUM(n * (rest + after_day) + p / 3600
                   + CASE WHEN p %% 3600 > 1800 OR (p %% 3600 = 1800 AND (p / 3600) %% 2 = 1)
                          THEN 1 ELSE 0 END)
        FROM priced GROUP BY client_id, site_id, state
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(c, s, state, int(n), int(sec)) for c, s, state, n, sec in cursor.fetchall()]


@lru_cache(maxsize=256)  # a pair's days change once an hour
def _values(client_id: int, site_id: int, days: tuple[DayPrice, ...]) -> str:
    """A (client, site)'s day prices as VALUES rows, from numbers and checked hour texts."""
    return ", ".join(
        f"({int(client_id)}, {int(site_id)}, '{_hour_text(p.first_hour)}', "
        f"'{_hour_text(p.last_hour)}', {int(p.start_hour)}, {int(p.opens)}, {int(p.closes)}, "
        f"{int(p.rest_until)}, {int(p.after)})"
        for p in days
    )


HOUR_TEXT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}")


def _hour_text(value: str) -> str:
    """An hour as the tallies write it ('YYYY-MM-DD HH'), checked before it is inlined."""
    if not HOUR_TEXT.fullmatch(value):
        raise ValueError(f"Not an hour: {value!r}")
    return value


def current_hour_clocks(
    *, viewer: Viewer, lookups: Mapping[str, Any], now: dt.datetime
) -> list[tuple[int, int, str, dt.datetime, int, int]]:
    """Clocks of open azukari that started in the current UTC hour, before `now`, grouped by
    (client, site, state): `(client_id, site_id, state, hour, n, offset)`, their number `n`
    and the sum of their seconds into the hour `offset`. Read from the cases (an index on
    clock_since), as some may start after `now`; the whole hours before it are priced from the
    tally by `priced_clock_sums`."""
    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    groups: list[tuple[int, int, str, dt.datetime, int, int]] = []
    _hour, offset = clock_hour_and_offset()
    current = (
        _scope(Case.objects, viewer, lookups)
        .filter(state__in=AZUKARI_STATES, clock_since__gte=this_hour, clock_since__lt=now)
        .values("client_id", "site_id", "state")
        .annotate(n=Count("id"), offset=Sum(offset))
        .order_by()
    )
    for row in _read_through(current, index="case_clock_running"):
        groups.append(
            (
                row["client_id"],
                row["site_id"],
                row["state"],
                this_hour,
                row["n"],
                int(row["offset"] or 0),
            )
        )
    return groups
