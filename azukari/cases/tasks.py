"""Background tasks: thin, idempotent, safe to run twice (delivery is at least once)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from azukari.cases.clocks import case_calendar, clocks_from_history
from azukari.cases.models import Case, CaseState


def case_clocks_recompute(case_id: int) -> dict[str, int] | None:
    """Rebuilds a case's clocks from its event history; the result is the same every run."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update()
            .select_related("client", "site")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            return None
        history = list(case.events.exclude(to_state="").values_list("at", "from_state", "to_state"))
        clocks, since = clocks_from_history(history, case_calendar(case))
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
            case_close(case=case, version=case.version, actor=None, note="reopen window passed")
        except DomainError:
            continue
        closed += 1
    return closed
