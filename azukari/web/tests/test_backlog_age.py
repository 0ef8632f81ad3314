"""The backlog board's ages: one definition for every table, on one calendar builder."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from azukari.cases.clocks import case_calendar
from azukari.cases.models import AzukariReason, Case
from azukari.cases.scheduling import call_calendar_for
from azukari.core.businesstime import business_seconds
from azukari.floor.tests.factories import at, parked_case
from azukari.org.calendars import DEFAULT_SITE_HOURS, business_calendar
from azukari.org.models import SiteHours
from azukari.testing.factories import SiteFactory, TeamFactory
from azukari.web.pages.backlog import Filters, backlog_board

START = at("2026-11-16", "10:00")  # a Monday
NOW = at("2026-11-25", "15:30")  # the Wednesday after next; the 23rd is a public holiday


@pytest.fixture
def desk(cast, client):
    client.force_login(cast.desk)
    return client


def _park(cast, team, when, reason=AzukariReason.INVESTIGATION) -> Case:
    return parked_case(
        client=cast.coffee, operator=cast.operator, team=team, when=when, reason=reason
    )


def _age(case: Case, now: dt.datetime) -> int:
    """A case's age as its own clocks say: stored time plus the running clock."""
    case.refresh_from_db()
    stored = case.center_seconds + case.client_seconds + case.customer_seconds
    running = business_seconds(case.clock_since, now, case_calendar(case))
    return stored + running


# ---------------------------------------------------------------- a site without hours


def test_a_site_without_hours_works_the_default_hours_everywhere(cast):
    bare = SiteFactory(code="kushiro", name="釧路センター")
    SiteHours.objects.filter(site=bare).delete()
    calendar = business_calendar(client=cast.coffee, site=bare)
    assert calendar.hours == DEFAULT_SITE_HOURS
    assert business_calendar(client=cast.coffee, site=None).hours == DEFAULT_SITE_HOURS
    assert call_calendar_for(client=cast.coffee, site=bare).site_hours == DEFAULT_SITE_HOURS


def test_the_board_answers_for_a_case_at_a_site_without_hours(cast, desk):
    bare = SiteFactory(code="kushiro", name="釧路センター")
    team = TeamFactory(site=bare, code="kushiro-desk", clients=[cast.coffee])
    case = _park(cast, team, START)
    SiteHours.objects.filter(site=bare).delete()
    with time_machine.travel(NOW, tick=False):
        for params in ({}, {"team": team.pk}):
            response = desk.get(reverse("backlog"), params)
            assert response.status_code == 200
            board = response.context["board"]
            assert board.total.count == 1
            assert board.total.total_seconds == _age(case, NOW)
        listing = desk.get(reverse("backlog-list", args=["azukari"]))
        assert listing.status_code == 200


# ---------------------------------------------------------------- one age, every table


def _cases(cast):
    """Cases of two teams, two reasons and three ages, at two sites: the running clocks
    differ from case to case, so any table that dropped or guessed them would disagree."""
    made = [
        _park(cast, cast.sapporo_desk, START, AzukariReason.INVESTIGATION),
        _park(cast, cast.sapporo_desk, START + dt.timedelta(days=3), AzukariReason.SV_CALLBACK),
        _park(cast, cast.osaka_desk, START + dt.timedelta(days=1), AzukariReason.INVESTIGATION),
        _park(cast, cast.osaka_desk, NOW - dt.timedelta(hours=2), AzukariReason.SV_CALLBACK),
        _park(cast, cast.osaka_desk, NOW - dt.timedelta(days=1), AzukariReason.INVESTIGATION),
    ]
    return made


@pytest.mark.parametrize("from_tallies", [True, False])
def test_every_table_gives_the_same_average_age_of_the_same_cases(cast, from_tallies):
    made = _cases(cast)
    board = backlog_board(viewer=cast.desk, filters=Filters(), now=NOW, from_tallies=from_tallies)
    ages = {c.pk: _age(c, NOW) for c in made}
    total = sum(ages.values())
    assert board.total.count == len(made)
    assert board.total.total_seconds == total
    for dimension, breakdown in board.by.items():
        rows = breakdown.rows.values()
        assert sum(r.count for r in rows) == len(made), dimension
        assert sum(r.total_seconds for r in rows) == total, dimension
    # Each team works at one site here: a team's row is its site's row, to the second.
    teams = {r.key: r for r in board.by["team"].rows.values()}
    assert {
        cast.sapporo_desk.pk: teams[cast.sapporo_desk.pk].total_seconds,
        cast.osaka_desk.pk: teams[cast.osaka_desk.pk].total_seconds,
    } == {
        cast.sapporo_desk.pk: board.by["site"].rows[cast.sapporo.pk].total_seconds,
        cast.osaka_desk.pk: board.by["site"].rows[cast.osaka.pk].total_seconds,
    }
    sapporo = [c for c in made if c.owner_team_id == cast.sapporo_desk.pk]
    assert teams[cast.sapporo_desk.pk].total_seconds == sum(ages[c.pk] for c in sapporo)
    assert str(cast.osaka.name) in teams[cast.osaka_desk.pk].label


def test_the_same_cases_have_the_same_average_in_every_table(cast):
    """One site, one team, one reason, one state: every table has one row, the same."""
    for days in (0, 2, 5):
        _park(cast, cast.osaka_desk, START + dt.timedelta(days=days))
    board = backlog_board(viewer=cast.desk, filters=Filters(), now=NOW)
    averages = {d: [r.average_seconds for r in b.rows.values()] for d, b in board.by.items()}
    assert averages == {d: [board.total.average_seconds] for d in board.by}
    assert board.total.average_seconds > 0


# ---------------------------------------------------------------- how people read it


def test_durations_read_in_business_days_and_hours():
    from django.utils import translation

    from azukari.web.templatetags.azukari import business_duration

    seconds = 3 * 9 * 3600 + 4 * 3600 + 59 * 60
    with translation.override("en"):
        assert business_duration(seconds) == "3 business days 4 h"
        assert business_duration(9 * 3600) == "1 business day 0 h"
        assert business_duration(4 * 3600 + 5 * 60) == "4 h 05 min"
    with translation.override("ja"):
        assert business_duration(seconds) == "3営業日 4時間"


def test_the_board_shows_ages_in_business_days_and_teams_with_their_site(cast, desk):
    _park(cast, cast.osaka_desk, START)
    with time_machine.travel(NOW, tick=False):
        html = desk.get(reverse("backlog")).content.decode()
    assert "営業日" in html and "76890時間" not in html
    assert f"{cast.osaka.name} / {cast.osaka_desk.name}" in html


def test_the_drill_down_list_says_who_holds_each_case(cast, desk):
    from azukari.cases import services as cases
    from azukari.org.people import staff_label

    held = _park(cast, cast.osaka_desk, START)
    _park(cast, cast.osaka_desk, START + dt.timedelta(hours=1))
    with time_machine.travel(START + dt.timedelta(hours=2), tick=False):
        cases.case_assign(
            case=held,
            version=held.version,
            actor=cast.desk,
            team=cast.osaka_desk,
            assignee=cast.sv,
        )
    with time_machine.travel(NOW, tick=False):
        response = desk.get(reverse("backlog-list", args=["azukari"]))
    column = response.context["header"].index("担当者")
    held_by = {row[0]: row[column] for row in response.context["rows"]}
    # Named as the desk may see staff of another site: by site and role.
    shown = staff_label(cast.desk, cast.sv)
    assert shown and held_by[held.pk] == shown
    assert set(held_by.values()) == {shown, "未割当"}
