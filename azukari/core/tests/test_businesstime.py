"""Business time: the seconds someone could have worked, on the client's calendar and site hours."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azukari.core.businesstime import (
    TOKYO,
    BusinessCalendar,
    add_business_seconds,
    business_seconds,
    is_public_holiday,
)
from azukari.org.models import ClientClosedDay, SiteHours, business_calendar
from azukari.testing.factories import ClientFactory, SiteFactory

HOUR = 3600
OFFICE = BusinessCalendar(hours={d: (dt.time(9), dt.time(18)) for d in range(5)})  # Mon–Fri
EVERY_DAY = BusinessCalendar(hours={d: (dt.time(9), dt.time(21)) for d in range(7)})


def tokyo(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        # Friday 17:00 → Monday 10:00: one hour each side of the weekend.
        (tokyo(2026, 6, 5, 17), tokyo(2026, 6, 8, 10), 2),
        # Golden Week: Showa Day (Wed 4/29), then 5/3–5/6 with the substitute holiday.
        (tokyo(2026, 4, 28, 17), tokyo(2026, 5, 7, 10), 1 + 9 + 9 + 1),
        # Silver Week: 9/21 Respect for the Aged, 9/22 the day between, 9/23 the equinox.
        (tokyo(2026, 9, 18, 12), tokyo(2026, 9, 24, 12), 6 + 3),
        # New Year's Day is a holiday; the 2nd is a Friday and counts (no client closing).
        (tokyo(2025, 12, 31, 17), tokyo(2026, 1, 2, 10), 1 + 1),
        # Before opening and after closing on the same day: nothing.
        (tokyo(2026, 6, 3, 6), tokyo(2026, 6, 3, 8, 59, 59), 0),
        (tokyo(2026, 6, 3, 18), tokyo(2026, 6, 3, 23), 0),
        # A whole working week.
        (tokyo(2026, 6, 1, 0), tokyo(2026, 6, 8, 0), 45),
    ],
)
def test_office_calendar_counts_exact_seconds(start, end, hours):
    assert business_seconds(start, end, OFFICE) == hours * HOUR


def test_public_holidays_of_2026_are_known():
    golden = [dt.date(2026, 4, 29), *(dt.date(2026, 5, d) for d in (3, 4, 5, 6))]
    silver = [dt.date(2026, 9, d) for d in (21, 22, 23)]
    assert all(is_public_holiday(d) for d in golden + silver)
    assert not is_public_holiday(dt.date(2026, 5, 7))
    assert not is_public_holiday(dt.date(2026, 9, 24))


def test_a_site_open_at_weekends_still_rests_on_public_holidays():
    # Sat 5/2 20:00 → Thu 5/7 09:30: one hour on Saturday, nothing 5/3–5/6, half an hour after.
    assert business_seconds(tokyo(2026, 5, 2, 20), tokyo(2026, 5, 7, 9, 30), EVERY_DAY) == 5400


def test_end_before_start_counts_nothing():
    assert business_seconds(tokyo(2026, 6, 2, 12), tokyo(2026, 6, 2, 10), OFFICE) == 0


def test_times_in_other_zones_are_read_in_tokyo():
    start = dt.datetime(2026, 6, 2, 0, 0, tzinfo=dt.UTC)  # 09:00 in Tokyo
    end = dt.datetime(2026, 6, 2, 9, 0, tzinfo=dt.UTC)  # 18:00 in Tokyo
    assert business_seconds(start, end, OFFICE) == 9 * HOUR


def test_fractions_of_seconds_add_up_exactly():
    # 10847.711437 s + two full days + 31424.288563 s is 107072 s exactly; summed as floats
    # it comes out a hair short and floors to 107071.
    start = tokyo(2026, 6, 1, 14, 59, 12) + dt.timedelta(microseconds=288_563)
    end = tokyo(2026, 6, 4, 17, 43, 44) + dt.timedelta(microseconds=288_563)
    assert business_seconds(start, end, OFFICE) == 107072


def test_client_closed_days_and_site_hours_come_from_the_database(db):
    client = ClientFactory(code="coffee")
    site = SiteFactory(code="osaka", hours=(dt.time(10), dt.time(19)))
    SiteHours.objects.filter(site=site, weekday=6).delete()  # closed on Sundays
    SiteHours.objects.filter(site=site, weekday=5).update(closes_at=dt.time(15))
    ClientClosedDay.objects.create(client=client, date=dt.date(2026, 6, 4), note="stocktaking")
    calendar = business_calendar(client=client, site=site)

    # Wed 6/3 18:00 → Mon 6/8 11:00: Wed 1h, Thu closed by the client, Fri 9h,
    # Sat 10–15 5h, Sun closed by the site, Mon 1h.
    assert business_seconds(tokyo(2026, 6, 3, 18), tokyo(2026, 6, 8, 11), calendar) == 16 * HOUR
    # Another client's closed day does not close this one.
    other = business_calendar(client=ClientFactory(code="tea"), site=site)
    assert business_seconds(tokyo(2026, 6, 4, 0), tokyo(2026, 6, 5, 0), other) == 9 * HOUR


def test_without_a_site_the_client_calendar_is_weekday_office_hours(db):
    calendar = business_calendar(client=ClientFactory(code="coffee"), site=None)
    assert business_seconds(tokyo(2026, 6, 5, 17), tokyo(2026, 6, 8, 10), calendar) == 2 * HOUR


@pytest.mark.parametrize(
    ("start", "seconds", "expected"),
    [
        (tokyo(2026, 6, 5, 17, 30), HOUR, tokyo(2026, 6, 8, 9, 30)),  # over the weekend
        (tokyo(2026, 4, 28, 17, 30), HOUR, tokyo(2026, 4, 30, 9, 30)),  # over Showa Day
        (tokyo(2026, 5, 1, 17), 2 * HOUR, tokyo(2026, 5, 7, 10)),  # over Golden Week
        (tokyo(2026, 9, 18, 20), 16 * HOUR, tokyo(2026, 9, 25, 16)),  # over Silver Week
        (tokyo(2026, 6, 2, 12), 0, tokyo(2026, 6, 2, 12)),
        (tokyo(2026, 6, 2, 20), 0, tokyo(2026, 6, 3, 9)),  # due times fall inside hours
    ],
)
def test_add_business_seconds_skips_closed_time(start, seconds, expected):
    assert add_business_seconds(start, seconds, OFFICE) == expected


def test_a_calendar_that_never_opens_has_no_due_time():
    with pytest.raises(ValueError, match="horizon"):
        add_business_seconds(tokyo(2026, 6, 1), 60, BusinessCalendar(hours={}))


CALENDARS = st.sampled_from(
    [
        OFFICE,
        EVERY_DAY,
        BusinessCalendar(
            hours={
                **{d: (dt.time(10), dt.time(19)) for d in range(5)},
                5: (dt.time(10), dt.time(15)),
            },
            closed_dates=frozenset({dt.date(2026, 6, 4), dt.date(2026, 12, 29)}),
        ),
    ]
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(TOKYO)
)


@settings(max_examples=150, deadline=None)
@given(calendar=CALENDARS, start=MOMENTS, seconds=st.integers(0, 200 * HOUR))
def test_adding_then_counting_gives_back_the_seconds(calendar, start, seconds):
    due = add_business_seconds(start, seconds, calendar)
    assert due >= start
    assert business_seconds(start, due, calendar) == seconds
    if seconds:
        # And it is the first such moment: a microsecond earlier is not enough.
        assert business_seconds(start, due - dt.timedelta(microseconds=1), calendar) < seconds


@settings(max_examples=150, deadline=None)
@given(
    calendar=CALENDARS,
    start=MOMENTS,
    length=st.timedeltas(dt.timedelta(0), dt.timedelta(days=40)),
)
def test_counting_then_adding_lands_within_the_interval(calendar, start, length):
    end = start + length
    counted = business_seconds(start, end, calendar)
    due = add_business_seconds(start, counted, calendar)
    assert business_seconds(start, due, calendar) == counted
    if counted:
        assert start < due <= end
        assert business_seconds(due, end, calendar) == 0  # less than a second was left over


@settings(max_examples=150, deadline=None)
@given(
    calendar=CALENDARS,
    start=MOMENTS,
    a=st.timedeltas(dt.timedelta(0), dt.timedelta(days=20)),
    b=st.timedeltas(dt.timedelta(0), dt.timedelta(days=20)),
)
def test_counting_is_additive_within_a_second(calendar, start, a, b):
    whole = business_seconds(start, start + a + b, calendar)
    parts = business_seconds(start, start + a, calendar) + business_seconds(
        start + a, start + a + b, calendar
    )
    assert parts <= whole <= parts + 1
