"""The backlog board (預かり管理): open azukari by age, state, reason, site, client and owner.

Every figure is aggregated in the database, so the number of queries does not grow with the
number of cases. Filtered by client, site and state only (the default board), the figures come
from the backlog tallies that the database keeps per day and hour (azukari.cases.tallies);
filtered by team, reason or age, from a GROUP BY over the open cases. Both give the same board.
The running part of each waiting clock is summed per (client, site, state, hour it started) and
priced with each calendar's hourly business seconds (`backlog_clocks`), computed once per
calendar rather than once per case. The time to close of the last 30 days comes from the
closing tallies (`kpis.time_to_close_tallied`, docs/kpis.md): a row per day and key, not every
case resolved in the month.
"""

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from azukari.cases import overdue, tallies
from azukari.cases.models import (
    AZUKARI_STATES,
    AzukariReason,
    Callback,
    Case,
    CaseState,
    Contact,
    Inquiry,
)
from azukari.cases.statemachine import CLOCK_OF_STATE
from azukari.core.businesstime import (
    BUSINESS_DAY_SECONDS,
    TOKYO,
    is_public_holiday,
)
from azukari.core.dbrouting import replica_reads
from azukari.core.spreadsheets import SafeCsvWriter, xlsx_row
from azukari.core.visibility import Viewer
from azukari.org.models import Client, Site, Team
from azukari.org.people import staff_label
from azukari.org.permissions import Cap, page_for
from azukari.reports import kpis
from azukari.reports.selectors import backlog_by_day
from azukari.subscriptions.selectors import cancellations_overdue
from azukari.web.pages.backlog_clocks import (
    ClockPricer,
    HourTable,
    calendars_for,
    day_prices,
    hour_seconds,
    now_inside,
)

PAGE_SIZE = 25
PANEL_ROWS = 10
CLOSE_WINDOW = dt.timedelta(days=30)  # time to close (whole Japan-time days) and self-service


@dataclass(frozen=True)
class Bucket:
    code: str
    label: str
    min_days: int  # business days, inclusive
    max_days: int | None  # exclusive


BUCKETS = (
    Bucket("lt1", _("Under 1 business day"), 0, 1),
    Bucket("1to3", _("1–3 business days"), 1, 3),
    Bucket("3to7", _("3–7 business days"), 3, 7),
    Bucket("gt7", _("Over 7 business days"), 7, None),
)
BUCKET_CODES = {b.code for b in BUCKETS}


def business_days_ago(now: dt.datetime, days: int) -> dt.datetime:
    """The instant `days` working days (Japanese calendar, Monday to Friday) before `now`."""
    local = now.astimezone(TOKYO)
    counted = 0
    while counted < days:
        local -= dt.timedelta(days=1)
        day = local.date()
        if day.weekday() < 5 and not is_public_holiday(day):
            counted += 1
    return local


def bucket_q(bucket: str, now: dt.datetime) -> Q:
    """The cases of one age bucket, by when they were first parked."""
    b = next(b for b in BUCKETS if b.code == bucket)
    q = Q()
    if b.min_days:
        q &= Q(parked_at__lte=business_days_ago(now, b.min_days))
    if b.max_days is not None:
        q &= Q(parked_at__gt=business_days_ago(now, b.max_days))
    return q


def bucket_edges(now: dt.datetime) -> dict[str, tallies.Edges]:
    """Each bucket as (after, up to) on the first-parked time, the same cut as bucket_q."""
    return {
        b.code: (
            business_days_ago(now, b.max_days) if b.max_days is not None else None,
            business_days_ago(now, b.min_days) if b.min_days else None,
        )
        for b in BUCKETS
    }


# ---------------------------------------------------------------- filters


