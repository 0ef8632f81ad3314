"""Business time for many cases at once: the calendars of every (client, site) on a board, and
the business seconds of whole hours and days, worked out once per calendar and reused for
every case (the backlog board's running clocks and its lists)."""

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

from azukari.cases.models import Case
from azukari.cases.statemachine import CLOCK_OF_STATE
from azukari.cases.tallies import DayPrice
from azukari.core.businesstime import BusinessCalendar, business_seconds
from azukari.org.calendars import business_calendars

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)


def calendars_for(client_ids: Iterable[int], site_ids: Iterable[int]):
    """Every (client, site) calendar a board needs, from the one builder (two queries)."""
    return business_calendars(client_ids, site_ids)


class HourTable:
    """For each UTC hour from a clock's start to now: (business seconds inside that hour up to
    now, business seconds from the hour's end to now). Japan's offset is whole hours, so every
    UTC hour lies in one local day."""

    def __init__(self, calendar: BusinessCalendar, since: dt.datetime, now: dt.datetime):
        self.current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        first = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        self.whole = _whole_hours(_calendar_key(calendar), first, self.current)
        # This hour so far: the only part that moves between two reads in the same hour.
        self.now_inside = _inside(calendar, self.current, now)

    def get(self, hour: dt.datetime) -> tuple[int, int]:
        if hour == self.current:
            return self.now_inside, 0
        inside, after = self.whole.get(hour, (0, -1))
        return (0, 0) if after < 0 else (inside, after + self.now_inside)


def _calendar_key(calendar: BusinessCalendar) -> tuple:
    return (tuple(sorted(calendar.hours.items())), calendar.closed_dates, calendar.tz)


def _inside(calendar: BusinessCalendar, hour: dt.datetime, end: dt.datetime) -> int:
    interval = calendar.working_interval(hour.astimezone(calendar.tz).date())
    if not interval:
        return 0
    lo, hi = max(interval[0], hour), min(interval[1], end)
    return max(0, int((hi - lo).total_seconds()))


@lru_cache(maxsize=64)  # a few (client, site) calendars, each a few thousand hours
def _whole_hours(
    key: tuple, first: dt.datetime, current: dt.datetime
) -> dict[dt.datetime, tuple[int, int]]:
    """The whole hours before `current`, which a board reloaded within the hour reads again.
    Keyed by the calendar's content: an edited calendar is a new entry, never a stale one."""
    hours, closed_dates, tz = key
    calendar = BusinessCalendar(hours=dict(hours), closed_dates=closed_dates, tz=tz)
    table: dict[dt.datetime, tuple[int, int]] = {}
    hour, after = current - HOUR, 0
    while hour >= first:
        inside = _inside(calendar, hour, hour + HOUR)
        table[hour] = (inside, after)
        after += inside
        hour -= HOUR
    return table


def hour_seconds(inside: int, n: int, offset: int) -> int:
    """The part inside one hour of `n` clocks that started `offset` seconds into it (summed),
    where `inside` seconds of the hour are business time: linear in the hour, so exact for
    hours wholly inside or outside working time; rounded half to even in integers, as the
    database prices the tallies' hours (`tallies.priced_clock_sums`)."""
    q, r = divmod(inside * (3600 * n - offset), 3600)
    return q + (r > 1800 or (r == 1800 and q % 2 == 1))


def day_prices(
    calendar: BusinessCalendar, first: dt.datetime, now: dt.datetime
) -> tuple[DayPrice, ...]:
    """Every local day from the one holding `first` to today, for the hours before now's."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = first.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return _day_prices(_calendar_key(calendar), first, current)


def now_inside(calendar: BusinessCalendar, now: dt.datetime) -> int:
    """Business seconds of the current hour up to `now`."""
    return _inside(calendar, now.astimezone(UTC).replace(minute=0, second=0, microsecond=0), now)


@lru_cache(maxsize=64)
def _day_prices(key: tuple, first: dt.datetime, current: dt.datetime) -> tuple[DayPrice, ...]:
    hours, closed_dates, tz = key
    calendar = BusinessCalendar(hours=dict(hours), closed_dates=closed_dates, tz=tz)
    day = current.astimezone(tz).date()
    first_day = first.astimezone(tz).date()
    prices: list[DayPrice] = []
    after = 0
    while day >= first_day:
        start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)
        interval = calendar.working_interval(day)
        opens, closes = [int((t - start).total_seconds()) for t in interval] if interval else (0, 0)
        until = min(closes, int((current - start).total_seconds()))
        last = min(start + dt.timedelta(hours=23), current - HOUR)
        if last >= start:
            prices.append(
                DayPrice(
                    first_hour=start.strftime("%Y-%m-%d %H"),
                    last_hour=last.strftime("%Y-%m-%d %H"),
                    start_hour=start.hour,
                    opens=opens,
                    closes=closes,
                    rest_until=until,
                    after=after,
                )
            )
        after += max(0, until - opens)
        day -= dt.timedelta(days=1)
    return tuple(prices)


class ClockPricer:
    """Live clocks for many cases: the business time of the whole days after a case's clock
    started is worked out once per calendar and day, then reused for every case."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self._after: dict[tuple[int, dt.date], dt.timedelta] = {}

    def _days_after(self, calendar: BusinessCalendar, day: dt.date) -> dt.timedelta:
        key = (id(calendar), day)
        if key not in self._after:
            local_now = self.now.astimezone(calendar.tz)
            total = dt.timedelta(0)
            current = day + dt.timedelta(days=1)
            while current <= local_now.date():
                interval = calendar.working_interval(current)
                if interval and min(interval[1], local_now) > interval[0]:
                    total += min(interval[1], local_now) - interval[0]
                current += dt.timedelta(days=1)
            self._after[key] = total
        return self._after[key]

    def running(self, since: dt.datetime, calendar: BusinessCalendar) -> int:
        """Equal to business_seconds(since, now, calendar), summed exactly and floored once."""
        if since >= self.now:
            return 0
        local_since = since.astimezone(calendar.tz)
        day = local_since.date()
        if day == self.now.astimezone(calendar.tz).date():
            return business_seconds(since, self.now, calendar)
        interval = calendar.working_interval(day)
        part = dt.timedelta(0)
        if interval and interval[1] > max(interval[0], local_since):
            part = interval[1] - max(interval[0], local_since)
        return (part + self._days_after(calendar, day)) // dt.timedelta(seconds=1)

    def clocks(self, case: Case, calendar: BusinessCalendar) -> tuple[int, int, int]:
        totals = {
            "center": case.center_seconds,
            "client": case.client_seconds,
            "customer": case.customer_seconds,
        }
        clock = CLOCK_OF_STATE.get(case.state)
        if clock and case.clock_since:
            totals[clock] += self.running(case.clock_since, calendar)
        return totals["center"], totals["client"], totals["customer"]
