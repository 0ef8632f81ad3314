"""Imports of a client's files: every row checked, then all of the file written, or none of it.

`import_run` is deliberately not one transaction: see `customer_import` for why the rows are
staged and switched in. Subscriptions and deliveries are smaller files whose rules live in the
sync services; they run through those services inside one transaction that is rolled back as a
whole when any row is refused.
"""

import datetime as dt
import hashlib
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError, NotVisible
from azukari.core.tasks import enqueue
from azukari.customers.models import Customer
from azukari.dataio import customer_import
from azukari.dataio.models import (
    ColumnMapping,
    ImportBatch,
    ImportKind,
    ImportStatus,
    StagedCustomer,
)
from azukari.dataio.readers import encoding_named, open_sheet
from azukari.dataio.rows import ROW_KINDS
from azukari.org.models import Client, User
from azukari.org.permissions import Cap, require

ERROR_LIMIT = 1000
TICK_ROWS = 2000
ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.SWITCHING)
RUN_TASK = "azukari.dataio.tasks.import_run_task"


def import_stale_after() -> dt.timedelta:
    """How long a running import may go without a heartbeat before it counts as dead.

    A live import beats every 2,000 rows read and every 5,000 rows written (well under a
    second each), so a silence this long means its process was killed."""
    return dt.timedelta(seconds=settings.AZUKARI_IMPORT_STALE_SECONDS)


class ImportAbandoned(DomainError):
    code = "abandoned"


# Headers understood without a saved mapping: our field names and the usual Japanese ones.
DEFAULT_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.CUSTOMERS: {
        "customer_number": ("顧客番号", "会員番号", "お客様番号"),
        "family_name": ("姓", "氏名（姓）"),
        "given_name": ("名", "氏名（名）"),
        "family_name_kana": ("セイ", "姓カナ", "姓（カナ）", "フリガナ（姓）"),
        "given_name_kana": ("メイ", "名カナ", "名（カナ）", "フリガナ（名）"),
        "postcode": ("郵便番号",),
        "address": ("住所",),
        "email": ("メールアドレス", "メール"),
        "birth_date": ("生年月日", "date of birth"),
        "phone": ("電話番号", "電話番号1", "携帯電話"),
        "phone2": ("電話番号2",),
        "phone3": ("電話番号3",),
        "quiet_from": ("架電不可開始",),
        "quiet_until": ("架電不可終了",),
        "holidays_ok": ("祝日架電可",),
    },
    ImportKind.SUBSCRIPTIONS: {
        "external_id": ("契約番号", "定期番号"),
        "customer_number": ("顧客番号", "会員番号"),
        "plan_code": ("プランコード", "コース"),
        "started_on": ("開始日", "契約日"),
        "status": ("状態",),
        "cancelled_on": ("解約日",),
        "terms_version": ("規約版",),
    },
    ImportKind.DELIVERIES: {
        "external_id": ("配送番号", "出荷番号"),
        "subscription_external_id": ("契約番号", "定期番号"),
        "sequence": ("回数", "配送回"),
        "scheduled_on": ("予定日", "配送予定日"),
        "status": ("状態",),
        "shipped_on": ("出荷日",),
        "chargeable": ("請求対象",),
    },
}
# A column holding two of our fields, split at its first space (full- or half-width).
SPLIT_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    ImportKind.CUSTOMERS: {
        "full_name": ("family_name", "given_name"),
        "full_name_kana": ("family_name_kana", "given_name_kana"),
    },
}
SPLIT_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.CUSTOMERS: {
        "full_name": ("氏名", "お名前", "名前"),
        "full_name_kana": ("フリガナ", "氏名カナ", "氏名（カナ）", "カナ"),
    },
}
FIELD_LABELS: dict[str, str] = {
    "customer_number": _("customer number"),
    "family_name": _("family name"),
    "given_name": _("given name"),
    "full_name": _("full name (split into family and given name)"),
    "family_name_kana": _("family name (kana)"),
    "given_name_kana": _("given name (kana)"),
    "full_name_kana": _("full name in kana (split into family and given)"),
    "postcode": _("postcode"),
    "address": _("address"),
    "email": _("e-mail"),
    "birth_date": _("date of birth"),
    "phone": _("phone"),
    "phone2": _("second phone"),
    "phone3": _("third phone"),
    "quiet_from": _("no calls from"),
    "quiet_until": _("no calls until"),
    "holidays_ok": _("calls on public holidays allowed"),
    "external_id": _("client's id"),
    "plan_code": _("plan code"),
    "started_on": _("started on"),
    "status": _("status"),
    "cancelled_on": _("cancelled on"),
    "terms_version": _("terms version"),
    "subscription_external_id": _("client's subscription id"),
    "sequence": _("delivery number"),
    "scheduled_on": _("scheduled on"),
    "shipped_on": _("shipped on"),
    "chargeable": _("chargeable"),
}