@dataclass
class Filters:
    client: int | None = None
    site: int | None = None
    team: int | None = None
    state: str = ""
    reason: str = ""
    bucket: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Filters":
        def as_int(name: str) -> int | None:
            value = request.GET.get(name, "")
            return int(value) if value.isdigit() else None

        state = request.GET.get("state", "")
        reason = request.GET.get("reason", "")
        bucket = request.GET.get("bucket", "")
        return cls(
            client=as_int("client"),
            site=as_int("site"),
            team=as_int("team"),
            state=state if state in AZUKARI_STATES else "",
            reason=reason if reason in AzukariReason.values else "",
            bucket=bucket if bucket in BUCKET_CODES else "",
        )

    def apply(self, qs: QuerySet, now: dt.datetime, *, prefix: str = "") -> QuerySet:
        lookups = {}
        if self.client:
            lookups[f"{prefix}client_id"] = self.client
        if self.site:
            lookups[f"{prefix}site_id"] = self.site
        if self.team:
            lookups[f"{prefix}owner_team_id"] = self.team
        if self.state:
            lookups[f"{prefix}state"] = self.state
        if self.reason:
            lookups[f"{prefix}azukari_reason"] = self.reason
        qs = qs.filter(**lookups)
        if self.bucket and not prefix:
            qs = qs.filter(bucket_q(self.bucket, now))
        return qs

    @property
    def tallied(self) -> bool:
        """The tallies are keyed by client, site and state; other filters need the cases."""
        return not (self.team or self.reason or self.bucket)

    def tally_lookups(self) -> dict[str, object]:
        lookups: dict[str, object] = {}
        if self.client:
            lookups["client_id"] = self.client
        if self.site:
            lookups["site_id"] = self.site
        if self.state:
            lookups["state"] = self.state
        return lookups

    def closing_lookups(self) -> dict[str, object]:
        """The closing tallies' keys for the time to close (state and age do not apply)."""
        lookups: dict[str, object] = {}
        if self.client:
            lookups["client_id"] = self.client
        if self.site:
            lookups["site_id"] = self.site
        if self.team:
            lookups["team_id"] = self.team
        if self.reason:
            lookups["azukari_reason"] = self.reason
        return lookups

    def query(self, **overrides) -> str:
        """The filters as a query string, with some replaced (for click-through links)."""
        from django.utils.http import urlencode

        values = {
            "client": self.client or "",
            "site": self.site or "",
            "team": self.team or "",
            "state": self.state,
            "reason": self.reason,
            "bucket": self.bucket,
        }
        values.update(overrides)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def closing_since(now: dt.datetime) -> dt.date:
    """The first day of the board's time to close: today and the days before it in Japan
    time, CLOSE_WINDOW in all (the closing tallies are kept per Japan-time day)."""
    return now.astimezone(TOKYO).date() - dt.timedelta(days=CLOSE_WINDOW.days - 1)


def open_azukari(viewer: Viewer) -> QuerySet[Case]:
    return Case.objects.visible_to(viewer).filter(state__in=AZUKARI_STATES)


# ---------------------------------------------------------------- the board's figures


@dataclass
class Row:
    """One line of a breakdown: counts per bucket and the three clocks (seconds)."""

    key: object
    label: str
    buckets: dict[str, int] = field(default_factory=lambda: {b.code: 0 for b in BUCKETS})
    count: int = 0
    center: int = 0
    client: int = 0
    customer: int = 0
    query: str = ""
    links: list = field(default_factory=list)

    @property
    def total_seconds(self) -> int:
        return self.center + self.client + self.customer

    @property
    def average_seconds(self) -> int:
        return self.total_seconds // self.count if self.count else 0

    @property
    def average_center(self) -> int:
        return self.center // self.count if self.count else 0

    @property
    def average_client(self) -> int:
        return self.client // self.count if self.count else 0

    @property
    def average_customer(self) -> int:
        return self.customer // self.count if self.count else 0

    @property
    def bucket_counts(self) -> list[tuple[str, int]]:
        return [(b.code, self.buckets[b.code]) for b in BUCKETS]


@dataclass
class Breakdown:
    dimension: str
    title: str
    param: str
    rows: dict[object, Row] = field(default_factory=dict)

    def row(self, key: object, label: str) -> Row:
        if key not in self.rows:
            self.rows[key] = Row(key=key, label=label)
        return self.rows[key]

    @property
    def sorted_rows(self) -> list[Row]:
        return sorted(self.rows.values(), key=lambda r: (-r.count, str(r.label), str(r.key)))


