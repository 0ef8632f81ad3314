"""Sapporo goes dark: its azukari and callbacks land at sites that still operate."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import translation

from azukari.cases.models import AZUKARI_STATES, Callback, CallbackStatus, Case, CaseEvent
from azukari.core.errors import IllegalTransition, PermissionRefused
from azukari.org.failover import MOVE_EVENT, rebalance_apply, site_down, site_up
from azukari.org.models import (
    AssignmentMove,
    MoveKind,
    RebalanceStatus,
    Role,
    SiteStatus,
    Team,
    User,
)
from azukari.org.tests.builders import open_azukari
from azukari.testing.factories import SiteFactory, TeamFactory, UserFactory


@pytest.fixture
def floor(cast):
    """Three coffee sites (Sapporo, Osaka, Fukuoka) and tea served at Sapporo and Osaka."""
    fukuoka = SiteFactory(code="fukuoka", name="福岡センター")
    fukuoka_desk = TeamFactory(site=fukuoka, code="fukuoka-desk", clients=[cast.coffee])
    sapporo_tea = TeamFactory(site=cast.sapporo, code="sapporo-tea-desk", clients=[cast.tea])
    people = {
        "sapporo_sv": UserFactory(
            username="sv_sapporo", role=Role.SV, home_site=cast.sapporo, clients=[cast.coffee]
        ),
        "osaka_desk": UserFactory(
            username="desk_osaka", role=Role.DESK, home_site=cast.osaka, clients=[cast.coffee]
        ),
        "fukuoka_sv": UserFactory(
            username="sv_fukuoka", role=Role.SV, home_site=fukuoka, clients=[cast.coffee]
        ),
        "fukuoka_desk": UserFactory(
            username="desk_fukuoka", role=Role.DESK, home_site=fukuoka, clients=[cast.coffee]
        ),
        "osaka_tea_sv": UserFactory(
            username="sv_osaka_tea", role=Role.SV, home_site=cast.osaka, clients=[cast.tea]
        ),
        "manager": UserFactory(username="manager", role=Role.MANAGER, home_site=cast.osaka),
    }
    return cast, fukuoka, fukuoka_desk, sapporo_tea, people


def _at_sapporo(cast):
    return Case.objects.filter(
        Q(site=cast.sapporo)
        | Q(owner_team__site=cast.sapporo)
        | Q(assignee__home_site=cast.sapporo),
        state__in=AZUKARI_STATES,
    )


def test_site_down_moves_5000_azukari_to_operating_sites_balanced_and_once(floor):
    cast, _fukuoka, _fukuoka_desk, sapporo_tea, p = floor
    coffee_ids = open_azukari(
        client=cast.coffee,
        team=cast.sapporo_desk,
        count=4500,
        opened_by=cast.operator,
        assignees=[cast.desk, p["sapporo_sv"], None],
        callbacks_every=5,
    )
    tea_ids = open_azukari(
        client=cast.tea, team=sapporo_tea, count=500, opened_by=cast.outsider, assignees=[None]
    )
    settled = Case.objects.filter(pk=coffee_ids[0])
    settled.update(state="resolved")
    Callback.objects.filter(case__in=settled).update(status=CallbackStatus.CANCELLED)
    open_before = Case.objects.filter(state__in=AZUKARI_STATES).count()
    versions = dict(Case.objects.values_list("id", "version"))

    report = site_down(site=cast.sapporo, actor=p["manager"], batch_size=700)

    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.DOWN
    assert report.cases_moved == 4999
    assert (
        report.callbacks_moved == Callback.objects.filter(status=CallbackStatus.SCHEDULED).count()
    )
    assert not _at_sapporo(cast).exists()
    assert Case.objects.filter(state__in=AZUKARI_STATES).count() == open_before
    # The resolved case stays where it was, untouched.
    assert Case.objects.get(pk=coffee_ids[0]).owner_team == cast.sapporo_desk

    moved = Case.objects.filter(pk__in=coffee_ids[1:] + tea_ids)
    teams = {t.pk: t for t in Team.objects.select_related("site").prefetch_related("clients")}
    people = {u.pk: u for u in User.objects.all()}
    team_load = Counter()
    person_load = Counter()
    for case in moved:
        team = teams[case.owner_team_id]
        assert team.site.status == SiteStatus.OPERATING
        assert case.client_id in {c.pk for c in team.clients.all()}
        assert case.site_id == team.site_id
        assert case.version == versions[case.pk] + 1
        if case.assignee_id:
            assignee = people[case.assignee_id]
            assert assignee.home_site_id == team.site_id
            assert case.client_id in assignee.visible_client_ids()
            person_load[assignee.username] += 1
        team_load[team.code] += 1
    # Tea only has Osaka's tea desk; coffee splits between Osaka and Fukuoka within one case.
    assert team_load["osaka-tea-desk"] == 500
    coffee_loads = [team_load["osaka-desk"], team_load["fukuoka-desk"]]
    assert sum(coffee_loads) == 4499 and max(coffee_loads) - min(coffee_loads) <= 1
    fukuoka_people = [person_load["sv_fukuoka"], person_load["desk_fukuoka"]]
    assert max(fukuoka_people) - min(fukuoka_people) <= 1
    assert person_load["desk_osaka"] > 0 and "sv_osaka_tea" not in person_load

    # Every move recorded once, with one event per case; callbacks went with their cases.
    case_moves = AssignmentMove.objects.filter(kind=MoveKind.CASE)
    assert case_moves.count() == 4999
    assert case_moves.values("case").distinct().count() == 4999
    events = Counter(CaseEvent.objects.filter(kind=MOVE_EVENT).values_list("case_id", flat=True))
    assert len(events) == 4999 and set(events.values()) == {1}
    for callback in Callback.objects.exclude(case__in=settled).select_related("case"):
        assert (callback.team_id, callback.assignee_id) == (
            callback.case.owner_team_id,
            callback.case.assignee_id,
        )

    again = site_down(site=cast.sapporo, actor=p["manager"])
    assert again.already_down and again.noop
    assert AssignmentMove.objects.count() == 4999 + report.callbacks_moved
    assert CaseEvent.objects.filter(kind=MOVE_EVENT).count() == 4999


def test_drill_shows_the_moves_and_changes_nothing(floor):
    cast, *_rest, p = floor
    ids = open_azukari(client=cast.coffee, team=cast.sapporo_desk, count=40, opened_by=cast.desk)
    before = list(Case.objects.filter(pk__in=ids).values_list("owner_team", "version"))

    report = site_down(site=cast.sapporo, actor=p["manager"], drill=True)

    assert report.cases_moved == 40
    assert sum(report.to_teams.values()) == 40
    assert set(report.to_teams) == {"osaka-desk", "fukuoka-desk"}
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.OPERATING
    assert list(Case.objects.filter(pk__in=ids).values_list("owner_team", "version")) == before
    assert not AssignmentMove.objects.exists()


def test_work_with_no_operating_site_for_its_client_stays_and_is_reported(floor):
    cast, _fukuoka, _fukuoka_desk, sapporo_tea, p = floor
    Team.objects.filter(code="osaka-tea-desk").update(site=cast.sapporo)
    ids = open_azukari(client=cast.tea, team=sapporo_tea, count=3, opened_by=cast.outsider)

    report = site_down(site=cast.sapporo, actor=p["manager"])

    assert report.stranded == {"tea": 3}
    assert set(Case.objects.filter(pk__in=ids).values_list("owner_team", flat=True)) == {
        sapporo_tea.pk
    }


def test_back_to_operating_proposes_a_rebalance_and_moves_nothing(floor):
    cast, *_rest, p = floor
    ids = open_azukari(
        client=cast.coffee,
        team=cast.sapporo_desk,
        count=6,
        opened_by=cast.desk,
        assignees=[cast.desk],
    )
    site_down(site=cast.sapporo, actor=p["manager"])
    after_down = list(Case.objects.filter(pk__in=ids).values_list("owner_team", "assignee"))
    # Someone works one case meanwhile: it is no longer the failover's to give back.
    touched = Case.objects.get(pk=ids[0])
    Case.objects.filter(pk=touched.pk).update(owner_team=cast.osaka_desk, assignee=None)

    proposal = site_up(site=cast.sapporo, actor=p["manager"])

    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.OPERATING
    assert (
        list(Case.objects.filter(pk__in=ids[1:]).values_list("owner_team", "assignee"))
        == (after_down[1:])
    )
    assert proposal.status == RebalanceStatus.PROPOSED
    assert {item["case"] for item in proposal.items} == set(ids[1:])

    assert rebalance_apply(proposal=proposal, actor=p["manager"]) == 5
    assert set(Case.objects.filter(pk__in=ids[1:]).values_list("owner_team", "assignee")) == {
        (cast.sapporo_desk.pk, cast.desk.pk)
    }
    with pytest.raises(IllegalTransition):
        site_up(site=cast.sapporo, actor=p["manager"])


def test_only_managers_mark_sites_down(floor):
    cast, *_rest, _p = floor
    with pytest.raises(PermissionRefused):
        site_down(site=cast.sapporo, actor=cast.operator)
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.OPERATING


@translation.override("en")
def test_site_command_drill_then_down_then_up(floor, capsys):
    cast, *_rest, _p = floor
    open_azukari(client=cast.coffee, team=cast.sapporo_desk, count=5, opened_by=cast.desk)

    call_command("site", "down", "sapporo", "--drill")
    assert "Would move 5 azukari" in capsys.readouterr().out
    assert Case.objects.filter(owner_team=cast.sapporo_desk).count() == 5

    call_command("site", "down", "札幌センター")
    assert Case.objects.filter(owner_team=cast.sapporo_desk).count() == 0
    call_command("site", "down", "sapporo")
    assert "already down" in capsys.readouterr().out
    call_command("site", "up", "sapporo")
    cast.sapporo.refresh_from_db()
    assert cast.sapporo.status == SiteStatus.OPERATING
