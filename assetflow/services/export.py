"""CSV exports: one row per line as it is read, safe to open in a spreadsheet in any locale.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or a NUL
as a formula (OWASP "CSV injection"; NUL from OWASP ASVS 1.2.10). Which character splits cells is
not ours to choose: Excel opens a double-clicked CSV with the locale's list separator (`;` in
Germany and France), and the import dialogs of Excel, LibreOffice and Google Sheets offer comma,
semicolon, tab and space by name and any other character (`|` is the usual one). So a text cell is
written for every split at once:

- every field is quoted (csv.QUOTE_ALL), so a comma-splitting reader keeps it whole;
- a `'` goes before each of those formula characters that starts the text or follows a separator
  (`,` `;` tab `|` space, a line break) or a quote (`"` `'`, which a reader may strip), so no piece
  of the text, however it is cut, starts a formula: `ok;=1+2;` is written `"ok;'=1+2;"`.

Numbers the app itself writes (money, ids, steps) stay as they are: `-5.00` is a number to every
spreadsheet, never a formula, and a quote would turn it into text that no sum adds up. Money is
never negative today (the API takes no sign); the rule is there so that a refund could be.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..extensions import db
from ..list_terms import ASSET_SORTS
from ..models import Asset, Request
from . import listing, visibility

BOM = "\ufeff"  # Excel reads a BOM-less CSV as the local code page and garbles Chinese text.
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection", ASVS 1.2.10).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
# Where a spreadsheet may start a new cell (separators it offers, line breaks) or strip a quote.
CELL_BREAKS = (",", ";", "\t", "|", " ", "\r", "\n", '"', "'")
_GUARD = re.compile("(?:^|(?<=[{}]))(?=[{}])".format(re.escape("".join(CELL_BREAKS)),
                                                      re.escape("".join(FORMULA_START))))

REQUEST_COLUMNS = ("id", "kind", "state", "step", "steps_total", "asset_tag", "asset_name", "applicant",
                   "reason", "value", "currency", "target_user", "created_at", "decided_at")
SYSTEM = "system"  # the actor of what happens by itself: a reminder, an escalation
# The columns of an assets import (services/imports.py), so an export re-imports as it is.
ASSET_COLUMNS = ("tag", "name", "category", "value", "currency", "status", "department_code", "custodian_username",
                 "location")
TRAIL_COLUMNS = ("at", "actor", "action", "from_state", "to_state", "step", "comment")


def safe_cell(value: Any) -> str:
    """The cell as text, a `'` before every piece of it that a spreadsheet would run as a formula."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)  # a number, never a formula, even when negative
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return _GUARD.sub("'", text)


def unguard(text: str) -> str:
    """The text safe_cell was given: each `'` it put before a formula character taken off again (an import reads
    an export as it was). safe_cell inserts `'` only before a formula character that starts the text or follows a
    cell break, so a `'` in such a place was inserted; `''=` was `'=`, whose `=` followed a quote."""
    if "'" not in text:
        return text
    kept: list[str] = []
    for index, char in enumerate(text):
        after_break = not kept or kept[-1] in CELL_BREAKS
        if char == "'" and after_break and text[index + 1:index + 2] in FORMULA_START and text[index + 1:index + 2]:
            continue
        kept.append(char)
    return "".join(kept)


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header then each row as one CSV line; the first line starts with the BOM."""
    buffer = io.StringIO()
    # Rows end in LF, which every spreadsheet reads, not RFC 4180's CRLF: a reader splitting on
    # another separator may run a quoted piece over the end of a row, and that cell would start with CR.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")

    def line(cells: Iterable[Any]) -> str:
        writer.writerow([safe_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield BOM + line(header)
    for row in rows:
        yield line(row)


def _request_row(req: Request) -> tuple:
    asset = req.asset
    return (req.id, req.kind, req.state, req.step, req.steps_total, asset.tag if asset else "",
            asset.name if asset else req.name, req.applicant.display_name, req.reason,
            req.value if req.value is not None else (asset.value if asset else ""),
            req.currency or (asset.currency if asset else ""),
            req.target_user.display_name if req.target_user else "", req.created_at, req.decided_at)


def requests_rows(user: Actor, filters: Mapping[str, Any]) -> Iterator[str]:
    """The CSV of every request the user may see that matches the list's filters, in the list's order."""
    return csv_lines(REQUEST_COLUMNS, (_request_row(req) for req in listing.iter_requests(user, filters)))


def assets_rows(user: Actor, filters: Mapping[str, Any], batch: int = 500) -> Iterator[str]:
    """The CSV of every asset matching the list's filters, in the list's order, in the import's columns."""
    query = (sa.select(Asset).where(*listing.asset_filters(user, filters))
             .order_by(*listing.order_by(filters.get("sort") or "tag", ASSET_SORTS, Asset.id)))

    def rows() -> Iterator[tuple]:
        for asset in db.session.scalars(query.execution_options(yield_per=batch)):
            yield (asset.tag, asset.name, asset.category, asset.value, asset.currency, asset.status,
                   asset.department.code, asset.custodian.username if asset.custodian else "", asset.location)

    return csv_lines(ASSET_COLUMNS, rows())


def trail_rows(user: Actor, request_id: int) -> Iterator[str]:
    """The CSV of one request's audit trail; NotFound at once (before streaming) when not visible."""
    req = visibility.get_visible(user, request_id)
    rows = ((event.created_at, event.actor.display_name if event.actor else SYSTEM, event.action,
             event.from_state, event.to_state, event.step, event.comment) for event in req.events)
    return csv_lines(TRAIL_COLUMNS, rows)
