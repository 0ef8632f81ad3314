"""The closing tallies stay exact whatever writes the cases, and the board's time to close read
from them is the exact one: the same count and mean, the median within its stated bound.

The desk parks, resolves and reopens through the services; cases are inserted in bulk already
resolved; raw updates move them between clients' sites, teams and reasons and change their
times after resolution; cases are deleted. After every step the tallies equal a fresh count.
"""

import datetime as dt
import importlib

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from azukari.cases.models import (
    CLOSING_BUCKETS,
    CLOSING_SUB_BUCKETS,
    CLOSING_UNIT_SECONDS,
    Case,
    CaseKind,
    CaseState,
    ClosingTally,
)
from azukari.core.businesstime import TOKYO
from azukari.demo import rows
from azukari.floor.tests.factories import at
from azukari.reports import kpis
from azukari.testing.triggers import triggers_on
from azukari.web.pages.backlog import Filters, closing_since
from azukari.web.tests.test_backlog_tallies import REASONS, Everyone, World, when

MIGRATION = importlib.import_module("azukari.cases.migrations.0014_closing_tallies")
NOW = at("2026-11-26", "15:17")
DAY = dt.timedelta(days=1)


def _key(c: Case) -> tuple:
    day = c.resolved_at.astimezone(TOKYO).date().isoformat()
    return (day, c.client_id, c.site_id, c.owner_team_id or 0, c.azukari_reason)


def _expected() -> dict[tuple, list[int]]:
    """The tallies counted afresh from the cases, in Python."""
    tallies: dict[tuple, list[int]] = {}
    for c in Case.objects.filter(parked_at__isnull=False, resolved_at__isnull=False):
        sums = tallies.setdefault(_key(c), [0, 0] + [0] * CLOSING_BUCKETS)
        micros = (c.resolved_at - c.opened_at) // dt.timedelta(microseconds=1)
        sums[0] += 1
        sums[1] += micros
        sums[2 + kpis.closing_bucket(micros / 1_000_000)] += 1
    return tallies


def _stored() -> dict[tuple, list[int]]:
    stored = {}
    for t in ClosingTally.objects.all():
        values = [t.n, t.micros] + [getattr(t, f"h{i}") for i in range(CLOSING_BUCKETS)]
        assert t.n >= 0 and (t.n or not any(values)), t
        if t.n:
            stored[(t.resolved_day, t.client_id, t.site_id, t.team_id, t.azukari_reason)] = values
    return stored


def assert_tallies_exact() -> None:
    assert _stored() == _expected()


def assert_figure_is_the_exact_one(viewer, filters: Filters, now: dt.datetime = NOW) -> None:
    """The board's figure from the tallies against the report's exact computation over the
    same cases: those resolved since the board's first day, 00:00 Japan time."""
    since_day = closing_since(now)
    since = dt.datetime.combine(since_day, dt.time(), tzinfo=TOKYO)
    cases = filters.apply(Case.objects.visible_to(viewer), now)
    exact = kpis.time_to_close(cases, since=since, until=dt.datetime.max.replace(tzinfo=dt.UTC))
    tallied = kpis.time_to_close_tallied(
        viewer=viewer, since_day=since_day, lookups=filters.closing_lookups()
    )
    assert (tallied.cases, tallied.mean) == (exact.cases, exact.mean), filters
    if not exact.cases:
        assert tallied.median is None
        return
    if tallied.median_within is None:  # past the last edge: a lower bound
        assert exact.median >= tallied.median
        return
    negative = cases.filter(
        parked_at__isnull=False, resolved_at__gte=since, resolved_at__lt=F("opened_at")
    )
    if negative.exists():  # resolved before opened: all such go to the first bucket
        return
    assert abs(tallied.median - exact.median) <= tallied.median_within + 1, (exact, tallied)
    # The stated bound: a tenth of an hour plus a sixteenth of the median.
    bound = CLOSING_UNIT_SECONDS + exact.median / CLOSING_SUB_BUCKETS
    assert tallied.median_within <= bound + 1, (exact, tallied)


