"""Writes to customers: phones are normalized, the search text is kept in step."""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
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


@transaction.atomic
def customer_create(
    *,
    client: Client,
    customer_number: str,
    family_name: str,
    given_name: str = "",
    family_name_kana: str = "",
    given_name_kana: str = "",
    postcode: str = "",
    address: str = "",
    email: str = "",
    phones: Sequence[str | tuple[str, str]] = (),
    quiet_from: dt.time | None = None,
    quiet_until: dt.time | None = None,
    days_off: list[int] | None = None,
    call_windows: list[dict] | None = None,
    holidays_ok: bool = False,
) -> Customer:
    customer_number = (customer_number or "").strip()
    if not customer_number:
        raise DomainError(_("This field is required."), field="customer_number")
    if not (family_name or "").strip():
        raise DomainError(_("This field is required."), field="family_name")
    taken = Customer.all_rows.filter(client=client, customer_number=customer_number).first()
    if taken is not None:  # shown, or written by an import that has not landed yet
        if Customer.objects.filter(pk=taken.pk).exists():
            raise DomainError(_("This customer number is already in use."), field="customer_number")
        raise DomainError(
            _("This customer number is in a file being imported; try again once it has landed."),
            field="customer_number",
        )
    days_off = days_off or []
    call_windows = call_windows or []
    _validate_preferences(
        quiet_from=quiet_from, quiet_until=quiet_until, days_off=days_off, call_windows=call_windows
    )
    normalized: list[tuple[str, str]] = []
    for i, entry in enumerate(phones):
        raw, kind = entry if isinstance(entry, tuple) else (entry, PhoneKind.MOBILE)
        number = normalize_phone(raw, field=f"phones.{i}")
        if number and number not in {n for n, _k in normalized}:
            normalized.append((number, kind))
    customer = Customer(
        client=client,
        customer_number=customer_number,
        family_name=family_name.strip(),
        given_name=given_name.strip(),
        family_name_kana=family_name_kana.strip(),
        given_name_kana=given_name_kana.strip(),
        postcode=postcode.strip(),
        address=address.strip(),
        email=email.strip(),
        quiet_from=quiet_from,
        quiet_until=quiet_until,
        days_off=days_off,
        call_windows=call_windows,
        holidays_ok=holidays_ok,
    )
    customer.search_text = customer_search_text(customer, [n for n, _k in normalized])
    customer.save()
    CustomerPhone.objects.bulk_create(
        CustomerPhone(client=client, customer=customer, number=n, kind=k) for n, k in normalized
    )
    return customer
