"""The backlog's tallies and trend against a fresh count: `azukari backlog check` finds drift
(as after a SQLite table rebuild that dropped the triggers) and `rebuild` repairs it."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from azukari.cases import services
from azukari.cases.backlog_data import backlog_check, backlog_counted, backlog_stored
from azukari.cases.models import BacklogTally, BacklogTrendDay, Case, ClockTally, DueTally
from azukari.cases.tests.builders import move, new_case
from azukari.core.businesstime import TOKYO


@pytest.fixture
def backlog(cast):
    with time_machine.travel(dt.datetime(2026, 4, 27, 9, 30, tzinfo=TOKYO), tick=False) as clock:
        cases = [move(cast, new_case(cast), "azukari") for _ in range(3)]
        clock.shift(dt.timedelta(hours=5))
        move(cast, cases[0], "waiting_customer")
        services.case_assign(
            case=cases[1], version=cases[1].version, actor=cast.desk, team=cast.osaka_desk
        )
        clock.shift(dt.timedelta(days=1))
        fresh = type(cases[2]).objects.get(pk=cases[2].pk)
        services.case_resolve(case=fresh, version=fresh.version, actor=cast.sv, outcome="Kept")
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(
            due_at=dt.datetime(2026, 4, 30, 18, 0, tzinfo=TOKYO)
        )
    return cases


def test_the_triggers_agree_with_a_fresh_count(backlog):
    assert backlog_check() == []
    counted = backlog_counted()
    assert sum(n for n, *_ in counted.tallies.values()) == 2
    assert sum(counted.trend.values()) == 2
    assert sum(counted.due.values()) == 2  # the resolved case is not due


def test_check_finds_drift_and_rebuild_repairs_it(backlog, capsys):
    stored = backlog_stored()
    BacklogTally.objects.all().delete()
    ClockTally.objects.update(n=7)
    BacklogTrendDay.objects.all().delete()
    DueTally.objects.update(n=5)
    with pytest.raises(CommandError, match="rebuild"):
        call_command("backlog", "check")
    assert "tallies" in capsys.readouterr().out
    call_command("backlog", "rebuild")
    assert backlog_check() == []
    assert backlog_stored() == stored
    call_command("backlog", "check")
