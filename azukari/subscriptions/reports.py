"""The consistency report: are exceptions decided on grounds, or on how hard customers push?

Grant rates of exception rulings over a date range by ground, by contacts before the decision,
by site and by approver; within each ground a Cochran–Armitage trend test of the grant rate
against the number of contacts flags the "squeaky wheel" pattern. Small samples say "not enough
data" instead of a verdict.
"""

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.core.spreadsheets import SafeCsvWriter
from azukari.core.visibility import Viewer
from azukari.subscriptions.models import ExceptionOutcome, ExceptionRequest
from azukari.subscriptions.policy import BuiltinGround
from azukari.subscriptions.policy.trend import (
    MIN_LEVELS,
    MIN_PER_LEVEL,
    MIN_SAMPLE,
    SIGNIFICANCE_LEVEL,
    TrendResult,
    Verdict,
    contact_trend,
)

TOP_CONTACTS = 5  # "5 or more" is one group


@dataclass(frozen=True)
class Ruling:
    """One decided exception, as the report needs it (no personal data)."""

    ground: str
    granted: bool
    contacts: int
    site: str
    approver: str


@dataclass(frozen=True)
class RulingGroup:
    """Decided exceptions sharing ground, contacts, site and approver, counted in the database."""

    ground: str
    contacts: int
    site: str
    approver: str
    decided: int
    granted: int


def _group(item: "Ruling | RulingGroup") -> RulingGroup:
    if isinstance(item, RulingGroup):
        return item
    return RulingGroup(item.ground, item.contacts, item.site, item.approver, 1, int(item.granted))


@dataclass(frozen=True)
class RateRow:
    dimension: str  # ground, contacts, site, approver
    key: str
    decided: int
    granted: int

    @property
    def rate(self) -> float | None:
        return self.granted / self.decided if self.decided else None


@dataclass(frozen=True)
class GroundTrend:
    ground: str
    result: TrendResult
    by_contacts: tuple[RateRow, ...]

    @property
    def ground_label(self) -> str:
        return ground_name(self.ground)


@dataclass(frozen=True)
class ConsistencyReport:
    date_from: dt.date
    date_to: dt.date
    rows: tuple[RateRow, ...]
    trends: tuple[GroundTrend, ...]
    alpha: float = SIGNIFICANCE_LEVEL
    min_sample: int = MIN_SAMPLE

    @property
    def flagged(self) -> list[str]:
        return [t.ground for t in self.trends if t.result.flagged]


def contacts_key(contacts: int) -> str:
    return f"{TOP_CONTACTS}+" if contacts >= TOP_CONTACTS else str(contacts)


def _rates(dimension: str, groups: Iterable[RulingGroup], key) -> list[RateRow]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for g in groups:
        c = counts[key(g)]
        c[0] += g.decided
        c[1] += g.granted
    return [
        RateRow(dimension=dimension, key=k, decided=v[0], granted=v[1])
        for k, v in sorted(counts.items())
    ]


def build_report(
    rulings: Iterable[Ruling | RulingGroup],
    *,
    date_from: dt.date,
    date_to: dt.date,
    alpha: float = SIGNIFICANCE_LEVEL,
    min_sample: int = MIN_SAMPLE,
) -> ConsistencyReport:
    """The report from plain rulings or counted groups: pure, so it can be checked on
    generated data."""
    groups = [_group(r) for r in rulings]
    rows = [
        *_rates("ground", groups, lambda g: g.ground),
        *_rates("contacts", groups, lambda g: contacts_key(g.contacts)),
        *_rates("site", groups, lambda g: g.site),
        *_rates("approver", groups, lambda g: g.approver),
    ]
    trends = []
    for ground in sorted({g.ground for g in groups}):
        levels: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for g in groups:
            if g.ground == ground:
                level = min(g.contacts, TOP_CONTACTS)
                levels[level][0] += g.decided
                levels[level][1] += g.granted
        counted = [(level, v[0], v[1]) for level, v in sorted(levels.items())]
        trends.append(
            GroundTrend(
                ground=ground,
                result=contact_trend(counted, alpha=alpha, min_sample=min_sample),
                by_contacts=tuple(
                    RateRow("contacts", contacts_key(level), n, k) for level, n, k in counted
                ),
            )
        )
    return ConsistencyReport(
        date_from=date_from,
        date_to=date_to,
        rows=tuple(rows),
        trends=tuple(trends),
        alpha=alpha,
        min_sample=min_sample,
    )


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return start, end


