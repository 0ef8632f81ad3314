"""The monthly client report: the figures an outsourcing center sends and invoices against."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.cases.models import Case, Contact, Direction, Inquiry
from azukari.core.visibility import Viewer
from azukari.org.models import Client, Site
from azukari.reports.models import BacklogSnapshot, ContactCoding


@dataclass
class MonthlyReport:
    client: Client
    site: Site | None
    start: dt.date
    end: dt.date  # exclusive
    figures: list[tuple[str, Any, str]] = field(default_factory=list)  # (label, value, unit)
    by_reason: list[tuple[str, str, int]] = field(default_factory=list)
    backlog: list[tuple[dt.date, int]] = field(default_factory=list)

    def rows(self) -> list[list[Any]]:
        """The report as rows, for CSV and Excel."""
        out: list[list[Any]] = [
            [str(label), value, str(unit)] for label, value, unit in self.figures
        ]
        out.extend(
            [str(_("Contacts by reason")) + f": {code} {label}", n, ""]
            for code, label, n in self.by_reason
        )
        return out


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=tz),
        dt.datetime.combine(end, dt.time(), tzinfo=tz),
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _seconds(value: dt.timedelta | float | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    return int(value)


def monthly_report(
    *, viewer: Viewer, client: Client, start: dt.date, end: dt.date, site: Site | None = None
) -> MonthlyReport:
    """Figures for [start, end) by client and optionally site, read through the door."""
    since, until = _bounds(start, end)
    report = MonthlyReport(client=client, site=site, start=start, end=end)
    contacts: QuerySet = Contact.objects.visible_to(viewer).filter(
        client=client, started_at__gte=since, started_at__lt=until
    )
    cases: QuerySet = Case.objects.visible_to(viewer).filter(
        client=client, opened_at__gte=since, opened_at__lt=until
    )
    inquiries: QuerySet = Inquiry.objects.visible_to(viewer).filter(
        client=client, sent_at__gte=since, sent_at__lt=until
    )
    if site is not None:
        contacts = contacts.filter(site=site)
        cases = cases.filter(site=site)
        inquiries = inquiries.filter(case__site=site)

    calls = contacts.filter(direction=Direction.INBOUND).aggregate(
        offered=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        handle=Avg(
            F("ended_at") - F("answered_at"),
            filter=Q(answered_at__isnull=False, ended_at__isnull=False),
        ),
    )
    offered, answered = calls["offered"], calls["answered"]
    case_figures = cases.aggregate(
        opened=Count("pk"),
        parked=Count("pk", filter=Q(parked_at__isnull=False)),
        first_contact=Count(
            "pk", filter=Q(parked_at__isnull=True, resolved_at__isnull=False, reopen_count=0)
        ),
        on_time=Count("pk", filter=Q(due_at__isnull=False, resolved_at__lte=F("due_at"))),
        with_due=Count("pk", filter=Q(due_at__isnull=False, resolved_at__isnull=False)),
        center=Avg("center_seconds", filter=Q(parked_at__isnull=False)),
        client_time=Avg("client_seconds", filter=Q(parked_at__isnull=False)),
        customer=Avg("customer_seconds", filter=Q(parked_at__isnull=False)),
    )
    inquiry_figures = inquiries.aggregate(
        sent=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        on_time=Count("pk", filter=Q(answered_at__lte=F("due_at"))),
        response=Avg(F("answered_at") - F("sent_at"), filter=Q(answered_at__isnull=False)),
    )
    opened = case_figures["opened"]
    report.figures = [
        (_("Calls offered"), offered, ""),
        (_("Calls answered"), answered, ""),
        (_("Calls abandoned"), offered - answered, ""),
        (_("Answer rate"), _ratio(answered, offered), "%"),
        (_("Average handle time"), _seconds(calls["handle"]), _("s")),
        (_("Cases opened"), opened, ""),
        (_("First-contact resolution"), _ratio(case_figures["first_contact"], opened), "%"),
        (_("Azukari rate"), _ratio(case_figures["parked"], opened), "%"),
        (_("Average azukari age, center's turn"), _seconds(case_figures["center"]), _("s")),
        (_("Average azukari age, client's turn"), _seconds(case_figures["client_time"]), _("s")),
        (_("Average azukari age, customer's turn"), _seconds(case_figures["customer"]), _("s")),
        (_("Inquiries sent to the client"), inquiry_figures["sent"], ""),
        (_("Average inquiry response time"), _seconds(inquiry_figures["response"]), _("s")),
        (
            _("Inquiries answered on time"),
            _ratio(inquiry_figures["on_time"], inquiry_figures["sent"]),
            "%",
        ),
        (
            _("Cases resolved within their due time (SLA)"),
            _ratio(case_figures["on_time"], case_figures["with_due"]),
            "%",
        ),
    ]
    codings = ContactCoding.objects.filter(contact__in=contacts.values("pk"))
    report.by_reason = [
        (row["reason_code__code"], row["reason_code__label"], row["n"])
        for row in codings.values("reason_code__code", "reason_code__label")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason_code__code")
    ]
    snapshots = BacklogSnapshot.objects.visible_to(viewer).filter(
        client=client, day__gte=start, day__lt=end
    )
    if site is not None:
        snapshots = snapshots.filter(site=site)
    report.backlog = [
        (row["day"], row["n"])
        for row in snapshots.values("day").annotate(n=Sum("open_count")).order_by("day")
    ]
    return report
