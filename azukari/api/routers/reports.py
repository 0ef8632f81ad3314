"""The center's key figures for one client and month, from the one KPI module (docs/kpis.md):
the same figures as the monthly report and the backlog board."""

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field as F
from ninja import Path, Query, Router, Schema

from azukari.api.auth import scoped
from azukari.api.errors import responses
from azukari.api.models import Scope
from azukari.core.visibility import get_visible
from azukari.org.models import Client
from azukari.reports.kpis import Ratio
from azukari.reports.selectors import client_kpis, report_site

router = Router(tags=["Reports"])


class KpiQuery(Schema):
    month: str = F(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    site: str = F("", max_length=32, pattern=r"^[-a-zA-Z0-9_]*$", description="a site code")


class RatioOut(Schema):
    part: int
    whole: int
    percent: float | None


class AgesOut(Schema):
    cases: int = F(..., description="azukari opened in the month")
    center_seconds: int | None = F(None, description="average, business seconds")
    client_seconds: int | None = None
    customer_seconds: int | None = None
    total_seconds: int | None = None


class TimeToCloseOut(Schema):
    cases: int
    mean_seconds: int | None = F(None, description="elapsed seconds, opened to resolved")
    median_seconds: int | None = None


class SlaOut(Schema):
    met: int
    missed_settled: int
    missed_open: int = F(..., description="still open past their due time")
    percent: float | None


class ClientResponseOut(Schema):
    sent: int
    answered: int
    on_time: int
    mean_seconds: int | None = F(None, description="elapsed seconds, sent to answered")
    on_time_percent: float | None


class KpisOut(Schema):
    client: str
    site: str | None
    month: str
    as_of: dt.datetime
    cases_opened: int
    cases_opened_online: int = F(
        ..., description="of them, opened by the customer on the self-service pages"
    )
    first_contact_resolution: RatioOut = F(..., description="of the cases opened on calls")
    azukari_rate: RatioOut
    average_age: AgesOut
    time_to_close: TimeToCloseOut
    sla: SlaOut
    overdue_cases: int
    client_response: ClientResponseOut


def _ratio(ratio: Ratio) -> dict:
    return {"part": ratio.part, "whole": ratio.whole, "percent": ratio.percent}


@router.get(
    "/clients/{code}/kpis",
    response=responses({200: KpisOut}),
    auth=scoped(Scope.CASES_READ),
    operation_id="client_kpis",
    summary="A client's key figures for a month (docs/kpis.md), optionally for one site",
)
def kpis(
    request: HttpRequest,
    code: str = Path(..., max_length=32, pattern=r"^[-a-zA-Z0-9_]+$"),
    params: Query[KpiQuery] = None,
):
    client = get_visible(Client.objects, request.auth, code=code)
    site = report_site(params.site)
    start = dt.date.fromisoformat(f"{params.month}-01")
    end = (start + dt.timedelta(days=32)).replace(day=1)
    now = timezone.now()
    figures = client_kpis(
        viewer=request.auth, client=client, start=start, end=end, site=site, now=now
    )
    ages, close, sla, response = (
        figures.ages,
        figures.time_to_close,
        figures.sla,
        figures.client_response,
    )
    return {
        "client": client.code,
        "site": site.code if site else None,
        "month": params.month,
        "as_of": now,
        "cases_opened": figures.opened,
        "cases_opened_online": figures.opened_online,
        "first_contact_resolution": _ratio(figures.first_contact),
        "azukari_rate": _ratio(figures.azukari),
        "average_age": {
            "cases": ages.cases,
            "center_seconds": ages.center,
            "client_seconds": ages.client,
            "customer_seconds": ages.customer,
            "total_seconds": ages.total,
        },
        "time_to_close": {
            "cases": close.cases,
            "mean_seconds": close.mean,
            "median_seconds": close.median,
        },
        "sla": {
            "met": sla.met,
            "missed_settled": sla.missed_settled,
            "missed_open": sla.missed_open,
            "percent": sla.ratio.percent,
        },
        "overdue_cases": figures.overdue,
        "client_response": {
            "sent": response.sent,
            "answered": response.answered,
            "on_time": response.on_time,
            "mean_seconds": response.mean,
            "on_time_percent": response.on_time_ratio.percent,
        },
    }
