"""What "due" and "overdue" mean, once, for callbacks, inquiries and cases.

The backlog board, the callbacks list, the API and the reports all filter through these
expressions, so a count on one page and a list on another can never disagree.

- A **callback** is due when its time has come: the time it is scheduled for, or else the time
  promised to the customer. A callback still to schedule with no promised time is neither due
  nor overdue: it is "to schedule" (someone has to find the customer a time). It is overdue
  once its time is more than `CALLBACK_GRACE` past: the length of one call slot of the callback
  scheduler, so a call placed within the slot the customer was promised is on time.
- An **inquiry** is overdue while it is open and its answer due time has passed (the due time
  is already the client's deadline: no grace).
- A **case** is overdue while it is an open azukari and its due time has passed, or it owes
  the customer a callback whose promised time is more than `CALLBACK_GRACE` past.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from azukari.cases.models import (
    AZUKARI_STATES,
    Callback,
    CallbackStatus,
    Case,
    CaseState,
    Inquiry,
    InquiryStatus,
)
from azukari.core.visibility import Viewer

# One call slot of the callback scheduler (`scheduling.slot_refusal`'s default length).
CALLBACK_GRACE = dt.timedelta(minutes=15)
OPEN_CALLBACK_STATUSES = (CallbackStatus.TO_SCHEDULE, CallbackStatus.SCHEDULED)


# ---------------------------------------------------------------- callbacks


def callback_due_time() -> Coalesce:
    """A callback's due time: scheduled, else promised; none for one still to schedule."""
    return Coalesce("scheduled_for", "promised_for")


def with_due(callbacks: QuerySet[Callback]) -> QuerySet[Callback]:
    """Open callbacks with their due time as `due` (null: to schedule, no time promised)."""
    return callbacks.filter(status__in=OPEN_CALLBACK_STATUSES).annotate(due=callback_due_time())


def callback_due_q(now: dt.datetime) -> Q:
    """On a queryset from `with_due`: the time has come (overdue ones included)."""
    return Q(due__lte=now)


def callback_overdue_q(now: dt.datetime) -> Q:
    """On a queryset from `with_due`: the time is more than the grace past."""
    return Q(due__lt=now - CALLBACK_GRACE)


def callbacks_overdue(callbacks: QuerySet[Callback], *, now: dt.datetime) -> QuerySet[Callback]:
    return with_due(callbacks).filter(callback_overdue_q(now))


# ---------------------------------------------------------------- inquiries


def inquiry_overdue_q(now: dt.datetime, *, prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": InquiryStatus.OPEN, f"{prefix}due_at__lt": now})


def inquiries_overdue(inquiries: QuerySet[Inquiry], *, now: dt.datetime) -> QuerySet[Inquiry]:
    return inquiries.filter(inquiry_overdue_q(now))


def inquiry_is_overdue(inquiry: Inquiry, *, now: dt.datetime) -> bool:
    return inquiry.status == InquiryStatus.OPEN and inquiry.due_at < now


# ---------------------------------------------------------------- cases


def case_overdue_q(now: dt.datetime) -> Q:
    return Q(state__in=AZUKARI_STATES, due_at__lt=now) | Q(
        state=CaseState.CALLBACK_DUE, promised_callback_at__lt=now - CALLBACK_GRACE
    )


def cases_overdue(cases: QuerySet[Case], *, now: dt.datetime) -> QuerySet[Case]:
    return cases.filter(case_overdue_q(now))


def cases_overdue_count(cases: QuerySet[Case], *, now: dt.datetime) -> int:
    """`cases_overdue(cases, now=now).count()`, as two counts that the (client, state, due_at)
    index answers alone: the OR of the two conditions made the database read every open
    azukari row (a board load at a million customers spent half a second on it)."""
    return cases.filter(state__in=AZUKARI_STATES, due_at__lt=now).count() + _owed_count(cases, now)


def cases_overdue_count_tallied(
    *, viewer: Viewer, lookups: Mapping[str, Any], now: dt.datetime
) -> int:
    """`cases_overdue_count` of the open azukari a viewer sees, filtered on client, site and
    state only: the cases past their due time counted from the due tallies, which a board at a
    million customers reads in a few hundred rows instead of every overdue case."""
    from azukari.cases import tallies

    cases = Case.objects.visible_to(viewer).filter(state__in=AZUKARI_STATES, **lookups)
    return tallies.late_count(viewer=viewer, lookups=lookups, now=now) + _owed_count(cases, now)


def _owed_count(cases: QuerySet[Case], now: dt.datetime) -> int:
    """Callbacks promised more than a slot ago, of cases not already past their due time."""
    return (
        cases.filter(state=CaseState.CALLBACK_DUE, promised_callback_at__lt=now - CALLBACK_GRACE)
        .exclude(due_at__lt=now)  # counted as late (a null due time stays in)
        .count()
    )


def case_is_overdue(case: Case, *, now: dt.datetime) -> bool:
    if case.state not in AZUKARI_STATES:
        return False
    if case.due_at is not None and case.due_at < now:
        return True
    return bool(
        case.state == CaseState.CALLBACK_DUE
        and case.promised_callback_at is not None
        and case.promised_callback_at < now - CALLBACK_GRACE
    )
