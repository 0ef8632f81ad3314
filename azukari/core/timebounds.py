"""How far back and ahead a time given by a person or a system may be.

Times outside these bounds are typing slips or defaults of other systems (0001-01-01,
9999-12-31): refused with a clear message rather than stored, and before any conversion to
local time could overflow.
"""

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError

# Nothing the center records happened before this.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# A PBX's clock may run a little ahead of ours; a call cannot start a day from now.
CLOCK_SKEW = dt.timedelta(days=1)


class OutOfRange(DomainError):
    code = "out_of_range"


def horizon_days() -> int:
    """How many days ahead a due time or a promised callback may be."""
    return settings.AZUKARI_MAX_DAYS_AHEAD


def check_happened(value: dt.datetime, *, field: str, now: dt.datetime) -> dt.datetime:
    """A time at which something happened: not before 2000, not later than a day from now."""
    if value < EARLIEST or value > now + CLOCK_SKEW:
        raise OutOfRange(
            _("This time is out of range: give a time between 2000-01-01 and now."), field=field
        )
    return value


def check_ahead(value: dt.datetime, *, field: str, now: dt.datetime) -> dt.datetime:
    """A time something is due or promised for: at most `AZUKARI_MAX_DAYS_AHEAD` days ahead."""
    if value > now + dt.timedelta(days=horizon_days()):
        raise OutOfRange(
            _("This time is too far ahead: at most %(days)d days from now.")
            % {"days": horizon_days()},
            field=field,
        )
    return value
