"""Reads of cases shared by pages and the API, always through the visibility door."""

from django.db.models import Prefetch, QuerySet

from azukari.cases.models import (
    AZUKARI_STATES,
    Callback,
    CallbackStatus,
    Case,
    CaseEvent,
    CaseState,
    Inquiry,
    InquiryStatus,
)
from azukari.core.visibility import Viewer, get_visible
from azukari.org.models import EmploymentStatus, Role, SiteStatus, Team, User

PENDING_CALLBACK = (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)


def case_list(
    *,
    viewer: Viewer,
    state: str = "",
    reason: str = "",
    site_id: int | None = None,
    open_azukari: bool = False,
) -> QuerySet[Case]:
    qs = Case.objects.visible_to(viewer).select_related(
        "client", "customer", "site", "owner_team", "assignee"
    )
    if open_azukari:
        qs = qs.filter(state__in=AZUKARI_STATES)
    if state:
        qs = qs.filter(state=state)
    if reason:
        qs = qs.filter(azukari_reason=reason)
    if site_id:
        qs = qs.filter(site_id=site_id)
    return qs.order_by("-opened_at", "-id")


def case_detail(*, viewer: Viewer, case_id: int) -> Case:
    qs = Case.objects.select_related(
        "client", "customer", "site", "owner_team", "assignee", "subscription__plan", "opened_by"
    ).prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor").order_by("at", "id")),
        "contacts__handler",
        "inquiries",
        "callbacks",
        "customer__phones",
    )
    return get_visible(qs, viewer, pk=case_id)


def teams_for(case: Case) -> QuerySet[Team]:
    """Teams that may own the case: they serve its client at a site that is not down,
    the azukari desks first."""
    return (
        Team.objects.filter(clients=case.client_id)
        .exclude(site__status=SiteStatus.DOWN)
        .select_related("site")
        .order_by("-is_azukari_desk", "site__code", "code")
    )


def desk_team_for(case: Case, actor: Viewer) -> Team | None:
    """The azukari desk a parked case goes to unless someone chooses: the desk of the
    actor's home site, else of the case's site, else any desk serving the client."""
    desks = [t for t in teams_for(case) if t.is_azukari_desk]
    for site_id in (getattr(actor, "home_site_id", None), case.site_id):
        for team in desks:
            if team.site_id == site_id:
                return team
    return desks[0] if desks else None


def open_cases_of(*, viewer: Viewer, customer_id: int) -> list[Case]:
    """The customer's cases still being worked, newest first, with what a caller chases:
    the open inquiry and the callbacks owed (for the pop's continuity banner)."""
    return list(
        Case.objects.visible_to(viewer)
        .filter(customer_id=customer_id)
        .exclude(state__in=(CaseState.RESOLVED, CaseState.CLOSED))
        .select_related("owner_team__site", "assignee", "subscription")
        .prefetch_related(
            Prefetch(
                "inquiries",
                queryset=Inquiry.objects.filter(status=InquiryStatus.OPEN),
                to_attr="open_inquiries",
            ),
            Prefetch(
                "callbacks",
                queryset=Callback.objects.filter(status__in=PENDING_CALLBACK).order_by(
                    "scheduled_for", "id"
                ),
                to_attr="pending_callbacks",
            ),
        )
        .order_by("-opened_at", "-id")
    )


def assignees_for(case: Case) -> QuerySet[User]:
    """Center staff still employed who serve the case's client: who a case may be handed to."""
    return (
        User.objects.filter(
            is_active=True,
            employment_status=EmploymentStatus.ACTIVE,
            clients=case.client_id,
        )
        .exclude(role=Role.CLIENT_APPROVER)
        .select_related("home_site")
        .order_by("home_site__code", "display_name", "username")
    )
