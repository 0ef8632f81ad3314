"""A client's subscription plans: what a customer signed up for, with its price, the number
of deliveries the customer agreed to take and the device sold with it. The set-up page, the
admin and the demo builder create plans here, so every plan obeys the same rules.

`actor` None is the command line: whoever runs commands on the app server is trusted.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError, NotVisible
from azukari.org.models import Client, User
from azukari.org.permissions import Cap, require
from azukari.subscriptions.models import Plan

PLAN_FIELDS = (
    "name",
    "interval_days",
    "price_yen",
    "min_deliveries",
    "device_list_price_yen",
    "device_price_paid_yen",
)
# The database's own limits (positive small integers and positive integers).
_SMALL = 32767
_LARGE = 2147483647


def _whole(value: Any, *, field: str, low: int, high: int) -> int:
    if value is None or value == "":
        raise DomainError(_("This field is required."), field=field)
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise DomainError(_("Enter a whole number."), field=field) from exc
    if number != value and not isinstance(value, str):
        raise DomainError(_("Enter a whole number."), field=field)
    if number < low or number > high:
        raise DomainError(
            _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high},
            field=field,
        )
    return number


def plan_values_check(values: Mapping[str, Any]) -> dict[str, Any]:
    """A plan's own fields, checked; the admin's form asks it before saving."""
    unknown = set(values) - set(PLAN_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    clean = dict(values)
    if "name" in clean:
        name = (clean["name"] or "").strip()
        if not name:
            raise DomainError(_("This field is required."), field="name")
        if len(name) > 200:
            raise DomainError(_("At most %(n)d characters.") % {"n": 200}, field="name")
        clean["name"] = name
    if "interval_days" in clean:
        clean["interval_days"] = _whole(
            clean["interval_days"], field="interval_days", low=1, high=366
        )
    if "price_yen" in clean:
        clean["price_yen"] = _whole(clean["price_yen"], field="price_yen", low=0, high=_LARGE)
    if "min_deliveries" in clean:
        clean["min_deliveries"] = _whole(
            clean["min_deliveries"], field="min_deliveries", low=0, high=_SMALL
        )
    for field in ("device_list_price_yen", "device_price_paid_yen"):
        if field in clean:
            clean[field] = _whole(clean[field], field=field, low=0, high=_LARGE)
    if clean.get("device_price_paid_yen", 0) > clean.get("device_list_price_yen", 0):
        raise DomainError(
            _("The price paid for the device cannot be above its list price."),
            field="device_price_paid_yen",
        )
    return clean


@transaction.atomic
def plan_create(
    *,
    actor: User | None,
    client: Client,
    code: str,
    name: str,
    price_yen: int,
    interval_days: int = 30,
    min_deliveries: int = 0,
    device_list_price_yen: int = 0,
    device_price_paid_yen: int = 0,
) -> Plan:
    """A new plan of the client; its code is the one the client's systems send with each
    subscription, so it is unique within the client."""
    if actor is not None:
        require(actor, Cap.CLIENTS_SET_UP)
        if not actor.is_superuser and client.pk not in actor.visible_client_ids():
            raise NotVisible(field="client")
    code = (code or "").strip()
    if not code:
        raise DomainError(_("This field is required."), field="code")
    try:
        validate_slug(code)
    except ValidationError as exc:
        raise DomainError(
            _("Use only letters, digits, hyphens and underscores."), field="code"
        ) from exc
    if len(code) > 32:
        raise DomainError(_("At most %(n)d characters.") % {"n": 32}, field="code")
    values = plan_values_check(
        {
            "name": name,
            "interval_days": interval_days,
            "price_yen": price_yen,
            "min_deliveries": min_deliveries,
            "device_list_price_yen": device_list_price_yen,
            "device_price_paid_yen": device_price_paid_yen,
        }
    )
    if Plan.objects.filter(client=client, code=code).exists():
        raise DomainError(_("This client already has a plan with this code."), field="code")
    return Plan.objects.create(client=client, code=code, **values)
