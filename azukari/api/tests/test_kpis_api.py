"""The API's key figures: the same module, the same numbers as the monthly report."""

# The story's November is a fixture imported from the KPI tests, so its name is a parameter.
# ruff: noqa: F811

import pytest
import time_machine

from azukari.reports.selectors import monthly_report
from azukari.reports.tests.test_kpis import NOVEMBER, NOW, november  # noqa: F401 (fixture)
from azukari.reports.tests.test_selfservice_figures import mixed  # noqa: F401 (fixture)


@pytest.mark.django_db
def test_kpis_through_the_api_match_the_monthly_report(
    cast, api, coffee_token, tea_token, november
):
    with time_machine.travel(NOW, tick=False):
        answer = api.get("/api/v1/clients/coffee/kpis", coffee_token, month="2026-11")
        report = monthly_report(viewer=cast.sv, client=cast.coffee, now=NOW, **NOVEMBER)
        sapporo = api.get(
            "/api/v1/clients/coffee/kpis", coffee_token, month="2026-11", site="sapporo"
        )
        unknown = api.get(
            "/api/v1/clients/coffee/kpis", coffee_token, month="2026-11", site="nagoya"
        )
        outsider = api.get("/api/v1/clients/coffee/kpis", tea_token, month="2026-11")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    shown = report.kpis  # what the monthly report prints
    assert body["sla"] == {"met": 2, "missed_settled": 1, "missed_open": 1, "percent": 50.0}
    assert body["sla"]["percent"] == shown.sla.ratio.percent
    assert body["overdue_cases"] == shown.overdue == 1
    assert body["time_to_close"] == {"cases": 3, "mean_seconds": 34800, "median_seconds": 14400}
    assert body["average_age"]["customer_seconds"] == 24 * 3600 // 5
    assert body["first_contact_resolution"]["percent"] == 16.7
    assert body["client_response"]["mean_seconds"] == 7200
    assert sapporo.json()["cases_opened"] == body["cases_opened"] == 6
    assert unknown.status_code == 400
    assert "nagoya" in unknown.json()["message"]
    assert outsider.status_code == 404  # another client's figures: the same as missing


@pytest.mark.django_db
def test_kpis_through_the_api_count_online_cases_apart(cast, api, coffee_token, mixed):
    with time_machine.travel(NOW, tick=False):
        body = api.get("/api/v1/clients/coffee/kpis", coffee_token, month="2026-11").json()
    # Two calls (one resolved on it) and three requests customers recorded online.
    assert (body["cases_opened"], body["cases_opened_online"]) == (5, 3)
    assert body["first_contact_resolution"] == {"part": 1, "whole": 2, "percent": 50.0}
    assert body["azukari_rate"] == {"part": 1, "whole": 2, "percent": 50.0}
