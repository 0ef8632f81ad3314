"""Times a test may promise a callback for: the scheduler's own answer, never a guess.

A promise goes through the callback scheduler (the customer's windows, days off, public
holidays, the site's hours), so "tomorrow, same time" is refused at night or on a holiday.
"""

import datetime as dt

from django.utils import timezone

from azukari.cases.scheduling import call_calendar_for, preferences_of, propose_callback_times


def callable_time(case, *, after: dt.datetime | None = None, site=None) -> dt.datetime:
    """The first time after `after` (default: a day from now) the center may call the case's
    customer from `site` (default: the case's owning team's site, else the case's site)."""
    if site is None:
        site = case.owner_team.site if case.owner_team_id else case.site
    after = after or timezone.now() + dt.timedelta(days=1)
    times = propose_callback_times(
        prefs=preferences_of(case.customer),
        calendar=call_calendar_for(client=case.client, site=site),
        after=after,
        count=1,
    )
    assert times, "no callable time in the scheduler's horizon"
    return times[0]
