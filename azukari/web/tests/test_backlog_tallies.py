"""The backlog tallies stay exact whatever writes the cases, and the board read from them is
the board read from the cases.

The desk parks, asks, resolves and reopens through the services; the demo loader inserts
cases in bulk; a failover moves cases with raw updates; cases are deleted. After every step
the tallies equal a fresh count of the open azukari, and the board from the tallies equals the
board from the cases, at instants whose age-bucket edges fall inside UTC days and on them.
"""

import contextlib
import datetime as dt
import importlib
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from azukari.cases import services as cases
from azukari.cases.models import (
    AZUKARI_STATES,
    BacklogTally,
    Callback,
    Case,
    CaseKind,
    CaseState,
    ClockTally,
    DueTally,
    Inquiry,
)
from azukari.core.errors import DomainError
from azukari.demo import rows
from azukari.floor.tests.factories import at, contact
from azukari.org.models import SiteHours
from azukari.reports import kpis
from azukari.testing.factories import CustomerFactory
from azukari.testing.times import callable_time
from azukari.testing.triggers import triggers_on
from azukari.web.pages.backlog import Filters, backlog_board, open_azukari

UTC = dt.UTC
MIGRATION = importlib.import_module("azukari.cases.migrations.0005_backlog_tallies")
DUE_MIGRATION = importlib.import_module("azukari.cases.migrations.0016_due_tallies")
DAYS = ["2026-11-02", "2026-11-13", "2026-11-16", "2026-11-19", "2026-11-20", "2026-11-24"]
DAYS += ["2026-11-25", "2026-11-26"]
TIMES = ["00:10", "08:59", "09:00", "10:30", "15:17", "23:45"]
# Edges early in UTC days (10:30 Tokyo is 01:30 UTC) and late (22:40 Tokyo is 13:40 UTC: the
# board reads the other side of the edge), on UTC midnight (09:00 Tokyo), and an instant with
# cases whose clocks start later in the same hour.
NOWS = [
    at("2026-11-25", "10:30"),
    at("2026-11-25", "09:00"),
    at("2026-11-20", "15:17") + dt.timedelta(seconds=754, microseconds=250_000),
    at("2026-11-25", "22:40"),
]
REASONS = ["client_decision", "sv_callback", "investigation", "customer_action"]


@dataclass(frozen=True)
class Everyone:
    """A viewer that sees both clients (the desk sees only coffee)."""

    ids: frozenset[int]

    def visible_client_ids(self) -> frozenset[int]:
        return self.ids


def _day(value: dt.datetime | None) -> str:
    return value.astimezone(UTC).date().isoformat() if value else ""


def _expected_tallies() -> tuple[dict, dict]:
    """The tallies counted afresh from the cases, in Python."""
    backlog: dict[tuple, list[int]] = {}
    clocks: dict[tuple, list[int]] = {}
    for c in Case.objects.filter(state__in=AZUKARI_STATES):
        key = (c.client_id, c.site_id, c.owner_team_id or 0, c.state, c.azukari_reason)
        sums = backlog.setdefault((*key, _day(c.parked_at)), [0, 0, 0, 0])
        for i, value in enumerate((1, c.center_seconds, c.client_seconds, c.customer_seconds)):
            sums[i] += value
        if c.clock_since:
            since = c.clock_since.astimezone(UTC)
            hour = since.strftime("%Y-%m-%d %H")
            sums = clocks.setdefault((c.client_id, c.site_id, c.state, hour), [0, 0])
            sums[0] += 1
            sums[1] += since.minute * 60 + since.second
    return backlog, clocks


def _stored_tallies() -> tuple[dict, dict]:
    backlog = {}
    for t in BacklogTally.objects.all():
        values = [t.n, t.center_seconds, t.client_seconds, t.customer_seconds]
        assert t.n >= 0 and (t.n or values == [0, 0, 0, 0]), t
        if t.n:
            key = (t.client_id, t.site_id, t.team_id, t.state, t.azukari_reason, t.parked_day)
            backlog[key] = values
    clocks = {}
    for t in ClockTally.objects.all():
        assert t.n >= 0 and (t.n or t.offset_seconds == 0), t
        if t.n:
            clocks[(t.client_id, t.site_id, t.state, t.since_hour)] = [t.n, t.offset_seconds]
    return backlog, clocks