def field_label(kind: str, field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


def import_fields(kind: str) -> list[tuple[str, str]]:
    """Every field a column of this kind of file can be mapped to, as (code, label)."""
    fields = list(DEFAULT_HEADERS[kind])
    for whole, (family, _given) in SPLIT_FIELDS.get(kind, {}).items():
        fields.insert(fields.index(family), whole)
    return [(f, field_label(kind, f)) for f in fields]


def missing_required(kind: str, mapped: set[str]) -> list[str]:
    """The required fields no column gives (a full-name column gives the family name)."""
    for whole, (family, given) in SPLIT_FIELDS.get(kind, {}).items():
        if whole in mapped:
            mapped = mapped | {family, given}
    return [f for f in REQUIRED_COLUMNS[kind] if f not in mapped]


REQUIRED_COLUMNS = {
    ImportKind.CUSTOMERS: ("customer_number", "family_name"),
    ImportKind.SUBSCRIPTIONS: ("external_id", "customer_number", "plan_code", "started_on"),
    ImportKind.DELIVERIES: ("external_id", "subscription_external_id", "sequence", "scheduled_on"),
}


def _fold(header: str) -> str:
    return unicodedata.normalize("NFKC", header).strip().lower()


def _check_actor(actor: User | None, client: Client) -> None:
    """None is the command line, run by whoever runs the server; people need a role."""
    if actor is None:
        return
    if client.pk not in actor.visible_client_ids():
        raise NotVisible(field="client")
    require(actor, Cap.RECORDS_IMPORT)


def header_layout(header: list[str]) -> str:
    """The fingerprint of a file's header row: files with the same columns, in the same
    order, share a layout and so a saved mapping."""
    folded = "\x1f".join(_fold(name) for name in header)
    return hashlib.sha256(folded.encode()).hexdigest()


@transaction.atomic
def column_mapping_save(
    *,
    actor: User | None,
    client: Client,
    kind: str,
    columns: dict[str, str],
    header: list[str] | None = None,
) -> ColumnMapping:
    """Saves how this client's files name our fields: for files with this `header` (the
    layout) when given, else for every later import of this kind."""
    _check_actor(actor, client)
    if kind not in ImportKind.values:
        raise DomainError(_("Unknown kind of import."), field="kind")
    known = set(DEFAULT_HEADERS[kind]) | set(SPLIT_FIELDS.get(kind, {}))
    chosen: dict[str, str] = {}
    for header_name, field in columns.items():
        if field not in known:
            raise DomainError(
                _("“%(field)s” is not a field of this import.") % {"field": field},
                field=f"columns.{header_name}",
            )
        if field in chosen:
            raise DomainError(
                _("Two columns are mapped to “%(field)s”: “%(a)s” and “%(b)s”.")
                % {"field": field_label(kind, field), "a": chosen[field], "b": header_name},
                field=f"columns.{header_name}",
            )
        chosen[field] = header_name
    for whole, (family, given) in SPLIT_FIELDS.get(kind, {}).items():
        if whole in chosen and (family in chosen or given in chosen):
            raise DomainError(
                _("Map either the full name or its two parts, not both (“%(column)s”).")
                % {"column": chosen[whole]},
                field=f"columns.{chosen[whole]}",
            )
    layout = header_layout(header) if header is not None else ""
    mapping, _created = ColumnMapping.objects.update_or_create(
        client=client,
        kind=kind,
        layout=layout,
        defaults={"columns": {k.strip(): v for k, v in columns.items()}},
    )
    return mapping


def columns_for(*, client_id: int, kind: str, header: list[str]) -> dict[int, str]:
    """Which column holds which field: the client's mapping for this file layout first, then
    its mapping for every file of the kind, then the usual names."""
    saved = {
        m.layout: m.columns
        for m in ColumnMapping.objects.filter(
            client_id=client_id, kind=kind, layout__in=[header_layout(header), ""]
        )
    }
    layout_columns = saved.get(header_layout(header))
    if layout_columns is not None:
        # Chosen for exactly these columns: what was left unmapped stays unmapped.
        by_name = {_fold(k): v for k, v in layout_columns.items()}
        found: dict[int, str] = {}
        for index, name in enumerate(header):
            field = by_name.get(_fold(name))
            if field and field not in found.values():
                found[index] = field
        return found
    by_header = {_fold(k): v for k, v in saved.get("", {}).items()}
    for field, aliases in DEFAULT_HEADERS[kind].items():
        for alias in (field, *aliases):
            by_header.setdefault(_fold(alias), field)
    for field, aliases in SPLIT_ALIASES.get(kind, {}).items():
        for alias in (field, *aliases):
            by_header.setdefault(_fold(alias), field)
    found = {}
    for index, name in enumerate(header):
        field = by_header.get(_fold(name))
        if field and field not in found.values():
            found[index] = field
    return found


@transaction.atomic
def import_start(
    *,
    actor: User | None,
    client: Client,
    kind: str,
    path: Path,
    filename: str = "",
    encoding: str = "",
) -> ImportBatch:
    """Records an import to run; the rows are read by `import_run` (here or in the worker)."""
    _check_actor(actor, client)
    if kind not in ImportKind.values:
        raise DomainError(_("Unknown kind of import."), field="kind")
    if encoding:
        encoding_named(encoding)
    path = Path(path)
    if not path.is_file():
        raise DomainError(_("No such file."), field="file")
    return ImportBatch.objects.create(
        client=client,
        kind=kind,
        filename=filename or path.name,
        stored_path=str(path),
        encoding=encoding,
        created_by=actor,
        bytes_total=path.stat().st_size,
    )


@transaction.atomic
def import_queue(
    *,
    actor: User | None,
    client: Client,
    kind: str,
    path: Path,
    filename: str = "",
    encoding: str = "",
) -> ImportBatch:
    """Records an import for the worker: the batch and its task commit together, so no
    batch waits `queued` for a task that was never sent."""
    batch = import_start(
        actor=actor, client=client, kind=kind, path=path, filename=filename, encoding=encoding
    )
    enqueue(RUN_TASK, batch.pk, group="imports")
    return batch


def import_abandon(*, actor: User | None, batch: ImportBatch, stale_only: bool = False) -> int:
    """Gives up an import that will not finish (its process was killed) and deletes its
    rows, hidden and staged; returns how many imports it abandoned (0 or 1).

    Not one transaction, like `import_run`: the claim is one short transaction, then the
    rows go in short steps. Abandoning an import that is in fact still alive is safe: its
    final switch checks, under a lock, that it still owns the batch, and refuses otherwise.
    Abandoning an abandoned import again finishes a deletion that was cut short."""
    _check_actor(actor, batch.client)
    now = timezone.now()
    claim = ImportBatch.objects.filter(pk=batch.pk, status__in=ACTIVE)
    if stale_only:
        claim = claim.filter(heartbeat_at__lt=now - import_stale_after())
    with transaction.atomic():
        claimed = claim.update(status=ImportStatus.ABANDONED, finished_at=now)
    batch.refresh_from_db()
    if batch.status != ImportStatus.ABANDONED:
        if stale_only:
            return 0
        raise DomainError(
            _("Import #%(id)s is “%(status)s”: only a queued or running import can be abandoned.")
            % {"id": batch.pk, "status": batch.get_status_display()},
            field="batch",
        )
    customer_import.staged_discard(batch.pk)
    return claimed


def _abandon_dead_imports(batch: ImportBatch) -> None:
    """Before a new import of a client's customers: imports of that client whose process
    died (no heartbeat) hold customer numbers in hidden rows; they are cleared now rather
    than at the next sweep."""
    dead = ImportBatch.objects.filter(
        client_id=batch.client_id,
        status__in=[ImportStatus.RUNNING, ImportStatus.SWITCHING],
        heartbeat_at__lt=timezone.now() - import_stale_after(),
    ).exclude(pk=batch.pk)
    for other in dead:
        import_abandon(actor=None, batch=other, stale_only=True)


class _Errors:
    """All errors counted; the first ERROR_LIMIT kept with messages in English and Japanese."""

    def __init__(self, batch: ImportBatch, header: list[str], columns: dict[int, str]) -> None:
        self.batch = batch
        self.header_of = {field: header[i] for i, field in columns.items()}
        for whole, parts in SPLIT_FIELDS.get(batch.kind, {}).items():
            for part in parts:
                if whole in self.header_of:
                    self.header_of.setdefault(part, self.header_of[whole])

    def add(self, row: int, field: str, value: str, en: str, ja: str) -> None:
        self.batch.error_count += 1
        if len(self.batch.errors) < ERROR_LIMIT:
            self.batch.errors.append(
                {
                    "row": row,
                    "column": self.header_of.get(field, field),
                    "field": field,
                    "value": value[:100],
                    "message": {"en": en, "ja": ja},
                }
            )

    def warn(self, row: int, field: str, value: str, en: str, ja: str) -> None:
        """Written all the same, but worth a look: kept beside the errors."""
        self.batch.warning_count += 1
        if len(self.batch.warnings) < ERROR_LIMIT:
            self.batch.warnings.append(
                {
                    "row": row,
                    "column": self.header_of.get(field, field),
                    "field": field,
                    "value": value[:100],
                    "message": {"en": en, "ja": ja},
                }
            )


def _both(fn: Callable[[], str]) -> tuple[str, str]:
    with translation.override("en"):
        en = str(fn())
    with translation.override("ja"):
        ja = str(fn())
    return en, ja


def import_run(
    *, batch: ImportBatch, progress: Callable[[ImportBatch], None] | None = None
) -> ImportBatch:
    """Reads, checks and writes one file; the batch says what happened, row by row."""
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING, heartbeat_at=timezone.now()
    )
    batch.status = ImportStatus.RUNNING
    try:
        if batch.kind == ImportKind.CUSTOMERS:
            _run_customers(batch, progress)
        else:
            _run_with_services(batch, progress)
    except DomainError as exc:
        refusal = exc
        en, ja = _both(lambda: refusal.message)
        _Errors(batch, [], {}).add(0, refusal.field or "file", "", en, ja)
        abandoned = isinstance(exc, ImportAbandoned)
        _finish(batch, ImportStatus.ABANDONED if abandoned else ImportStatus.FAILED)
    except BaseException:
        _finish(batch, ImportStatus.FAILED)
        raise
    finally:
        customer_import.staged_discard(batch.pk)
    return batch


