"""What every schema shares: the input base that refuses unstorable text, ids, money, JSON booleans,
pages, sorts and the one error shape."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from ..base import ID_MAX

TEXT = validate.Length(max=2000)
# PostgreSQL refuses NUL in text; a lone surrogate cannot be encoded as UTF-8 by any database.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text must not contain NUL characters or unpaired surrogates."
# NUMERIC(14, 2): twelve digits before the point, two after; written out, never as 1e3.
MONEY_TEXT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
MONEY_MAX = "999999999999.99"  # the largest amount MONEY_TEXT allows


class Whole(validate.Regexp):
    """A Regexp that must match the whole value, as its published JSON Schema `pattern` means.

    With re.match, `$` also matches before a final newline: "CNY\\n" passed ^[A-Z]{3}$ and then
    overflowed VARCHAR(3) on PostgreSQL.
    """

    def __call__(self, value: str) -> str:
        """The value, when the pattern matches all of it."""
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


CURRENCY = Whole(r"^[A-Z]{3}$")


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    return False


class InputSchema(Schema):
    """Base of every schema that reads client input: the one place that refuses unstorable text."""

    @pre_load
    def _refuse_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            bad = {str(key): [UNSTORABLE_MESSAGE] for key, value in data.items()
                   if _unstorable(key) or _unstorable(value)}
            if bad:
                raise ValidationError(bad)
        return data


class OutputSchema(Schema):
    """Base of the schemas of what the server answers often (a request, what it shows of an asset, a person, a
    department), reading an object's attribute as one `getattr`.

    marshmallow's accessor asks every object for `__getitem__` first (a view forwarding unknown names to its row
    answers that by raising) and goes through two more functions per field: four Python calls of every field of
    every answer. Mappings, dotted names and anything else with `__getitem__` still go through marshmallow's own.
    """

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        """The value of `attr` on `obj` (as marshmallow's accessor would find it)."""
        if "." in attr or hasattr(type(obj), "__getitem__"):
            return super().get_attribute(obj, attr, default)
        return getattr(obj, attr, default)


def Id(**kwargs: Any) -> fields.Integer:
    """An id in a JSON body: a whole JSON number in 1..ID_MAX; 4.5, true or "4" are refused."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=ID_MAX), **kwargs)


def QueryInt(low: int, high: int = ID_MAX, **kwargs: Any) -> fields.Integer:
    """A whole number in a query string (always text there, so not strict) in low..high."""
    return fields.Integer(validate=validate.Range(min=low, max=high), **kwargs)


def _positive(value: Any) -> None:
    # Not validate.Range: apispec would publish its bound as a number on a field documented as a string.
    if value <= 0:
        raise ValidationError("Must be greater than 0.")


class Money(fields.Decimal):
    """Money as the decimal string the server sends ("12500.00"); a JSON number is read too, never rounded."""

    default_error_messages = {
        "invalid": "Not a valid amount: up to 12 digits, optionally a point and up to 2 more (e.g. \"12500.00\")."}

    def __init__(self, positive: bool = False, **kwargs: Any) -> None:
        # The pattern bounds it (no sign, NUMERIC(14, 2)); documented as a string, which it is on the wire.
        metadata = {"type": "string", "format": "decimal", "pattern": f"^{MONEY_TEXT.pattern}$", "example": "12500.00"}
        validators = []
        if positive:
            metadata["description"] = "Greater than 0."
            validators.append(_positive)
        super().__init__(places=2, as_string=True, validate=validators, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any):
        if isinstance(value, bool) or not isinstance(value, int | float | str) or not MONEY_TEXT.fullmatch(str(value)):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class JsonBool(fields.Boolean):
    """A boolean in a JSON body: true or false only, never 1, "yes" or "on"."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class PageArgs(InputSchema):
    page = QueryInt(1, 100_000, load_default=1)
    per_page = QueryInt(1, 100, load_default=20)


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "not_found"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={
        "description": "fields: {name: [message]} for a 422; state and decided_by for a 409 on a decided request"})


class ErrorSchema(Schema):
    """The one error shape: {"error": {"code", "message", "details"}}."""

    error = fields.Nested(ErrorBodySchema, required=True)


def sort_field(columns: Mapping[str, Any], default: str) -> fields.String:
    """A `sort` query parameter: one of the whitelisted keys, `-key` for descending."""
    return fields.String(load_default=default, validate=validate.OneOf(
        [key for name in columns for key in (name, f"-{name}")]))


SEARCH = validate.Length(max=100)


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """A paginated envelope around one item schema."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema)),
        "page": fields.Integer(), "per_page": fields.Integer(), "total": fields.Integer(),
    }, name=f"{item_schema.__name__.removesuffix('Schema')}Page")


class PersonSchema(Schema):
    """Someone named in another record: enough to show them."""

    id = fields.Integer()
    display_name = fields.String()


class Stripped(fields.String):
    """Text with the blanks around it removed before it is validated (so "   " is empty)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()
