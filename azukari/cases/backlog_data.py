"""The backlog's derived data, counted afresh: to check the tallies and trend the database
triggers keep (migrations 0005, 0007 and 0016), and to rebuild them when they drifted, e.g. after a
SQLite table rebuild dropped the triggers.

The fresh count reads the cases (open azukari) and the case history (the day-by-day trend, in
Japan time) with grouped queries; the stored rows are compared key by key, zero rows ignored.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, ExpressionWrapper, IntegerField, Q, Sum
from django.db.models.functions import ExtractMinute, ExtractSecond, TruncDate, TruncHour

from azukari.cases.models import (
    AZUKARI_STATES,
    BacklogTally,
    BacklogTrendDay,
    Case,
    CaseEvent,
    ClockTally,
    DueTally,
)

UTC = dt.UTC
TOKYO = ZoneInfo("Asia/Tokyo")
OPEN = sorted(AZUKARI_STATES)


@dataclass
class BacklogData:
    """Keyed figures of the four stores; equal when the triggers kept them right."""

    tallies: dict[tuple, tuple[int, int, int, int]] = field(default_factory=dict)
    clocks: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    trend: dict[tuple, int] = field(default_factory=dict)
    due: dict[tuple, int] = field(default_factory=dict)

    def differences(self, other: "BacklogData") -> list[str]:
        found = []
        for name in ("tallies", "clocks", "trend", "due"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for key in sorted(set(mine) | set(theirs), key=str):
                if mine.get(key) != theirs.get(key):
                    found.append(f"{name} {key}: stored {mine.get(key)}, counted {theirs.get(key)}")
        return found


def backlog_stored() -> BacklogData:
    data = BacklogData()
    for row in BacklogTally.objects.exclude(n=0).values_list(
        "client_id",
        "site_id",
        "team_id",
        "state",
        "azukari_reason",
        "parked_day",
        "n",
        "center_seconds",
        "client_seconds",
        "customer_seconds",
    ):
        data.tallies[row[:6]] = tuple(row[6:])
    for *key, n, offset in ClockTally.objects.exclude(n=0).values_list(
        "client_id", "site_id", "state", "since_hour", "n", "offset_seconds"
    ):
        data.clocks[tuple(key)] = (n, offset)
    for client_id, day, delta in BacklogTrendDay.objects.exclude(delta=0).values_list(
        "client_id", "day", "delta"
    ):
        data.trend[(client_id, day)] = delta
    for *key, n in DueTally.objects.exclude(n=0).values_list(
        "client_id", "site_id", "state", "due_day", "n"
    ):
        data.due[tuple(key)] = n
    return data


def backlog_counted() -> BacklogData:
    data = BacklogData()
    open_cases = Case.objects.filter(state__in=OPEN).order_by()
    for row in open_cases.values(
        "client_id", "site_id", "owner_team_id", "state", "azukari_reason"
    ).annotate(
        day=TruncDate("parked_at", tzinfo=UTC),
        n=Count("id"),
        center=Sum("center_seconds"),
        client_s=Sum("client_seconds"),
        customer=Sum("customer_seconds"),
    ):
        key = (
            row["client_id"],
            row["site_id"],
            row["owner_team_id"] or 0,
            row["state"],
            row["azukari_reason"],
            row["day"].isoformat() if row["day"] else "",
        )
        data.tallies[key] = (row["n"], row["center"], row["client_s"], row["customer"])
    offset = ExpressionWrapper(
        ExtractMinute("clock_since", tzinfo=UTC) * 60 + ExtractSecond("clock_since", tzinfo=UTC),
        output_field=IntegerField(),
    )
    for row in (
        open_cases.filter(clock_since__isnull=False)
        .values("client_id", "site_id", "state")
        .annotate(hour=TruncHour("clock_since", tzinfo=UTC), n=Count("id"), offset=Sum(offset))
    ):
        key = (row["client_id"], row["site_id"], row["state"], row["hour"].strftime("%Y-%m-%d %H"))
        data.clocks[key] = (row["n"], row["offset"])
    entering = Q(to_state__in=OPEN) & ~Q(from_state__in=OPEN)
    leaving = ~Q(to_state="") & ~Q(to_state__in=OPEN) & Q(from_state__in=OPEN)
    trend: Counter = Counter()
    for sign, crossing in ((1, entering), (-1, leaving)):
        for row in (
            CaseEvent.objects.filter(crossing)
            .order_by()
            .values("client_id")
            .annotate(day=TruncDate("at", tzinfo=TOKYO), n=Count("id"))
        ):
            trend[(row["client_id"], row["day"].isoformat())] += sign * row["n"]
    data.trend = {key: delta for key, delta in trend.items() if delta}
    for row in (
        open_cases.filter(due_at__isnull=False)
        .values("client_id", "site_id", "state")
        .annotate(day=TruncDate("due_at", tzinfo=UTC), n=Count("id"))
    ):
        key = (row["client_id"], row["site_id"], row["state"], row["day"].isoformat())
        data.due[key] = row["n"]
    return data


def backlog_check() -> list[str]:
    """What the stored tallies and trend get wrong against a fresh count (empty: all right)."""
    return backlog_stored().differences(backlog_counted())


@transaction.atomic
def backlog_rebuild() -> BacklogData:
    """Replaces the tallies and the trend by a fresh count, writers held off meanwhile (on
    SQLite the write transaction does that; on PostgreSQL a share lock on the two tables the
    triggers watch). Returns what it wrote."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {Case._meta.db_table}, {CaseEvent._meta.db_table} IN SHARE MODE"
            )
    else:
        BacklogTally.objects.filter(pk=0).delete()  # takes SQLite's write lock first
    counted = backlog_counted()
    BacklogTally.objects.all().delete()
    ClockTally.objects.all().delete()
    BacklogTrendDay.objects.all().delete()
    DueTally.objects.all().delete()
    BacklogTally.objects.bulk_create(
        [
            BacklogTally(
                client_id=client_id,
                site_id=site_id,
                team_id=team_id,
                state=state,
                azukari_reason=reason,
                parked_day=day,
                n=n,
                center_seconds=center,
                client_seconds=client_s,
                customer_seconds=customer,
            )
            for (client_id, site_id, team_id, state, reason, day), (
                n,
                center,
                client_s,
                customer,
            ) in counted.tallies.items()
        ],
        batch_size=1000,
    )
    ClockTally.objects.bulk_create(
        [
            ClockTally(
                client_id=client_id,
                site_id=site_id,
                state=state,
                since_hour=hour,
                n=n,
                offset_seconds=offset,
            )
            for (client_id, site_id, state, hour), (n, offset) in counted.clocks.items()
        ],
        batch_size=1000,
    )
    BacklogTrendDay.objects.bulk_create(
        [
            BacklogTrendDay(client_id=client_id, day=day, delta=delta)
            for (client_id, day), delta in counted.trend.items()
        ],
        batch_size=1000,
    )
    DueTally.objects.bulk_create(
        [
            DueTally(client_id=client_id, site_id=site_id, state=state, due_day=day, n=n)
            for (client_id, site_id, state, day), n in counted.due.items()
        ],
        batch_size=1000,
    )
    return counted
