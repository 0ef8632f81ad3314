"""Customers from a client's file: cleaned row by row, staged, written hidden, then shown.

Why: a file is all-or-nothing, and on SQLite one writer holds the lock at a time, so a
transaction that wrote a million customers would make every operator's save wait for it.
Rows are cleaned and compared with the live customers in chunks and written to
`StagedCustomer`/`StagedPhone` in short transactions that touch no live table. Once the whole
file is known to be good, the new customers and their phones go into the live tables in short
steps, marked with the import's batch and hidden while its `HiddenImport` row exists (the
managers leave such rows out). The last transaction applies the changes to existing customers
and deletes that row: everything appears at once. A failed or killed import's rows, hidden or
staged, are deleted in short steps, the `HiddenImport` row last.
"""

import time
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.core.phones import normalize_phone
from azukari.customers.models import Customer, CustomerPhone, HiddenImport, PhoneKind
from azukari.customers.services import _validate_preferences, customer_search_text
from azukari.dataio import cleaning
from azukari.dataio.models import (
    ImportBatch,
    ImportStatus,
    PhoneOp,
    StagedCustomer,
    StagedPhone,
)

PHONE_FIELDS = ("phone", "phone2", "phone3")
TEXT_FIELDS = ("family_name", "given_name", "address")
KANA_FIELDS = ("family_name_kana", "given_name_kana")
SAVED_FIELDS = (
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
    "holidays_ok",
)
FIELDS = ("customer_number", *SAVED_FIELDS, *PHONE_FIELDS)
REQUIRED = ("customer_number", "family_name")
CHUNK = 10_000
# New customers written per hidden step: each step holds SQLite's write lock for tens of ms.
HIDDEN_STEP = 5_000
SQLITE_PAUSE = 0.1  # seconds between two steps (see `_steps`)
ACTION_CODES = {"created": "c", "updated": "u", "unchanged": "n"}


def _max(name: str) -> int:
    return Customer._meta.get_field(name).max_length


SPLIT = {
    "full_name": ("family_name", "given_name"),
    "full_name_kana": ("family_name_kana", "given_name_kana"),
}


