"""The monthly client report: the figures an outsourcing center sends and invoices against."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from azukari.cases.models import BacklogTrendDay, Case, Contact, Inquiry
from azukari.core.errors import DomainError
from azukari.core.visibility import Viewer
from azukari.org.models import Client, Site
from azukari.reports.kpis import CaseKpis, case_kpis, contacts_by_channel
from azukari.reports.models import ContactCoding

# Units of a figure besides "%" and counts: business seconds (shown as business days and
# hours) and elapsed seconds (shown as hours).
BUSINESS = "business"
ELAPSED = "elapsed"


@dataclass
class MonthlyReport:
    client: Client
    site: Site | None
    start: dt.date
    end: dt.date  # exclusive
    figures: list[tuple[str, Any, str]] = field(default_factory=list)  # (label, value, unit)
    by_reason: list[tuple[str, str, int]] = field(default_factory=list)
    backlog: list[tuple[dt.date, int]] = field(default_factory=list)
    kpis: CaseKpis | None = None

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def shown(self) -> list[tuple[str, str]]:
        """(label, value as read) for the page and the printable page."""
        return [(str(label), display_value(value, unit)) for label, value, unit in self.figures]

    def rows(self) -> list[list[Any]]:
        """The report as rows, for CSV and Excel."""
        out: list[list[Any]] = [
            [str(label), *_as_hours(value, unit)] for label, value, unit in self.figures
        ]
        out.extend(
            [str(_("Contacts by reason")) + f": {code} {label}", n, ""]
            for code, label, n in self.by_reason
        )
        return out


def _as_hours(value: Any, unit: Any) -> tuple[Any, str]:
    """Durations in a spreadsheet: hours with one decimal, the unit saying which hours."""
    if unit == BUSINESS:
        return (None if value is None else round(value / 3600, 1)), str(_("business hours"))
    if unit == ELAPSED:
        return (None if value is None else round(value / 3600, 1)), str(_("h"))
    return value, str(unit)


def display_value(value: Any, unit: Any) -> str:
    """A figure as the report page shows it: business durations in business days and hours,
    elapsed durations in hours, the rest with its unit."""
    from azukari.web.templatetags.azukari import business_duration, elapsed_hours

    if value is None:
        return "—"
    if unit == BUSINESS:
        return business_duration(value)
    if unit == ELAPSED:
        return elapsed_hours(value)
    if isinstance(value, int):
        return f"{value:,} {unit}".strip()
    return f"{value} {unit}".strip()


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=tz),
        dt.datetime.combine(end, dt.time(), tzinfo=tz),
    )


def report_site(code: str) -> Site | None:
    """The site a report is narrowed to: none for a blank code; an unknown code is refused,
    never read as "every site"."""
    code = code.strip()
    if not code:
        return None
    site = Site.objects.filter(code=code).first()
    if site is None:
        raise DomainError(
            _("There is no site with the code “%(code)s”.") % {"code": code}, field="site"
        )
    return site


def client_kpis(
    *,
    viewer: Viewer,
    client: Client,
    start: dt.date,
    end: dt.date,
    site: Site | None = None,
    now: dt.datetime | None = None,
) -> CaseKpis:
    """The case KPIs of one client (and site) for [start, end), read through the door: what
    the monthly report and the API show."""
    since, until = _bounds(start, end)
    cases: QuerySet = Case.objects.visible_to(viewer).filter(client=client)
    inquiries: QuerySet = Inquiry.objects.visible_to(viewer).filter(client=client)
    if site is not None:
        cases = cases.filter(site=site)
        inquiries = inquiries.filter(case__site=site)
    return case_kpis(
        cases=cases, inquiries=inquiries, since=since, until=until, now=now or timezone.now()
    )


def monthly_report(
    *,
    viewer: Viewer,
    client: Client,
    start: dt.date,
    end: dt.date,
    site: Site | None = None,
    now: dt.datetime | None = None,
) -> MonthlyReport:
    """Figures for [start, end) by client and optionally site, read through the door; the
    case figures from the one KPI module (`reports.kpis`), as of `now`."""
    since, until = _bounds(start, end)
    report = MonthlyReport(client=client, site=site, start=start, end=end)
    contacts: QuerySet = Contact.objects.visible_to(viewer).filter(
        client=client, started_at__gte=since, started_at__lt=until
    )
    if site is not None:
        contacts = contacts.filter(site=site)

    # Calls, and apart from them what customers did on the self-service pages.
    calls = contacts_by_channel(contacts)
    kpis = client_kpis(viewer=viewer, client=client, start=start, end=end, site=site, now=now)
    report.kpis = kpis
    ages, close, response = kpis.ages, kpis.time_to_close, kpis.client_response
    report.figures = [
        (_("Calls offered"), calls.offered, ""),
        (_("Calls answered"), calls.answered, ""),
        (_("Calls abandoned"), calls.abandoned, ""),
        (_("Answer rate"), calls.answer_rate.percent, "%"),
        (_("Self-service requests and questions (not calls)"), calls.online, ""),
        (_("Average handle time"), calls.handle, _("s")),
        (_("Cases opened"), kpis.opened, ""),
        (_("Cases opened online (self-service)"), kpis.opened_online, ""),
        (_("First-contact resolution"), kpis.first_contact.percent, "%"),
        (_("Azukari rate"), kpis.azukari.percent, "%"),
        (_("Average azukari age"), ages.total, BUSINESS),
        (_("Average azukari age, center's turn"), ages.center, BUSINESS),
        (_("Average azukari age, client's turn"), ages.client, BUSINESS),
        (_("Average azukari age, customer's turn"), ages.customer, BUSINESS),
        (_("Time to close, mean"), close.mean, ELAPSED),
        (_("Time to close, median"), close.median, ELAPSED),
        (_("Inquiries sent to the client"), response.sent, ""),
        (_("Average inquiry response time"), response.mean, ELAPSED),
        (_("Inquiries answered on time"), response.on_time_ratio.percent, "%"),
        (
            _("Cases resolved within their due time (SLA)"),
            kpis.sla.ratio.percent,
            "%",
        ),
        (_("Open cases past their due time (SLA missed)"), kpis.sla.missed_open, ""),
        (_("Cases overdue now"), kpis.overdue, ""),
    ]
    codings = ContactCoding.objects.filter(contact__in=contacts.values("pk"))
    # The client's own label, or its English one for an English reader when the client gave it.
    english = get_language() == "en"
    report.by_reason = [
        (
            row["reason_code__code"],
            (english and row["reason_code__label_en"]) or row["reason_code__label"],
            row["n"],
        )
        for row in codings.values(
            "reason_code__code", "reason_code__label", "reason_code__label_en"
        )
        .annotate(n=Count("pk"))
        .order_by("-n", "reason_code__code")
    ]
    # The board's trend and this table read one source, the case history: a client's whole
    # backlog, whichever site is chosen (the history is kept per client and day).
    report.backlog = backlog_by_day(viewer=viewer, client=client, start=start, end=end)
    return report


def backlog_by_day(
    *, viewer: Viewer, start: dt.date, end: dt.date, client: Client | None = None
) -> list[tuple[dt.date, int]]:
    """Open azukari at the end of each day from `start` to `end` (exclusive), up to today.

    Every state change counts +1 when a case enters an azukari state and -1 when it leaves
    them; the database keeps the sum per client and day (BacklogTrendDay), so this adds up one
    row per client and day: all earlier history in the first day, then day by day. The board's
    trend and the monthly report both read it, so they cannot disagree.
    """
    last = min(end - dt.timedelta(days=1), timezone.localdate())
    if last < start:
        return []
    changes = BacklogTrendDay.objects.visible_to(viewer).filter(day__lte=last.isoformat())
    if client is not None:
        changes = changes.filter(client_id=client.pk)
    by_day = dict(
        changes.values("day").order_by().annotate(delta=Sum("delta")).values_list("day", "delta")
    )
    first = start.isoformat()
    running = sum(delta for day, delta in by_day.items() if day <= first)
    rows = [(start, max(0, running))]
    day = start
    while day < last:
        day += dt.timedelta(days=1)
        running += by_day.get(day.isoformat(), 0)
        rows.append((day, max(0, running)))
    return rows
