"""Business time: the client's calendar (public holidays, closed days) and the site's hours.

Clocks of a case count only the seconds in which someone could have worked on it.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TOKYO = ZoneInfo("Asia/Tokyo")
ONE_DAY = dt.timedelta(days=1)
ONE_SECOND = dt.timedelta(seconds=1)
# A business day as durations are shown to people ("3 business days 4 h"): 9 business hours,
# the length of the default site day (9:00-18:00, see azukari.org.calendars). Clocks count
# business seconds on each site's own calendar; this only converts them for reading.
BUSINESS_DAY_SECONDS = 9 * 3600


def business_days_and_hours(seconds: int) -> tuple[int, int, int]:
    """Business seconds as (business days, hours, minutes), each floored."""
    days, rest = divmod(max(0, int(seconds)), BUSINESS_DAY_SECONDS)
    hours, rest = divmod(rest, 3600)
    return days, hours, rest // 60


@lru_cache(maxsize=64)
def japanese_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("JP", years=year).keys())


def is_public_holiday(day: dt.date) -> bool:
    return day in japanese_holidays(day.year)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday (0 = Monday) and the dates on which nobody works."""

    hours: Mapping[int, tuple[dt.time, dt.time]]
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)
    tz: ZoneInfo = TOKYO

    def is_working_day(self, day: dt.date) -> bool:
        return (
            day.weekday() in self.hours
            and day not in self.closed_dates
            and not is_public_holiday(day)
        )

    def working_interval(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        if not self.is_working_day(day):
            return None
        opens, closes = self.hours[day.weekday()]
        start = dt.datetime.combine(day, opens, tzinfo=self.tz)
        end = dt.datetime.combine(day, closes, tzinfo=self.tz)
        return (start, end) if end > start else None


ALWAYS_OPEN = BusinessCalendar(hours={d: (dt.time(0), dt.time(23, 59, 59)) for d in range(7)})


def business_seconds(start: dt.datetime, end: dt.datetime, calendar: BusinessCalendar) -> int:
    """Whole seconds between start and end that fall inside the calendar's working hours.

    Summed as timedeltas (exact to the microsecond) and floored once, so that splitting an
    interval never gains a second through floating-point error.
    """
    if end <= start:
        return 0
    local_start = start.astimezone(calendar.tz)
    local_end = end.astimezone(calendar.tz)
    total = dt.timedelta(0)
    day = local_start.date()
    while day <= local_end.date():
        interval = calendar.working_interval(day)
        if interval:
            lo = max(interval[0], local_start)
            hi = min(interval[1], local_end)
            if hi > lo:
                total += hi - lo
        day += ONE_DAY
    return total // ONE_SECOND


def add_business_seconds(
    start: dt.datetime, seconds: int, calendar: BusinessCalendar, *, horizon_days: int = 366
) -> dt.datetime:
    """The moment, inside working hours, at which `seconds` of working time have passed."""
    remaining = dt.timedelta(seconds=seconds)
    local = start.astimezone(calendar.tz)
    day = local.date()
    for _ in range(horizon_days):
        interval = calendar.working_interval(day)
        if interval:
            lo = max(interval[0], local)
            if interval[1] > lo:
                available = interval[1] - lo
                if remaining <= available:
                    return lo + remaining
                remaining -= available
        day += ONE_DAY
    raise ValueError("no working time within the horizon")
