"""Subscription and delivery rows, written through the same sync services as the API."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.dataio import cleaning
from azukari.org.models import Client
from azukari.subscriptions.services import delivery_upsert, subscription_upsert

Outcome = str | list[tuple[str, str]]


@dataclass(frozen=True)
class RowKind:
    parsers: dict[str, Callable[[str], Any]]
    service: Callable[..., tuple[Any, str]]
    required: tuple[str, ...]

    def apply(self, client: Client, cells: dict[str, str]) -> Outcome:
        """'created', 'updated' or 'unchanged'; or the row's errors as (field, message)."""
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for field, raw in cells.items():
            parse = self.parsers.get(field)
            try:
                values[field] = parse(raw) if parse else raw
            except DomainError as exc:
                errors.append((field, str(exc.message)))
        values = {k: v for k, v in values.items() if v is not None and v != ""}
        errors.extend(
            (f, str(_("This field is required.")))
            for f in self.required
            if f not in values and f not in {e for e, _m in errors}
        )
        if errors:
            return errors
        try:
            with transaction.atomic():
                _obj, outcome = self.service(client=client, **values)
        except DomainError as exc:
            return [(exc.field or "file", str(exc.message))]
        return outcome


def _text(raw: str) -> str:
    return cleaning.code(raw, max_length=64)


ROW_KINDS = {
    "subscriptions": RowKind(
        parsers={
            "external_id": _text,
            "customer_number": _text,
            "plan_code": _text,
            "started_on": cleaning.date,
            "cancelled_on": cleaning.date,
            "status": _text,
            "terms_version": _text,
        },
        service=subscription_upsert,
        required=("external_id", "customer_number", "plan_code", "started_on"),
    ),
    "deliveries": RowKind(
        parsers={
            "external_id": _text,
            "subscription_external_id": _text,
            "sequence": cleaning.integer,
            "scheduled_on": cleaning.date,
            "shipped_on": cleaning.date,
            "status": _text,
            "chargeable": cleaning.boolean,
        },
        service=delivery_upsert,
        required=("external_id", "subscription_external_id", "sequence", "scheduled_on"),
    ),
}
