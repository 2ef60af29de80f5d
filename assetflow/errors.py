"""Domain errors and the one JSON error shape every failure is turned into."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error a client can act on; subclasses fix the status and code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(AppError):
    status, code = 400, "bad_request"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class PasswordLoginOff(Forbidden):
    """POST /api/auth/login while PASSWORD_LOGIN=0."""

    code = "password_login_disabled"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class ConstraintViolation(Conflict):
    """The database refused a change for a rule that no lost race explains (details name it)."""

    code = "constraint_violation"


class PreconditionFailed(Conflict):
    """At final approval, a rule the request met at submit fails now: the world changed (details name the rule)."""

    code = "precondition_failed"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    status, code = 415, "unsupported_media_type"


class ValidationFailed(AppError):
    status, code = 422, "validation_error"


class RetryLater(AppError):
    """An error that passes: the client may try again after retry_after seconds (Retry-After)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, {"retry_after": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


class RateLimited(RetryLater):
    """Too many attempts."""

    status, code = 429, "rate_limited"


class Unavailable(RetryLater):
    """The server is overloaded (e.g. no database connection came free in time)."""

    status, code = 503, "unavailable"

    @classmethod
    def busy(cls) -> Unavailable:
        """What a request that waited too long for its turn or for a connection is told."""
        return cls("The server is busy; try again in a few seconds", retry_after=5)


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: dict | None = None) -> dict[str, Any]:
    """The one error shape, for HTTP responses and socket acks alike."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict[str, str] | None = None):
    """Build the JSON error body with its status."""
    return jsonify(error_body(code, message, details)), status, headers or {}


def app_error(error: AppError):
    """The JSON error for a domain error, with its headers (e.g. Retry-After)."""
    return error_response(error.status, error.code, error.message, error.details,
                          getattr(error, "headers", None))


def http_error(exc: HTTPException):
    """Turn any HTTP exception (incl. webargs validation) into the JSON error shape."""
    details: dict[str, Any] = {}
    # webargs/flask-smorest put field errors in exc.data["messages"], by location (json, query).
    messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
    if messages:
        details["fields"] = {name: errors for location in messages.values() for name, errors in location.items()}
        return error_response(422, "validation_error", "Invalid input", details)
    status = exc.code or 500
    code = HTTP_CODES.get(status, "error")
    return error_response(status, code, exc.description or code)


def pool_exhausted(exc: PoolTimeout):
    """Every database connection stayed busy for DATABASE_POOL_TIMEOUT: overload, not a bug."""
    from .extensions import db

    db.session.rollback()
    log.warning("no database connection came free: %s", exc)
    return app_error(Unavailable.busy())


def _unexpected(exc: Exception):
    from .extensions import db

    db.session.rollback()
    log.exception("unhandled error")
    return error_response(500, "internal_error", "Internal server error")


def init_app(app: Flask) -> None:
    """Register handlers so every error leaves as the JSON shape."""
    app.register_error_handler(AppError, app_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(PoolTimeout, pool_exhausted)
    app.register_error_handler(Exception, _unexpected)
