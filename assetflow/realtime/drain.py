"""A graceful stop: take no new work, tell every socket to reconnect now, then let the server close.

gunicorn.conf.py calls `start` when a worker gets SIGTERM (a stop, a restart, a HUP's old workers).
Waiting out the graceful timeout would keep the sockets here until the process dies under them.
Instead, at once:

1. every new request is answered 503 with Retry-After (`Gate`): a socket handshake, an API call,
   /readyz. nginx passes a refused GET (a handshake) on to another process, and one such answer
   takes this process out of its rotation (deploy/nginx.conf); a POST is never passed on, so the
   client gets the 503 and tries again later. A poll of a session held here, /healthz and /metrics
   are still served;
2. each socket is sent `going_away` with the window to reconnect within, then its Engine.IO
   connection is closed. A client that knows the event reconnects at a random moment of that window
   (the SPA, tests/node/chaos.mjs); one that does not sees a transport close and reconnects on its
   own backoff. Either way it lands on another process;
3. LEAVE_SECONDS later, `then()` lets the server stop accepting (gunicorn closes its listening
   socket, finishes the requests in flight and exits). Closing it at once would reset the requests
   a proxy had already queued there, and a reset POST is a 502 that nobody may retry; a second of
   503s first lets the proxy stop sending anything here before the socket closes.

Nothing here knows the async mode: the work runs as a Socket.IO background task.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

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
# How long new requests are refused before the listening socket may close (deploy/nginx.conf's
# fail_timeout must be longer, so that the proxy has not put this process back by then).
LEAVE_SECONDS = 1.0
RETRY_AFTER_SECONDS = 1
KEY = "assetflow.draining"
# Served while draining: a session's own polls (under the Socket.IO path, with its sid) and these.
STILL_SERVED = ("/healthz", "/metrics")


def draining(app: Flask) -> bool:
    """Whether this process has begun a graceful stop."""
    return bool(app.extensions.get(KEY))


def start(app: Flask, then: Callable[[], None] = lambda: None) -> None:
    """Begin the graceful stop (once): refuse new work, tell the sockets to move, `then()` a moment later."""
    if draining(app):
        return
    app.extensions[KEY] = True
    socketio.start_background_task(_drain, app, then)


def window_ms(sockets: int) -> int:
    """How long the clients of `sockets` sockets spread their reconnects over."""
    return max(MIN_WINDOW_MS, sockets * 1000 // RECONNECTS_PER_SECOND)


def _drain(app: Flask, then: Callable[[], None]) -> None:
    started = time.monotonic()
    told: set[str] = set()
    left = False
    try:
        with app.app_context():
            count = tell_everyone(told)
        log.info("graceful stop: told %s sockets to reconnect (%.0f ms)", count, (time.monotonic() - started) * 1000)
        while time.monotonic() - started < DRAIN_SECONDS:
            if not left and time.monotonic() - started >= LEAVE_SECONDS:
                left = True
                then()
            socketio.sleep(PASS_SECONDS)
            with app.app_context():
                tell_everyone(told)
    finally:
        if not left:
            then()


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
    """WSGI middleware: while draining, every new request gets 503 with Retry-After (see the module's 1.)."""

    def __init__(self, app: Flask, wsgi_app, socketio_path: str = "/socket.io"):
        self.app, self.wsgi_app, self.socketio_path = app, wsgi_app, socketio_path.rstrip("/")

    def __call__(self, environ, start_response):
        if draining(self.app) and self._refused(environ):
            body = json.dumps(error_body("unavailable", "This server process is stopping; try again",
                                         {"retry_after": RETRY_AFTER_SECONDS})).encode()
            start_response("503 Service Unavailable", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                ("Retry-After", str(RETRY_AFTER_SECONDS))])
            return [body]
        return self.wsgi_app(environ, start_response)

    def _refused(self, environ) -> bool:
        path = environ.get("PATH_INFO", "")
        if path in STILL_SERVED:
            return False
        # A request with a sid belongs to a session this process still holds (a poll, an upgrade).
        return not (path.startswith(self.socketio_path + "/") and "sid=" in environ.get("QUERY_STRING", ""))


def init_app(app: Flask) -> None:
    """Put the gate in front of everything, Socket.IO included."""
    app.wsgi_app = Gate(app, app.wsgi_app)
