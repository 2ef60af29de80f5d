"""Domain errors and the one JSON error shape every failure is turned into."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
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


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class ValidationFailed(AppError):
    status, code = 422, "validation_error"


class RateLimited(AppError):
    status, code = 429, "rate_limited"


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


def error_response(status: int, code: str, message: str, details: dict | None = None):
    """Build the JSON error body with its status."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


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


def _unexpected(exc: Exception):
    from .extensions import db

    db.session.rollback()
    log.exception("unhandled error")
    return error_response(500, "internal_error", "Internal server error")


def init_app(app: Flask) -> None:
    """Register handlers so every error leaves as the JSON shape."""
    app.register_error_handler(AppError, lambda e: error_response(e.status, e.code, e.message, e.details))
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, _unexpected)
