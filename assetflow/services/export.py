"""CSV exports: one row per line as it is read, safe to open in Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..models import Request, User
from . import listing, visibility

BOM = "\ufeff"  # Excel reads a BOM-less CSV as the local code page and garbles Chinese text.
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

REQUEST_COLUMNS = ("id", "kind", "state", "step", "steps_total", "asset_tag", "asset_name", "applicant",
                   "reason", "value", "currency", "target_user", "created_at", "decided_at")
SYSTEM = "system"  # the actor of what happens by itself: a reminder, an escalation
TRAIL_COLUMNS = ("at", "actor", "action", "from_state", "to_state", "step", "comment")


def safe_cell(value: Any) -> str:
    """The cell as text, with a leading quote when a spreadsheet would run it as a formula."""
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header then each row as one CSV line; the first line starts with the BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

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


def requests_rows(user: User, filters: Mapping[str, Any]) -> Iterator[str]:
    """The CSV of every request the user may see that matches the list's filters, in the list's order."""
    return csv_lines(REQUEST_COLUMNS, (_request_row(req) for req in listing.iter_requests(user, filters)))


def trail_rows(user: User, request_id: int) -> Iterator[str]:
    """The CSV of one request's audit trail; NotFound at once (before streaming) when not visible."""
    req = visibility.get_visible(user, request_id)
    rows = ((event.created_at, event.actor.display_name if event.actor else SYSTEM, event.action,
             event.from_state, event.to_state, event.step, event.comment) for event in req.events)
    return csv_lines(TRAIL_COLUMNS, rows)