def _due_tallies() -> tuple[dict, dict]:
    """The due tallies as stored, and counted afresh from the cases."""
    expected: dict[tuple, int] = {}
    for c in Case.objects.filter(state__in=AZUKARI_STATES, due_at__isnull=False):
        key = (c.client_id, c.site_id, c.state, _day(c.due_at))
        expected[key] = expected.get(key, 0) + 1
    stored = {}
    for t in DueTally.objects.all():
        assert t.n >= 0, t
        if t.n:
            stored[(t.client_id, t.site_id, t.state, t.due_day)] = t.n
    return stored, expected


def assert_tallies_exact() -> None:
    assert _stored_tallies() == _expected_tallies()
    stored, expected = _due_tallies()
    assert stored == expected


def assert_boards_agree(viewer, filters: Filters, nows=NOWS) -> None:
    for now in nows:
        scanned = backlog_board(viewer=viewer, filters=filters, now=now, from_tallies=False)
        tallied = backlog_board(viewer=viewer, filters=filters, now=now, from_tallies=True)
        assert tallied == scanned, (now, filters)
        overdue = kpis.overdue_cases(filters.apply(open_azukari(viewer), now), now=now)
        lookups = filters.tally_lookups()
        assert kpis.overdue_cases_tallied(viewer=viewer, lookups=lookups, now=now) == overdue
        for dimension, breakdown in scanned.by.items():
            assert [r.key for r in tallied.by[dimension].sorted_rows] == [
                r.key for r in breakdown.sorted_rows
            ]


# ---------------------------------------------------------------- the operations


