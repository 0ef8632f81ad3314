"""Moving azukari between sites: the clocks split at the move, whichever way the case moved.

Sapporo works 9:00–21:00 every day, Osaka 10:00–19:00 on weekdays. A case parked at Sapporo
at 9:00 on a Monday and moved to Osaka at 16:00 has spent 7 hours of the center's time at
Sapporo; at 18:00 two more hours have run on Osaka's hours: 32,400 s, not Osaka's 10:00–18:00
for the whole day (28,800 s).
"""

import datetime as dt

import pytest
import time_machine

from azukari.cases import services
from azukari.cases.models import BacklogTally, Case, CaseEvent, CaseState, ClockTally
from azukari.cases.moves import CaseMove, case_move_bulk
from azukari.cases.tasks import case_clocks_recompute
from azukari.cases.tests.builders import fresh, new_case
from azukari.core.businesstime import TOKYO
from azukari.core.errors import StaleVersion
from azukari.org.failover import MOVE_EVENT, REBALANCE_EVENT, rebalance_apply, site_down, site_up
from azukari.org.models import Role, SiteHours
from azukari.testing.factories import UserFactory

MONDAY_9 = dt.datetime(2026, 4, 27, 9, 0, tzinfo=TOKYO)
SEVEN_HOURS = 7 * 3600


@pytest.fixture
def osaka_weekdays(cast):
    SiteHours.objects.filter(site=cast.osaka).delete()
    for weekday in range(5):
        SiteHours.objects.create(
            site=cast.osaka, weekday=weekday, opens_at=dt.time(10), closes_at=dt.time(19)
        )
    return cast


@pytest.fixture
def manager(cast):
    return UserFactory(username="manager", role=Role.MANAGER, home_site=cast.osaka)


def _parked_at_sapporo(cast) -> Case:
    case = new_case(cast)
    return services.case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason="investigation",
        team=cast.sapporo_desk,
    )


def _center_seconds(case: Case) -> int:
    from django.utils import timezone

    from azukari.cases.clocks import live_clocks

    return live_clocks(fresh(case), now=timezone.now()).center


def test_a_case_moved_by_failover_counts_each_stretch_on_its_own_sites_hours(
    osaka_weekdays, manager
):
    cast = osaka_weekdays
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        case = _parked_at_sapporo(cast)
        clock.shift(dt.timedelta(hours=7))
        site_down(site=cast.sapporo, actor=manager)
        moved = fresh(case)
        assert moved.site_id == cast.osaka.pk
        assert moved.center_seconds == SEVEN_HOURS
        event = CaseEvent.objects.filter(case=case, kind=MOVE_EVENT).get()
        assert event.data["site"] == cast.osaka.pk

        clock.shift(dt.timedelta(hours=2))
        assert _center_seconds(case) == SEVEN_HOURS + 2 * 3600
        # The worker's recompute from the history agrees with the stored clocks.
        case_clocks_recompute(case.pk)
        assert fresh(case).center_seconds == SEVEN_HOURS
        assert _center_seconds(case) == SEVEN_HOURS + 2 * 3600


def test_a_case_moved_back_by_rebalance_counts_its_osaka_stretch_on_osakas_hours(
    osaka_weekdays, manager
):
    cast = osaka_weekdays
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        case = _parked_at_sapporo(cast)
        clock.shift(dt.timedelta(hours=7))
        site_down(site=cast.sapporo, actor=manager)
        clock.shift(dt.timedelta(hours=2))  # 18:00: two hours at Osaka
        proposal = site_up(site=cast.sapporo, actor=manager)
        assert rebalance_apply(proposal=proposal, actor=manager) == 1
        back = fresh(case)
        assert (back.site_id, back.owner_team_id) == (cast.sapporo.pk, cast.sapporo_desk.pk)
        assert back.center_seconds == SEVEN_HOURS + 2 * 3600
        event = CaseEvent.objects.filter(case=case, kind=REBALANCE_EVENT).get()
        assert event.data["site"] == cast.sapporo.pk
        clock.shift(dt.timedelta(hours=1))  # 19:00 at Sapporo, open until 21:00
        assert _center_seconds(case) == SEVEN_HOURS + 3 * 3600
        case_clocks_recompute(case.pk)
        assert _center_seconds(case) == SEVEN_HOURS + 3 * 3600


def _board_rows() -> tuple:
    tallies = sorted(
        BacklogTally.objects.filter(n__gt=0).values_list(
            "client_id", "site_id", "team_id", "state", "n", "center_seconds"
        )
    )
    clocks = sorted(ClockTally.objects.filter(n__gt=0).values_list("site_id", "state", "n"))
    return tallies, clocks


def test_a_bulk_move_refuses_every_case_when_one_was_changed_meanwhile(osaka_weekdays):
    cast = osaka_weekdays
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        first, second = _parked_at_sapporo(cast), _parked_at_sapporo(cast)
        clock.shift(dt.timedelta(hours=3))
        before = [(c.version, c.site_id, c.center_seconds) for c in (fresh(first), fresh(second))]
        board = _board_rows()
        events = CaseEvent.objects.count()
        with pytest.raises(StaleVersion):
            case_move_bulk(
                moves=[
                    CaseMove(case_id=first.pk, version=first.version, team_id=cast.osaka_desk.pk),
                    CaseMove(
                        case_id=second.pk, version=second.version - 1, team_id=cast.osaka_desk.pk
                    ),
                ],
                actor=cast.desk,
                kind="assigned",
            )
        after = [(c.version, c.site_id, c.center_seconds) for c in (fresh(first), fresh(second))]
        assert after == before
        assert _board_rows() == board
        assert CaseEvent.objects.count() == events


def test_the_board_tallies_follow_a_bulk_move_in_the_same_transaction(osaka_weekdays):
    cast = osaka_weekdays
    with time_machine.travel(MONDAY_9, tick=False) as clock:
        cases = [_parked_at_sapporo(cast) for _ in range(3)]
        clock.shift(dt.timedelta(hours=3))
        case_move_bulk(
            moves=[
                CaseMove(case_id=c.pk, version=c.version, team_id=cast.osaka_desk.pk) for c in cases
            ],
            actor=cast.desk,
            kind="assigned",
        )
        tallies, clocks = _board_rows()
        assert tallies == [
            (cast.coffee.pk, cast.osaka.pk, cast.osaka_desk.pk, CaseState.AZUKARI, 3, 3 * 3 * 3600)
        ]
        assert clocks == [(cast.osaka.pk, CaseState.AZUKARI, 3)]
