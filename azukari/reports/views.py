"""The monthly client report as a page, a CSV, an .xlsx workbook and a printable page."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from azukari.core.dbrouting import replica_reads
from azukari.core.errors import DomainError
from azukari.dataio.exports import SPECS, csv_stream, xlsx_file
from azukari.org.models import Client
from azukari.org.permissions import Cap, page_for, user_can
from azukari.reports.selectors import monthly_report, report_site


def _month(value: str | None) -> tuple[dt.date, dt.date]:
    try:
        start = dt.date.fromisoformat(f"{value}-01") if value else None
    except ValueError:
        start = None
    if start is None:
        today = timezone.localdate().replace(day=1)
        start = (today - dt.timedelta(days=1)).replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


@require_GET
@login_required
@page_for(Cap.REPORTS_MONTHLY)
def report_index(request: HttpRequest) -> HttpResponse:
    """The clients this viewer may see, each with its last month's report."""
    clients = Client.objects.visible_to(request.user).order_by("code")
    start, _end = _month(request.GET.get("month"))
    context = {
        "clients": clients,
        "month": f"{start:%Y-%m}",
        "can_export": user_can(request.user, Cap.RECORDS_EXPORT),
        "exports": SPECS,
    }
    return render(request, "reports/index.html", context)


@require_GET
@login_required
@page_for(Cap.REPORTS_MONTHLY)
@replica_reads()
def client_monthly(request: HttpRequest, client_code: str) -> HttpResponse:
    """?month=2026-10&site=sapporo&format=csv|xlsx|print"""
    client = Client.objects.visible_to(request.user).filter(code=client_code).first()
    if client is None:
        raise Http404
    start, end = _month(request.GET.get("month"))
    site_code = request.GET.get("site", "").strip()
    try:
        site = report_site(site_code)
    except DomainError as refused:
        context = {"client": client, "month": f"{start:%Y-%m}", "site_code": site_code}
        context["error"] = refused.message
        return render(request, "reports/monthly.html", context, status=400)
    report = monthly_report(viewer=request.user, client=client, start=start, end=end, site=site)
    name = f"{client.code}-{start:%Y-%m}"
    header = [_("Figure"), _("Value"), _("Unit")]
    fmt = request.GET.get("format", "")
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_stream(header, report.rows()), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "xlsx":
        workbook = xlsx_file(header, report.rows(), sheet_title=f"{start:%Y-%m}")
        return FileResponse(workbook, as_attachment=True, filename=f"{name}.xlsx")
    template = "reports/monthly_print.html" if fmt == "print" else "reports/monthly.html"
    context = {"report": report, "client": client, "month": f"{start:%Y-%m}"}
    return render(request, template, {**context, "site_code": site.code if site else ""})