def split_cells(cells: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A full-name column becomes the family and given name, split at the first space; a
    name without one stays whole in the family name, with a warning as (field, message)."""
    warnings: list[tuple[str, str]] = []
    if not any(whole in cells for whole in SPLIT):
        return cells, warnings
    cells = dict(cells)
    for whole, (family, given) in SPLIT.items():
        if whole not in cells:
            continue
        raw = cells.pop(whole)
        parts = cleaning.split_name(raw)
        if parts is None:
            cells[family], cells[given] = raw.strip(), ""
            if raw.strip():
                warnings.append(
                    (
                        whole,
                        str(
                            _(
                                "No space between family and given name: all of “%(name)s” "
                                "was kept as the family name."
                            )
                            % {"name": raw.strip()}
                        ),
                    )
                )
        else:
            cells[family], cells[given] = parts
    return cells, warnings


def clean_row(cells: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One row's values by field, and its errors as (field, message); rules of the customer
    services apply (required fields, phones, preferences)."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []

    def attempt(field: str, fn: Callable[[], Any]) -> None:
        try:
            values[field] = fn()
        except DomainError as exc:
            errors.append((field, str(exc.message)))

    for field, raw in cells.items():
        if field == "customer_number":
            attempt(field, lambda r=raw: cleaning.code(r, max_length=_max("customer_number")))
        elif field in TEXT_FIELDS:
            attempt(field, lambda r=raw, f=field: cleaning.text(r, max_length=_max(f)))
        elif field in KANA_FIELDS:
            attempt(field, lambda r=raw, f=field: cleaning.kana(r, max_length=_max(f)))
        elif field == "postcode":
            attempt(field, lambda r=raw: cleaning.postcode(r))
        elif field == "email":
            attempt(field, lambda r=raw: cleaning.email(r))
        elif field == "birth_date":
            attempt(field, lambda r=raw: cleaning.birth_date(r))
        elif field in ("quiet_from", "quiet_until"):
            attempt(field, lambda r=raw: cleaning.time_of_day(r))
        elif field == "holidays_ok":
            attempt(field, lambda r=raw: cleaning.boolean(r))
        elif field in PHONE_FIELDS:
            attempt(field, lambda r=raw, f=field: normalize_phone(r, field=f))
    for field in REQUIRED:
        if field in cells and not values.get(field) and field not in {f for f, _m in errors}:
            errors.append((field, str(_("This field is required."))))
    if "quiet_from" in values or "quiet_until" in values:
        try:
            _validate_preferences(
                quiet_from=values.get("quiet_from"),
                quiet_until=values.get("quiet_until"),
                days_off=[],
                call_windows=[],
            )
        except DomainError as exc:
            errors.append((exc.field or "quiet_from", str(exc.message)))
    return values, errors


class CustomerStager:
    """Compares cleaned rows with the live customers a chunk at a time and stages the result."""

    def __init__(self, batch: ImportBatch, fields: Iterable[str]) -> None:
        self.batch = batch
        self.fields = set(fields)
        self.phones_given = bool(self.fields & set(PHONE_FIELDS))
        self.pending: list[tuple[int, dict[str, Any]]] = []

    def add(self, row: int, values: dict[str, Any]) -> None:
        self.pending.append((row, values))
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        chunk, self.pending = self.pending, []
        numbers = [v["customer_number"] for _r, v in chunk]
        existing = {
            c.customer_number: c
            for c in Customer.objects.filter(
                client=self.batch.client_id, customer_number__in=numbers
            )
        }
        phones: dict[int, dict[str, CustomerPhone]] = {}
        if existing:
            for p in CustomerPhone.objects.filter(
                customer_id__in=[c.pk for c in existing.values()]
            ):
                phones.setdefault(p.customer_id, {})[p.number] = p
        staged: list[list[Any]] = []
        phone_ops: list[list[Any]] = []
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for row, values in chunk:
            number = values["customer_number"]
            current = existing.get(number)
            action, final, ops = self._compare(current, values, phones)
            counts[action] += 1
            staged.append(self._staged_values(row, action, number, current, final))
            phone_ops.extend([self.batch.pk, number, *op] for op in ops)
        with transaction.atomic():
            _insert(StagedCustomer, STAGED_COLUMNS, staged)
            _insert(StagedPhone, PHONE_COLUMNS, phone_ops)
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                created=self.batch.created + counts["created"],
                updated=self.batch.updated + counts["updated"],
                unchanged=self.batch.unchanged + counts["unchanged"],
            )
        self.batch.created += counts["created"]
        self.batch.updated += counts["updated"]
        self.batch.unchanged += counts["unchanged"]

    def _compare(
        self,
        current: Customer | None,
        values: dict[str, Any],
        phones: dict[int, dict[str, CustomerPhone]],
    ) -> tuple[str, dict[str, Any], list[tuple[str, int | None, str, str]]]:
        wanted: dict[str, str] = {}
        for field in PHONE_FIELDS:
            number = values.get(field)
            if number and number not in wanted:
                wanted[number] = PhoneKind.MOBILE if field == "phone" else PhoneKind.OTHER
        if current is None:
            final = {f: values.get(f, _blank(f)) for f in SAVED_FIELDS}
            ops = [(PhoneOp.NEW, None, n, k) for n, k in wanted.items()]
            final["search_text"] = _search(values["customer_number"], final, list(wanted))
            return "created", final, ops
        final = {f: values[f] if f in values else getattr(current, f) for f in SAVED_FIELDS}
        have = phones.get(current.pk, {})
        ops: list[tuple[str, int | None, str, str]] = []
        if self.phones_given:
            for n, p in have.items():
                if n not in wanted:
                    ops.append((PhoneOp.DROP, p.pk, n, p.kind))
            for n, k in wanted.items():
                if n not in have:
                    ops.append((PhoneOp.ADD, None, n, k))
            numbers = list(wanted)
        else:
            numbers = list(have)
        final["search_text"] = _search(current.customer_number, final, numbers)
        same = all(getattr(current, f) == v for f, v in final.items())
        if same and not ops:
            return "unchanged", final, ops
        return "updated", final, ops

    def _staged_values(
        self,
        row: int,
        action: str,
        number: str,
        current: Customer | None,
        final: dict[str, Any],
    ) -> list[Any]:
        ops = connection.ops
        return [
            self.batch.pk,
            row,
            ACTION_CODES[action],
            current.pk if current else None,
            ops.adapt_datetimefield_value(current.updated_at) if current else None,
            number,
            *[_adapt(ops, f, final[f]) for f in SAVED_FIELDS],
            final["search_text"],
        ]


def _adapt(ops, field: str, value: Any) -> Any:
    if field.startswith("quiet_"):
        return ops.adapt_timefield_value(value)
    if field == "birth_date":
        return ops.adapt_datefield_value(value)
    return value


def _blank(field: str) -> Any:
    if field in ("quiet_from", "quiet_until", "birth_date"):
        return None
    if field == "holidays_ok":
        return False
    return ""


def _search(number: str, final: dict[str, Any], phones: list[str]) -> str:
    # The service's own function reads attributes only; a namespace spares a model instance.
    probe = SimpleNamespace(customer_number=number, **final)
    return customer_search_text(probe, phones)  # type: ignore[arg-type]


STAGED_COLUMNS = (
    "batch_id",
    "row",
    "action",
    "customer_id",
    "seen_updated_at",
    "customer_number",
    *SAVED_FIELDS,
    "search_text",
)
PHONE_COLUMNS = ("batch_id", "customer_number", "op", "phone_id", "number", "kind")


def _insert(model, columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    if not rows:
        return
    q = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        q(model._meta.db_table), ", ".join(q(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def customer_number_repeats(batch: ImportBatch, limit: int) -> list[tuple[str, int, int]]:
    """Customer numbers given twice in the file: (number, first row, repeated row)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_number, MIN(row), MAX(row) FROM dataio_stagedcustomer "
            "WHERE batch_id = %s GROUP BY customer_number HAVING COUNT(*) > 1 "
            "ORDER BY MIN(row) LIMIT %s",
            [batch.pk, limit],
        )
        return list(cursor.fetchall())


