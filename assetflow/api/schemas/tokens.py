"""API tokens: what their owner sees of them, and what makes one."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models.api_token import SCOPES
from .fields import InputSchema, Stripped


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    scopes = fields.List(fields.String(), attribute="scope_list")
    prefix = fields.String(metadata={"description": "the secret's first characters, to tell tokens apart"})
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True, metadata={"description": "to the minute"})


class TokenCreatedSchema(TokenSchema):
    secret = fields.String(metadata={"description": "`af_…`: shown this once, never again"})


class TokenListSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema))
    scopes = fields.List(fields.String(), metadata={"description": "the scopes my role lets me give a token"})


class TokenCreateSchema(InputSchema):
    name = Stripped(required=True, validate=[validate.Length(min=1, max=100)])
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True,
                         validate=validate.Length(min=1, max=len(SCOPES)), metadata={
                             "description": "`read` reads what you may; each other scope also writes one part "
                                            "(never beyond your role)"})
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "With a time zone, in the future; null: until revoked"})
