"""The three waiting clocks of a case, in business time.

Stored totals run up to `clock_since`; the running part is added when read. A recompute from
the event history gives the same totals, so the worker can repair them idempotently.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from azukari.cases.statemachine import CENTER, CLIENT, CLOCK_OF_STATE, CUSTOMER
from azukari.core.businesstime import BusinessCalendar, business_seconds
from azukari.org.calendars import business_calendar


@dataclass(frozen=True)
class Clocks:
    center: int = 0
    client: int = 0
    customer: int = 0

    @property
    def total(self) -> int:
        return self.center + self.client + self.customer

    def plus(self, clock: str | None, seconds: int) -> "Clocks":
        if clock is None or seconds <= 0:
            return self
        return Clocks(
            center=self.center + (seconds if clock == CENTER else 0),
            client=self.client + (seconds if clock == CLIENT else 0),
            customer=self.customer + (seconds if clock == CUSTOMER else 0),
        )


def case_calendar(case) -> BusinessCalendar:
    return business_calendar(client=case.client, site=case.site)


def clocks_from_history(
    transitions: Iterable[tuple[dt.datetime, str, str]], calendar: BusinessCalendar
) -> tuple[Clocks, dt.datetime | None]:
    """Totals up to the last transition, and when the clock now running started (if any)."""
    clocks = Clocks()
    since: dt.datetime | None = None
    running: str | None = None
    for at, _from_state, to_state in transitions:
        if running and since:
            clocks = clocks.plus(running, business_seconds(since, at, calendar))
        running = CLOCK_OF_STATE.get(to_state)
        since = at if running else None
    return clocks, since


def clocks_from_events(
    events: Iterable[tuple[dt.datetime, str, int | None]],
    calendar_for: Callable[[int | None], BusinessCalendar],
    *,
    site_id: int | None = None,
) -> tuple[Clocks, dt.datetime | None]:
    """Like `clocks_from_history`, with each stretch counted on the hours of its own site.

    Events are (at, to_state, site): a state change (to_state set), a move to another site
    (site set), or both. A move to another site splits the running stretch; anything else that
    names the same site does not, so that no second is lost to rounding.
    """
    clocks = Clocks()
    since: dt.datetime | None = None
    state: str | None = None
    for at, to_state, event_site in events:
        moves_site = event_site is not None and event_site != site_id
        if not to_state and not moves_site:
            continue
        running = CLOCK_OF_STATE.get(state) if state else None
        if running and since:
            clocks = clocks.plus(running, business_seconds(since, at, calendar_for(site_id)))
        if event_site is not None:
            site_id = event_site
        state = to_state or state
        since = at if CLOCK_OF_STATE.get(state) else None
    return clocks, since


def live_clocks(case, *, now: dt.datetime, calendar: BusinessCalendar | None = None) -> Clocks:
    """The case's clocks as of `now`, including the one still running."""
    clocks = Clocks(case.center_seconds, case.client_seconds, case.customer_seconds)
    running = CLOCK_OF_STATE.get(case.state)
    if running and case.clock_since:
        calendar = calendar or case_calendar(case)
        clocks = clocks.plus(running, business_seconds(case.clock_since, now, calendar))
    return clocks
