"""The business calendar: the one builder every clock, board, scheduler and report reads, and
the services that edit a client's closed days and a site's hours.

Both feed every clock and every callback proposal, so they change only through these
services, which refuse what would make the calendar say nonsense.

A site with no opening hours recorded (a new site whose hours are not entered yet) works
`DEFAULT_SITE_HOURS`, Monday to Friday 9:00-18:00, like work with no site at all: its clocks
run and its callbacks can be proposed, instead of a calendar in which nobody ever works.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.businesstime import BusinessCalendar
from azukari.core.compiled import CompiledQuery
from azukari.core.errors import DomainError, NotVisible
from azukari.org.models import Client, ClientClosedDay, Site, SiteHours, User
from azukari.org.permissions import Cap, require

MAX_AHEAD_DAYS = 3 * 366
DEFAULT_SITE_HOURS: Mapping[int, tuple[dt.time, dt.time]] = {
    weekday: (dt.time(9), dt.time(18)) for weekday in range(5)
}


# ---------------------------------------------------------------- the builder


def site_hours_or_default(
    hours: Mapping[int, tuple[dt.time, dt.time]] | None,
) -> dict[int, tuple[dt.time, dt.time]]:
    """A site's hours per weekday as recorded, or the documented default when none are."""
    return dict(hours) if hours else dict(DEFAULT_SITE_HOURS)


def business_calendars(
    client_ids: Iterable[int], site_ids: Iterable[int | None]
) -> Callable[[int, int | None], BusinessCalendar]:
    """Every (client, site) calendar of a set, from two queries whatever their number:
    `calendar(client_id, site_id)` (site None: the default hours)."""
    client_ids, site_ids = set(client_ids), set(site_ids) - {None}
    closed: dict[int, set[dt.date]] = defaultdict(set)
    for client_id, day in _CLOSED_DAYS(client_ids):
        closed[client_id].add(day)
    hours: dict[int, dict[int, tuple[dt.time, dt.time]]] = defaultdict(dict)
    for site_id, weekday, opens, closes in _SITE_HOURS(site_ids):
        hours[site_id][weekday] = (opens, closes)
    cache: dict[tuple[int, int | None], BusinessCalendar] = {}

    def calendar(client_id: int, site_id: int | None) -> BusinessCalendar:
        key = (client_id, site_id)
        if key not in cache:
            cache[key] = BusinessCalendar(
                hours=site_hours_or_default(hours.get(site_id) if site_id else None),
                closed_dates=frozenset(closed.get(client_id, ())),
            )
        return cache[key]

    return calendar


# Read by every case page and clock: compiled once per number of ids (see core.compiled).
_CLOSED_DAYS = CompiledQuery[tuple[int, dt.date]](
    lambda client_ids: ClientClosedDay.objects.filter(client_id__in=client_ids).values_list(
        "client_id", "date"
    )
)
_SITE_HOURS = CompiledQuery[tuple[int, int, dt.time, dt.time]](
    lambda site_ids: SiteHours.objects.filter(site_id__in=site_ids).values_list(
        "site_id", "weekday", "opens_at", "closes_at"
    )
)


def business_calendar(*, client: Client, site: Site | None) -> BusinessCalendar:
    """The calendar a case's clocks run on: the client's closed days and the site's hours."""
    return business_calendars([client.pk], [site.pk if site else None])(
        client.pk, site.pk if site else None
    )


def _require_editor(actor: User, client: Client | None = None) -> None:
    if client is not None and client.pk not in actor.visible_client_ids():
        raise NotVisible()
    require(actor, Cap.CALENDARS_EDIT)


def validate_closed_day(*, client: Client, date: dt.date, today: dt.date) -> None:
    """A closed day is in the future (past ones would rewrite clocks already run), not too
    far ahead, and listed once."""
    if not isinstance(date, dt.date):
        raise DomainError(_("Enter a date."), field="date")
    if date < today:
        raise DomainError(
            _("A closed day cannot be in the past: clocks already ran on it."), field="date"
        )
    if date > today + dt.timedelta(days=MAX_AHEAD_DAYS):
        raise DomainError(_("At most three years ahead."), field="date")
    if ClientClosedDay.objects.filter(client=client, date=date).exists():
        raise DomainError(_("This day is already a closed day."), field="date")


def validate_site_hours(*, weekday: int, opens_at: dt.time, closes_at: dt.time) -> None:
    if weekday not in range(7):
        raise DomainError(_("Choose a weekday."), field="weekday")
    if opens_at is None or closes_at is None:
        missing = "opens_at" if opens_at is None else "closes_at"
        raise DomainError(_("Enter both times."), field=missing)
    if closes_at <= opens_at:
        raise DomainError(_("Closing time must be after opening time."), field="closes_at")
    day = dt.date(2000, 1, 3)
    length = dt.datetime.combine(day, closes_at) - dt.datetime.combine(day, opens_at)
    if length < dt.timedelta(minutes=30):
        raise DomainError(
            _("A site is open at least 30 minutes on a working day."), field="closes_at"
        )


@transaction.atomic
def client_closed_day_add(
    *, client: Client, actor: User, date: dt.date, note: str = ""
) -> ClientClosedDay:
    _require_editor(actor, client)
    validate_closed_day(client=client, date=date, today=timezone.localdate())
    note = (note or "").strip()
    if len(note) > 200:
        raise DomainError(_("At most %(n)d characters.") % {"n": 200}, field="note")
    return ClientClosedDay.objects.create(client=client, date=date, note=note)


@transaction.atomic
def client_closed_day_remove(*, closed_day: ClientClosedDay, actor: User) -> None:
    _require_editor(actor, closed_day.client)
    if closed_day.date < timezone.localdate():
        raise DomainError(
            _("A closed day in the past stays: clocks already ran on it."), field="date"
        )
    closed_day.delete()


@transaction.atomic
def site_hours_set(
    *, site: Site, actor: User, weekday: int, opens_at: dt.time, closes_at: dt.time
) -> SiteHours:
    """Sets (or replaces) one weekday's hours."""
    _require_editor(actor)
    validate_site_hours(weekday=weekday, opens_at=opens_at, closes_at=closes_at)
    hours, _created = SiteHours.objects.update_or_create(
        site=site, weekday=weekday, defaults={"opens_at": opens_at, "closes_at": closes_at}
    )
    return hours


@transaction.atomic
def site_hours_clear(*, site: Site, actor: User, weekday: int) -> None:
    """The site no longer works on this weekday; at least one working day must remain."""
    _require_editor(actor)
    remaining = SiteHours.objects.filter(site=site).exclude(weekday=weekday)
    if not remaining.exists():
        raise DomainError(_("A site works on at least one weekday."), field="weekday")
    SiteHours.objects.filter(site=site, weekday=weekday).delete()
