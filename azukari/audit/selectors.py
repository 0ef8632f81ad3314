"""Reads of the audit: who saw a customer, the access review, confidentiality reports."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from azukari.audit.models import AccessAction, AccessEvent, Incident, NamedStaffRequest
from azukari.core.visibility import Viewer
from azukari.customers.models import Customer
from azukari.org.models import CENTER_ROLES, Client, EmploymentStatus, User

# More distinct customers than this in the review period marks a bulk viewer.
BULK_VIEWER_CUSTOMERS = 500
# No log-in for this many days marks access as unused.
UNUSED_AFTER_DAYS = 30


def who_saw(*, customer_id: int, client_id: int | None = None) -> QuerySet[AccessEvent]:
    """Every recorded access to one customer's personal data, oldest first (for a data
    subject's request or a client's audit). Erased (tombstoned) events no longer name anyone."""
    qs = AccessEvent.objects.filter(customer_ref=customer_id).select_related("actor")
    if client_id is not None:
        qs = qs.filter(client_id=client_id)
    return qs.order_by("at", "id")


def customer_by_reference(*, reference: str, client: Client | None) -> Customer | None:
    """A customer named by client + customer number, or by id."""
    qs = Customer.objects.all()
    if client is not None:
        found = qs.filter(client=client, customer_number=reference).first()
        if found is not None:
            return found
        qs = qs.filter(client=client)
    if reference.isdigit():
        return qs.filter(pk=int(reference)).first()
    return None


def named_staff_report(
    *, viewer: Viewer, since: dt.datetime, until: dt.datetime | None = None
) -> list[dict]:
    """Named-staff requests counted per client and site, for the viewer's clients only."""
    qs = NamedStaffRequest.objects.visible_to(viewer).filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return list(
        qs.values("client__code", "client__name", "site__code", "site__name")
        .annotate(requests=Count("id"), last=Max("at"))
        .order_by("client__code", "site__code")
    )


@dataclass
class ReviewRow:
    user: User
    clients: list[str]
    has_access: bool
    last_login: dt.datetime | None
    customers_seen: int
    events: int
    exports: int
    flags: list[str] = field(default_factory=list)


def access_review(
    *, client: Client | None = None, days: int = 90, now: dt.datetime | None = None
) -> list[ReviewRow]:
    """Who can see what, whose access is unused, who views in bulk: the periodic review that
    Privacy Mark / ISMS audits ask for. Leavers stay listed when they still hold anything."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    users = User.objects.prefetch_related("clients").select_related("client", "home_site")
    if client is not None:
        users = users.filter(Q(clients=client) | Q(client=client)).distinct()
    events = AccessEvent.objects.filter(at__gte=since, actor__isnull=False)
    if client is not None:
        events = events.filter(client=client)
    stats = {
        row["actor_id"]: row
        for row in events.values("actor_id").annotate(
            events=Count("id"),
            customers=Count("customer_ref", distinct=True),
            exports=Count("id", filter=Q(action=AccessAction.EXPORT)),
        )
    }
    rows = []
    for user in users.order_by("role", "username"):
        stat = stats.get(user.pk, {})
        if user.is_client_approver:
            clients = [user.client.code] if user.client_id else []
        else:
            clients = sorted(c.code for c in user.clients.all())
        row = ReviewRow(
            user=user,
            clients=clients,
            has_access=user.has_access,
            last_login=user.last_login,
            customers_seen=stat.get("customers", 0),
            events=stat.get("events", 0),
            exports=stat.get("exports", 0),
        )
        if user.employment_status == EmploymentStatus.LEFT:
            row.flags.append("left")
            if user.is_active and clients:
                row.flags.append("left_still_assigned")
        if row.has_access and (
            user.last_login is None or user.last_login < now - dt.timedelta(days=UNUSED_AFTER_DAYS)
        ):
            row.flags.append("unused")
        if row.customers_seen > BULK_VIEWER_CUSTOMERS or row.exports:
            row.flags.append("bulk")
        if user.role in CENTER_ROLES and not user.agreement_signed_on:
            row.flags.append("no_agreement")
        rows.append(row)
    return rows


def incidents_open() -> QuerySet[Incident]:
    """Incidents whose final report is still owed (every client: for the reminder task)."""
    return Incident.objects.filter(final_reported_at__isnull=True).order_by("discovered_at")