def _json_empty() -> str:
    return "CAST('[]' AS jsonb)" if connection.vendor == "postgresql" else "'[]'"


def customers_hide_in(batch: ImportBatch, tick: Callable[[], None] | None = None) -> int:
    """Writes the file's new customers, then their phones, into the live tables, hidden, a
    short transaction per step; returns how many customers were written."""
    HiddenImport.objects.get_or_create(batch_id=batch.pk)  # committed before any row
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    cols = ", ".join(SAVED_FIELDS)
    empty = _json_empty()
    # Each step is a range of staged ids. `+batch_id` keeps SQLite's planner off the batch's
    # indexes, which would read every staged row of the batch at every step.
    customers = (
        f"INSERT INTO customers_customer (client_id, customer_number, {cols}, search_text, "
        "days_off, call_windows, harassment_flag, harassment_note, created_at, updated_at, "
        f"import_batch_id) SELECT %s, customer_number, {cols}, search_text, {empty}, {empty}, "
        "%s, '', %s, %s, %s FROM dataio_stagedcustomer WHERE +batch_id = %s AND action = %s "
        "AND id BETWEEN %s AND %s ORDER BY id"
    )
    phones = (
        "INSERT INTO customers_customerphone (client_id, customer_id, number, kind, "
        "import_batch_id) SELECT c.client_id, c.id, p.number, p.kind, %s "
        "FROM dataio_stagedphone p JOIN customers_customer c ON c.client_id = %s "
        "AND c.customer_number = p.customer_number "
        "WHERE +p.batch_id = %s AND p.op = %s AND p.id BETWEEN %s AND %s ORDER BY p.id"
    )
    written = 0
    for first, last in _steps(
        StagedCustomer.objects.filter(batch=batch, action=ACTION_CODES["created"]), tick
    ):
        params = [batch.client_id, False, now, now, batch.pk, batch.pk]
        written += _step(customers, [*params, ACTION_CODES["created"], first, last])
    for first, last in _steps(StagedPhone.objects.filter(batch=batch, op=PhoneOp.NEW), tick):
        _step(phones, [batch.pk, batch.client_id, batch.pk, PhoneOp.NEW, first, last])
    return written


