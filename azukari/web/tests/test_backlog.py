"""The backlog board (預かり管理) as the azukari desk uses it."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from azukari.cases import services as cases
from azukari.cases.models import CaseState
from azukari.floor.tests.factories import asked_case, at, parked_case
from azukari.org.models import ClientClosedDay, Role
from azukari.testing.factories import UserFactory
from azukari.web.pages.backlog import backlog_trend
from azukari.web.tests.test_callbacks import promised_callback

NOW = at("2026-11-25")  # a Wednesday; Monday the 23rd is a public holiday


@pytest.fixture
def desk(cast, client):
    client.force_login(cast.desk)
    return client


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def _park(cast, when, **kwargs):
    return parked_case(
        client=cast.coffee, operator=cast.operator, team=cast.sapporo_desk, when=when, **kwargs
    )


def _asked_the_client(cast, case, when):
    with time_machine.travel(when, tick=False):
        cases.inquiry_send(
            case=case,
            version=case.version,
            actor=cast.desk,
            question="Waive the fee?",
            options=[{"code": "yes", "label": "Yes"}],
        )


def _board(browser, **params):
    response = browser.get(reverse("backlog"), params)
    assert response.status_code == 200
    return response


def test_open_azukari_fall_into_business_day_age_buckets(cast, desk, now):
    _park(cast, at("2026-11-25", "09:00"))  # today
    _park(cast, at("2026-11-20"))  # Friday: two business days back (Monday was a holiday)
    _park(cast, at("2026-11-10"))  # long ago
    board = _board(desk).context["board"]
    assert board.total.count == 3
    assert board.total.buckets == {"lt1": 1, "1to3": 1, "3to7": 0, "gt7": 1}
    site = board.by["site"].rows[cast.sapporo.pk]
    assert site.count == 3 and site.label == cast.sapporo.name


def test_the_board_breaks_down_by_state_reason_site_client_and_owner(cast, desk, now):
    _park(cast, at("2026-11-24"))
    board = _board(desk).context["board"]
    assert set(board.by) == {"state", "reason", "site", "client", "team"}
    assert board.by["client"].rows[cast.coffee.pk].count == 1
    assert board.by["team"].rows[cast.sapporo_desk.pk].count == 1
    assert board.by["reason"].rows["investigation"].count == 1
    for breakdown in board.by.values():
        for row in breakdown.rows.values():
            assert f"{breakdown.param}=" in row.query and row.links


def test_the_age_splits_into_the_center_s_and_the_client_s_time(cast, desk, now):
    # Parked Tuesday 10:00 (center's turn), asked the client at 12:00: the client has had it
    # since (Tuesday 12:00–21:00 and Wednesday 09:00–10:00 on the site's hours).
    _asked_the_client(cast, _park(cast, at("2026-11-24", "10:00")), at("2026-11-24", "12:00"))
    board = _board(desk).context["board"]
    assert board.total.center == 2 * 3600
    assert board.total.client == 10 * 3600
    assert board.total.customer == 0
    waiting = board.by["state"].rows[CaseState.WAITING_CLIENT]
    assert waiting.client == 10 * 3600


def test_a_closed_day_added_later_shows_on_the_next_load_of_the_board(cast, desk, now):
    # The client's turn since Tuesday 12:00; the board is read twice within the same hour.
    _asked_the_client(cast, _park(cast, at("2026-11-24", "10:00")), at("2026-11-24", "12:00"))
    assert _board(desk).context["board"].total.client == 10 * 3600
    ClientClosedDay.objects.create(client=cast.coffee, date=dt.date(2026, 11, 24))
    assert _board(desk).context["board"].total.client == 1 * 3600  # Wednesday's hour only


def test_overdue_inquiries_callbacks_and_their_escalation_show(cast, desk, now):
    asked_case(
        client=cast.coffee,
        operator=cast.operator,
        team=cast.sapporo_desk,
        when=at("2026-11-20"),
        due_at=at("2026-11-24"),
    )
    asked_case(
        client=cast.coffee,
        operator=cast.operator,
        team=cast.sapporo_desk,
        when=at("2026-11-25", "09:00"),
        due_at=at("2026-11-27"),
    )
    response = _board(desk)
    assert response.context["inquiry_count"] == 1
    assert "Not yet chased" in response.content.decode() or "未" in response.content.decode()


def test_filters_and_click_through_to_the_list(cast, desk, now):
    _park(cast, at("2026-11-25", "09:00"), subject="Fresh one")
    _park(cast, at("2026-11-10"), subject="Old one")
    board = _board(desk, bucket="gt7").context["board"]
    assert board.total.count == 1
    listing = desk.get(reverse("backlog-list", args=["azukari"]), {"bucket": "gt7"})
    body = listing.content.decode()
    assert "Old one" in body and "Fresh one" not in body
    by_site = desk.get(
        reverse("backlog-list", args=["azukari"]), {"site": cast.osaka.pk}
    ).content.decode()
    assert "Old one" not in by_site


def test_the_trend_counts_open_azukari_at_the_end_of_each_day(cast, desk, now):
    first = _park(cast, at("2026-11-22"))
    _park(cast, at("2026-11-23"))
    with time_machine.travel(at("2026-11-24"), tick=False):
        cases.case_resolve(
            case=first, version=first.version, actor=cast.desk, outcome="Cancelled as asked"
        )
    trend = {p["date"]: p["open"] for p in backlog_trend(viewer=cast.desk, days=5)}
    assert trend == {
        "2026-11-21": 0,
        "2026-11-22": 1,
        "2026-11-23": 2,
        "2026-11-24": 1,
        "2026-11-25": 1,
    }
    assert backlog_trend(viewer=cast.outsider, days=5)[-1]["open"] == 0


def test_charts_get_their_data_as_json_without_inline_script(cast, desk, now):
    _park(cast, at("2026-11-24"))
    response = _board(desk)
    body = response.content.decode()
    assert 'id="chart-data"' in body and 'type="application/json"' in body
    assert "chart-4.6.1.umd.min.js" in body and "azukari/charts.js" in body
    assert "<script>" not in body and " onload=" not in body


@pytest.mark.parametrize("kind", ["azukari", "inquiries", "callbacks", "cancellations"])
def test_every_list_exports_to_csv_with_a_bom_and_to_excel(cast, desk, now, kind):
    _park(cast, at("2026-11-10"), subject="預かり案件")
    response = desk.get(reverse("backlog-list", args=[kind]), {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    if kind == "azukari":
        assert rows[1][1] == "預かり案件"
    xlsx = desk.get(reverse("backlog-list", args=[kind]), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == rows[0]


def _count_queries(browser, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        reverse("backlog"),
        reverse("backlog-list", args=["azukari"]),
        reverse("backlog-list", args=["inquiries"]),
        reverse("backlog-list", args=["callbacks"]),
    ],
)
def test_query_counts_do_not_grow_with_the_backlog(cast, desk, now, url):
    def add(n):
        for i in range(n):
            when = at("2026-11-10") + dt.timedelta(days=i % 14, hours=i % 7)
            if i % 3:
                _park(cast, when)
            else:
                asked_case(
                    client=cast.coffee,
                    operator=cast.operator,
                    team=cast.sapporo_desk,
                    when=when,
                    due_at=when + dt.timedelta(days=1),
                )

    add(3)
    few = _count_queries(desk, url)
    add(27)
    many = _count_queries(desk, url)
    assert few == many


def test_the_board_is_the_center_s_and_scoped_to_its_clients(cast, client, now):
    _park(cast, at("2026-11-24"))
    tea_desk = UserFactory(
        username="desk_tea", role=Role.DESK, home_site=cast.osaka, clients=[cast.tea]
    )
    client.force_login(tea_desk)
    board = _board(client).context["board"]
    assert board.total.count == 0
    assert (
        client.get(reverse("backlog-list", args=["azukari"])).context["page"].paginator.count == 0
    )
    for person in (cast.operator, cast.outsider, cast.approver, cast.tea_approver):
        client.force_login(person)
        if person.role == Role.CLIENT_APPROVER:
            # Approvers pass the second factor first; without it they are sent there.
            assert client.get(reverse("backlog")).status_code in (302, 404)
        else:
            assert client.get(reverse("backlog")).status_code == 403
    client.force_login(cast.desk)
    assert client.post(reverse("backlog")).status_code == 405
    assert client.get(reverse("backlog-list", args=["nothing"])).status_code == 404


def test_every_filter_has_a_label(cast, desk, now):
    body = _board(desk).content.decode()
    for name in ("client", "site", "team", "state", "reason", "bucket"):
        assert f'<label for="f-{name}">' in body and f'id="f-{name}"' in body


def test_list_clocks_match_the_case_s_own_clocks(cast, desk, now):
    from azukari.cases.clocks import live_clocks
    from azukari.core.businesstime import business_seconds
    from azukari.org.models import ClientClosedDay
    from azukari.web.pages.backlog_clocks import ClockPricer, calendars_for

    ClientClosedDay.objects.create(client=cast.coffee, date=dt.date(2026, 11, 19))
    case = _park(cast, at("2026-11-12", "20:30"))
    listing = desk.get(reverse("backlog-list", args=["azukari"]))
    clocks = live_clocks(case, now=NOW)
    assert listing.context["rows"][0][10] == round(clocks.center / 3600, 1)
    calendar = calendars_for([cast.coffee.pk], [cast.sapporo.pk])(cast.coffee.pk, cast.sapporo.pk)
    pricer = ClockPricer(NOW)
    for minutes in range(0, 60 * 24 * 16, 97):
        since = NOW - dt.timedelta(minutes=minutes, microseconds=123)
        assert pricer.running(since, calendar) == business_seconds(since, NOW, calendar)


def test_an_overdue_callback_shows_and_lists(cast, desk, now):
    with time_machine.travel(at("2026-11-20"), tick=False):
        late = promised_callback(cast, summary="Promised a call on Friday")
    with time_machine.travel(at("2026-11-25", "09:00"), tick=False):
        promised_callback(cast, hours=48)  # due on Friday: not overdue yet
    response = _board(desk)
    assert response.context["callback_count"] == 1
    assert [c.pk for c in response.context["callbacks"]] == [late.pk]
    listing = desk.get(reverse("backlog-list", args=["callbacks"]))
    assert f"#{late.case_id}" in listing.content.decode()