def consistency_report(
    *, viewer: Viewer, client_id: int, date_from: dt.date, date_to: dt.date
) -> ConsistencyReport:
    """Exception rulings of one client decided within [date_from, date_to], local dates."""
    if date_to < date_from:
        raise DomainError(_("The range ends before it starts."), field="date_to")
    start, end = _bounds(date_from, date_to)
    counted = (
        ExceptionRequest.objects.visible_to(viewer)
        .filter(
            client_id=client_id,
            outcome__in=[ExceptionOutcome.GRANTED, ExceptionOutcome.REFUSED],
            decided_at__gte=start,
            decided_at__lt=end,
        )
        .values("ground_code", "contacts_before", "site__code", "approver__username")
        .annotate(
            decided=Count("id"), granted=Count("id", filter=Q(outcome=ExceptionOutcome.GRANTED))
        )
        .order_by()
    )
    rulings = [
        RulingGroup(
            ground=row["ground_code"],
            contacts=row["contacts_before"] or 0,
            site=row["site__code"] or "",
            approver=row["approver__username"] or "",
            decided=row["decided"],
            granted=row["granted"],
        )
        for row in counted
    ]
    return build_report(rulings, date_from=date_from, date_to=date_to)


def ground_name(code: str) -> str:
    return str(BuiltinGround(code).label) if code in BuiltinGround.values else code


def verdict_text(result: TrendResult) -> str:
    return str(Verdict(result.verdict).label)


def report_csv(report: ConsistencyReport) -> str:
    """The report as CSV (UTF-8): one table, a `section` column telling rates from trends."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(
        ["section", "dimension", "key", "decided", "granted", "grant_rate", "verdict", "z", "p"]
    )
    for row in report.rows:
        writer.writerow(
            [
                "rate",
                row.dimension,
                row.key,
                row.decided,
                row.granted,
                f"{row.rate:.3f}" if row.rate is not None else "",
                "",
                "",
                "",
            ]
        )
    for trend in report.trends:
        r = trend.result
        writer.writerow(
            [
                "trend",
                "ground",
                trend.ground,
                r.n,
                sum(c.granted for c in trend.by_contacts),
                "",
                r.verdict,
                f"{r.z:.3f}" if r.z is not None else "",
                f"{r.p_value:.4f}" if r.p_value is not None else "",
            ]
        )
    return out.getvalue()


def report_text(report: ConsistencyReport) -> str:
    """A readable summary for the terminal, in the active language."""
    lines = [
        gettext("Exception consistency, %(start)s to %(end)s")
        % {"start": report.date_from.isoformat(), "end": report.date_to.isoformat()},
        gettext(
            "Trend test: Cochran–Armitage, two-sided, significance level %(alpha)s; at least "
            "%(n)d decisions per ground and %(levels)d contact counts with %(per)d or more each."
        )
        % {
            "alpha": report.alpha,
            "n": report.min_sample,
            "levels": MIN_LEVELS,
            "per": MIN_PER_LEVEL,
        },
    ]
    for row in report.rows:
        rate = f"{row.rate:.0%}" if row.rate is not None else "-"
        lines.append(f"  {row.dimension:<9} {row.key:<24} {row.granted:>5}/{row.decided:<5} {rate}")
    for trend in report.trends:
        r = trend.result
        detail = f" (z={r.z:.2f}, p={r.p_value:.4f})" if r.p_value is not None else ""
        lines.append(f"  {ground_name(trend.ground)}: {verdict_text(r)}{detail}")
    return "\n".join(lines)
