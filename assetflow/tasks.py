"""The background work of a server process, never of a CLI command or a test's in-process app.

gunicorn.conf.py's post_worker_init starts it in every worker, `python wsgi.py` before serving.
Each loop runs on the server's async mode (realtime/background.py) and is safe with any number of
processes: the sweep only touches this process's sockets, timers and deliveries claim their rows.
"""

from __future__ import annotations

import logging

from flask import Flask

from .delivery import worker
from .realtime import background, sweeper
from .services import timers

log = logging.getLogger(__name__)


def start(app: Flask) -> None:
    """Start the socket sweep, the reminder and escalation timers, and the outbox worker."""
    config = app.config
    background.every(app, "socket-sweep", config["SOCKET_SWEEP_SECONDS"], _sweep)
    background.every(app, "timers", config["TIMER_SECONDS"], _timers)
    background.every(app, "delivery", config["DELIVERY_POLL_SECONDS"], lambda: _deliver(config["DELIVERY_BATCH"]))


def _sweep() -> None:
    sweeper.sweep()


def _timers() -> None:
    fired = timers.run_due()
    if any(fired.values()):
        log.info("timers fired %s", fired)


def _deliver(batch: int) -> bool:
    tally = worker.run_once()
    # A full batch means more may be waiting: go again at once.
    return tally.sent + tally.skipped + tally.retried + tally.failed >= batch
