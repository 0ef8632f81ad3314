"""Background tasks: thin, idempotent, safe to run twice (delivery is at least once)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from azukari.cases.clocks import case_calendar, clocks_from_events
from azukari.cases.models import Case, CaseState
from azukari.cases.texts import SystemText
from azukari.org.calendars import business_calendar
from azukari.org.models import Site


def case_clocks_recompute(case_id: int) -> dict[str, int] | None:
    """Rebuilds a case's clocks from its event history; the result is the same every run."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("client", "site")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            return None
        calendars = {case.site_id: case_calendar(case)}

        def calendar_for(site_id: int | None):
            if site_id not in calendars:
                site = Site.objects.filter(pk=site_id).first()
                calendars[site_id] = business_calendar(client=case.client, site=site)
            return calendars[site_id]

        # Events written before sites were recorded run on the case's present site.
        events = [
            (at, to_state, data.get("site") if isinstance(data, dict) else None)
            for at, to_state, data in case.events.values_list("at", "to_state", "data")
        ]
        clocks, since = clocks_from_events(events, calendar_for, site_id=case.site_id)
        Case.objects.filter(pk=case_id).update(
            center_seconds=clocks.center,
            client_seconds=clocks.client,
            customer_seconds=clocks.customer,
            clock_since=since,
        )
    return {"center": clocks.center, "client": clocks.client, "customer": clocks.customer}


def cases_close_expired(limit: int = 1000) -> int:
    """Closes resolved cases whose reopen window has passed; already-closed ones are skipped."""
    from azukari.cases.services import case_close
    from azukari.core.errors import DomainError

    now = timezone.now()
    closed = 0
    candidates = (
        Case.objects.filter(state=CaseState.RESOLVED, resolved_at__lt=now - dt.timedelta(days=1))
        .select_related("client", "site")
        .order_by("resolved_at")[:limit]
    )
    for case in candidates:
        try:
            case_close(
                case=case,
                version=case.version,
                actor=None,
                note=SystemText("reopen_window_passed"),
            )
        except DomainError:
            continue
        closed += 1
    return closed
