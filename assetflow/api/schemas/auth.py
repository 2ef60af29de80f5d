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


class SsoMethodSchema(Schema):
    display_name = fields.String(required=True, metadata={
        "description": "OIDC_DISPLAY_NAME, for \"Sign in with …\" (empty: the SPA words it generically)"})
    login_url = fields.String(required=True, metadata={"description": "where the button sends the browser"})


class AuthMethodsSchema(Schema):
    password = fields.Boolean(required=True, metadata={
        "description": "whether POST /api/auth/login takes passwords (PASSWORD_LOGIN)"})
    sso = fields.Nested(SsoMethodSchema, allow_none=True, required=True, metadata={
        "description": "single sign-on, or null when OIDC_ISSUER is not set"})


class BreakGlassSchema(InputSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=1000), metadata={
        "description": "the code after #break_glass= in the link `flask break-glass` printed"})

