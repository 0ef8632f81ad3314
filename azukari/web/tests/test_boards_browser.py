"""The boards an SV and the azukari desk keep open all day, in a real browser at desk size:
the backlog board and its lists, the floor board, the notice board. Each page is saved under
screenshots/, which also checks that none of them scrolls sideways, on a 1366×768 screen
and on a tablet."""

# The browser fixtures are imported, so their names are parameters too.
# ruff: noqa: F811

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from azukari.floor import services as floor
from azukari.floor.tests.factories import contact, criterion, parked_case
from azukari.web.tests.browser import (  # noqa: F401 (fixtures)
    browser_page,
    chromium,
    log_in,
    shots,
)

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def floor_day(cast):
    """A morning on the floor: a backlog, a long call, a call ended under a criterion, a notice."""
    for days in (1, 4, 12):
        parked_case(
            client=cast.coffee,
            operator=cast.operator,
            team=cast.sapporo_desk,
            when=timezone.now() - dt.timedelta(days=days),
            subject=f"Parked {days} days ago",
        )
    long_call = contact(
        client=cast.coffee,
        handler=cast.operator,
        started_at=timezone.now() - dt.timedelta(minutes=25),
    )
    ended = contact(
        client=cast.coffee,
        handler=cast.operator,
        started_at=timezone.now() - dt.timedelta(minutes=40),
    )
    floor.call_end_under_criterion(
        actor=cast.operator, contact=ended, criterion=criterion(cast.coffee), note="Shouted"
    )
    notice = floor.notice_publish(
        actor=cast.sv,
        client=cast.coffee,
        title="12月からの価格改定",
        body="12月分の価格についての問い合わせには新価格を案内すること。",
        site=None,
    )
    return long_call, notice


def test_the_boards_at_desk_size_and_on_a_tablet(browser_page, shots, cast, floor_day):
    long_call, notice = floor_day
    page = browser_page
    log_in(page, cast.sv.username)

    page.goto(reverse("backlog"))
    # Both charts are drawn under the strict CSP (data from json_script, no inline code).
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('chart-trend') && Chart.getChart('chart-aging')"
    )
    trend = page.evaluate("Chart.getChart('chart-trend').data.datasets[0].data")
    assert len(trend) == 30 and trend[-1] == 3
    shots.take(page, "boards", 1, "backlog")
    page.click(f"a.kpi[href^='{reverse('backlog-list', args=['azukari'])}']")
    page.wait_for_url(re.compile(r"/backlog/list/azukari/"))
    assert "Parked 12 days ago" in page.inner_text("main")
    shots.take(page, "boards", 2, "backlog-list")

    page.goto(reverse("floor"))
    assert long_call.customer.customer_number in page.inner_text("main")
    shots.take(page, "boards", 3, "floor")

    page.goto(reverse("notices"))
    assert notice.title in page.inner_text("main")
    shots.take(page, "boards", 4, "notices")
    page.goto(reverse("notice", args=[notice.pk]))
    shots.take(page, "boards", 5, "notice")

    page.goto(reverse("case-list"))
    shots.take(page, "boards", 6, "cases")
    page.click("tbody tr:first-child td:first-child a")
    page.wait_for_url(re.compile(r"/cases/\d+/"))
    shots.take(page, "boards", 7, "case")
    page.goto(reverse("named-staff-report"))
    shots.take(page, "boards", 8, "named-staff-report")

    page.set_viewport_size(TABLET)
    for step, name in enumerate(("backlog", "floor", "notices", "case-list"), start=1):
        page.goto(reverse(name))
        shots.take(page, "tablet", step, name)
