"""Writes to customers: one validation for every way in (pages, API sync, import, admin);
phones are normalized, the search text is kept in step."""

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.core.phones import normalize_phone
from azukari.core.text import search_text
from azukari.customers.models import Customer, CustomerPhone, PhoneKind
from azukari.org.models import Client


def customer_search_text(customer: Customer, phones: Sequence[str]) -> str:
    return search_text(
        customer.family_name + customer.given_name,
        customer.family_name_kana + customer.given_name_kana,
        customer.customer_number,
        *[p.lstrip("+") for p in phones],
    )


def _validate_preferences(
    *,
    quiet_from: dt.time | None,
    quiet_until: dt.time | None,
    days_off: list[int],
    call_windows: list[dict],
) -> None:
    if (quiet_from is None) != (quiet_until is None):
        raise DomainError(_("Give both ends of the quiet hours, or neither."), field="quiet_from")
    if any(not isinstance(d, int) or d < 0 or d > 6 for d in days_off):
        raise DomainError(
            _("Days off are weekdays from 0 (Monday) to 6 (Sunday)."), field="days_off"
        )
    for window in call_windows:
        try:
            start = dt.time.fromisoformat(window["start"])
            end = dt.time.fromisoformat(window["end"])
            days = window.get("days", list(range(7)))
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError(
                _("Each call window needs a start and an end (HH:MM)."), field="call_windows"
            ) from exc
        if end <= start or any(not isinstance(d, int) or d < 0 or d > 6 for d in days):
            raise DomainError(
                _("A call window must end after it starts, on weekdays 0–6."), field="call_windows"
            )


POSTCODE = re.compile(r"^(\d{3})-?(\d{4})$")
# What a client's system may set on its customers; the harassment flag is the floor's.
CUSTOMER_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "postcode",
    "address",
    "email",
    "birth_date",
    "quiet_from",
    "quiet_until",
    "days_off",
    "call_windows",
    "holidays_ok",
)
_TEXT_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana", "address")
PhoneInput = str | tuple[str, str] | dict[str, str]


def customer_postcode_clean(value: str | None) -> str:
    """A Japanese postcode as 150-0001; full-width digits, 〒 and dash variants are accepted."""
    value = unicodedata.normalize("NFKC", value or "").strip().replace("〒", "").replace(" ", "")
    if not value:
        return ""
    match = POSTCODE.match(value.replace("ー", "-").replace("−", "-"))
    if not match:
        raise DomainError(_("A postcode has seven digits, like 150-0001."), field="postcode")
    return f"{match[1]}-{match[2]}"


def customer_email_clean(value: str | None) -> str:
    value = unicodedata.normalize("NFKC", value or "").strip()
    if not value:
        return ""
    if len(value) > 254:
        raise DomainError(_("At most %(n)d characters.") % {"n": 254}, field="email")
    try:
        validate_email(value)
    except ValidationError as exc:
        raise DomainError(_("Enter a valid e-mail address."), field="email") from exc
    return value


def customer_fields_clean(fields: dict[str, Any]) -> dict[str, Any]:
    """The customer's fields checked and in their stored form: the one rule set."""
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field."), field=sorted(unknown)[0])
    values = dict(fields)
    for name in _TEXT_FIELDS:
        if name in values:
            value = (values[name] or "").strip()
            limit = Customer._meta.get_field(name).max_length
            if len(value) > limit:
                raise DomainError(_("At most %(n)d characters.") % {"n": limit}, field=name)
            values[name] = value
    if not values.get("family_name"):
        raise DomainError(_("This field is required."), field="family_name")
    if "postcode" in values:
        values["postcode"] = customer_postcode_clean(values["postcode"])
    if "email" in values:
        values["email"] = customer_email_clean(values["email"])
    if values.get("birth_date") and values["birth_date"] > timezone.localdate():
        raise DomainError(_("A date of birth cannot be in the future."), field="birth_date")
    values["days_off"] = values.get("days_off") or []
    values["call_windows"] = values.get("call_windows") or []
    _validate_preferences(
        quiet_from=values.get("quiet_from"),
        quiet_until=values.get("quiet_until"),
        days_off=values["days_off"],
        call_windows=values["call_windows"],
    )
    return values


