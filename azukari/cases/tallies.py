"""Reads of the backlog tallies: the board's figures without reading every open azukari.

The tallies (BacklogTally, ClockTally) are kept exact by triggers on cases_case (migration
0005). They are keyed by UTC day and hour, so an age bucket or a clock cut that falls inside a
day or an hour is settled by reading the cases of that day or hour only, through an index.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Cast, ExtractMinute, ExtractSecond, Substr, Trunc

from azukari.cases.models import AZUKARI_STATES, BacklogTally, Case, ClockTally
from azukari.core.visibility import Viewer

UTC = dt.UTC
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
GROUP_KEY = ("client_id", "site_id", "owner_team_id", "state", "azukari_reason")
# An age bucket as (after, up to): first parked after the one (if any) and at or before the other.
Edges = tuple[dt.datetime | None, dt.datetime | None]


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
        q = Q(parked_day__gt="") & ~Q(parked_day__in=edge_texts)
        if after is not None:
            q &= Q(parked_day__gt=_utc_day(after).isoformat())
        if upto is not None:
            q &= Q(parked_day__lt=_utc_day(upto).isoformat())
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
        # Each branch names the clients and states, so that SQLite reads each day as one range
        # of the (client, state, parked_at) index; filtered once outside, it reads every case.
        in_edge_days = Q()
        for day in edge_days:
            start = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
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
            .annotate(
                **{f"b_{code}": Count("id", filter=bucket_q(e)) for code, e in buckets.items()}
            )
            .order_by()
        )
        for row in counted:
            group = groups.get(tuple(row[k] for k in GROUP_KEY))
            if group is None:  # parked after the tallies were read
                continue
            for code in buckets:
                group[f"b_{code}"] += row[f"b_{code}"]
    return list(groups.values())


def running_clock_groups(
    *, viewer: Viewer, lookups: Mapping[str, Any], now: dt.datetime
) -> list[tuple[int, int, str, dt.datetime, int, int]]:
    """Clocks of open azukari that started before `now`, grouped by (client, site, state, UTC
    hour they started): `(client_id, site_id, state, hour, n, offset)`, their number `n` and
    the sum of their seconds into the hour `offset`. Tuples: a board reads thousands.

    Whole hours come from the tally; the current hour, in which some clocks may start after
    `now`, is read from the cases that started in it (an index on clock_since)."""
    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    tallied = (
        _scope(ClockTally.objects, viewer, lookups)
        .filter(n__gt=0, since_hour__lt=this_hour.strftime("%Y-%m-%d %H"))
        .values_list("client_id", "site_id", "state", "since_hour", "n", "offset_seconds")
    )
    hours: dict[str, dt.datetime] = {}  # the same hour comes once per site and state
    groups = [
        (
            client_id,
            site_id,
            state,
            hours[hour] if hour in hours else hours.setdefault(hour, parse_hour(hour)),
            n,
            offset,
        )
        for client_id, site_id, state, hour, n, offset in tallied
    ]
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