class Closings(World):
    """The backlog tallies' world, with cases that arrive resolved and raw changes after it."""

    def resolved(self, when: dt.datetime, specs: list[tuple]) -> None:
        """As a loader inserts history: resolved (or closed) cases, parked or not."""
        new = []
        ids = rows.Ids().take(Case, len(specs))
        for pk, (client, team, reason, parked, minutes, micro) in zip(ids, specs, strict=True):
            teams = self.teams[client]
            owner = teams[team % len(teams)] if team >= 0 else None
            opened = when - dt.timedelta(minutes=minutes, microseconds=micro)
            new.append(
                {
                    "id": pk,
                    "client_id": self.clients[client].pk,
                    "customer_id": self.customers[client].pk,
                    "kind": CaseKind.CANCELLATION,
                    "subject": "Loaded",
                    "state": CaseState.RESOLVED if minutes % 2 else CaseState.CLOSED,
                    "azukari_reason": reason,
                    "site_id": (owner or teams[0]).site_id,
                    "owner_team_id": owner.pk if owner else None,
                    "opened_by_id": self.actors[client].pk,
                    "opened_at": opened,
                    "parked_at": opened + dt.timedelta(minutes=1) if parked else None,
                    "resolved_at": when,
                }
            )
            self.case_ids.append(pk)
        rows.insert(Case, new)
        rows.reset_sequences([Case])

    def change(self, index: int, column: str, value) -> None:
        """One raw UPDATE of a column the tallies read, as a repair script would."""
        case = self.case(index)
        if case is None:
            return
        values = {
            "team": ("owner_team_id", self.teams["coffee"][value % 2].pk if value >= 0 else None),
            "site": ("site_id", [self.cast.sapporo.pk, self.cast.osaka.pk][value % 2]),
            "reason": ("azukari_reason", ["", *REASONS][value % 5]),
            "client": ("client_id", [self.cast.coffee.pk, self.cast.tea.pk][value % 2]),
            "resolved": (
                "resolved_at",
                None if value < 0 else case.opened_at + dt.timedelta(hours=value, microseconds=7),
            ),
            "opened": ("opened_at", NOW - dt.timedelta(days=40, seconds=value)),
            "parked": ("parked_at", None if value < 0 else NOW - dt.timedelta(days=39)),
        }
        name, new = values[column]
        if isinstance(new, dt.datetime):  # as the ORM writes it (UTC text on SQLite)
            new = connection.ops.adapt_datetimefield_value(new)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE cases_case SET {name} = %s WHERE id = %s", [new, case.pk])


resolved_spec = st.tuples(
    st.sampled_from(["coffee", "coffee", "tea"]),
    st.integers(-1, 2),  # owning team; -1: none
    st.sampled_from(["", *REASONS]),
    st.booleans(),  # parked at least once
    st.sampled_from([0, 1, 5, 59, 191, 192, 385, 1920, 3839, 40_000, 200_000, 400_000]),
    st.sampled_from([0, 1, 999_999]),
)
operations = st.one_of(
    st.tuples(
        st.just("park"),
        st.sampled_from(["coffee", "tea"]),
        when,
        st.sampled_from([CaseState.AZUKARI, CaseState.WAITING_CUSTOMER]),
        st.sampled_from(REASONS),
        st.integers(0, 1),
    ),
    st.tuples(
        st.just("move"), st.integers(0, 50), st.sampled_from(["resolve", "reopen", "assign"]), when
    ),
    st.tuples(
        st.just("resolved"),
        st.sampled_from([NOW, NOW - DAY * 29, NOW - DAY * 31, *[NOW - DAY * d for d in (1, 2)]]),
        st.lists(resolved_spec, min_size=1, max_size=6),
    ),
    st.tuples(
        st.just("change"),
        st.integers(0, 50),
        st.sampled_from(["team", "site", "reason", "client", "resolved", "opened", "parked"]),
        st.integers(-1, 800),
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=8))
@example(
    ops=[
        ("park", "coffee", NOW - DAY * 3, CaseState.AZUKARI, "investigation", 0),
        ("move", 0, "resolve", NOW - DAY),
        ("resolved", NOW, [("coffee", 0, "", True, m, 1) for m in (5, 191, 385, 40_000)]),
        ("resolved", NOW - DAY * 31, [("tea", -1, "sv_callback", True, 1920, 0)]),
        ("change", 0, "team", 1),
        ("change", 1, "resolved", 30),
        ("change", 2, "client", 1),
        ("move", 0, "reopen", NOW),
        ("change", 3, "resolved", -1),
        ("delete", 4),
    ]
)
def test_the_closing_tallies_stay_exact_and_give_the_exact_figure(cast, ops):
    everyone = Everyone(frozenset({cast.coffee.pk, cast.tea.pk}))
    with transaction.atomic():  # each example starts from the cast alone
        world = Closings(cast)
        for op in ops:
            name, *args = op
            getattr(world, name)(*args)
            assert_tallies_exact()
        for filters in (
            Filters(),
            Filters(client=cast.coffee.pk),
            Filters(site=cast.osaka.pk),
            Filters(team=cast.sapporo_desk.pk),
            Filters(reason="investigation"),
            Filters(client=cast.coffee.pk, site=cast.sapporo.pk, reason=""),
        ):
            assert_figure_is_the_exact_one(everyone, filters)
        assert_figure_is_the_exact_one(cast.desk, Filters())
        assert_figure_is_the_exact_one(cast.outsider, Filters(site=cast.osaka.pk))
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_many_closings_give_the_exact_count_and_mean_and_a_close_median(cast):
    """Durations spread over minutes to months, microseconds included: the count and mean
    are the exact ones, the median within its bound, on a month of closings."""
    world = Closings(cast)
    for day in range(32):
        specs = [
            ("coffee" if i % 3 else "tea", i % 3 - 1, REASONS[i % 4], i % 7 != 0, m, i)
            for i, m in enumerate(
                [1, 7, 45, 190, 200, 640, 1500, 2900, 4000, 9000, 20_000, 70_000, 300_000]
            )
        ]
        world.resolved(NOW - DAY * day - dt.timedelta(minutes=day * 37), specs)
    assert_tallies_exact()
    everyone = Everyone(frozenset({cast.coffee.pk, cast.tea.pk}))
    for filters in (Filters(), Filters(client=cast.tea.pk), Filters(reason="sv_callback")):
        assert_figure_is_the_exact_one(everyone, filters)


