"""The key figures of the center, defined once (docs/kpis.md) and read by the backlog board,
the monthly client report and the API.

Every function takes querysets that already went through the door (`visible_to(viewer)`) and
the filters of its caller (client, site, period), so a figure on the board and the same figure
in the report are computed by the same code over the same rows.
"""

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery

from azukari.cases import overdue
from azukari.cases.models import (
    AZUKARI_STATES,
    CLOSING_BUCKETS,
    CLOSING_SUB_BUCKETS,
    CLOSING_UNIT_SECONDS,
    Case,
    CaseState,
    ClosingTally,
    Contact,
    Direction,
    Inquiry,
)
from azukari.cases.statemachine import CLOCK_OF_STATE
from azukari.core.businesstime import business_seconds
from azukari.core.visibility import Viewer
from azukari.org.calendars import business_calendars

SETTLED_STATES = (CaseState.RESOLVED, CaseState.CLOSED)


@dataclass(frozen=True)
class Ratio:
    """`part` of `whole`; `percent` is None when there is nothing to count."""

    part: int
    whole: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.part / self.whole, 1) if self.whole else None


@dataclass(frozen=True)
class Ages:
    """Average business seconds per azukari, split by whose turn it was."""

    cases: int
    center: int | None
    client: int | None
    customer: int | None

    @property
    def total(self) -> int | None:
        if not self.cases:
            return None
        return (self.center or 0) + (self.client or 0) + (self.customer or 0)


@dataclass(frozen=True)
class TimeToClose:
    """Elapsed seconds from opening to resolution of the azukari resolved in a period.
    `median_within`: how far the median may be from the exact one (0: it is exact; None: it
    is at least `median`, past the closing tallies' last bucket edge)."""

    cases: int
    mean: int | None
    median: int | None
    median_within: int | None = 0


@dataclass(frozen=True)
class Sla:
    """Cases with a due time: settled by it (met), settled after it or still open past it
    (missed). Open cases whose due time has not come yet are not counted."""

    met: int
    missed_settled: int
    missed_open: int

    @property
    def ratio(self) -> Ratio:
        return Ratio(self.met, self.met + self.missed_settled + self.missed_open)


@dataclass(frozen=True)
class ClientResponse:
    """The client's answers to the inquiries sent in a period (elapsed seconds)."""

    sent: int
    answered: int
    on_time: int
    mean: int | None

    @property
    def on_time_ratio(self) -> Ratio:
        return Ratio(self.on_time, self.sent)


@dataclass(frozen=True)
class Channels:
    """The contacts of a period by channel: inbound calls (offered, answered, mean handle
    time in seconds) and, apart from them, what customers did on the self-service pages."""

    offered: int
    answered: int
    handle: int | None
    online: int

    @property
    def abandoned(self) -> int:
        return self.offered - self.answered

    @property
    def answer_rate(self) -> Ratio:
        return Ratio(self.answered, self.offered)


def contacts_by_channel(contacts: QuerySet[Contact]) -> Channels:
    """Inbound calls and self-service acts (`online` contacts) among `contacts`: a request a
    customer recorded online is counted apart, never as a call."""
    row = contacts.aggregate(
        offered=Count("pk", filter=Q(direction=Direction.INBOUND)),
        answered=Count("pk", filter=Q(direction=Direction.INBOUND, answered_at__isnull=False)),
        handle=Avg(
            F("ended_at") - F("answered_at"),
            filter=Q(
                direction=Direction.INBOUND, answered_at__isnull=False, ended_at__isnull=False
            ),
        ),
        online=Count("pk", filter=Q(direction=Direction.ONLINE)),
    )
    handle = row["handle"]
    if isinstance(handle, dt.timedelta):
        handle = handle.total_seconds()
    return Channels(
        offered=row["offered"],
        answered=row["answered"],
        handle=None if handle is None else int(handle),
        online=row["online"],
    )


