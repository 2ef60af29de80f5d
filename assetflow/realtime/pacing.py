"""How many socket connects one process works on at once; the others wait their turn, or are told when to come back.

After a restart every tab of the process reconnects within seconds. Let in all at once, the connects take
every database connection, and an API call waits for one behind hundreds of them (docs/benchmarks.md,
"Reconnect storm"). So a process works on SOCKET_CONNECT_CONCURRENCY connects at a time and the others
wait in line, which costs no CPU (a waiting green thread); one that has waited SOCKET_CONNECT_WAIT seconds
without a place is refused with `unavailable` and `retry_after_ms`: how long the line ahead of it, and the
connects refused just before it, take at the rate connects finished in the last second. Each refused client
so gets a later turn than the one refused before it; the SPA comes back after that long ± its jitter
(frontend/src/services/reconnect.js). docs/realtime.md has the shape.
"""

from __future__ import annotations

import threading  # green under the eventlet and gevent workers, which patch it before the app loads
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

from ..metrics import SOCKET_CONNECTS_PACED

KEY = "assetflow.pacing"
WINDOW_SECONDS = 1.0
MIN_RETRY_MS = 500
MAX_RETRY_MS = 15_000


class Busy(Exception):
    """No place for this connect now: come back in `retry_after_ms`."""

    def __init__(self, retry_after_ms: int):
        super().__init__(retry_after_ms)
        self.retry_after_ms = retry_after_ms


class Pacing:
    """At most `limit` connects at once (0: no limit); a connect waits at most `wait` seconds for a place."""

    def __init__(self, limit: int, wait: float):
        self.limit, self.wait = limit, wait
        self.places = threading.BoundedSemaphore(limit) if limit > 0 else None
        self.waiting = 0  # connects in line for a place now
        self.finished: deque[float] = deque()  # when connects finished, over the last WINDOW_SECONDS
        self.refused: deque[float] = deque()

    @contextmanager
    def place(self) -> Iterator[None]:
        """Hold a place for one connect (waiting for one at most `wait` seconds), or raise Busy."""
        if self.places is None:
            yield
            return
        self.waiting += 1
        try:
            got = self.places.acquire(timeout=self.wait)
        finally:
            self.waiting -= 1
        if not got:
            SOCKET_CONNECTS_PACED.inc()
            raise Busy(self.retry_after_ms(time.monotonic()))
        try:
            yield
        finally:
            self.places.release()
            self._note(self.finished, time.monotonic())

    def retry_after_ms(self, now: float) -> int:
        """When a connect refused now should come back: the line ahead of it and the connects refused in the
        last second, at the rate connects finished in it (at least `limit` a second), within
        [MIN_RETRY_MS, MAX_RETRY_MS]."""
        ahead = self.waiting + self._note(self.refused, now)
        finished = max(self._note(self.finished, now, add=False), self.limit)
        return int(min(MAX_RETRY_MS, max(MIN_RETRY_MS, 1000 * ahead * WINDOW_SECONDS / finished)))

    @staticmethod
    def _note(times: deque[float], now: float, add: bool = True) -> int:
        """Add `now` (unless not `add`), forget what is older than the window; how many are left."""
        if add:
            times.append(now)
        while times and times[0] < now - WINDOW_SECONDS:
            times.popleft()
        return len(times)


def init_app(app: Flask) -> None:
    app.extensions[KEY] = Pacing(app.config["SOCKET_CONNECT_CONCURRENCY"], app.config["SOCKET_CONNECT_WAIT"])


def place() -> contextmanager:
    """The current app's place for one connect (raises Busy)."""
    return current_app.extensions[KEY].place()
