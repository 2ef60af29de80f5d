"""The HTTP API: thin blueprints that parse, call one service, and serialise."""

from flask import Flask
from flask_smorest import Api

from ..errors import http_error
from . import base
from .schemas.fields import ErrorSchema


class JsonErrorApi(Api):
    """flask-smorest, with its errors, and their documentation, in our one JSON error shape."""

    ERROR_SCHEMA = ErrorSchema
    # Each operation lists the error statuses it returns; a catch-all "default" would hide a missing one.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return http_error(error)


api = JsonErrorApi()


def init_app(app: Flask) -> None:
    """Register the API blueprints and the OpenAPI document."""
    from . import (
        assets,
        attachments,
        auth,
        delegations,
        departments,
        email_actions,
        meta,
        notifications,
        preferences,
        reports,
        requests,
        routing,
        rules,
        sso,
        users,
        webhooks,
    )

    base.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "The access token from POST /api/auth/login (the refresh token for /refresh)"})
    for module in (auth, sso, users, preferences, departments, assets, requests, attachments, rules, routing,
                   delegations, notifications, webhooks, email_actions, meta, reports):
        api.register_blueprint(module.blp)