def online_contacts(contacts: QuerySet[Contact]) -> int:
    """What customers did on the self-service pages among `contacts`. The board shows this
    alone: counting every call of a month on each load would cost seconds at scale."""
    return contacts.filter(direction=Direction.ONLINE).count()


def _first_channel() -> Subquery:
    """The direction of the contact a case was opened from (its earliest contact)."""
    return Subquery(
        Contact.objects.filter(case=OuterRef("pk"))
        .order_by("started_at", "pk")
        .values("direction")[:1]
    )


def opened_online(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases a customer opened on the self-service pages (their first contact is `online`)."""
    return cases.annotate(first_channel=_first_channel()).filter(first_channel=Direction.ONLINE)


def opened_on_calls(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases opened on a call (or with no contact on record): what the call-based KPIs count."""
    return cases.annotate(first_channel=_first_channel()).filter(
        Q(first_channel__isnull=True) | ~Q(first_channel=Direction.ONLINE)
    )


def cases_opened(
    cases: QuerySet[Case], *, since: dt.datetime, until: dt.datetime
) -> QuerySet[Case]:
    return cases.filter(opened_at__gte=since, opened_at__lt=until)


def first_contact_resolution(cases: QuerySet[Case]) -> Ratio:
    """Cases resolved on the call that opened them (never parked, never reopened), of the
    cases opened on calls: a request recorded online is not a call."""
    row = opened_on_calls(cases).aggregate(
        whole=Count("pk"),
        part=Count(
            "pk", filter=Q(parked_at__isnull=True, resolved_at__isnull=False, reopen_count=0)
        ),
    )
    return Ratio(row["part"], row["whole"])


def azukari_rate(cases: QuerySet[Case]) -> Ratio:
    """Cases opened on calls that became an azukari (were parked at least once)."""
    row = opened_on_calls(cases).aggregate(
        whole=Count("pk"), part=Count("pk", filter=Q(parked_at__isnull=False))
    )
    return Ratio(row["part"], row["whole"])


def average_ages(cases: QuerySet[Case], *, now: dt.datetime) -> Ages:
    """The azukari among `cases`: stored clocks plus the running one up to `now`, in business
    time on each case's site hours and client calendar, averaged per case and clock."""
    rows = list(
        cases.filter(parked_at__isnull=False)
        .order_by()
        .values_list(
            "client_id",
            "site_id",
            "state",
            "clock_since",
            "center_seconds",
            "client_seconds",
            "customer_seconds",
        )
    )
    if not rows:
        return Ages(cases=0, center=None, client=None, customer=None)
    calendar = business_calendars({r[0] for r in rows}, {r[1] for r in rows})
    totals = {"center": 0, "client": 0, "customer": 0}
    for client_id, site_id, state, since, center, client, customer in rows:
        totals["center"] += center
        totals["client"] += client
        totals["customer"] += customer
        clock = CLOCK_OF_STATE.get(state)
        if clock and since is not None:
            totals[clock] += business_seconds(since, now, calendar(client_id, site_id))
    n = len(rows)
    return Ages(
        cases=n,
        center=totals["center"] // n,
        client=totals["client"] // n,
        customer=totals["customer"] // n,
    )


def time_to_close(cases: QuerySet[Case], *, since: dt.datetime, until: dt.datetime) -> TimeToClose:
    """The azukari among `cases` resolved in [since, until): resolved_at − opened_at."""
    durations = sorted(
        (resolved - opened).total_seconds()
        for opened, resolved in cases.filter(
            parked_at__isnull=False, resolved_at__gte=since, resolved_at__lt=until
        )
        .order_by()
        .values_list("opened_at", "resolved_at")
    )
    if not durations:
        return TimeToClose(cases=0, mean=None, median=None)
    return TimeToClose(
        cases=len(durations),
        mean=int(statistics.fmean(durations)),
        median=int(statistics.median(durations)),
    )


def closing_bucket(seconds: float) -> int:
    """The closing tally's bucket of a time to close (migration 0014 computes the same in SQL):
    tenths of an hour m below 32, then 16 per doubling of m, then one for the longest."""
    m = max(int(seconds), 0) // CLOSING_UNIT_SECONDS
    doubling = max(0, m.bit_length() - CLOSING_SUB_BUCKETS.bit_length())
    return min(CLOSING_SUB_BUCKETS * doubling + (m >> doubling), CLOSING_BUCKETS - 1)


def closing_bucket_edges(bucket: int) -> tuple[int, int]:
    """(lower edge, width) of a bucket in seconds; the last bucket has no upper edge (0)."""
    doubling = max(0, bucket // CLOSING_SUB_BUCKETS - 1)
    lower = (bucket - CLOSING_SUB_BUCKETS * doubling) << doubling
    width = 0 if bucket == CLOSING_BUCKETS - 1 else 1 << doubling
    return lower * CLOSING_UNIT_SECONDS, width * CLOSING_UNIT_SECONDS


def _histogram_median(counts: list[int]) -> tuple[int, int | None]:
    """The median read from bucket counts, and the most it can be off: each middle value is
    placed evenly inside its bucket, so it is off by less than that bucket's width, and the
    median by less than the mean of the two widths (at most 6 minutes plus a sixteenth of the
    median). Past the last edge nothing bounds it: the edge, and None."""
    total = sum(counts)

    def at(rank: int) -> tuple[float, int | None]:
        before = 0
        for bucket, n in enumerate(counts):
            if before + n > rank:
                lower, width = closing_bucket_edges(bucket)
                if bucket == CLOSING_BUCKETS - 1:
                    return lower, None
                return lower + width * (rank - before + 0.5) / n, width
            before += n
        raise ValueError(rank)

    (low, w1), (high, w2) = at((total - 1) // 2), at(total // 2)
    if w2 is None:  # the upper middle value at least the last edge, the lower one at least
        # its bucket's lower edge
        lower = closing_bucket_edges(closing_bucket(low))[0] if w1 is not None else low
        return int((lower + high) / 2), None
    return int((low + high) / 2), -(-(w1 + w2) // 2)


_CLOSING_SUMS = "SELECT sum(n), sum(micros), {} FROM ".format(
    ", ".join(f"sum(h{i})" for i in range(CLOSING_BUCKETS))
)


def time_to_close_tallied(
    *, viewer, since_day: dt.date, lookups: dict[str, object] | None = None
) -> TimeToClose:
    """The time to close of the azukari resolved on `since_day` (Japan time) or later, from
    the closing tallies (a row per key and day, whatever the number of cases): the count and
    mean are exact; the median is read from the tallies' histogram, within `median_within`
    seconds of the exact one (at most 6 minutes plus a sixteenth of it; None past 3,276.8 h,
    where it is a lower bound). docs/kpis.md says how it relates to the report's figure.

    `lookups` filter on client_id, site_id, team_id (0: no owning team) and azukari_reason."""
    rows = (
        ClosingTally.objects.visible_to(viewer)
        .filter(resolved_day__gte=since_day.isoformat(), **(lookups or {}))
        .values_list("id")
        .order_by()
    )
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # a viewer who sees no client
        return TimeToClose(cases=0, mean=None, median=None)
    # The door's rows, summed in one row: the ORM writes the WHERE (195 Sum() would take it
    # longer to write than the database to read them), the sums are written once here.
    table = connection.ops.quote_name(ClosingTally._meta.db_table)
    select, found, where = sql.partition(f" FROM {table} WHERE ")
    if found and select.startswith("SELECT ") and " FROM " not in select:
        sql = f"{_CLOSING_SUMS}{table} WHERE {where}"
    else:  # a shape this does not know: sum over the rows as a subquery
        sql = f"{_CLOSING_SUMS}(SELECT * FROM {table} WHERE id IN ({sql})) closings"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        n, micros, *counts = cursor.fetchone()
    if not n:
        return TimeToClose(cases=0, mean=None, median=None)
    median, within = _histogram_median([int(c or 0) for c in counts])
    whole, _rest = divmod(abs(int(micros)), int(n) * 1_000_000)  # toward zero, as int() does
    return TimeToClose(
        cases=int(n),
        mean=whole if micros >= 0 else -whole,
        median=median,
        median_within=within,
    )


def sla_compliance(cases: QuerySet[Case], *, now: dt.datetime) -> Sla:
    """Among `cases` with a due time: settled on time, settled late, open past due now."""
    row = cases.filter(due_at__isnull=False).aggregate(
        met=Count(
            "pk",
            filter=Q(
                state__in=SETTLED_STATES, resolved_at__isnull=False, resolved_at__lte=F("due_at")
            ),
        ),
        late=Count(
            "pk",
            filter=Q(state__in=SETTLED_STATES, resolved_at__gt=F("due_at")),
        ),
        open_late=Count("pk", filter=Q(state__in=AZUKARI_STATES, due_at__lt=now)),
    )
    return Sla(met=row["met"], missed_settled=row["late"], missed_open=row["open_late"])


def overdue_cases(cases: QuerySet[Case], *, now: dt.datetime) -> int:
    """Open azukari overdue now, as `cases.overdue` defines it (due time passed, or a promised
    callback more than one call slot late)."""
    return overdue.cases_overdue_count(cases, now=now)


def overdue_cases_tallied(*, viewer: Viewer, lookups: dict[str, Any], now: dt.datetime) -> int:
    """`overdue_cases` of the open azukari a viewer sees, filtered on client, site and state
    only: read from the due tallies (the backlog board's default views)."""
    return overdue.cases_overdue_count_tallied(viewer=viewer, lookups=lookups, now=now)


def client_response(inquiries: QuerySet[Inquiry]) -> ClientResponse:
    """Inquiries: how many, answered, answered by their due time, mean time to the answer."""
    rows = list(inquiries.order_by().values_list("sent_at", "due_at", "answered_at"))
    answered = [(sent, due, at) for sent, due, at in rows if at is not None]
    mean = (
        int(statistics.fmean((at - sent).total_seconds() for sent, _due, at in answered))
        if answered
        else None
    )
    return ClientResponse(
        sent=len(rows),
        answered=len(answered),
        on_time=sum(1 for _sent, due, at in answered if at <= due),
        mean=mean,
    )


@dataclass(frozen=True)
class CaseKpis:
    """The case figures of one client (and site) over a period, as of `now`."""

    opened: int
    opened_online: int
    first_contact: Ratio
    azukari: Ratio
    ages: Ages
    time_to_close: TimeToClose
    sla: Sla
    overdue: int
    client_response: ClientResponse


def case_kpis(
    *,
    cases: QuerySet[Case],
    inquiries: QuerySet[Inquiry],
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> CaseKpis:
    """Every case figure from the viewer's (already filtered) cases and inquiries: the cases
    opened in [since, until) for rates, ages and SLA; those resolved in it for time to close;
    the inquiries sent in it for the client's response; overdue counts every open case now.
    First-contact resolution and the azukari rate count the cases opened on calls only."""
    opened = cases_opened(cases, since=since, until=until)
    online = opened_online(opened).count()
    fcr = first_contact_resolution(opened)
    return CaseKpis(
        opened=fcr.whole + online,
        opened_online=online,
        first_contact=fcr,
        azukari=azukari_rate(opened),
        ages=average_ages(opened, now=now),
        time_to_close=time_to_close(cases, since=since, until=until),
        sla=sla_compliance(opened, now=now),
        overdue=overdue_cases(cases, now=now),
        client_response=client_response(inquiries.filter(sent_at__gte=since, sent_at__lt=until)),
    )
