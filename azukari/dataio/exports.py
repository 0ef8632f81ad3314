"""Exports streamed row by row: CSV (UTF-8 with BOM for Excel, or CP932) and .xlsx.

Rows come from `visible_to(viewer)` querysets read with `iterator(chunk_size=...)`, so a
million rows never sit in memory. Every chunk that holds personal data is recorded in the
audit trail (one access event per customer, action "export") before it is handed out.

CP932 lacks some characters (𠮷, emoji, most of Unicode beyond JIS X 0208 and the NEC/IBM
extensions). The stated rule: such a character is written as 〓 (geta, the mark Japanese
typesetting uses for a missing glyph), so that a row never shifts and the loss is visible.
"""

import codecs
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from azukari.audit.models import AccessAction, AccessEvent
from azukari.audit.services import personal_data_access
from azukari.cases.models import Case, Contact
from azukari.core.errors import DomainError, NotVisible
from azukari.core.phones import display_phone
from azukari.core.spreadsheets import SafeCsvWriter, xlsx_row
from azukari.core.visibility import Viewer
from azukari.customers.models import Customer
from azukari.org.models import Client

CHUNK = 2000
XLSX_MAX_ROWS = 1_048_576  # a worksheet's limit, header included
GETA = "〓"


def _geta(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return GETA * (error.end - error.start), error.end


codecs.register_error("azukari-geta", _geta)


@dataclass(frozen=True)
class ExportSpec:
    """What one export holds: columns, the scoped rows, and which customer each row is about."""

    name: str
    columns: tuple[tuple[str, Any], ...]  # (field path, translated header)
    queryset: Callable[[Viewer, Client], QuerySet]
    customer_field: str | None  # the row's customer id, for the audit trail
    personal: tuple[str, ...] = ()

    def header(self) -> list[str]:
        return [str(label) for _f, label in self.columns]


def _customers(viewer: Viewer, client: Client) -> QuerySet:
    return Customer.objects.visible_to(viewer).filter(client=client).order_by("pk")


def _cases(viewer: Viewer, client: Client) -> QuerySet:
    return Case.objects.visible_to(viewer).filter(client=client).order_by("pk")


def _contacts(viewer: Viewer, client: Client) -> QuerySet:
    return Contact.objects.visible_to(viewer).filter(client=client).order_by("pk")


def _audit(viewer: Viewer, client: Client) -> QuerySet:
    return AccessEvent.objects.visible_to(viewer).filter(client=client).order_by("pk")


SPECS = {
    "customers": ExportSpec(
        name="customers",
        columns=(
            ("customer_number", _("customer number")),
            ("family_name", _("family name")),
            ("given_name", _("given name")),
            ("family_name_kana", _("family name (kana)")),
            ("given_name_kana", _("given name (kana)")),
            ("postcode", _("postcode")),
            ("address", _("address")),
            ("email", _("e-mail")),
            ("created_at", _("created at")),
            ("updated_at", _("updated at")),
        ),
        queryset=_customers,
        customer_field="pk",
        personal=("name", "kana", "address", "email", "postcode"),
    ),
    "cases": ExportSpec(
        name="cases",
        columns=(
            ("pk", _("case")),
            ("customer__customer_number", _("customer number")),
            ("kind", _("kind")),
            ("subject", _("subject")),
            ("state", _("state")),
            ("azukari_reason", _("reason")),
            ("site__code", _("site")),
            ("opened_at", _("opened at")),
            ("resolved_at", _("resolved at")),
            ("closed_at", _("closed at")),
            ("center_seconds", _("center's time (s)")),
            ("client_seconds", _("client's time (s)")),
            ("customer_seconds", _("customer's time (s)")),
        ),
        queryset=_cases,
        customer_field="customer_id",
        personal=("customer_number", "subject"),
    ),
    "contacts": ExportSpec(
        name="contacts",
        columns=(
            ("pk", _("contact")),
            ("customer__customer_number", _("customer number")),
            ("case_id", _("case")),
            ("direction", _("direction")),
            ("caller_number", _("caller number")),
            ("site__code", _("site")),
            ("started_at", _("started at")),
            ("answered_at", _("answered at")),
            ("ended_at", _("ended at")),
            ("reason", _("reason")),
            ("coding__reason_code__code", _("reason code")),
            ("coding__acw_code__code", _("after-call work code")),
            ("summary", _("summary")),
        ),
        queryset=_contacts,
        customer_field="customer_id",
        personal=("caller_number", "summary"),
    ),
    "audit": ExportSpec(
        name="audit",
        columns=(
            ("seq", _("sequence")),
            ("at", _("at")),
            ("actor__username", _("who")),
            ("action", _("action")),
            ("customer_ref", _("customer id")),
            ("object_type", _("record type")),
            ("object_ref", _("record")),
            ("fields", _("fields")),
            ("purpose", _("why")),
            ("ip", _("from address")),
            ("chain_hash", _("chain hash")),
        ),
        queryset=_audit,
        customer_field=None,
    ),
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def export_rows(
    *,
    viewer: Viewer,
    client: Client,
    what: str,
    purpose: str = "",
    request: HttpRequest | None = None,
) -> Iterator[list]:
    """The export's rows, read through the visibility door and audited a chunk at a time
    (with the address of the `request` that asked for them, when there is one)."""
    spec = SPECS.get(what)
    if spec is None:
        raise DomainError(_("Unknown export."), field="what")
    if client.pk not in viewer.visible_client_ids():
        raise NotVisible(field="client")
    fields = [f for f, _l in spec.columns]
    extra = [spec.customer_field] if spec.customer_field else []
    rows = spec.queryset(viewer, client).values_list(*fields, *extra, "pk")
    customer_at = len(fields)

    def audited(chunk: list[tuple]) -> Iterator[list]:
        if spec.customer_field:
            ids = {r[customer_at] for r in chunk if r[customer_at] is not None}
            if ids:
                personal_data_access(
                    viewer=viewer,
                    customers=[Customer(pk=i, client_id=client.pk) for i in sorted(ids)],
                    fields=list(spec.personal),
                    action=AccessAction.EXPORT,
                    purpose=purpose or f"export:{spec.name}",
                    request=request,
                    object_type="export",
                    object_ref=spec.name,
                )
        for r in chunk:
            out = [_cell(v) for v in r[:customer_at]]
            if spec.name == "contacts":
                out[4] = display_phone(out[4]) if out[4] else ""
            yield out

    # Keyset pages: no cursor stays open while the audit events of a page are written, and
    # each page is one short query on every database.
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1][-1]
        yield from audited(chunk)


def export_header(what: str) -> list[str]:
    return SPECS[what].header()


class _Line:
    """A file-like object csv.writer writes one line into."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def csv_stream(
    header: list[str], rows: Iterable[list], *, encoding: str = "utf-8", lines_per_chunk: int = 500
) -> Iterator[bytes]:
    """CSV bytes in chunks: UTF-8 starts with a BOM so that Excel reads it; CP932 follows
    the geta rule for characters it lacks."""
    codec = "cp932" if encoding.lower() in {"cp932", "sjis", "shift_jis", "ms932"} else "utf-8"
    errors = "azukari-geta" if codec == "cp932" else "strict"
    line = _Line()
    writer = SafeCsvWriter(line, lineterminator="\r\n")
    writer.writerow(header)
    first = line.take().encode(codec, errors)
    yield (codecs.BOM_UTF8 + first) if codec == "utf-8" else first
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % lines_per_chunk == 0:
            yield line.take().encode(codec, errors)
    rest = line.take()
    if rest:
        yield rest.encode(codec, errors)


def xlsx_write(
    header: list[str],
    rows: Iterable[list],
    path: Path,
    *,
    sheet_title: str,
    max_rows: int = XLSX_MAX_ROWS,
) -> int:
    """Writes a workbook in openpyxl's write-only mode (rows go to disk as they come).

    A sheet holds at most `max_rows` rows with its header; past that the rows continue on a
    new sheet named "<title> (2)", "<title> (3)", each with the header again. Returns the
    number of sheets.
    """
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheets = 1
    sheet = book.create_sheet(title=sheet_title[:31])
    sheet.append(header)
    used = 1
    for row in rows:
        if used >= max_rows:
            sheets += 1
            sheet = book.create_sheet(title=f"{sheet_title[:25]} ({sheets})")
            sheet.append(header)
            used = 1
        sheet.append(xlsx_row(sheet, row))
        used += 1
    book.save(path)
    return sheets


def xlsx_file(header: list[str], rows: Iterable[list], *, sheet_title: str) -> BinaryIO:
    """The workbook as an open file, for a download: written to a temporary file that is
    already unlinked, so it disappears when the response closes it."""
    path = Path(tempfile.mkstemp(suffix=".xlsx")[1])
    try:
        xlsx_write(header, rows, path, sheet_title=sheet_title)
        return path.open("rb")
    finally:
        path.unlink()