def _phones_in(phones: Sequence[PhoneInput]) -> list[tuple[str, str]]:
    """Numbers in E.164 with their kind, each once; a number that is not one is refused."""
    normalized: list[tuple[str, str]] = []
    for i, entry in enumerate(phones):
        if isinstance(entry, dict):
            raw, kind, field = entry.get("number"), entry.get("kind"), f"phones.{i}.number"
        elif isinstance(entry, tuple):
            (raw, kind), field = entry, f"phones.{i}"
        else:
            raw, kind, field = entry, None, f"phones.{i}"
        kind = kind or PhoneKind.MOBILE
        if kind not in PhoneKind.values:
            raise DomainError(
                _("“%(value)s” is not a valid choice.") % {"value": kind}, field=f"phones.{i}.kind"
            )
        number = normalize_phone(raw, field=field)
        if number and number not in {n for n, _k in normalized}:
            normalized.append((number, kind))
    return normalized


@transaction.atomic
def customer_create(
    *,
    client: Client,
    customer_number: str,
    family_name: str,
    phones: Sequence[PhoneInput] = (),
    **fields: Any,
) -> Customer:
    customer_number = (customer_number or "").strip()
    if not customer_number:
        raise DomainError(_("This field is required."), field="customer_number")
    values = customer_fields_clean({"family_name": family_name, **fields})
    normalized = _phones_in(phones)
    taken = Customer.all_rows.filter(client=client, customer_number=customer_number).first()
    if taken is not None:  # shown, or written by an import that has not landed yet
        if Customer.objects.filter(pk=taken.pk).exists():
            raise DomainError(_("This customer number is already in use."), field="customer_number")
        raise DomainError(
            _("This customer number is in a file being imported; try again once it has landed."),
            field="customer_number",
        )
    customer = Customer(client=client, customer_number=customer_number, **values)
    customer.search_text = customer_search_text(customer, [n for n, _k in normalized])
    customer.save()
    CustomerPhone.objects.bulk_create(
        CustomerPhone(client=client, customer=customer, number=n, kind=k) for n, k in normalized
    )
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, phones: Sequence[PhoneInput] | None = None, **fields: Any
) -> tuple[Customer, bool]:
    """Changes the fields given (and the phones, when given); says whether anything changed.
    The search text follows the names, the number and the phones."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    # Checked as the whole record will be: quiet hours need both ends, whichever was sent.
    values = customer_fields_clean({**{f: getattr(customer, f) for f in CUSTOMER_FIELDS}, **fields})
    changed = [name for name, value in values.items() if getattr(customer, name) != value]
    for name in changed:
        setattr(customer, name, values[name])
    current = {p.number: p for p in customer.phones.all()}
    stale: list[int] = []
    fresh: list[str] = []
    kind_changes: list[CustomerPhone] = []
    numbers = list(current)
    if phones is not None:
        wanted = dict(_phones_in(phones))
        stale = [p.pk for n, p in current.items() if n not in wanted]
        fresh = [n for n in wanted if n not in current]
        kind_changes = [p for n, p in current.items() if n in wanted and p.kind != wanted[n]]
        CustomerPhone.objects.filter(pk__in=stale).delete()
        CustomerPhone.objects.bulk_create(
            CustomerPhone(client_id=customer.client_id, customer=customer, number=n, kind=wanted[n])
            for n in fresh
        )
        for phone in kind_changes:
            phone.kind = wanted[phone.number]
            phone.save(update_fields=["kind"])
        numbers = list(wanted)
    search = customer_search_text(customer, numbers)
    if search != customer.search_text:
        customer.search_text = search
        changed.append("search_text")
    if not (changed or stale or fresh or kind_changes):
        return customer, False
    customer.save(update_fields=[*changed, "updated_at"])
    return customer, True


@transaction.atomic
def customer_upsert(
    *,
    client: Client,
    customer_number: str,
    phones: Sequence[PhoneInput] = (),
    **fields: Any,
) -> tuple[Customer, str]:
    """Creates or updates a customer by the client's customer number (the client's systems'
    sync); says which it did: created, updated or unchanged."""
    customer_number = (customer_number or "").strip()
    if not customer_number:
        raise DomainError(_("This field is required."), field="customer_number")
    existing = (
        Customer.objects.select_for_update()
        .filter(client=client, customer_number=customer_number)
        .first()
    )
    if existing is None:
        family_name = fields.pop("family_name", "")
        customer = customer_create(
            client=client,
            customer_number=customer_number,
            family_name=family_name,
            phones=phones,
            **fields,
        )
        return customer, "created"
    if not (fields.get("family_name") or "").strip():
        raise DomainError(_("This field is required."), field="family_name")
    fields.setdefault("days_off", [])
    fields.setdefault("call_windows", [])
    customer, changed = customer_update(customer=existing, phones=phones, **fields)
    return customer, "updated" if changed else "unchanged"
