"""Which browser origins may open a socket: the page's own origin, plus the configured extras.

A WebSocket is not covered by the browser's same-origin policy, so the server checks `Origin`
itself. The page's own origin is derived from each request (scheme + Host), so `PORT=8080`, a
LAN name or an https proxy need no setting. Behind a proxy, `PROXY_COUNT` makes Werkzeug's
ProxyFix rewrite the scheme and host from the forwarded headers before this check sees them;
without it, forwarded headers are not trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(origin: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port, or None when malformed."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def own_origin(environ: Mapping[str, Any]) -> str | None:
    """The origin this request was addressed to, as the browser that sent it would write it."""
    host = environ.get("HTTP_HOST")
    if not host:
        return None
    return normalise(f"{environ.get('wsgi.url_scheme', 'http')}://{host}")


class OriginPolicy:
    """python-engineio's `cors_allowed_origins` callable: own origin always, extras as listed."""

    def __init__(self, extra: Iterable[str]):
        extra = list(extra)
        self.any = "*" in extra  # development only: config refuses it in production
        self.extra = {o for o in map(normalise, extra) if o}

    def __call__(self, origin: str | None, environ: Mapping[str, Any]) -> bool:
        """True when a socket from `origin` may connect to the server `environ` addresses."""
        if origin is None:  # not sent by a browser; the token check still applies
            return True
        if self.any:
            return True
        candidate = normalise(origin)
        return candidate is not None and (candidate in self.extra or candidate == own_origin(environ))