class World:
    """The cast's two clients, their teams, and the cases made so far in one example."""

    def __init__(self, cast):
        self.cast = cast
        self.teams = {
            "coffee": [cast.sapporo_desk, cast.osaka_desk],
            "tea": [cast.tea_desk],
        }
        self.clients = {"coffee": cast.coffee, "tea": cast.tea}
        self.actors = {"coffee": cast.desk, "tea": cast.outsider}
        self.customers = {
            name: CustomerFactory(client=client) for name, client in self.clients.items()
        }
        self.case_ids: list[int] = []

    def case(self, index: int) -> Case | None:
        if not self.case_ids:
            return None
        return Case.objects.filter(pk=self.case_ids[index % len(self.case_ids)]).first()

    def actor(self, case: Case):
        return self.cast.desk if case.client_id == self.cast.coffee.pk else self.cast.outsider

    def open(self, client: str, when: dt.datetime) -> Case:
        with time_machine.travel(when, tick=False):
            c = contact(client=self.clients[client], handler=self.actors[client])
            case = cases.case_open(
                contact=c, actor=self.actors[client], kind=CaseKind.CANCELLATION, subject="S"
            )
        self.case_ids.append(case.pk)
        return case

    def park(self, client: str, when: dt.datetime, state: str, reason: str, team: int) -> None:
        case = self.open(client, when)
        teams = self.teams[client]
        with time_machine.travel(when, tick=False):
            cases.case_park(
                case=case,
                version=case.version,
                actor=self.actors[client],
                reason=reason,
                team=teams[team % len(teams)],
                state=state,
                promised_callback_at=(
                    callable_time(
                        case, after=when + dt.timedelta(days=1), site=teams[team % len(teams)].site
                    )
                    if state == CaseState.CALLBACK_DUE
                    else None
                ),
                due_at=when + dt.timedelta(hours=20) if reason == "investigation" else None,
            )

    def move(self, index: int, kind: str, when: dt.datetime) -> None:
        case = self.case(index)
        if case is None:
            return
        actor, v = self.actor(case), case.version
        teams = self.teams["coffee" if case.client_id == self.cast.coffee.pk else "tea"]
        first = case.owner_team_id == teams[0].pk
        moves = {
            "resolve": lambda: cases.case_resolve(case=case, version=v, actor=actor, outcome="x"),
            "reopen": lambda: cases.case_reopen(case=case, version=v, actor=actor, note="back"),
            "resume": lambda: cases.case_resume(case=case, version=v, actor=actor),
            "wait": lambda: cases.case_wait_on_customer(
                case=case, version=v, actor=actor, note="docs"
            ),
            "promise": lambda: cases.case_promise_callback(
                case=case,
                version=v,
                actor=actor,
                promised_for=callable_time(case, after=when + dt.timedelta(hours=3)),
            ),
            "assign": lambda: cases.case_assign(
                case=case, version=v, actor=actor, team=teams[-1] if first else teams[0]
            ),
            "ask": lambda: cases.inquiry_send(
                case=case,
                version=v,
                actor=actor,
                question="May we waive the fee?",
                options=[{"code": "yes", "label": "Yes"}],
                team=teams[0],
            ),
        }
        # A move that is not legal from the case's state changes nothing.
        with time_machine.travel(when, tick=False), contextlib.suppress(DomainError):
            moves[kind]()

    def bulk(self, when: dt.datetime, specs: list[tuple]) -> None:
        """As the demo loader inserts cases: explicit ids, executemany, no services."""
        new = []
        ids = rows.Ids().take(Case, len(specs))
        for pk, (client, state, team, reason, parked, clock, micro) in zip(ids, specs, strict=True):
            teams = self.teams[client]
            owner = teams[team % len(teams)] if team >= 0 else None
            parked_at = when - dt.timedelta(days=parked) if parked >= 0 else None
            new.append(
                {
                    "id": pk,
                    "client_id": self.clients[client].pk,
                    "customer_id": self.customers[client].pk,
                    "kind": CaseKind.CANCELLATION,
                    "subject": "Loaded",
                    "state": state,
                    "azukari_reason": reason,
                    "site_id": (owner or teams[0]).site_id,
                    "owner_team_id": owner.pk if owner else None,
                    "opened_by_id": self.actors[client].pk,
                    "opened_at": parked_at or when,
                    "parked_at": parked_at,
                    "center_seconds": 3600 * max(parked, 0),
                    "client_seconds": 600,
                    "customer_seconds": 7,
                    "clock_since": (
                        when + dt.timedelta(minutes=clock, microseconds=micro)
                        if clock is not None
                        else None
                    ),
                    # Due before and after the instants the board is read at, or not at all.
                    "due_at": (
                        when + dt.timedelta(hours=12 - 5 * parked, microseconds=micro)
                        if parked >= 0
                        else None
                    ),
                }
            )
            self.case_ids.append(pk)
        rows.insert(Case, new)
        rows.reset_sequences([Case])

    def raw(self, index: int, state: str, site: str) -> None:
        """As a failover moves cases: one UPDATE, no services."""
        case = self.case(index)
        if case is None:
            return
        site_id = getattr(self.cast, site).pk
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case SET state = %s, site_id = %s WHERE id = %s",
                [state, site_id, case.pk],
            )

    def clocks(self, index: int, seconds: int) -> None:
        """As the clock recompute task stores the time so far."""
        Case.objects.filter(pk__in=self.case_ids[index % 3 :: 3]).update(
            customer_seconds=seconds, center_seconds=seconds * 2
        )

    def delete(self, index: int) -> None:
        case = self.case(index)
        if case is None:
            return
        Callback.objects.filter(case=case).delete()
        Inquiry.objects.filter(case=case).delete()
        self.case_ids.remove(case.pk)
        case.delete()


# Any time of the days above, or close to one of the instants the board is read at (the same
# hour, or the same hour of an earlier day, so some cases fall on the age-bucket edges).
when = st.one_of(
    st.builds(
        lambda day, time, seconds: at(day, time) + dt.timedelta(seconds=seconds),
        st.sampled_from(DAYS),
        st.sampled_from(TIMES),
        st.integers(0, 3599),
    ),
    st.builds(
        lambda now, days, seconds: now - dt.timedelta(days=days, seconds=seconds),
        st.sampled_from(NOWS),
        st.sampled_from([0, 0, 1, 3, 5, 9]),
        st.sampled_from([-2000, -1, 0, 1, 754, 3600]),
    ),
)
client_name = st.sampled_from(["coffee", "coffee", "tea"])
park_states = st.sampled_from(
    [CaseState.AZUKARI, CaseState.WAITING_CUSTOMER, CaseState.CALLBACK_DUE]
)
bulk_spec = st.tuples(
    client_name,
    st.sampled_from(CaseState.values),
    st.integers(-1, 3),  # owning team; -1: none
    st.sampled_from(["", *REASONS]),
    st.integers(-1, 12),  # days since first parked; -1: never parked
    st.none() | st.integers(-90, 600),  # clock started, minutes after `when`
    st.sampled_from([0, 0, 1, 999_999]),
)
operations = st.one_of(
    st.tuples(
        st.just("park"), client_name, when, park_states, st.sampled_from(REASONS), st.integers(0, 1)
    ),
    st.tuples(st.just("open"), client_name, when),
    st.tuples(
        st.just("move"),
        st.integers(0, 50),
        st.sampled_from(["resolve", "reopen", "resume", "wait", "promise", "assign", "ask"]),
        when,
    ),
    st.tuples(st.just("bulk"), when, st.lists(bulk_spec, min_size=1, max_size=5)),
    st.tuples(
        st.just("raw"),
        st.integers(0, 50),
        st.sampled_from(CaseState.values),
        st.sampled_from(["sapporo", "osaka"]),
    ),
    st.tuples(st.just("clocks"), st.integers(0, 2), st.integers(0, 90_000)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
)


def apply(world: World, op: tuple) -> None:
    name, *args = op
    if name == "open":
        world.open(*args)
    else:
        getattr(world, name)(*args)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=1, max_size=8))