def _steps(staged, tick: Callable[[], None] | None) -> Iterator[tuple[int, int]]:
    """(first id, last id) of each step over the staged rows, in id order; after each step,
    on SQLite, a pause: the writers that waited get the lock (their busy handler polls every
    100 ms once it has waited a while, so back-to-back steps would starve them)."""
    after = 0
    while True:
        ids = list(
            staged.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:HIDDEN_STEP]
        )
        if not ids:
            return
        yield ids[0], ids[-1]
        after = ids[-1]
        if tick:
            tick()
        if connection.vendor == "sqlite":
            time.sleep(SQLITE_PAUSE)


def _step(sql: str, params: list[Any]) -> int:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    except IntegrityError as exc:
        raise DomainError(
            _("Some of these customers were created meanwhile; import the file again."),
            field="file",
            code="conflict",
        ) from exc


def customers_switch_in(batch: ImportBatch) -> None:
    """Applies the changes to existing customers and shows the new ones; the caller holds
    the transaction. Raises DomainError when someone edited a customer since the file was
    checked."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        sets = ", ".join(f"{f} = s.{f}" for f in (*SAVED_FIELDS, "search_text"))
        cursor.execute(
            f"UPDATE customers_customer SET {sets}, updated_at = %s "
            "FROM dataio_stagedcustomer s WHERE s.batch_id = %s AND s.action = 'u' "
            "AND customers_customer.id = s.customer_id "
            "AND customers_customer.updated_at = s.seen_updated_at",
            [now, batch.pk],
        )
        if cursor.rowcount != batch.updated:
            raise DomainError(
                _(
                    "Some of these customers were changed by someone else while the file was "
                    "checked. Nothing was written; import the file again."
                ),
                field="file",
                code="conflict",
            )
        cursor.execute(
            "DELETE FROM customers_customerphone WHERE id IN (SELECT phone_id FROM "
            "dataio_stagedphone WHERE batch_id = %s AND op = 'drop')",
            [batch.pk],
        )
        cursor.execute(
            "INSERT INTO customers_customerphone (client_id, customer_id, number, kind) "
            "SELECT c.client_id, c.id, p.number, p.kind FROM dataio_stagedphone p "
            "JOIN customers_customer c ON c.client_id = %s "
            "AND c.customer_number = p.customer_number "
            "WHERE p.batch_id = %s AND p.op = 'add' ORDER BY p.id",
            [batch.client_id, batch.pk],
        )
    HiddenImport.objects.filter(batch_id=batch.pk).delete()


def staged_discard(batch_id: int, *, chunk: int = 20_000) -> None:
    """Removes a batch's rows in short transactions, so the lock is never held long: unless
    it went live, its hidden customers and phones first, then its `HiddenImport` row, then
    its staged rows. A discard killed midway resumes where it stopped."""
    went_live = ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.DONE).exists()
    if not went_live:
        for model in (CustomerPhone, Customer):
            _delete_in_steps(model.all_rows.filter(import_batch_id=batch_id), chunk)
        HiddenImport.objects.filter(batch_id=batch_id).delete()
    for model in (StagedPhone, StagedCustomer):
        _delete_in_steps(model.objects.filter(batch_id=batch_id), chunk)


def _delete_in_steps(queryset, chunk: int) -> None:
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:chunk])
        if not ids:
            return
        with transaction.atomic():
            queryset.model._base_manager.filter(pk__in=ids).delete()
