"""Reads of cases shared by pages and the API, always through the visibility door."""

from django.db.models import Prefetch, QuerySet

from azukari.cases.models import AZUKARI_STATES, Case, CaseEvent
from azukari.core.visibility import Viewer, get_visible


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