def _finish(batch: ImportBatch, status: str) -> None:
    batch.status = status
    batch.finished_at = timezone.now()
    batch.save()


def _tick(batch: ImportBatch, sheet, rows: int, progress) -> None:
    batch.rows_seen = rows
    batch.bytes_done = min(sheet.position(), batch.bytes_total)
    batch.heartbeat_at = timezone.now()
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows_seen=batch.rows_seen, bytes_done=batch.bytes_done, heartbeat_at=batch.heartbeat_at
    )
    if progress:
        progress(batch)


def _beat(batch: ImportBatch) -> None:
    batch.heartbeat_at = timezone.now()
    ImportBatch.objects.filter(pk=batch.pk).update(heartbeat_at=batch.heartbeat_at)


def _open(batch: ImportBatch):
    sheet = open_sheet(Path(batch.stored_path), encoding=batch.encoding or None)
    if batch.encoding != sheet.encoding:
        batch.encoding = sheet.encoding
        ImportBatch.objects.filter(pk=batch.pk).update(encoding=sheet.encoding)
    columns = columns_for(client_id=batch.client_id, kind=batch.kind, header=sheet.header)
    errors = _Errors(batch, sheet.header, columns)
    for field in missing_required(batch.kind, set(columns.values())):
        en, ja = _both(lambda f=field: _("This column is missing (%(field)s).") % {"field": f})
        errors.add(1, field, "", en, ja)
    return sheet, columns, errors