@example(  # clocks starting at, just before and just after a reading; parked on bucket edges
    ops=[
        ("park", "coffee", NOWS[2], CaseState.AZUKARI, "investigation", 0),
        ("park", "coffee", NOWS[2] - dt.timedelta(seconds=1), CaseState.AZUKARI, "sv_callback", 1),
        (
            "park",
            "tea",
            NOWS[2] + dt.timedelta(seconds=1),
            CaseState.WAITING_CUSTOMER,
            "customer_action",
            0,
        ),
        ("move", 2, "ask", NOWS[0] - dt.timedelta(days=3)),
        ("bulk", NOWS[0], [("coffee", "azukari", 0, "", days, 0, 0) for days in (1, 3, 5, 9)]),
        ("bulk", NOWS[1], [("tea", "callback_due", -1, "", days, 0, 0) for days in (1, 3, 5, 9)]),
        ("raw", 3, CaseState.WAITING_CLIENT, "osaka"),
    ]
)
def test_the_tallies_stay_exact_and_the_board_from_them_is_the_board_from_the_cases(cast, ops):
    everyone = Everyone(frozenset({cast.coffee.pk, cast.tea.pk}))
    with transaction.atomic():  # each example starts from the cast alone
        world = World(cast)
        for op in ops:
            apply(world, op)
            assert_tallies_exact()
            assert_boards_agree(everyone, Filters())
        for filters in (
            Filters(client=cast.coffee.pk),
            Filters(site=cast.osaka.pk),
            Filters(state=CaseState.WAITING_CLIENT),
            Filters(client=cast.tea.pk, site=cast.osaka.pk, state=CaseState.AZUKARI),
        ):
            assert_boards_agree(everyone, filters)
        assert_boards_agree(cast.desk, Filters())
        assert_boards_agree(cast.outsider, Filters(site=cast.osaka.pk))
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_migration_fills_the_tallies_from_the_cases_already_there(cast):
    world = World(cast)
    world.park("coffee", at("2026-11-20"), CaseState.AZUKARI, "investigation", 0)
    world.bulk(at("2026-11-24", "15:17"), [("tea", "waiting_client", 0, "", 3, 5, 1)] * 3)
    world.bulk(at("2026-11-24", "15:17"), [("coffee", "callback_due", -1, "", -1, None, 0)])
    BacklogTally.objects.all().delete()
    ClockTally.objects.all().delete()
    forward = {"sqlite": MIGRATION.SQLITE_FORWARD, "postgresql": MIGRATION.POSTGRES_FORWARD}
    with connection.cursor() as cursor:
        for sql in forward[connection.vendor][-2:]:  # the two that fill the tallies
            cursor.execute(sql)
    assert BacklogTally.objects.count() == 3 and ClockTally.objects.count() == 2
    assert_tallies_exact()


def test_the_triggers_know_the_azukari_states():
    assert set(MIGRATION.OPEN_STATES) == set(AZUKARI_STATES)
    assert set(DUE_MIGRATION.OPEN_STATES) == set(AZUKARI_STATES)


