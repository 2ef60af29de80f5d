"""An uploaded CSV or XLSX read into a header and rows of text cells, within limits, with errors that say what to do.

- XLSX is told from CSV by its content (a zip archive), not its name, and read with openpyxl in
  read-only mode (the sheet is streamed, never loaded whole). Its archive may not unpack to more than
  XLSX_UNPACKED_RATIO times the upload, so a small "zip bomb" is refused before it is read.
- CSV must be UTF-8, with or without the BOM Excel writes ("CSV UTF-8"); other text is refused with
  the line of the first byte that is not, rather than read as the wrong characters. The separator is
  the one the header line uses of `,` `;` tab `|` (a spreadsheet in a French or German locale writes `;`).
- Every cell becomes stripped text (a number 12.5 "12.5", a whole 3.0 "3", true "true"); the `'` that
  services/export.py puts before a formula character is taken off again, so an export re-imports as it was.
- `row` is the line number a spreadsheet shows: the header is 1, the first data row 2; blank rows are
  skipped but still counted.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from openpyxl import load_workbook

from ..errors import ValidationFailed
from ..services.export import unguard

XLSX_MAGIC = b"PK\x03\x04"
XLSX_UNPACKED_RATIO = 50
SEPARATORS = ",;\t|"


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (the spreadsheet's row number, its cells)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {"file": [message]}})


def read_table(data: bytes, max_rows: int) -> Table:
    """The file's header and non-blank rows; 422 naming the problem when it cannot be read or has too many rows."""
    if not data.strip():
        raise _refuse("The file is empty")
    lines = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    try:
        header = [_text(cell) for cell in next(lines)]
    except StopIteration:
        raise _refuse("The file is empty") from None
    rows = []
    for number, cells in enumerate(lines, start=2):
        texts = [_text(cell) for cell in cells]
        if any(texts):
            rows.append((number, texts))
            if len(rows) > max_rows:
                raise _refuse(f"The file has more than {max_rows} rows; split it")
    return Table(header, rows)


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise _refuse(f"Line {line} is not UTF-8 text: save the file as \"CSV UTF-8\" or as XLSX") from None
    first = text.split("\n", 1)[0]
    separator = max(SEPARATORS, key=first.count) if any(s in first for s in SEPARATORS) else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    except csv.Error as error:
        raise _refuse(f"The CSV cannot be read: {error}") from None


def _xlsx_rows(data: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
        if unpacked > XLSX_UNPACKED_RATIO * len(data):
            raise _refuse("The XLSX unpacks to far more than its size; it is refused")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        yield from sheet.iter_rows(values_only=True)
        workbook.close()
    except ValidationFailed:
        raise
    except Exception as error:  # openpyxl raises many kinds (KeyError, zipfile.BadZipFile, ValueError, …)
        raise _refuse(f"The file is not a readable XLSX workbook ({type(error).__name__})") from None


def _text(cell: Any) -> str:
    """One cell as the text the column rules read."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    return unguard(str(cell).strip())