def _cells(record: list[str], columns: dict[int, str]) -> dict[str, str]:
    return {field: (record[i] if i < len(record) else "") for i, field in columns.items()}


def _run_customers(batch: ImportBatch, progress) -> None:
    _abandon_dead_imports(batch)
    sheet, columns, errors = _open(batch)
    stager = customer_import.CustomerStager(batch, columns.values())
    rows = 0
    with translation.override("en"):
        for number, record in sheet.rows:
            rows += 1
            given = _cells(record, columns)
            cells, warnings = customer_import.split_cells(given)
            if warnings:
                with translation.override("ja"):
                    _c, warnings_ja = customer_import.split_cells(given)
                for (field, message), (_f, message_ja) in zip(warnings, warnings_ja, strict=True):
                    errors.warn(number, field, given.get(field, ""), message, message_ja)
            values, problems = customer_import.clean_row(cells)
            if problems:
                with translation.override("ja"):
                    _v, problems_ja = customer_import.clean_row(cells)
                ja = dict(problems_ja)
                for field, message in problems:
                    errors.add(number, field, cells.get(field, ""), message, ja.get(field, message))
            elif not batch.error_count:
                stager.add(number, values)
            if rows % TICK_ROWS == 0:
                _tick(batch, sheet, rows, progress)
    if not batch.error_count:
        stager.flush()
        for customer_number, first, again in customer_import.customer_number_repeats(
            batch, ERROR_LIMIT
        ):
            en, ja = _both(
                lambda f=first: _("This customer number is also in row %(row)s.") % {"row": f}
            )
            errors.add(again, "customer_number", customer_number, en, ja)
    _tick(batch, sheet, rows, progress)
    if batch.error_count:
        batch.created = batch.updated = batch.unchanged = 0
        _finish(batch, ImportStatus.FAILED)
        return
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.SWITCHING)
    batch.status = ImportStatus.SWITCHING
    try:
        written = customer_import.customers_hide_in(batch, tick=lambda: _beat(batch))
    except DomainError:
        if not _name_taken_number(batch, errors):
            raise
        _finish(batch, ImportStatus.FAILED)
        return
    if written != batch.created:
        raise DomainError(
            _("Some of these customers were created meanwhile; import the file again."),
            field="file",
            code="conflict",
        )
    _beat(batch)
    started = time.perf_counter()
    with transaction.atomic():
        _still_ours(batch)
        customer_import.customers_switch_in(batch)
        batch.switch_seconds = time.perf_counter() - started
        _finish(batch, ImportStatus.DONE)


