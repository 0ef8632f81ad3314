"""When the center may call a customer back: a pure function of preferences and calendars.

The customer's wishes (quiet hours, days not to call, preferred windows, public holidays or
not), the site's hours and the client's closed days decide; nothing else, and nothing here
reads the database, so the rules can be tested over thousands of random calendars.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from azukari.core.businesstime import TOKYO, is_public_holiday

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class CallWindow:
    """A stretch of the day the customer prefers, on some weekdays (0 = Monday)."""

    days: frozenset[int]
    start: dt.time
    end: dt.time

    def covers(self, start: dt.datetime, end: dt.datetime) -> bool:
        if start.weekday() not in self.days or start.date() != end.date():
            return False
        return self.start <= start.time() and end.time() <= self.end


@dataclass(frozen=True)
class ContactPreferences:
    quiet_from: dt.time | None = None
    quiet_until: dt.time | None = None
    days_off: frozenset[int] = frozenset()
    windows: tuple[CallWindow, ...] = ()
    holidays_ok: bool = False


@dataclass(frozen=True)
class CallCalendar:
    """The center's side: the site's hours per weekday and the client's closed days."""

    site_hours: Mapping[int, tuple[dt.time, dt.time]]
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)
    tz: dt.tzinfo = TOKYO


def _parse_time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def preferences_of(customer) -> ContactPreferences:
    """Reads a Customer's stored preferences; malformed windows are ignored, not guessed."""
    windows: list[CallWindow] = []
    for raw in customer.call_windows or []:
        try:
            start, end = _parse_time(raw["start"]), _parse_time(raw["end"])
            days = frozenset(int(d) for d in raw.get("days", range(7)))
        except (KeyError, TypeError, ValueError):
            continue
        if end > start and days:
            windows.append(CallWindow(days=days, start=start, end=end))
    return ContactPreferences(
        quiet_from=customer.quiet_from,
        quiet_until=customer.quiet_until,
        days_off=frozenset(int(d) for d in customer.days_off or []),
        windows=tuple(windows),
        holidays_ok=customer.holidays_ok,
    )


def _in_quiet_hours(prefs: ContactPreferences, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether [start, end) touches the quiet hours; quiet hours may run past midnight."""
    if prefs.quiet_from is None or prefs.quiet_until is None:
        return False
    if prefs.quiet_from == prefs.quiet_until:
        return False
    day = start.date()
    for offset in (-1, 0):
        quiet_day = day + dt.timedelta(days=offset)
        q_start = dt.datetime.combine(quiet_day, prefs.quiet_from, tzinfo=start.tzinfo)
        q_end_day = quiet_day if prefs.quiet_until > prefs.quiet_from else quiet_day + ONE_DAY
        q_end = dt.datetime.combine(q_end_day, prefs.quiet_until, tzinfo=start.tzinfo)
        if start < q_end and q_start < end:
            return True
    return False


def slot_refusal(
    start: dt.datetime,
    *,
    prefs: ContactPreferences,
    calendar: CallCalendar,
    minutes: int = 15,
) -> str | None:
    """Why a call starting at `start` is not allowed, or None if it is.

    The reason is a short code: `closed_day`, `holiday`, `day_off`, `site_closed`, `quiet`,
    `outside_windows`.
    """
    local = start.astimezone(calendar.tz)
    end = local + dt.timedelta(minutes=minutes)
    day = local.date()
    if day in calendar.closed_dates:
        return "closed_day"
    if is_public_holiday(day) and not prefs.holidays_ok:
        return "holiday"
    if local.weekday() in prefs.days_off:
        return "day_off"
    hours = calendar.site_hours.get(local.weekday())
    if hours is None or end.date() != day:
        return "site_closed"
    if not (hours[0] <= local.time() and end.time() <= hours[1]):
        return "site_closed"
    if _in_quiet_hours(prefs, local, end):
        return "quiet"
    if prefs.windows and not any(w.covers(local, end) for w in prefs.windows):
        return "outside_windows"
    return None


def _candidate_starts(
    day: dt.date, prefs: ContactPreferences, calendar: CallCalendar, step: dt.timedelta
) -> list[dt.datetime]:
    """Start times worth trying on one day, in order: grids from the opening time, each
    window's start and the end of quiet hours, so proposals read well ("10:00", "10:15")."""
    hours = calendar.site_hours.get(day.weekday())
    if hours is None:
        return []
    anchors = {hours[0]}
    anchors.update(w.start for w in prefs.windows if day.weekday() in w.days)
    if prefs.quiet_until is not None:
        anchors.add(prefs.quiet_until)
    starts: set[dt.datetime] = set()
    for anchor in anchors:
        start = dt.datetime.combine(day, anchor, tzinfo=calendar.tz)
        while start.date() == day:
            starts.add(start)
            start += step
    return sorted(starts)


def propose_callback_times(
    *,
    prefs: ContactPreferences,
    calendar: CallCalendar,
    after: dt.datetime,
    count: int = 3,
    minutes: int = 15,
    step_minutes: int = 15,
    gap: dt.timedelta = dt.timedelta(hours=2),
    horizon_days: int = 21,
) -> list[dt.datetime]:
    """The earliest `count` allowed call times after `after`, at least `gap` apart.

    Each one passes `slot_refusal`. Fewer than `count` (possibly none) come back when the
    horizon has no room: the caller then says so instead of calling at a forbidden time.
    """
    local_after = after.astimezone(calendar.tz)
    step = dt.timedelta(minutes=step_minutes)
    proposals: list[dt.datetime] = []
    day = local_after.date()
    for _ in range(horizon_days):
        for start in _candidate_starts(day, prefs, calendar, step):
            if start < local_after or (proposals and start - proposals[-1] < gap):
                continue
            if slot_refusal(start, prefs=prefs, calendar=calendar, minutes=minutes) is None:
                proposals.append(start)
                if len(proposals) >= count:
                    return proposals
        day += ONE_DAY
    return proposals


def calendar_of(*, site_hours: Sequence[tuple[int, dt.time, dt.time]], closed: Iterable[dt.date]):
    """Builds a CallCalendar from rows as stored (weekday, opens, closes) and closed dates."""
    return CallCalendar(
        site_hours={weekday: (opens, closes) for weekday, opens, closes in site_hours},
        closed_dates=frozenset(closed),
    )


# ---------------------------------------------------------------- reading the database


def call_calendar_for(*, client, site) -> CallCalendar:
    """The center's side of the calendar for one client at one site, from the one calendar
    builder (`azukari.org.calendars`: no site, or a site without hours, works the default)."""
    from azukari.org.calendars import business_calendar

    calendar = business_calendar(client=client, site=site)
    return CallCalendar(site_hours=calendar.hours, closed_dates=calendar.closed_dates)


def callback_proposals(*, callback, now: dt.datetime, count: int = 3) -> list[dt.datetime]:
    """Times to offer for a callback: after `now`, after the client's spacing since the last
    attempt, in the customer's windows and the owning site's hours."""
    team = callback.team
    site = team.site if team is not None else callback.case.site
    after = max(now, callback.next_attempt_not_before or now)
    return propose_callback_times(
        prefs=preferences_of(callback.customer),
        calendar=call_calendar_for(client=callback.client, site=site),
        after=after,
        count=count,
    )
