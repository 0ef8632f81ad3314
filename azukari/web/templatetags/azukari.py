from django import template
from django.utils.translation import gettext as _

from azukari.cases.models import EVENT_LABELS, CaseState

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """Business seconds as hours and minutes, the unit the floor talks in."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": rest // 60}


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