def _bucket_aggregates(now: dt.datetime) -> dict[str, Count]:
    return {f"b_{b.code}": Count("id", filter=bucket_q(b.code, now)) for b in BUCKETS}


@dataclass
class Board:
    total: Row
    by: dict[str, Breakdown]
    aging: dict[str, dict[str, int]]  # bucket → state → count


def backlog_board(
    *, viewer: Viewer, filters: Filters, now: dt.datetime, from_tallies: bool | None = None
) -> Board:
    """The counts by every dimension, and the running clocks by the hour they started: from the
    tallies when the filters allow (`from_tallies` None chooses), else from the open cases."""
    if from_tallies is None:
        from_tallies = filters.tallied
    if from_tallies and not filters.tallied:
        raise ValueError("The tallies do not know teams, reasons or ages.")
    if from_tallies:
        lookups = filters.tally_lookups()
        groups = _with_names(
            tallies.backlog_groups(viewer=viewer, lookups=lookups, buckets=bucket_edges(now))
        )
        running = tallies.current_hour_clocks(viewer=viewer, lookups=lookups, now=now)
        return _board_of(groups, running, now, _priced_whole_hours(viewer, lookups, now))
    base = filters.apply(open_azukari(viewer), now)
    return _board_of(_scanned_groups(base, now), _scanned_running(base, now), now)


@dataclass
class Priced:
    """The tallies' whole hours priced in the database, and the calendars that priced them."""

    sums: list[tuple[int, int, str, int, int]]
    calendar: object = None


def _priced_whole_hours(viewer: Viewer, lookups: dict, now: dt.datetime) -> Priced:
    starts = tallies.clock_starts(viewer=viewer, lookups=lookups, now=now)
    if not starts:
        return Priced(sums=[])
    calendar = calendars_for({c for c, _s in starts}, {s for _c, s in starts})
    prices = {key: day_prices(calendar(*key), first, now) for key, first in starts.items()}
    sums = tallies.priced_clock_sums(viewer=viewer, lookups=lookups, prices=prices)
    return Priced(sums=sums, calendar=calendar)


def _scanned_groups(base: QuerySet[Case], now: dt.datetime) -> list[dict]:
    return list(
        base.order_by()
        .values(
            "client_id",
            "client__name",
            "site_id",
            "site__name",
            "owner_team_id",
            "owner_team__name",
            "owner_team__site__name",
            "state",
            "azukari_reason",
        )
        .annotate(
            n=Count("id"),
            center=Sum("center_seconds"),
            client_s=Sum("client_seconds"),
            customer=Sum("customer_seconds"),
            **_bucket_aggregates(now),
        )
    )


def _with_names(groups: list[dict]) -> list[dict]:
    """The tallies hold ids: one query per kind of name, whatever the number of groups."""
    if not groups:
        return groups
    clients = dict(
        Client.objects.filter(pk__in={g["client_id"] for g in groups}).values_list("pk", "name")
    )
    sites = dict(
        Site.objects.filter(pk__in={g["site_id"] for g in groups}).values_list("pk", "name")
    )
    team_ids = {g["owner_team_id"] for g in groups} - {None}
    teams = {
        pk: (name, site)
        for pk, name, site in Team.objects.filter(pk__in=team_ids).values_list(
            "pk", "name", "site__name"
        )
    }
    for g in groups:
        g["client__name"] = clients.get(g["client_id"])
        g["site__name"] = sites.get(g["site_id"])
        g["owner_team__name"], g["owner_team__site__name"] = teams.get(
            g["owner_team_id"], (None, None)
        )
    return groups


