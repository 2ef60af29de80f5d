"""Periodic work in a server process, on the server's own async mode (eventlet, gevent or threads)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from ..extensions import socketio

log = logging.getLogger(__name__)


def every(app: Flask, name: str, seconds: float, step: Callable[[], bool | None]) -> None:
    """Run `step()` in the app's context every `seconds`, in one background task per app and name.

    `seconds <= 0` runs nothing. A step that returns True has more to do and runs again at once; an
    exception is logged and the loop goes on (a database hiccup must not end the work for good).
    """
    key = f"assetflow.background.{name}"
    if seconds <= 0 or app.extensions.get(key):
        return
    app.extensions[key] = True
    socketio.start_background_task(_loop, app, name, seconds, step)


def _loop(app: Flask, name: str, seconds: float, step: Callable[[], bool | None]) -> None:
    while True:
        try:
            with app.app_context():
                more = step()
        except Exception:
            log.exception("background %s failed", name)
            more = False
        if not more:
            socketio.sleep(seconds)
