"""A graceful stop: tell every socket of this process to reconnect now, and take no new ones.

gunicorn.conf.py calls `start` when a worker gets SIGTERM (a stop, a restart, a HUP's old workers).
Waiting out the graceful timeout would keep the sockets here until the process dies under them;
instead each socket is sent `going_away` with the window to reconnect within, then its Engine.IO
connection is closed. A client that knows the event reconnects at a random moment of that window
(the SPA, tests/node/chaos.mjs); one that does not sees a transport close and reconnects on its
own backoff. Either way it lands on another process: this one refuses new handshakes with 503 and
Retry-After (nginx's `proxy_next_upstream http_503` passes them on), and its listening socket
closes within a second, when gunicorn's worker loop sees the stop. Nothing here knows the async
mode: the pass runs as a Socket.IO background task.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Flask

from ..errors import error_body
from ..extensions import socketio

log = logging.getLogger(__name__)
GOING_AWAY = "going_away"
NAMESPACE = "/"
# The other processes take reconnects at about this rate each (docs/benchmarks.md): a process that
# holds more sockets spreads them over a longer window, so that they do not all arrive at once.
RECONNECTS_PER_SECOND = 1000
MIN_WINDOW_MS = 1000
# Handshakes that passed the gate just before the stop still connect; later passes tell them too.
PASS_SECONDS = 0.2
DRAIN_SECONDS = 60.0
RETRY_AFTER_SECONDS = 1
KEY = "assetflow.draining"


def draining(app: Flask) -> bool:
    """Whether this process has begun a graceful stop."""
    return bool(app.extensions.get(KEY))


def start(app: Flask) -> None:
    """Begin the graceful stop (once): refuse new sockets, tell the held ones to move."""
    if draining(app):
        return
    app.extensions[KEY] = True
    socketio.start_background_task(_drain, app)


def window_ms(sockets: int) -> int:
    """How long the clients of `sockets` sockets spread their reconnects over."""
    return max(MIN_WINDOW_MS, sockets * 1000 // RECONNECTS_PER_SECOND)


def _drain(app: Flask) -> None:
    started = time.monotonic()
    told: set[str] = set()
    first = True
    while time.monotonic() - started < DRAIN_SECONDS:
        with app.app_context():
            count = tell_everyone(told)
        if first:
            log.info("graceful stop: told %s sockets to reconnect (%.0f ms)", count,
                     (time.monotonic() - started) * 1000)
            first = False
        socketio.sleep(PASS_SECONDS)


def tell_everyone(told: set[str]) -> int:
    """Send `going_away` to every socket not told yet, then close every Engine.IO connection; how many were told."""
    server = socketio.server
    sockets = [(sid, eio_sid) for sid, eio_sid in server.manager.get_participants(NAMESPACE, None)
               if sid not in told]
    payload = {"reconnect_within_ms": window_ms(len(sockets))}
    for sid, _ in sockets:
        told.add(sid)
        # This process holds the socket: straight to it, not through the message queue.
        server.emit(GOING_AWAY, payload, to=sid, namespace=NAMESPACE, ignore_queue=True)
    eio = server.eio
    for eio_sid, eio_socket in list(eio.sockets.items()):
        # Queued after the event, so the client reads it first; wait=False: a slow client holds no one up.
        eio_socket.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
        eio.sockets.pop(eio_sid, None)
    return len(sockets)


class Gate:
    """WSGI middleware: while draining, new Socket.IO handshakes and /readyz get 503 with Retry-After."""

    def __init__(self, app: Flask, wsgi_app, socketio_path: str = "/socket.io"):
        self.app, self.wsgi_app, self.socketio_path = app, wsgi_app, socketio_path.rstrip("/")

    def __call__(self, environ, start_response):
        if draining(self.app) and self._refused(environ):
            body = json.dumps(error_body("unavailable", "This process is stopping; connect again",
                                         {"retry_after": RETRY_AFTER_SECONDS})).encode()
            start_response("503 Service Unavailable", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                ("Retry-After", str(RETRY_AFTER_SECONDS))])
            return [body]
        return self.wsgi_app(environ, start_response)

    def _refused(self, environ) -> bool:
        path = environ.get("PATH_INFO", "")
        if path == "/readyz":
            return True
        # A request with a sid belongs to a session this process still holds (a poll, an upgrade).
        return path.startswith(self.socketio_path + "/") and "sid=" not in environ.get("QUERY_STRING", "")


def init_app(app: Flask) -> None:
    """Put the gate in front of everything, Socket.IO included."""
    app.wsgi_app = Gate(app, app.wsgi_app)
