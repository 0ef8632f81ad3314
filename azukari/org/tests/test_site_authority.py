"""Taking a site down concerns every client it serves: only a center-level credential may.

Fukuoka serves only tea. A center integration serving coffee alone must neither take it down
nor read tea's work there in a drill; one serving both may. Marking a site down queues its
moves in the same transaction as the status change, so a process killed right after the commit
leaves the moves queued.
"""

import pytest
from django.test import Client as HttpClient
from django_q.models import OrmQ

from azukari.api.models import Scope
from azukari.api.services import api_token_create
from azukari.cases.models import Case
from azukari.core.errors import PermissionRefused
from azukari.org.failover import site_down, site_mark_down
from azukari.org.models import Role, SiteStatus
from azukari.org.tasks import site_failover_continue
from azukari.org.tests.builders import open_azukari
from azukari.org.tests.test_api_sites import pytestmark as api_urls_mark
from azukari.testing.factories import SiteFactory, TeamFactory, UserFactory

pytestmark = api_urls_mark
FAILOVER_TASK = "azukari.org.tasks.site_failover_continue"


@pytest.fixture
def fukuoka(cast):
    site = SiteFactory(code="fukuoka", name="福岡センター")
    team = TeamFactory(site=site, code="fukuoka-tea-desk", clients=[cast.tea])
    open_azukari(client=cast.tea, team=team, count=4, opened_by=cast.outsider)
    return site


def _center_token(*clients, scopes=(Scope.SITES_FAILOVER,)):
    _token, raw = api_token_create(name="pbx", scopes=scopes, center_clients=clients)
    return {"Authorization": f"Bearer {raw}"}


def test_a_coffee_only_token_neither_takes_teas_site_down_nor_reads_its_work(cast, fukuoka):
    coffee_only = _center_token(cast.coffee)
    http = HttpClient()
    drill = http.post("/api/v1/sites/fukuoka/down?drill=true", headers=coffee_only)
    assert drill.status_code == 403
    assert "tea" not in drill.content.decode() and "fukuoka-tea-desk" not in drill.content.decode()
    real = http.post("/api/v1/sites/fukuoka/down", headers=coffee_only)
    assert real.status_code == 403
    assert (real.json()["code"], list(real.json()["field_errors"])) == ("forbidden", ["site"])
    fukuoka.refresh_from_db()
    assert fukuoka.status == SiteStatus.OPERATING


def test_a_token_serving_every_client_of_the_site_drills_and_takes_it_down(cast, fukuoka):
    both = _center_token(cast.coffee, cast.tea)
    http = HttpClient()
    drill = http.post("/api/v1/sites/fukuoka/down?drill=true", headers=both)
    assert drill.status_code == 200
    assert drill.json()["cases_to_move"] == 4
    real = http.post("/api/v1/sites/fukuoka/down", headers=both)
    assert real.status_code == 202
    fukuoka.refresh_from_db()
    assert fukuoka.status == SiteStatus.DOWN


def test_a_token_without_the_failover_scope_is_refused(cast, fukuoka):
    reader = _center_token(cast.coffee, cast.tea, scopes=(Scope.ROUTING_READ,))
    response = HttpClient().post("/api/v1/sites/fukuoka/down?drill=true", headers=reader)
    assert response.status_code == 403


def test_people_below_manager_cannot_take_a_site_down(cast, fukuoka):
    with pytest.raises(PermissionRefused):
        site_down(site=fukuoka, actor=cast.sv, drill=True)
    with pytest.raises(PermissionRefused):
        site_mark_down(site=fukuoka, actor=cast.desk)
    fukuoka.refresh_from_db()
    assert fukuoka.status == SiteStatus.OPERATING


def test_marking_down_queues_the_moves_with_the_status_change(cast, monkeypatch):
    """The test's transaction never commits, and on-commit callbacks never run (as when the
    process dies right after the commit): the task must be queued with the status."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    ids = open_azukari(client=cast.coffee, team=cast.sapporo_desk, count=3, opened_by=cast.desk)
    manager = UserFactory(username="manager", role=Role.MANAGER, home_site=cast.osaka)
    site_mark_down(site=cast.sapporo, actor=manager)
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.DOWN
    queued = [q.task for q in OrmQ.objects.all() if q.task["func"] == FAILOVER_TASK]
    assert [task["args"] for task in queued] == [(cast.sapporo.pk, manager.pk)]
    # The worker picks it up and the cases leave the dark site.
    site_failover_continue(*queued[0]["args"])
    assert set(Case.objects.filter(pk__in=ids).values_list("site_id", flat=True)) == {cast.osaka.pk}
