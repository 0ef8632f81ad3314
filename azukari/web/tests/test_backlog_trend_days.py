"""The backlog trend's day-by-day changes, kept by triggers on case events, stay exact."""

import importlib
from collections import Counter

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from azukari.cases import services as cases
from azukari.cases.models import AZUKARI_STATES, BacklogTrendDay, CaseEvent, CaseState
from azukari.floor.tests.factories import at, parked_case
from azukari.web.pages.backlog import backlog_trend

MIGRATION = importlib.import_module("azukari.cases.migrations.0007_backlog_trend_days")
NOW = at("2026-11-25", "12:00")


def recount() -> dict[tuple[int, str], int]:
    """The days as the case history says, event by event."""
    days: Counter = Counter()
    for event in CaseEvent.objects.exclude(to_state=""):
        entered, was_in = event.to_state in AZUKARI_STATES, event.from_state in AZUKARI_STATES
        if entered != was_in:
            day = timezone.localtime(event.at).date().isoformat()
            days[(event.client_id, day)] += 1 if entered else -1
    return {key: n for key, n in days.items() if n}


def kept() -> dict[tuple[int, str], int]:
    return {(d.client_id, d.day): d.delta for d in BacklogTrendDay.objects.all() if d.delta}


@pytest.fixture
def history(cast):
    """Parked, asked, answered, resolved, across days and around midnight in Japan."""
    park = dict(operator=cast.operator, team=cast.sapporo_desk)
    first = parked_case(client=cast.coffee, when=at("2026-11-21", "23:59"), **park)
    second = parked_case(client=cast.coffee, when=at("2026-11-22", "00:01"), **park)
    parked_case(client=cast.tea, operator=cast.outsider, team=cast.tea_desk,
                when=at("2026-11-23"))  # fmt: skip
    with time_machine.travel(at("2026-11-24"), tick=False):
        cases.case_resolve(
            case=first, version=first.version, actor=cast.desk, outcome="Cancelled as asked"
        )
        cases.case_wait_on_customer(  # from one azukari state to another: no change
            case=second, version=second.version, actor=cast.desk, note="Called, no answer"
        )
    return first, second


def test_the_kept_days_are_the_history_counted_event_by_event(cast, history):
    assert kept() == recount()
    assert kept()[(cast.coffee.pk, "2026-11-21")] == 1  # 23:59 in Japan is still that day
    assert kept()[(cast.coffee.pk, "2026-11-24")] == -1


def test_deleting_or_moving_an_event_keeps_the_days_exact(cast, history):
    first, second = history
    entered = first.events.filter(to_state=CaseState.AZUKARI).first()
    CaseEvent.objects.filter(pk=entered.pk).update(at=at("2026-11-19"))
    assert kept() == recount()
    second.events.all().delete()
    assert kept() == recount()
    assert (cast.coffee.pk, "2026-11-22") not in kept()


def test_emptying_the_days_before_the_events_leaves_nothing_behind(history):
    BacklogTrendDay.objects.all().delete()  # as a flush may, in either order
    CaseEvent.objects.all().delete()
    assert not BacklogTrendDay.objects.exists()


def test_the_migration_fills_the_days_from_the_history_already_there(history):
    BacklogTrendDay.objects.all().delete()
    forward = {"sqlite": MIGRATION.SQLITE_FORWARD, "postgresql": MIGRATION.POSTGRES_FORWARD}
    with connection.cursor() as cursor:
        cursor.execute(forward[connection.vendor][-1])
    assert kept() == recount() and kept()


def test_the_trend_reads_the_days_for_the_viewer_s_clients_only(cast, history):
    with time_machine.travel(NOW, tick=False):
        trend = {p["date"]: p["open"] for p in backlog_trend(viewer=cast.desk, days=5)}
        tea = backlog_trend(viewer=cast.outsider, days=5)
    assert trend == {
        "2026-11-21": 1,
        "2026-11-22": 2,
        "2026-11-23": 2,  # the tea client's case is not the desk's
        "2026-11-24": 1,
        "2026-11-25": 1,
    }
    assert [p["open"] for p in tea] == [0, 0, 1, 1, 1]


def test_the_trend_asks_one_query_however_long_the_history(cast, history):
    cast.desk.visible_client_ids()
    with CaptureQueriesContext(connection) as queries:
        backlog_trend(viewer=cast.desk, days=30)
    assert len(queries) == 1


def test_the_triggers_know_the_azukari_states():
    assert set(MIGRATION.OPEN_STATES) == set(AZUKARI_STATES)
