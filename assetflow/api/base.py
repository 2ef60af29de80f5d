"""What every API blueprint shares: JSON bodies read within limits, ids in paths, error docs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from flask import Flask, Request, Response, stream_with_context
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from ..errors import BadRequest, ValidationFailed
from .uploads import MULTIPART, json_part

# Every id, seq and version column is a PostgreSQL `integer`.
ID_MAX = 2**31 - 1
# Far beyond any field's range, far below Python's 4,300-digit int parsing limit.
MAX_INT_DIGITS = 40
BEARER = [{"bearerAuth": []}]


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValidationFailed(f"A number in the body has more than {MAX_INT_DIGITS} digits")
    return int(text)


def parse_json(data: str | bytes) -> Any:
    """Parse a JSON body; too deep is a 400, a number too long to be any field's a 422."""
    try:
        return json.loads(data, parse_int=_whole_number)
    except RecursionError:
        raise BadRequest("The JSON body is nested too deeply") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise BadRequest("The body is not valid JSON") from None


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, with request bodies read by parse_json (so request.get_json has its limits)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text within the body limits."""
        return parse_json(s)


class BodyParser(FlaskParser):
    """webargs reading JSON bodies through parse_json; an empty body reads as no body (all fields missing).

    A multipart body's JSON is its `data` part, read by `uploads.accepts_files` for the views that take files.
    """

    def _raw_load_json(self, req: Request) -> Any:
        if req.mimetype == MULTIPART:  # the JSON in the `data` part, for a view that accepts files
            part = json_part()
            return parse_json(part) if part else core.missing
        data = req.get_data(cache=True)
        if not is_json_request(req) or not data:
            return core.missing
        return parse_json(data)


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint whose arguments are read by BodyParser, and whose documenting decorators only
    document."""

    ARGUMENTS_PARSER = BodyParser()

    def alt_response(self, *args: Any, **kwargs: Any):
        """flask-smorest's, without a wrapper around the view (see `_documenting`)."""
        return _documenting(super().alt_response(*args, **kwargs))

    def doc(self, **kwargs: Any):
        """flask-smorest's, without a wrapper around the view (see `_documenting`)."""
        return _documenting(super().doc(**kwargs))

    def errors(self, *statuses: int, auth: bool = True):
        """Document the error statuses a view returns (all in the one error shape) and its bearer auth."""
        def decorator(view):
            for status in statuses:
                view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            if auth:
                view = self.doc(security=BEARER)(view)
            return view
        return decorator

    def links(self, status: int, **links: dict):
        """Document where a response leads (OpenAPI links; clients and schemathesis's stateful phase follow them)."""
        return self.doc(responses={status: {"links": links}})


def _documenting(document: Any) -> Any:
    """A flask-smorest decorator that only adds to a view's OpenAPI doc, applied as that doc alone: its wrapper does
    nothing else, yet costs each call of the view ~15 Python calls (an approve went through ten)."""
    def decorator(view: Any) -> Any:
        view._apidoc = document(view)._apidoc  # a copy of the view's doc with this added
        return view
    return decorator


def link(path: str, method: str, body: dict | None = None, **parameters: str) -> dict:
    """An OpenAPI link to another operation, its parameters (and body) filled from this response's values."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    doc = {"operationRef": f"#/paths/{pointer}/{method}", "parameters": parameters}
    return doc | ({"requestBody": body} if body else {})


def csv_download(lines: Iterator[str], filename: str) -> Response:
    """A streamed CSV download; the generator runs inside the request context."""
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: 1..ID_MAX in ASCII digits; any other segment there is a 404 (no such row)."""

    # Any segment, so "abc" or "-1" is this route's 404 rather than the SPA route's 405 for a POST.
    regex = r"[^/]+"

    def __init__(self, map: Any) -> None:
        super().__init__(map, min=1, max=ID_MAX)

    def to_python(self, value: str) -> int:
        """The id, or a 404 raised here: a non-match would fall through to the SPA's GET-only route."""
        if not (value.isascii() and value.isdigit() and len(value) <= len(str(ID_MAX))
                and 1 <= int(value) <= ID_MAX):
            raise NotFound(f"No such id: ids are whole numbers from 1 to {ID_MAX}")
        return int(value)


def init_app(app: Flask) -> None:
    """Install the JSON provider and the id converter (before any route uses it)."""
    app.json = JsonProvider(app)
    app.url_map.converters["id"] = IdConverter
