"""Security headers on every response the app makes: the page, its files, the API, errors."""

from __future__ import annotations

from flask import Flask, Response, request

# The built SPA loads only its own module scripts, stylesheets and a data: favicon, and talks
# to its own origin (HTTP and the Socket.IO WebSocket: 'self' covers ws/wss to the same host).
# Vue and Element Plus set styles through the CSSOM, which style-src does not restrict.
# The request page previews an attached image or PDF from a blob: URL of the bytes it fetched with its
# bearer token (a token never travels in a URL): an <img> and an <iframe> may load blob: URLs, nothing else.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "frame-src blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000"


def add_security_headers(response: Response) -> Response:
    """Set the headers; HSTS only on https, as the client or the trusted proxies (PROXY_COUNT) saw it.

    A response that brings its own Content-Security-Policy keeps it (an attachment's content is sandboxed).
    """
    policy = response.headers.get("Content-Security-Policy")
    response.headers.update(HEADERS)
    if policy:
        response.headers["Content-Security-Policy"] = policy
    # is_secure reads the scheme ProxyFix took from X-Forwarded-Proto, only with PROXY_COUNT set.
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response."""
    app.after_request(add_security_headers)
