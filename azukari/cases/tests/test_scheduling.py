"""Callback times respect the customer: windows, quiet hours, days off, holidays, closed days."""

import datetime as dt

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from azukari.cases.scheduling import (
    CallCalendar,
    CallWindow,
    ContactPreferences,
    propose_callback_times,
    slot_refusal,
)
from azukari.core.businesstime import TOKYO, is_public_holiday

times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
weekdays = st.frozensets(st.integers(0, 6))


@st.composite
def windows(draw):
    start = draw(st.integers(6 * 4, 21 * 4))  # quarter hours
    length = draw(st.integers(2, 16))
    end = min(start + length, 24 * 4 - 1)
    as_time = lambda q: dt.time(q // 4, (q % 4) * 15)  # noqa: E731
    return CallWindow(days=draw(weekdays.filter(bool)), start=as_time(start), end=as_time(end))


preferences = st.builds(
    ContactPreferences,
    quiet_from=st.none() | times,
    quiet_until=st.none() | times,
    days_off=st.frozensets(st.integers(0, 6), max_size=5),
    windows=st.lists(windows(), max_size=3).map(tuple),
    holidays_ok=st.booleans(),
)


@st.composite
def calendars(draw):
    hours = {}
    for weekday in draw(st.frozensets(st.integers(0, 6), min_size=1)):
        opens = draw(st.integers(6, 12))
        closes = draw(st.integers(opens + 1, 23))
        hours[weekday] = (dt.time(opens), dt.time(closes))
    start = dt.date(2026, 4, 25)  # Golden Week ahead: many public holidays
    closed = draw(st.frozensets(st.integers(0, 30).map(lambda d: start + dt.timedelta(days=d))))
    return CallCalendar(site_hours=hours, closed_dates=closed)


instants = st.datetimes(min_value=dt.datetime(2026, 4, 25), max_value=dt.datetime(2026, 5, 20)).map(
    lambda d: d.replace(tzinfo=TOKYO)
)


def in_quiet(prefs: ContactPreferences, t: dt.datetime, minutes: int) -> bool:
    """Independent check: walk the call minute by minute against the quiet span."""
    if (
        prefs.quiet_from is None
        or prefs.quiet_until is None
        or prefs.quiet_from == prefs.quiet_until
    ):
        return False
    for m in range(minutes):
        now = (t + dt.timedelta(minutes=m)).time()
        if prefs.quiet_from < prefs.quiet_until:
            if prefs.quiet_from <= now < prefs.quiet_until:
                return True
        elif now >= prefs.quiet_from or now < prefs.quiet_until:
            return True
    return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefs=preferences, calendar=calendars(), after=instants)
def test_proposals_never_fall_in_quiet_hours_days_off_holidays_or_closed_days(
    prefs, calendar, after
):
    proposals = propose_callback_times(prefs=prefs, calendar=calendar, after=after, minutes=15)
    assert proposals == sorted(proposals)
    for t in proposals:
        local = t.astimezone(TOKYO)
        end = local + dt.timedelta(minutes=15)
        assert local >= after
        assert local.date() not in calendar.closed_dates
        assert prefs.holidays_ok or not is_public_holiday(local.date())
        assert local.weekday() not in prefs.days_off
        opens, closes = calendar.site_hours[local.weekday()]
        assert opens <= local.time() and end.time() <= closes and end.date() == local.date()
        assert not in_quiet(prefs, local, 15)
        if prefs.windows:
            assert any(
                local.weekday() in w.days and w.start <= local.time() and end.time() <= w.end
                for w in prefs.windows
            )


@settings(max_examples=100, deadline=None)
@given(calendar=calendars(), after=instants)
@example(  # open on Fridays only, and each Friday of the three weeks closed: no slot at all
    calendar=CallCalendar(
        site_hours={4: (dt.time(6), dt.time(7))},
        closed_dates=frozenset({dt.date(2026, 5, 1), dt.date(2026, 5, 8), dt.date(2026, 5, 15)}),
    ),
    after=dt.datetime(2026, 4, 25, tzinfo=TOKYO),
)
def test_a_customer_without_wishes_gets_the_first_open_quarter_hour(calendar, after):
    prefs = ContactPreferences(holidays_ok=True)
    proposals = propose_callback_times(prefs=prefs, calendar=calendar, after=after, count=1)
    # None at all is right only when the three weeks searched hold no allowed slot (a site
    # open one day a week, closed on each of those days, has none).
    horizon = dt.datetime.combine(
        after.astimezone(TOKYO).date() + dt.timedelta(days=21), dt.time(), tzinfo=TOKYO
    )
    first = proposals[0] if proposals else horizon
    # Nothing allowed lies between `after` and the first proposal on the quarter-hour grid.
    probe = after.replace(second=0, microsecond=0)
    while probe < first:
        if probe >= after and probe.minute % 15 == 0:
            assert slot_refusal(probe, prefs=prefs, calendar=calendar) is not None
        probe += dt.timedelta(minutes=15 - probe.minute % 15 or 15)


def test_story_customer_is_not_called_on_his_day_off_or_in_the_evening():
    """He works weekdays, is off on Wednesdays, and wants calls 19:00-20:30, not after 20:00."""
    prefs = ContactPreferences(
        quiet_from=dt.time(20),
        quiet_until=dt.time(8),
        days_off=frozenset({2}),
        windows=(CallWindow(days=frozenset(range(7)), start=dt.time(19), end=dt.time(20, 30)),),
    )
    calendar = CallCalendar(site_hours={d: (dt.time(9), dt.time(21)) for d in range(7)})
    tuesday_noon = dt.datetime(2026, 6, 2, 12, tzinfo=TOKYO)
    proposals = propose_callback_times(prefs=prefs, calendar=calendar, after=tuesday_noon)
    assert [p.strftime("%a %H:%M") for p in proposals] == [
        "Tue 19:00",
        "Thu 19:00",
        "Fri 19:00",
    ]
    wednesday = dt.datetime(2026, 6, 3, 19, tzinfo=TOKYO)
    assert slot_refusal(wednesday, prefs=prefs, calendar=calendar) == "day_off"
    late = dt.datetime(2026, 6, 4, 19, 50, tzinfo=TOKYO)
    assert slot_refusal(late, prefs=prefs, calendar=calendar) == "quiet"


def test_public_holiday_only_when_the_customer_agreed():
    calendar = CallCalendar(site_hours={d: (dt.time(9), dt.time(18)) for d in range(7)})
    childrens_day = dt.datetime(2026, 5, 5, 10, tzinfo=TOKYO)
    assert slot_refusal(childrens_day, prefs=ContactPreferences(), calendar=calendar) == "holiday"
    assert (
        slot_refusal(childrens_day, prefs=ContactPreferences(holidays_ok=True), calendar=calendar)
        is None
    )
    closed = CallCalendar(
        site_hours=calendar.site_hours, closed_dates=frozenset({childrens_day.date()})
    )
    assert (
        slot_refusal(childrens_day, prefs=ContactPreferences(holidays_ok=True), calendar=closed)
        == "closed_day"
    )