def test_the_buckets_of_the_reader_are_those_of_the_migration():
    assert (MIGRATION.BUCKETS, MIGRATION.SUB) == (CLOSING_BUCKETS, CLOSING_SUB_BUCKETS)
    assert MIGRATION.UNIT_MICROS == CLOSING_UNIT_SECONDS * 1_000_000
    for bucket in range(CLOSING_BUCKETS):
        lower, width = kpis.closing_bucket_edges(bucket)
        assert kpis.closing_bucket(lower) == bucket
        if width:
            assert kpis.closing_bucket(lower + width - 1) == bucket
            assert kpis.closing_bucket(lower + width) == bucket + 1
            assert width <= max(CLOSING_UNIT_SECONDS, lower / CLOSING_SUB_BUCKETS)
    assert kpis.closing_bucket(-5) == 0 and kpis.closing_bucket(10**9) == CLOSING_BUCKETS - 1


@pytest.mark.django_db
def test_the_buckets_in_sql_are_those_in_python(db):
    """The migration's bucket expression, run by the database, on each bucket's edges."""
    greatest = "max" if connection.vendor == "sqlite" else "greatest"
    seconds = sorted(
        {
            edge + shift
            for bucket in range(CLOSING_BUCKETS)
            for edge in [
                sum(kpis.closing_bucket_edges(bucket)),
                kpis.closing_bucket_edges(bucket)[0],
            ]
            for shift in (-1, 0, 1)
        }
    )
    with connection.cursor() as cursor:
        for s in seconds:
            micros = s * 1_000_000
            cursor.execute(f"SELECT {MIGRATION.bucket_of(str(micros), greatest)}")
            assert cursor.fetchone()[0] == kpis.closing_bucket(s), s


@pytest.mark.django_db
def test_the_migration_fills_the_tallies_from_the_cases_already_there(cast):
    world = Closings(cast)
    world.resolved(NOW, [("coffee", 0, "", True, m, 7) for m in (3, 400, 9000)])
    world.resolved(
        NOW - DAY, [("tea", -1, "sv_callback", True, 50, 0), ("tea", 0, "", False, 5, 0)]
    )
    ClosingTally.objects.all().delete()
    forward = {"sqlite": MIGRATION.SQLITE_FORWARD, "postgresql": MIGRATION.POSTGRES_FORWARD}
    with connection.cursor() as cursor:
        cursor.execute(forward[connection.vendor][-1])  # the statement that fills the tallies
    assert ClosingTally.objects.count() == 2
    assert_tallies_exact()


@pytest.mark.django_db
def test_the_triggers_are_in_place(db):
    """A migration that rebuilds cases_case (SQLite does, to alter a column) drops them."""
    names = triggers_on("cases_case")
    assert {
        "cases_case_closing_insert",
        "cases_case_closing_update",
        "cases_case_closing_delete",
    } <= names


@pytest.mark.django_db
def test_the_figure_asks_one_query_for_many_closings_as_for_few(cast):
    world = Closings(cast)
    everyone = Everyone(frozenset({cast.coffee.pk, cast.tea.pk}))

    def read() -> int:
        with CaptureQueriesContext(connection) as ctx:
            kpis.time_to_close_tallied(viewer=everyone, since_day=closing_since(NOW))
        return len(ctx.captured_queries)

    world.resolved(NOW, [("coffee", 0, "", True, 60, 0)] * 3)
    few = read()
    world.resolved(NOW - DAY, [("tea", i % 2, REASONS[i % 4], True, i * 50, i) for i in range(60)])
    assert read() == few == 1
