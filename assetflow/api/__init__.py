"""The HTTP API: thin blueprints that parse, call one service, and serialise."""

from flask import Flask
from flask_smorest import Api

from ..auth import api_tokens as api_tokens_auth
from ..errors import http_error
from ..services import api_tokens as api_tokens_service
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
        imports,
        meta,
        notifications,
        preferences,
        reports,
        requests,
        routing,
        rules,
        sso,
        tokens,
        users,
        webhooks,
    )

    base.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                       "description": "The access token from POST /api/auth/login (the refresh token for /refresh), "
                                      "or an API token `af_…` from POST /api/tokens"})
    for module in (auth, sso, users, preferences, departments, assets, requests, attachments, rules, routing,
                   delegations, notifications, webhooks, email_actions, meta, reports, tokens, imports):
        api.register_blueprint(module.blp)
    app.after_request(_mark_api_token_used)


def _mark_api_token_used(response):
    """A call admitted with an API token updates its last_used_at (at most once a minute), whatever its answer."""
    used = api_tokens_auth.used_now()
    if used is not None:
        api_tokens_service.touch(*used)
    return response