def _still_ours(batch: ImportBatch) -> None:
    """Locks the batch for the switch; refuses when it was abandoned meanwhile (a person or
    another import took it for dead), whose rows are being deleted."""
    mine = ImportBatch.objects.select_for_update().filter(
        pk=batch.pk, status=ImportStatus.SWITCHING
    )
    if not mine.exists():
        raise ImportAbandoned(
            _(
                "This import was abandoned while it ran; nothing was written. "
                "Import the file again."
            ),
            field="file",
        )


def _name_taken_number(batch: ImportBatch, errors: _Errors) -> bool:
    """When a new customer's number was taken during the import, says by whom, on the row
    of the file that has it: someone who created that customer meanwhile, or another
    import, finished or still running. False when no such row is found."""
    taken = Customer.all_rows.filter(
        client_id=batch.client_id, customer_number=OuterRef("customer_number")
    ).exclude(import_batch_id=batch.pk)
    first = (
        StagedCustomer.objects.filter(batch=batch, action="c")
        .filter(Exists(taken))
        .order_by("row")
        .values_list("row", "customer_number")
        .first()
    )
    if first is None:
        return False
    row, number = first
    holder_id = (
        Customer.all_rows.filter(client_id=batch.client_id, customer_number=number)
        .exclude(import_batch_id=batch.pk)
        .values_list("import_batch_id", flat=True)
        .first()
    )
    holder = ImportBatch.objects.filter(pk=holder_id).first() if holder_id else None
    values = {"number": number, "id": holder_id, "file": holder.filename if holder else ""}
    if holder is None:
        message = _(
            "Customer number %(number)s was created by someone else while this file was "
            "imported. Nothing was written; import the file again."
        )
    elif holder.status == ImportStatus.DONE:
        message = _(
            "Customer number %(number)s was created by import #%(id)s (%(file)s) while this "
            "file was imported. Nothing was written; import the file again."
        )
    else:
        message = _(
            "Customer number %(number)s is in import #%(id)s (%(file)s), which is still "
            "running. Nothing was written; import this file again once it has finished, or "
            "abandon it if its process was stopped (azukari import abandon %(id)s)."
        )
    en, ja = _both(lambda: message % values)
    errors.add(row, "customer_number", number, en, ja)
    return True


