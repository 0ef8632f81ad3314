"""Reading client files: CSV in UTF-8 (with or without BOM) or CP932, and Excel workbooks.

Japanese companies send CP932 (Windows Shift_JIS), which Python's plain `shift_jis` codec does
not cover: ①, ㈱, 髙 and 﨑 exist only in CP932, so the fallback is always `cp932`.
"""

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError

SNIFF_BYTES = 1 << 20
ENCODINGS = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "utf8": "utf-8-sig", "cp932": "cp932"}
ENCODING_ALIASES = {"sjis": "cp932", "shift_jis": "cp932", "shift-jis": "cp932", "ms932": "cp932"}


def detect_encoding(head: bytes) -> str:
    """UTF-8 when the first megabyte decodes as UTF-8 (a BOM is dropped), CP932 otherwise."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8-sig"


def encoding_named(name: str) -> str:
    """The codec for `--encoding`; `shift_jis` is read as CP932, its superset."""
    key = name.strip().lower()
    key = ENCODING_ALIASES.get(key, key)
    if key not in ENCODINGS:
        raise DomainError(
            _("Unknown encoding “%(name)s”: use utf-8 or cp932.") % {"name": name},
            field="encoding",
        )
    return ENCODINGS[key]


@dataclass
class Sheet:
    """Rows of a file as lists of strings; `row` numbers count the header as 1, like Excel."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str
    position: Callable[[], int]  # bytes read so far, for progress
    size: int


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def open_sheet(path: Path, *, encoding: str | None = None) -> Sheet:
    path = Path(path)
    size = path.stat().st_size
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _open_xlsx(path, size)
    raw = path.open("rb")
    codec = encoding_named(encoding) if encoding else detect_encoding(raw.read(SNIFF_BYTES))
    raw.seek(0)
    text = io.TextIOWrapper(raw, encoding=codec, newline="", errors="strict")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except UnicodeDecodeError as exc:
        raise _undecodable(codec, 1) from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for record in reader:
                number += 1
                if any(cell.strip() for cell in record):
                    yield number, record
        except UnicodeDecodeError as exc:
            raise _undecodable(codec, number + 1) from exc
        finally:
            text.close()

    def position() -> int:
        return size if raw.closed else raw.tell()

    return Sheet(header=header, rows=rows(), encoding=codec, position=position, size=size)


def _undecodable(codec: str, row: int) -> DomainError:
    return DomainError(
        _(
            "Row %(row)s cannot be read as %(codec)s. Save the file as UTF-8 or CP932, "
            "or name its encoding."
        )
        % {"row": row, "codec": codec.replace("-sig", "")},
        field="encoding",
    )


def _open_xlsx(path: Path, size: int) -> Sheet:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(values, ())]
    total = sheet.max_row or 0
    seen = [0]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, record in enumerate(values, start=2):
                seen[0] = number
                cells = [_cell(v) for v in record]
                if any(c.strip() for c in cells):
                    yield number, cells
        finally:
            book.close()

    # Progress by row against the sheet's stated size, scaled to the file size.
    return Sheet(
        header=header,
        rows=rows(),
        encoding="xlsx",
        position=lambda: int(size * seen[0] / total) if total else 0,
        size=size,
    )


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8-sig") -> None:
    """Small helper for tests and samples."""
    with Path(path).open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)


@dataclass(frozen=True)
class Preview:
    header: list[str]
    rows: list[list[str]]  # the first rows, each as long as the header
    encoding: str


def sheet_preview(path: Path, *, encoding: str | None = None, rows: int = 5) -> Preview:
    """The header and first rows of a file, read as the import will read it."""
    sheet = open_sheet(path, encoding=encoding)
    first: list[list[str]] = []
    try:
        for _number, record in sheet.rows:
            first.append((record + [""] * len(sheet.header))[: len(sheet.header)])
            if len(first) >= rows:
                break
    finally:
        sheet.rows.close()
    return Preview(header=sheet.header, rows=first, encoding=sheet.encoding)
