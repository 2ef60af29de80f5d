"""How many API requests one process works on at once (REQUEST_CONCURRENCY); the others wait their turn.

A worker's green threads share one core. With every request let in, the requests in flight share it
and each takes as long as all of them together; with a few at a time and the rest in line, each that
starts finishes at once: the same throughput and CPU, a shorter tail near capacity (push p99 at 90
approvals/s 358 and 357 ms with every request let in, 122 and 94 with 4: bench/tail_latency.py).
A few, not one: each waits on PostgreSQL for a part of its time.
A request that waits longer than DATABASE_POOL_TIMEOUT is answered 503 with Retry-After. Only
/api/ is counted: the socket handshakes, the SPA's files and /healthz never wait here.
"""

from __future__ import annotations

import threading  # green under the eventlet and gevent workers, which patch it before the app loads

from flask import Flask, Response, g, request

from .errors import Unavailable

HOLDS_SLOT = "assetflow_holds_slot"


def init_app(app: Flask) -> None:
    limit = app.config["REQUEST_CONCURRENCY"]
    if limit <= 0:
        return
    slots = threading.BoundedSemaphore(limit)
    patience = app.config["DATABASE_POOL_TIMEOUT"]

    @app.before_request
    def wait_for_a_slot() -> None:
        if not request.path.startswith("/api/"):
            return
        if not slots.acquire(timeout=patience):
            raise Unavailable.busy()
        g.setdefault(HOLDS_SLOT, True)

    def give_back(*_: object) -> None:
        if g.pop(HOLDS_SLOT, False):
            slots.release()

    @app.after_request
    def release_before_the_body(response: Response) -> Response:
        give_back()  # a streamed CSV is sent after this: its download does not hold the slot
        return response

    app.teardown_request(give_back)  # when the view raised and after_request did not run
