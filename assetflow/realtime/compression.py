"""WebSocket compression is declined unless WEBSOCKET_COMPRESSION is set.

A WebSocket that negotiates permessage-deflate keeps a zlib compressor for its lifetime: ~260 KiB
allocated and ~200 KiB resident per socket in both WebSocket servers Engine.IO runs on
(eventlet.websocket, and wsproto under simple-websocket with gevent), which is most of what a
socket costs (docs/benchmarks.md). Neither server has a switch for it, and our events are a few
hundred bytes. The client offers the extension in its handshake; RFC 6455 lets the server
decline it by not answering it, and a declined client simply sends plain frames. Node's
socket.io 4 ships with perMessageDeflate off for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"


class DeclineWebSocketCompression:
    """WSGI middleware: remove the client's WebSocket extension offer before Engine.IO sees it."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        environ.pop(OFFER, None)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Wrap the app (Socket.IO's middleware included) unless compression is wanted."""
    if not app.config["WEBSOCKET_COMPRESSION"]:
        app.wsgi_app = DeclineWebSocketCompression(app.wsgi_app)
