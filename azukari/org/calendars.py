"""Editing the business calendar: a client's closed days and a site's hours.

Both feed every clock and every callback proposal, so they change only through these
services, which refuse what would make the calendar say nonsense.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError, NotVisible, PermissionRefused
from azukari.org.models import Client, ClientClosedDay, Role, Site, SiteHours, User

CALENDAR_EDITORS = (Role.MANAGER, Role.ADMIN)
MAX_AHEAD_DAYS = 3 * 366


def _require_editor(actor: User, client: Client | None = None) -> None:
    if client is not None and client.pk not in actor.visible_client_ids():
        raise NotVisible()
    if not actor.has_access or actor.role not in CALENDAR_EDITORS:
        raise PermissionRefused(_("Only a center manager or administrator edits calendars."))


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
