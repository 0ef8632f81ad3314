"""A park or a move racing a site going down never lands at the dark site (PostgreSQL).

The park checks that the team's site operates, then writes; `site down` locks the site, marks
it down and reads the work there. Were the check a plain read, a park that checked before the
failover and committed after it would leave its case at the dark site with nothing to move it.
Each side runs on its own connection; the park holds its transaction open while the failover
runs, as a slow request would.
"""

import threading

import pytest
from django.db import connection, transaction

from azukari.cases import services
from azukari.cases.models import Case, CaseState
from azukari.cases.tests.builders import fresh, move, new_case
from azukari.core.errors import DomainError
from azukari.org.failover import site_down
from azukari.org.models import Role, SiteStatus
from azukari.testing.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks of PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _slow_write_during_failover(write, site) -> tuple[object, object]:
    """`write` runs in a transaction that stays open until the failover finished or waited
    two seconds for it; the failover starts once `write` has done its checks and writes."""
    written = threading.Event()
    failover_done = threading.Event()
    outcome: dict[str, object] = {}
    manager = UserFactory(username="manager", role=Role.MANAGER, home_site=site)

    def slow_request():
        try:
            with transaction.atomic():
                outcome["write"] = write()
                written.set()
                failover_done.wait(timeout=2)
        except Exception as exc:  # the test reads what happened
            outcome["write"] = exc
            written.set()
        finally:
            connection.close()

    def failover():
        try:
            written.wait(timeout=30)
            outcome["failover"] = site_down(site=site, actor=manager)
        except Exception as exc:
            outcome["failover"] = exc
        finally:
            failover_done.set()
            connection.close()

    threads = [threading.Thread(target=slow_request), threading.Thread(target=failover)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a connection is still waiting for a lock"
    return outcome["write"], outcome["failover"]


def test_a_park_that_checked_before_the_site_went_down_is_moved_by_the_failover(cast):
    case = new_case(cast)

    def park():
        return services.case_park(
            case=fresh(case),
            version=case.version,
            actor=cast.operator,
            reason="investigation",
            team=cast.sapporo_desk,
        )

    parked, report = _slow_write_during_failover(park, cast.sapporo)
    assert not isinstance(parked, Exception), parked
    assert report.cases_moved == 1
    after = Case.objects.get(pk=case.pk)
    assert after.state == CaseState.AZUKARI
    assert (after.site_id, after.owner_team_id) == (cast.osaka.pk, cast.osaka_desk.pk)


def test_a_move_to_a_site_going_down_is_moved_on_by_the_failover(cast):
    case = move(cast, new_case(cast), "azukari", team=cast.osaka_desk)

    def assign():
        return services.case_assign(
            case=fresh(case), version=case.version, actor=cast.desk, team=cast.sapporo_desk
        )

    moved, report = _slow_write_during_failover(assign, cast.sapporo)
    assert not isinstance(moved, Exception), moved
    assert report.cases_moved == 1
    assert Case.objects.get(pk=case.pk).site_id == cast.osaka.pk


def test_a_park_after_the_site_went_down_is_refused(cast):
    manager = UserFactory(username="manager", role=Role.MANAGER, home_site=cast.osaka)
    case = new_case(cast)
    stale_team = cast.sapporo_desk  # read while the site still operated
    stale_team.site  # noqa: B018 - the site is loaded, as a page would have it
    site_down(site=cast.sapporo, actor=manager)
    with pytest.raises(DomainError) as refused:
        services.case_park(
            case=fresh(case),
            version=case.version,
            actor=cast.operator,
            reason="investigation",
            team=stale_team,
        )
    assert refused.value.field == "team"
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.DOWN
    assert fresh(case).state == CaseState.OPEN