def _board_of(
    groups: list[dict], running: list[tuple], now: dt.datetime, priced: Priced | None = None
) -> Board:
    state_labels = dict(CaseState.choices)
    reason_labels = dict(AzukariReason.choices)
    breakdowns = {
        "state": Breakdown("state", gettext("By state"), "state"),
        "reason": Breakdown("reason", gettext("By reason"), "reason"),
        "site": Breakdown("site", gettext("By site"), "site"),
        "client": Breakdown("client", gettext("By client"), "client"),
        "team": Breakdown("team", gettext("By owning team"), "team"),
    }
    total = Row(key=None, label=gettext("All open azukari"))
    aging: dict[str, dict[str, int]] = {b.code: defaultdict(int) for b in BUCKETS}
    # Where each (client, site, state)'s running clocks go: the rows that hold all of that
    # key's cases, and each (team, reason) group with its number of cases.
    shares: dict[tuple, Share] = {}
    for g in groups:
        keys = {
            "state": (g["state"], state_labels.get(g["state"], g["state"])),
            "reason": (g["azukari_reason"], reason_labels.get(g["azukari_reason"], "—")),
            "site": (g["site_id"], g["site__name"]),
            "client": (g["client_id"], g["client__name"]),
            "team": (
                g["owner_team_id"],
                team_label(g["owner_team__name"], g["owner_team__site__name"]),
            ),
        }
        rows = [total] + [breakdowns[d].row(*keys[d]) for d in breakdowns]
        for row in rows:
            row.count += g["n"]
            row.center += g["center"] or 0
            row.client += g["client_s"] or 0
            row.customer += g["customer"] or 0
            for b in BUCKETS:
                row.buckets[b.code] += g[f"b_{b.code}"]
        for b in BUCKETS:
            aging[b.code][g["state"]] += g[f"b_{b.code}"]
        share = shares.setdefault((g["client_id"], g["site_id"], g["state"]), Share())
        row_of = {d: breakdowns[d].rows[keys[d][0]] for d in breakdowns}
        for row in (total, row_of["state"], row_of["site"], row_of["client"]):
            if not any(r is row for r in share.whole):  # the same row, not an equal one
                share.whole.append(row)
        # Keyed by team and reason: the split must not depend on the order rows come in.
        key = (g["owner_team_id"] or 0, g["azukari_reason"] or "")
        share.parts.append((g["n"], [row_of["reason"], row_of["team"]], key))
    _add_running_clocks(running, now, shares, priced or Priced(sums=[]))
    return Board(total=total, by=breakdowns, aging={k: dict(v) for k, v in aging.items()})


