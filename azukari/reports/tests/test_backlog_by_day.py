"""The monthly report's daily table and the backlog board's trend read one source."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from azukari.cases.services import case_open, case_park, case_resolve, contact_log
from azukari.reports.models import BacklogSnapshot
from azukari.reports.selectors import monthly_report
from azukari.testing.factories import CustomerFactory
from azukari.web.pages.backlog import backlog_trend

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 11, 3, 3, 0, tzinfo=dt.UTC)  # 12:00 in Tokyo


def _parked(cast, subject: str):
    customer = CustomerFactory(client=cast.coffee)
    contact = contact_log(actor=cast.operator, client=cast.coffee, customer=customer)
    case = case_open(contact=contact, actor=cast.operator, kind="billing", subject=subject)
    return case_park(
        case=case,
        version=case.version,
        actor=cast.operator,
        reason="investigation",
        team=cast.sapporo_desk,
    )


def test_the_report_table_and_the_board_trend_give_the_same_days(cast, client):
    with time_machine.travel(NOON, tick=False):
        first = _parked(cast, "請求確認")
        _parked(cast, "配送確認")
    with time_machine.travel(NOON + dt.timedelta(days=2), tick=False):
        case_resolve(case=first, version=first.version, actor=cast.operator, outcome="説明済み")
    with time_machine.travel(NOON + dt.timedelta(days=5), tick=False):
        assert not BacklogSnapshot.objects.exists()  # no snapshot was ever taken
        report = monthly_report(
            viewer=cast.sv, client=cast.coffee, start=dt.date(2026, 11, 1), end=dt.date(2026, 12, 1)
        )
        trend = {p["date"]: p["open"] for p in backlog_trend(viewer=cast.sv, days=30)}
        table = {day.isoformat(): n for day, n in report.backlog}
        assert table["2026-11-02"] == 0 and table["2026-11-03"] == 2
        assert table["2026-11-05"] == 1 and table["2026-11-08"] == 1
        assert max(table) == timezone.localdate().isoformat()  # no days after today
        assert {d: trend[d] for d in table} == table
        # The printed page shows the days, not "no snapshots".
        client.force_login(cast.sv)
        page = client.get("/reports/coffee/monthly/", {"month": "2026-11"}).content.decode()
        assert re.search(r"2026-11-03</th><td class=\"num\">2<", page), "the daily table is shown"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_counts_are_grouped_in_both_languages(cast, language):
    from django.template.loader import render_to_string
    from django.utils import translation

    from azukari.reports.selectors import MonthlyReport

    report = MonthlyReport(
        client=cast.coffee,
        site=None,
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 12, 1),
        by_reason=[("billing", "請求", 4940)],
        backlog=[(dt.date(2026, 11, 1), 12345)],
    )
    with translation.override(language):
        html = render_to_string("reports/_figures.html", {"report": report})
    assert "4,940" in html and "12,345" in html and "4940" not in html
