"""Logging in and out, and refreshing a token."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .fields import InputSchema
from .users import UserShortSchema


class LoginSchema(InputSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class LoginResultSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserShortSchema)


class LogoutSchema(InputSchema):
    refresh_token = fields.String(validate=validate.Length(max=4096))


class LogoutResultSchema(Schema):
    revoked = fields.Boolean(required=True)


class RefreshResultSchema(Schema):
    access_token = fields.String(required=True)
