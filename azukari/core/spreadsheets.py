"""Cells of the CSV files and workbooks the product writes, safe to open in a spreadsheet.

Names, subjects and notes are typed by customers and staff; a value beginning with `=`, `+`,
`-`, `@`, a tab or a carriage return would be read by Excel or LibreOffice as a formula
(CSV injection). Following OWASP's guidance, such text is written to CSV with a leading
apostrophe, which spreadsheets show as text; in a workbook the cell is typed as text, so it
reads exactly as written and never runs. Numbers, dates and empty values are untouched.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

# Full-width forms too: Japanese input methods type them and some spreadsheets fold them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# A signed number is a number, not a formula: "-3.5" stays as it is.
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _formula_like(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and NUMBER.fullmatch(value) is None
    )


def csv_cell(value: Any) -> Any:
    if _formula_like(value):
        return "'" + value
    return value


class SafeCsvWriter:
    """`csv.writer` whose rows are neutralised cell by cell."""

    def __init__(self, file: Any, **options: Any) -> None:
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """For a write-only openpyxl sheet: text that could be taken for a formula becomes a
    text cell holding exactly that text."""
    if _formula_like(value):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_row(sheet: Any, row: Iterable[Any]) -> list[Any]:
    return [xlsx_cell(sheet, value) for value in row]
