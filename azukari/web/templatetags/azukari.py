from django import template
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from azukari.cases.models import EVENT_LABELS, CaseState
from azukari.core.businesstime import business_days_and_hours

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """Business seconds as hours and minutes, the unit the floor talks in."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": rest // 60}


@register.filter
def elapsed_hours(seconds: int | None) -> str:
    """Elapsed (calendar) seconds in hours with one decimal ("192.5 h"): time to close and the
    client's response time run day and night, unlike the business clocks."""
    if seconds is None:
        return "—"
    return _("%(hours)s h") % {"hours": f"{int(seconds) / 3600:,.1f}"}


@register.filter
def business_duration(seconds: int | None) -> str:
    """Business seconds in business days and hours ("3 business days 4 h"); under a day, in
    hours and minutes. A business day is BUSINESS_DAY_SECONDS (docs/design.md)."""
    days, hours, minutes = business_days_and_hours(seconds or 0)
    if days:
        return ngettext("%(d)d business day %(h)d h", "%(d)d business days %(h)d h", days) % {
            "d": days,
            "h": hours,
        }
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}


@register.filter
def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


@register.filter
def state_label(value: str) -> str:
    return str(CaseState(value).label) if value in CaseState.values else value


@register.filter
def can(user, capability: str) -> bool:
    """`{% if user|can:"backlog.view" %}`: the permission table, read by templates."""
    from azukari.org.permissions import Cap, user_can

    return user_can(user, Cap(capability))


@register.filter
def stance_label(value: str) -> str:
    """The customer's stance as people read it (a code stays as it is if unknown)."""
    from azukari.cases.models import Stance

    return str(Stance(value).label) if value in Stance.values else value


@register.filter
def staff_label(person, viewer) -> str:
    """`{{ case.assignee|staff_label:user }}`: a name within the viewer's site, "site・role"
    across sites (see azukari.org.people)."""
    from azukari.org.people import staff_label as label

    return label(viewer, person) or "—"


@register.filter
def option_label(code: str) -> str:
    """A cancellation option's or exception's name, never its code."""
    from azukari.subscriptions.selectors import option_label as label

    return label(code) if code else ""


@register.filter
def ground_label(code: str) -> str:
    """An exception ground's name (a client's own ground keeps its code as its name)."""
    from azukari.subscriptions.policy.rules import BuiltinGround

    return str(BuiltinGround(code).label) if code in BuiltinGround.values else code


@register.simple_tag
def desk_wait_url() -> str:
    """Where the desks' long wait is served (`azukari desk_wait`), or "" to poll."""
    return settings.AZUKARI_DESK_WAIT_URL