@dataclass
class Share:
    """The rows one (client, site, state)'s running clocks are added to: whole to the rows
    that hold all its cases; shared by number of cases among its (team, reason) groups, whose
    split of the running clocks the tallies do not keep."""

    whole: list[Row] = field(default_factory=list)
    parts: list[tuple[int, list[Row], tuple]] = field(default_factory=list)

    def add(self, clock: str, seconds: int) -> None:
        for row in self.whole:
            setattr(row, clock, getattr(row, clock) + seconds)
        cases = sum(n for n, _rows, _key in self.parts)
        if not cases:
            return
        # Largest remainder: the parts add up to `seconds` exactly, so every table's total
        # (and so its average over the same cases) is the same.
        exact = [(seconds * n, i) for i, (n, _rows, _key) in enumerate(self.parts)]
        given = [q // cases for q, _i in exact]
        left = seconds - sum(given)
        keys = [key for _n, _rows, key in self.parts]
        for _q, i in sorted(exact, key=lambda e: (-(e[0] % cases), keys[e[1]]))[:left]:
            given[i] += 1
        for amount, (_n, rows, _key) in zip(given, self.parts, strict=True):
            for row in rows:
                setattr(row, clock, getattr(row, clock) + amount)


def team_label(name: str | None, site_name: str | None) -> str:
    """A team as people tell teams apart: every site has its azukari desk."""
    if name is None:
        return gettext("No team")
    return f"{site_name} / {name}" if site_name else name


def _scanned_running(base: QuerySet[Case], now: dt.datetime) -> list[tuple]:
    """Every hour's clocks in the shape of `tallies.current_hour_clocks`, from the cases."""
    hour, offset = tallies.clock_hour_and_offset()
    running = (
        base.filter(clock_since__isnull=False, clock_since__lt=now)
        .order_by()
        .annotate(hour=hour)
        .values("client_id", "site_id", "state", "hour")
        .annotate(n=Count("id"), offset=Sum(offset))
    )
    return [
        (
            g["client_id"],
            g["site_id"],
            g["state"],
            tallies.parse_hour(g["hour"]),
            g["n"],
            int(g["offset"] or 0),
        )
        for g in running
    ]


def _add_running_clocks(
    groups: list[tuple], now: dt.datetime, shares: dict[tuple, Share], priced: Priced
) -> None:
    """A case's age is its stored clocks plus its running clock, in business time up to `now`
    on its (client, site) calendar; the running part is priced per UTC hour it started in.
    `groups` are `(client_id, site_id, state, hour, n, offset)`; `priced` holds hours the
    database has priced already, short of the current hour's business time."""
    if not groups and not priced.sums:
        return
    keys = {g[:2] for g in groups} | {p[:2] for p in priced.sums}
    calendar = priced.calendar
    if calendar is None or not keys <= {p[:2] for p in priced.sums}:
        calendar = calendars_for({k[0] for k in keys}, {k[1] for k in keys})
    earliest: dict[tuple[int, int], dt.datetime] = {}
    for client_id, site_id, _state, hour, _n, _offset in groups:
        key = (client_id, site_id)
        if key not in earliest or hour < earliest[key]:
            earliest[key] = hour
    tables = {key: HourTable(calendar(*key), since, now) for key, since in earliest.items()}
    # Summed per (client, site, state) first: a board has thousands of hours, a few such keys.
    added: dict[tuple, int] = defaultdict(int)
    for client_id, site_id, state, hour, n, offset in groups:
        inside, after = tables[(client_id, site_id)].get(hour)
        added[(client_id, site_id, state)] += n * after + hour_seconds(inside, n, offset)
    this_hour = {key: now_inside(calendar(*key), now) for key in {p[:2] for p in priced.sums}}
    for client_id, site_id, state, n, seconds in priced.sums:
        added[(client_id, site_id, state)] += seconds + n * this_hour[(client_id, site_id)]
    for key, seconds in added.items():
        if key in shares:
            shares[key].add(CLOCK_OF_STATE[key[2]], seconds)


# ---------------------------------------------------------------- overdue panels


def overdue_inquiries(*, viewer: Viewer, filters: Filters, now: dt.datetime) -> QuerySet[Inquiry]:
    qs = overdue.inquiries_overdue(Inquiry.objects.visible_to(viewer), now=now)
    return (
        filters.apply(qs, now, prefix="case__")
        .select_related("client", "case", "case__site")
        .order_by("due_at", "id")
    )


def overdue_callbacks(*, viewer: Viewer, filters: Filters, now: dt.datetime) -> QuerySet:
    qs = overdue.callbacks_overdue(Callback.objects.visible_to(viewer), now=now)
    return (
        filters.apply(qs, now, prefix="case__")
        .select_related("client", "case", "case__site", "team__site", "assignee")
        .order_by("due", "id")
    )


# ---------------------------------------------------------------- trend


@replica_reads()
def backlog_trend(*, viewer: Viewer, days: int = 30) -> list[dict]:
    """Open azukari at the end of each of the last `days` days: the monthly report's daily
    table reads the same function (reports.selectors.backlog_by_day)."""
    days = max(1, min(days, 366))
    today = timezone.localdate()
    rows = backlog_by_day(
        viewer=viewer, start=today - dt.timedelta(days=days - 1), end=today + dt.timedelta(days=1)
    )
    return [{"date": day.isoformat(), "open": n} for day, n in rows]


# ---------------------------------------------------------------- pages


def _choices(viewer):
    visible = viewer.visible_client_ids()
    return {
        "clients": Client.objects.filter(pk__in=visible).order_by("code"),
        "sites": Site.objects.order_by("code"),
        "teams": Team.objects.filter(clients__in=visible)
        .select_related("site")
        .distinct()
        .order_by("site", "code"),
        "states": [(s, CaseState(s).label) for s in CaseState.values if s in AZUKARI_STATES],
        "reasons": AzukariReason.choices,
        "buckets": BUCKETS,
    }


@require_GET
@login_required
@page_for(Cap.BACKLOG_VIEW)
def backlog(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    filters = Filters.from_request(request)
    board = backlog_board(viewer=request.user, filters=filters, now=now)
    inquiries = overdue_inquiries(viewer=request.user, filters=filters, now=now)
    callbacks = overdue_callbacks(viewer=request.user, filters=filters, now=now)
    cancellations = cancellations_overdue(
        viewer=request.user, client_id=filters.client, site_id=filters.site
    )
    trend = backlog_trend(viewer=request.user, days=30)
    # The case KPIs from the one module the monthly report and the API read.
    if filters.tallied:
        overdue_count = kpis.overdue_cases_tallied(
            viewer=request.user, lookups=filters.tally_lookups(), now=now
        )
    else:
        overdue_count = kpis.overdue_cases(filters.apply(open_azukari(request.user), now), now=now)
    closing = kpis.time_to_close_tallied(
        viewer=request.user,
        since_day=closing_since(now),
        lookups=filters.closing_lookups(),
    )
    # Calls, and apart from them what customers did online, over the same window.
    contacts = Contact.objects.visible_to(request.user).filter(
        started_at__gte=now - CLOSE_WINDOW, started_at__lt=now
    )
    if filters.client:
        contacts = contacts.filter(client_id=filters.client)
    if filters.site:
        contacts = contacts.filter(site_id=filters.site)
    online = kpis.online_contacts(contacts)
    for breakdown in board.by.values():
        for row in breakdown.rows.values():
            key = row.key if row.key not in (None, "") else ""
            row.query = filters.query(**{breakdown.param: key})
            row.links = [
                (code, n, filters.query(**{breakdown.param: key, "bucket": code}))
                for code, n in row.bucket_counts
            ]
    board.total.links = [
        (code, n, filters.query(bucket=code)) for code, n in board.total.bucket_counts
    ]
    state_labels = dict(CaseState.choices)
    chart = {
        "trend": {
            "labels": [p["date"][5:] for p in trend],
            "values": [p["open"] for p in trend],
            "label": gettext("Open azukari"),
        },
        "aging": {
            "labels": [str(b.label) for b in BUCKETS],
            "datasets": [
                {
                    "label": str(state_labels[s]),
                    "data": [board.aging[b.code].get(s, 0) for b in BUCKETS],
                }
                for s in CaseState.values
                if s in AZUKARI_STATES
            ],
        },
    }
    context = {
        "board": board,
        "filters": filters,
        "inquiries": inquiries[:PANEL_ROWS],
        "inquiry_count": inquiries.count(),
        "callbacks": callbacks[:PANEL_ROWS],
        "callback_count": callbacks.count(),
        "cancellations": cancellations[:PANEL_ROWS],
        "cancellation_count": len(cancellations),
        "overdue_count": overdue_count,
        "time_to_close": closing,
        "online_contacts": online,
        "close_window_days": CLOSE_WINDOW.days,
        "chart": chart,
        "now": now,
        "business_day_hours": BUSINESS_DAY_SECONDS // 3600,
        **_choices(request.user),
    }
    return render(request, "web/backlog/board.html", context)


LISTS = {
    "azukari": _("Open azukari"),
    "inquiries": _("Overdue inquiries"),
    "callbacks": _("Overdue callbacks"),
    "cancellations": _("Overdue cancellation requests"),
}


def _list_rows(kind: str, viewer, filters: Filters, now: dt.datetime):
    """(header, queryset or list, row function) for one list; rows hold no personal data."""
    if kind == "inquiries":
        qs = overdue_inquiries(viewer=viewer, filters=filters, now=now)
        header = [
            gettext("Inquiry"),
            gettext("Case"),
            gettext("Client"),
            gettext("Site"),
            gettext("Sent at"),
            gettext("Due at"),
            gettext("Reminded at"),
            gettext("Escalated at"),
        ]

        def row(i: Inquiry) -> list:
            return [
                i.pk,
                i.case_id,
                i.client.name,
                i.case.site.name,
                _local(i.sent_at),
                _local(i.due_at),
                _local(i.reminded_at),
                _local(i.escalated_at),
            ]

        return header, qs, row
    if kind == "callbacks":
        qs = overdue_callbacks(viewer=viewer, filters=filters, now=now)
        header = [
            gettext("Callback"),
            gettext("Case"),
            gettext("Client"),
            gettext("Site"),
            gettext("Status"),
            gettext("Due at"),
            gettext("Team"),
            gettext("Assignee"),
            gettext("Attempts"),
        ]

        def row(c: Callback) -> list:
            return [
                c.pk,
                c.case_id,
                c.client.name,
                c.case.site.name,
                c.get_status_display(),
                _local(c.due),
                str(c.team) if c.team else "",
                staff_label(viewer, c.assignee) or gettext("Not assigned"),
                c.attempts,
            ]

        return header, qs, row
    if kind == "cancellations":
        items = cancellations_overdue(viewer=viewer, client_id=filters.client, site_id=filters.site)
        header = [
            gettext("Request"),
            gettext("Case"),
            gettext("First asked on"),
            gettext("Days so far"),
            gettext("Limit (days)"),
        ]

        def row(t) -> list:
            return [
                t.request_id,
                t.case_id,
                t.first_requested_on.isoformat(),
                t.days_to_decision,
                t.limit_days,
            ]

        return header, items, row
    qs = (
        filters.apply(open_azukari(viewer), now)
        .select_related("client", "site", "owner_team__site", "assignee")
        .order_by("parked_at", "id")
    )
    header = [
        gettext("Case"),
        gettext("Subject"),
        gettext("Client"),
        gettext("Site"),
        gettext("State"),
        gettext("Reason"),
        gettext("Owning team"),
        gettext("Assignee"),
        gettext("First parked at"),
        gettext("Due at"),
        gettext("Center's time (h)"),
        gettext("Client's time (h)"),
        gettext("Customer's time (h)"),
    ]
    calendar = None
    pricer = ClockPricer(now)

    def row(c: Case) -> list:
        nonlocal calendar
        if calendar is None:
            calendar = calendars_for(
                viewer.visible_client_ids(), Site.objects.values_list("pk", flat=True)
            )
        clocks = pricer.clocks(c, calendar(c.client_id, c.site_id))
        return [
            c.pk,
            c.subject,
            c.client.name,
            c.site.name,
            c.get_state_display(),
            c.get_azukari_reason_display(),
            str(c.owner_team) if c.owner_team else "",
            staff_label(viewer, c.assignee) or gettext("Not assigned"),
            _local(c.parked_at),
            _local(c.due_at),
            round(clocks[0] / 3600, 1),
            round(clocks[1] / 3600, 1),
            round(clocks[2] / 3600, 1),
        ]

    return header, qs, row


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_stream(header: list, items, row) -> Iterator[str]:
    writer = SafeCsvWriter(_Echo())
    yield "\ufeff"  # the BOM makes Excel read UTF-8
    yield writer.writerow(header)
    iterable = items.iterator(chunk_size=2000) if isinstance(items, QuerySet) else items
    for item in iterable:
        yield writer.writerow(row(item))


def _xlsx(header: list, items, row, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    iterable = items.iterator(chunk_size=2000) if isinstance(items, QuerySet) else items
    for item in iterable:
        sheet.append(xlsx_row(sheet, row(item)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@require_GET
@login_required
@page_for(Cap.BACKLOG_VIEW)
def backlog_list(request: HttpRequest, kind: str) -> HttpResponse:
    """Click-through from the board; `?format=csv` or `xlsx` exports the whole list."""
    if kind not in LISTS:
        raise Http404
    now = timezone.now()
    filters = Filters.from_request(request)
    header, items, row = _list_rows(kind, request.user, filters, now)
    export = request.GET.get("format", "")
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    if export == "csv":
        response = StreamingHttpResponse(
            _csv_stream(header, items, row), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="backlog-{kind}-{stamp}.csv"'
        return response
    if export == "xlsx":
        response = HttpResponse(
            _xlsx(header, items, row, kind),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="backlog-{kind}-{stamp}.xlsx"'
        return response
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "kind": kind,
        "title": LISTS[kind],
        "header": header,
        "rows": [row(item) for item in page],
        "page": page,
        "filters": filters,
        "query": filters.query(),
        **_choices(request.user),
    }
    return render(request, "web/backlog/list.html", context)
