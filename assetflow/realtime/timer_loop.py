"""Each server process runs the reminder and escalation timers every TIMER_SECONDS.

Started like the socket sweep (realtime/sweeper.py), as a Socket.IO background task so it is a
green thread under eventlet and gevent. `services/timers.py` makes firing exactly-once however
many processes run this loop.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from ..extensions import db, socketio
from ..services.timers import run_due

log = logging.getLogger(__name__)
STARTED = "assetflow.timers"


def _loop(app: Flask, seconds: float) -> None:
    while True:
        socketio.sleep(seconds)
        try:
            with app.app_context():
                fired = run_due()
                db.session.remove()
            if any(fired.values()):
                log.info("timers fired %s", fired)
        except Exception:  # a database hiccup must not end the timers
            log.exception("timer pass failed")


def ensure_started() -> None:
    """Start this app's timer loop once, when it first serves (so CLI commands never run it)."""
    seconds = current_app.config["TIMER_SECONDS"]
    if seconds <= 0 or current_app.extensions.get(STARTED):
        return
    current_app.extensions[STARTED] = True
    socketio.start_background_task(_loop, current_app._get_current_object(), seconds)


def init_app(app: Flask) -> None:
    """Start the timers with the first request the app serves (a load balancer's /healthz will do)."""
    app.before_request(ensure_started)