def _run_with_services(batch: ImportBatch, progress) -> None:
    sheet, columns, errors = _open(batch)
    if batch.error_count:
        _finish(batch, ImportStatus.FAILED)
        return
    kind = ROW_KINDS[batch.kind]
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rows = 0
    started = time.perf_counter()
    client = Client.objects.get(pk=batch.client_id)
    with transaction.atomic():
        with translation.override("en"):
            for number, record in sheet.rows:
                rows += 1
                cells = _cells(record, columns)
                outcome = kind.apply(client, cells)
                if isinstance(outcome, str):
                    counts[outcome] += 1
                else:
                    with translation.override("ja"):
                        again = kind.apply(client, cells)
                    ja = {} if isinstance(again, str) else dict(again)
                    for field, message in outcome:
                        errors.add(
                            number, field, cells.get(field, ""), message, ja.get(field, message)
                        )
                if rows % TICK_ROWS == 0:
                    batch.rows_seen = rows
                    batch.bytes_done = min(sheet.position(), batch.bytes_total)
                    if progress:
                        progress(batch)
        batch.rows_seen = rows
        batch.bytes_done = batch.bytes_total
        if batch.error_count:
            transaction.set_rollback(True)
        else:
            batch.created, batch.updated, batch.unchanged = (
                counts["created"],
                counts["updated"],
                counts["unchanged"],
            )
            batch.switch_seconds = time.perf_counter() - started
            _finish(batch, ImportStatus.DONE)
    if batch.error_count:
        _finish(batch, ImportStatus.FAILED)
    if progress:
        progress(batch)


def import_journal_sweep(*, stale_after: dt.timedelta | None = None) -> int:
    """Abandons imports that stopped making progress (a killed process) and drops their
    rows, staged ones and new customers written but never shown; queues again the task of
    an import still `queued` long after it was recorded (a task row lost with its worker's
    database, or a batch recorded before tasks committed with it). Returns how many imports
    it abandoned or queued again."""
    cutoff = timezone.now() - (stale_after or import_stale_after())
    dead = ImportBatch.objects.filter(
        status__in=[ImportStatus.RUNNING, ImportStatus.SWITCHING], heartbeat_at__lt=cutoff
    )
    handled = sum(import_abandon(actor=None, batch=b, stale_only=True) for b in dead)
    waiting = ImportBatch.objects.filter(
        status=ImportStatus.QUEUED, heartbeat_at__isnull=True, created_at__lt=cutoff
    ).values_list("pk", flat=True)
    for batch_id in waiting:  # a task queued twice runs once: the run claims the batch
        with transaction.atomic():
            enqueue(RUN_TASK, batch_id, group="imports")
        handled += 1
    return handled


def import_summary(batch: ImportBatch) -> dict[str, Any]:
    return {
        "status": batch.status,
        "rows": batch.rows_seen,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "errors": batch.error_count,
    }