@pytest.mark.django_db
def test_the_due_migration_fills_its_tally_from_the_cases_already_there(cast):
    world = World(cast)
    world.park("coffee", at("2026-11-20"), CaseState.AZUKARI, "investigation", 0)
    world.bulk(at("2026-11-24", "15:17"), [("tea", "waiting_client", 0, "", 3, 5, 1)] * 3)
    world.bulk(at("2026-11-24", "15:17"), [("coffee", "callback_due", -1, "", 0, None, 0)])
    DueTally.objects.all().delete()
    forward = {"sqlite": DUE_MIGRATION.SQLITE_FORWARD, "postgresql": DUE_MIGRATION.POSTGRES_FORWARD}
    with connection.cursor() as cursor:
        cursor.execute(forward[connection.vendor][-1])
    assert DueTally.objects.count() == 3
    assert_tallies_exact()


@pytest.mark.django_db
def test_the_triggers_are_in_place(db):
    """A migration that rebuilds cases_case (SQLite does, to alter a column) drops them."""
    names = triggers_on("cases_case")
    assert {
        "cases_case_tally_insert",
        "cases_case_tally_update",
        "cases_case_tally_delete",
        "cases_case_due_insert",
        "cases_case_due_update",
        "cases_case_due_delete",
    } <= names


@pytest.mark.django_db
def test_the_board_from_tallies_asks_as_many_queries_for_many_cases_as_for_few(cast):
    world = World(cast)
    now = NOWS[2]
    everyone = Everyone(frozenset({cast.coffee.pk, cast.tea.pk}))

    def add(n: int) -> None:
        specs = [
            (
                ["coffee", "tea"][i % 2],
                sorted(AZUKARI_STATES)[i % 4],
                i % 3 - 1,
                REASONS[i % 4],
                i % 12,
                (i * 37) % 700 - 100,
                i,
            )
            for i in range(n)
        ]
        world.bulk(now - dt.timedelta(minutes=30), specs)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            board = backlog_board(viewer=everyone, filters=Filters(), now=now)
        assert board.total.count == Case.objects.filter(state__in=AZUKARI_STATES).count()
        assert all(board.total.buckets.values())
        return len(ctx.captured_queries)

    add(40)
    few = count()
    add(80)
    assert count() == few
    assert_boards_agree(everyone, Filters(), nows=[now])


@pytest.mark.django_db
def test_hours_partly_in_business_time_are_priced_in_the_database_as_on_the_cases(cast):
    """Sapporo opens at 09:59 and closes at 17:45: the hours 09:00 and 17:00 are partly
    business time. A clock started at 09:01:30 has 60 business seconds in its hour, counted as
    60 × (3600 − 90) / 3600 = 58.5 and rounded half to even (58), by the database for the
    tallies' hours as by Python for the cases' own (hours with ties rounding both ways)."""
    SiteHours.objects.filter(site=cast.sapporo_desk.site).update(
        opens_at=dt.time(9, 59), closes_at=dt.time(17, 45)
    )
    world = World(cast)
    started = at("2026-11-24", "09:01") + dt.timedelta(seconds=30)
    world.bulk(
        started,
        [
            ("coffee", "azukari", 0, "investigation", 1, minutes, 0)
            for minutes in (0, 0, 1, 59, 8 * 60 + 6, 8 * 60 + 50, 24 * 60 + 6, -3 * 60)
        ],
    )
    everyone = Everyone(frozenset({cast.coffee.pk, cast.tea.pk}))
    for now in (at("2026-11-26", "17:20"), at("2026-11-27", "09:59") + dt.timedelta(seconds=1)):
        assert_boards_agree(everyone, Filters(), nows=[now])
        board = backlog_board(viewer=everyone, filters=Filters(), now=now)
        cases = Case.objects.filter(client=cast.coffee)
        # Each hour's clocks are priced together: within a second per case of each alone.
        each = sum(3600 + _running(case, now) for case in cases)
        assert abs(board.total.center - each) <= len(cases)


def _running(case: Case, now: dt.datetime) -> int:
    """A case's running clock as the board prices it: whole hours exact, its first hour linear."""
    from azukari.cases.clocks import case_calendar
    from azukari.core.businesstime import business_seconds
    from azukari.web.pages.backlog_clocks import hour_seconds

    since = case.clock_since.astimezone(UTC)
    hour = since.replace(minute=0, second=0, microsecond=0)
    calendar = case_calendar(case)
    inside = business_seconds(hour, hour + dt.timedelta(hours=1), calendar)
    offset = since.minute * 60 + since.second
    return business_seconds(hour + dt.timedelta(hours=1), now, calendar) + hour_seconds(
        inside, 1, offset
    )
