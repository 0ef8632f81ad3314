"""Reads of cases shared by pages and the API, always through the visibility door."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from azukari.cases.models import (
    AZUKARI_STATES,
    WORKED_STATES,
    Callback,
    CallbackStatus,
    Case,
    CaseEvent,
    Inquiry,
    InquiryStatus,
)
from azukari.core.compiled import CompiledQuery
from azukari.core.sqlite_hints import ids_in_index_order
from azukari.core.visibility import Viewer, get_visible
from azukari.org.models import EmploymentStatus, Role, SiteStatus, Team, User

PENDING_CALLBACK = (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)


# What a row of the case list shows, and what its access audit reads of the customer.
CASE_LIST_FIELDS = (
    "subject",
    "state",
    "azukari_reason",
    "opened_at",
    "client__name",
    "customer__client_id",
    "customer__family_name",
    "customer__given_name",
    "site__name",
)


@dataclass(frozen=True)
class CasePage:
    rows: list[Case]
    has_newer: bool
    has_older: bool


def case_list(
    *,
    viewer: Viewer,
    state: str = "",
    reason: str = "",
    site_id: int | None = None,
    open_azukari: bool = False,
    after: tuple[dt.datetime, int] | None = None,
    before: tuple[dt.datetime, int] | None = None,
    limit: int = 25,
) -> CasePage:
    """Newest first, keyset pages on (opened_at, id): the rows older than `after`, or the
    rows newer than `before`. An index in that order (within the state or the reason filtered
    on) serves each filter, so a page reads about a page of rows whatever the number of
    cases, and nothing counts them."""
    qs = Case.objects.visible_to(viewer)
    if open_azukari:
        qs = qs.filter(state__in=AZUKARI_STATES)
    if state:
        qs = qs.filter(state=state)
    if reason:
        qs = qs.filter(azukari_reason=reason)
    if site_id:
        qs = qs.filter(site_id=site_id)
    # The first term bounds the index range; the second picks the rows past the cursor.
    if before is not None:
        at, pk = before
        qs = qs.filter(opened_at__gte=at).filter(Q(opened_at__gt=at) | Q(pk__gt=pk))
        ordered = qs.order_by("opened_at", "id")
    else:
        if after is not None:
            at, pk = after
            qs = qs.filter(opened_at__lte=at).filter(Q(opened_at__lt=at) | Q(pk__lt=pk))
        ordered = qs.order_by("-opened_at", "-id")
    index = "case_list_state" if state else "case_list_reason" if reason else "case_list_newest"
    ids = ids_in_index_order(ordered, index=index, limit=limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    found = Case.objects.select_related("client", "customer", "site").only(*CASE_LIST_FIELDS)
    by_id = {case.pk: case for case in found.filter(pk__in=ids)}
    rows = [by_id[pk] for pk in ids]
    if before is not None:
        return CasePage(rows[::-1], has_newer=more, has_older=True)
    return CasePage(rows, has_newer=after is not None, has_older=more)


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
    return _teams_serving(case.client_id)


def _teams_serving(client_id: int) -> QuerySet[Team]:
    return (
        Team.objects.filter(clients=client_id)
        .exclude(site__status=SiteStatus.DOWN)
        .select_related("site")
        .order_by("-is_azukari_desk", "site__code", "code")
    )


# Read by every case page and every action posted from it: compiled once.
_TEAMS_SERVING = CompiledQuery[Team](_teams_serving)


def team_list_for(case: Case) -> list[Team]:
    """`teams_for(case)` as a list, in one compiled read."""
    return _TEAMS_SERVING(case.client_id)


def desk_team_for(case: Case, actor: Viewer, *, teams: Iterable[Team] | None = None) -> Team | None:
    """The azukari desk a parked case goes to unless someone chooses: the desk of the
    actor's home site, else of the case's site, else any desk serving the client. `teams`:
    `teams_for(case)` when the caller has read it already."""
    desks = [t for t in (team_list_for(case) if teams is None else teams) if t.is_azukari_desk]
    for site_id in (getattr(actor, "home_site_id", None), case.site_id):
        for team in desks:
            if team.site_id == site_id:
                return team
    return desks[0] if desks else None


def open_cases_of(*, viewer: Viewer, customer_id: int) -> list[Case]:
    """The customer's cases still being worked, newest first, with what a caller chases:
    the open inquiry and the callbacks owed (for the pop's continuity banner), as
    `open_inquiries` and `pending_callbacks`."""
    cases = _OPEN_CASES_OF(viewer, customer_id)
    if cases:
        ids = [case.pk for case in cases]
        inquiries, callbacks = _OPEN_INQUIRIES(ids), _PENDING_CALLBACKS(ids)
        for case in cases:
            case.open_inquiries = [i for i in inquiries if i.case_id == case.pk]
            case.pending_callbacks = [c for c in callbacks if c.case_id == case.pk]
            for row in (*case.open_inquiries, *case.pending_callbacks):
                row.case = case
    return cases


# Read on every screen pop and every contact logged from it: compiled once, and read through
# the (customer, state) index, never by walking the client's open cases (see core.compiled).
_OPEN_CASES_OF = CompiledQuery[Case](
    lambda viewer, customer_id: (
        Case.objects.visible_to(viewer)
        .filter(customer_id=customer_id)
        .filter(state__in=WORKED_STATES)
        .select_related("owner_team__site", "assignee", "subscription")
        .order_by("-opened_at", "-id")
    ),
    sqlite_index="case_by_customer",
)
_OPEN_INQUIRIES = CompiledQuery[Inquiry](
    lambda case_ids: Inquiry.objects.filter(case_id__in=case_ids, status=InquiryStatus.OPEN)
)
_PENDING_CALLBACKS = CompiledQuery[Callback](
    lambda case_ids: Callback.objects.filter(
        case_id__in=case_ids, status__in=PENDING_CALLBACK
    ).order_by("scheduled_for", "id")
)


def assignees_for(case: Case) -> QuerySet[User]:
    """Center staff still employed who serve the case's client: who a case may be handed to."""
    return (
        User.objects.people()
        .filter(
            is_active=True,
            employment_status=EmploymentStatus.ACTIVE,
            clients=case.client_id,
        )
        .exclude(role=Role.CLIENT_APPROVER)
        .select_related("home_site")
        .order_by("home_site__code", "display_name", "username")
    )
