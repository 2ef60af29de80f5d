"""Imports: an admin's CSV or XLSX of departments, users or assets, dry run first, then every row or none."""

from __future__ import annotations

from functools import wraps

from flask import current_app, request
from flask_jwt_extended import get_current_user, jwt_required
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.tokens import roles_required
from ..errors import NotFound, ValidationFailed
from ..services import imports
from ..services.imports import Row
from .base import ApiBlueprint
from .budgets import write_budget
from .schemas.fields import InputSchema
from .schemas.imports import CLEARED, KEYS, ROW_SCHEMAS, ImportArgsSchema, ImportReportSchema
from .spreadsheets import read_table

blp = ApiBlueprint("imports", __name__, url_prefix="/api/imports",
                   description="Importing departments, users and assets from CSV or XLSX")
MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and part headers around the file


class ImportFileSchema(InputSchema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8) or XLSX; the first row names the columns"})


def _uploads_up_to_import_max(view):
    """Allow this route a body of IMPORT_MAX_BYTES (every other route keeps MAX_CONTENT_LENGTH); over it, 413."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"] + MULTIPART_OVERHEAD
        return view(*args, **kwargs)
    return wrapper


@blp.post("/<kind>", parameters=[{"in": "path", "name": "kind", "required": True, "description": "what the file holds",
                                   "schema": {"type": "string", "enum": list(ROW_SCHEMAS)}}])
@jwt_required()
@write_budget("imports")
@roles_required("admin")
@_uploads_up_to_import_max
@blp.arguments(ImportArgsSchema, location="query")
@blp.arguments(ImportFileSchema, location="files")
@blp.response(200, ImportReportSchema)
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def run(args, files, kind):
    """Check every row of the file (`dry_run=1`, the default, writes nothing) or apply them all (`dry_run=0`): a
    real run with any error row writes nothing and answers 422 `import_rejected` with the report in `details`.
    Rows are matched by key (departments `code`, users `username`, assets `tag`); a column the file lacks leaves
    that field as it is, an empty cell clears it where it may be empty. Admins only."""
    if kind not in ROW_SCHEMAS:
        raise NotFound(f"No import of {kind!r}: departments, users or assets")
    data = files["file"].read()
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        raise RequestEntityTooLarge(f"The file is larger than {current_app.config['IMPORT_MAX_BYTES']} bytes")
    rows = read_rows(kind, data, current_app.config["IMPORT_MAX_ROWS"])
    return imports.run(kind, rows, get_current_user(), args["dry_run"])


def read_rows(kind: str, data: bytes, max_rows: int) -> list[Row]:
    """The file's data rows, each read by the kind's column rules (the API's own field rules)."""
    table = read_table(data, max_rows)
    columns = _columns(kind, table.header)
    schema: Schema = ROW_SCHEMAS[kind]()
    key, cleared = KEYS[kind], CLEARED[kind]
    rows = []
    for number, cells in table.rows:
        raw, errors = {}, []
        for index, cell in enumerate(cells):
            name = columns[index] if index < len(columns) else None
            if name is None:
                if cell:
                    errors.append(f"Column {index + 1} has a value but no header")
            elif cell:
                raw[name] = cell
            elif name in cleared:
                raw[name] = cleared[name]
            else:
                errors.append(f"{name}: must not be empty")
        for name in columns[len(cells):]:  # a short row: its missing cells are empty
            if name is not None and name not in cleared:
                errors.append(f"{name}: must not be empty")
        try:
            values = schema.load(raw, partial=True)
        except ValidationError as error:
            errors += [f"{name}: {' '.join(_messages(problems))}" for name, problems in error.messages.items()]
            values = {}
        rows.append(Row(number, str(raw.get(key) or ""), values, errors))
    return rows


def _messages(problems) -> list[str]:
    return [str(p) for p in problems] if isinstance(problems, list) else [str(problems)]


def _columns(kind: str, header: list[str]) -> list[str | None]:
    """The header's column names (None for an empty heading); 422 for an unknown, repeated or missing key column."""
    known = list(ROW_SCHEMAS[kind]().fields)
    names = [heading.strip().lower() or None for heading in header]
    unknown = [name for name in names if name is not None and name not in known]
    repeated = sorted({name for name in names if name is not None and names.count(name) > 1})
    problem = None
    if unknown:
        problem = f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}"
    elif repeated:
        problem = f"Repeated column: {', '.join(repeated)}"
    elif KEYS[kind] not in names:
        problem = f"No {KEYS[kind]} column, which identifies each row"
    if problem:
        message = f"{problem}. A {kind} file has the columns {', '.join(known)} (any order; only {KEYS[kind]} needed)"
        raise ValidationFailed(message, {"fields": {"file": [message]}})
    return names
