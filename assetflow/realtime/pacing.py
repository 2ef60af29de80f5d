"""The line connects wait in for their database read, which one read answers for all who wait together.

After a restart every tab of the process reconnects within seconds. Each connect needs one read (its user,
its token's blocklist entry, what it missed). Read one by one, they took every database connection, and an
API call waited for one behind hundreds of them; four at a time, each waited for its round trip and then for
its turn among thousands of handshakes, and the process admitted 110–155 connects a second
(docs/benchmarks.md, "Reconnect storm"). So at most SOCKET_CONNECT_CONCURRENCY reads run at once, each for
the connect that started it and up to BATCH - 1 others waiting in line (notify.connect_states: one statement
for all of them), and the connects in line cost no CPU (a waiting green thread). When a read ends, the
first connect in line starts the next one for itself and those behind it.

A connect that has waited SOCKET_CONNECT_WAIT seconds without being read is refused with `unavailable` and
`retry_after_ms`: how long the line ahead of it, and the connects refused just before it, take at the rate
connects were read in the last second. Each refused client so gets a later turn than the one refused
before it; the SPA comes back after that long ± its jitter (frontend/src/services/reconnect.js).
docs/realtime.md has the shape.
"""

from __future__ import annotations

import threading  # green under the eventlet and gevent workers, which patch it before the app loads
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from ..metrics import SOCKET_CONNECTS_PACED

KEY = "assetflow.pacing"
WINDOW_SECONDS = 1.0
MIN_RETRY_MS = 500
MAX_RETRY_MS = 15_000
# Connects one read answers at most: a storm's line drains a few hundred at a time; past that a statement
# grows without saving a round trip that matters.
BATCH = 250


class Busy(Exception):
    """No read for this connect in time: come back in `retry_after_ms`."""

    def __init__(self, retry_after_ms: int):
        super().__init__(retry_after_ms)
        self.retry_after_ms = retry_after_ms


class _Turn:
    """One connect's place in line: what it asks, and, once read, its answer (or the read's error)."""

    __slots__ = ("ask", "woken", "leads", "answer", "error")

    def __init__(self, ask: Any):
        self.ask = ask
        self.woken = threading.Event()  # read for, or told to read
        self.leads = False  # this connect reads, for itself and those it takes from the line
        self.answer: Any = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.answer


class Pacing:
    """At most `readers` reads at once (0: no line, each connect reads alone); a connect waits at most
    `wait` seconds in line."""

    def __init__(self, readers: int, wait: float, batch: int = BATCH):
        self.readers, self.wait, self.batch = readers, wait, batch
        self.lock = threading.Lock()
        self.line: OrderedDict[_Turn, None] = OrderedDict()  # O(1) to leave from anywhere in it
        self.reading = 0
        self.finished: deque[float] = deque()  # when connects were read, over the last WINDOW_SECONDS
        self.refused: deque[float] = deque()

    @property
    def waiting(self) -> int:
        """Connects in line now."""
        return len(self.line)

    def read(self, ask: Any, read_many: Callable[[list], list]) -> Any:
        """`read_many([ask, ...])[i]` for this connect, read together with those waiting beside it; or Busy."""
        if self.readers <= 0:
            return read_many([ask])[0]
        turn = _Turn(ask)
        with self.lock:
            turn.leads = self.reading < self.readers
            if turn.leads:
                self.reading += 1
            else:
                self.line[turn] = None
        if not turn.leads and not turn.woken.wait(self.wait):
            self._leave_or_wait(turn)
        if turn.leads:
            self._read_for_line(turn, read_many)
        return turn.result()

    def _leave_or_wait(self, turn: _Turn) -> None:
        """Out of time: refused if still in line; taken into a read meanwhile, it waits for that read."""
        with self.lock:
            still_in_line = turn in self.line
            if still_in_line:
                del self.line[turn]
        if still_in_line:
            SOCKET_CONNECTS_PACED.inc()
            raise Busy(self.retry_after_ms(time.monotonic()))
        turn.woken.wait()  # the read it is in ends (the database's statement timeout bounds it)

    def _read_for_line(self, turn: _Turn, read_many: Callable[[list], list]) -> None:
        """Read for this connect and up to `batch` - 1 from the head of the line; then hand the reading on to
        the next in line (or give the place back)."""
        with self.lock:
            batch = [turn] + [self.line.popitem(last=False)[0] for _ in range(min(self.batch - 1, len(self.line)))]
        try:
            answers = read_many([each.ask for each in batch])
            for each, answer in zip(batch, answers, strict=True):
                each.answer = answer
        except BaseException as error:  # each connect of the read fails with it (and is refused by its handler)
            turn.error = error
            # A read stopped by more than an error (its green thread killed) is no answer the others can
            # act on: they are refused with a time to come back, as when their wait runs out.
            for each in batch[1:]:
                each.error = error if isinstance(error, Exception) else Busy(MIN_RETRY_MS)
        finally:
            self._hand_on()
            now = time.monotonic()
            for each in batch[1:]:
                each.woken.set()
            for _ in batch:
                self._note(self.finished, now)

    def _hand_on(self) -> None:
        with self.lock:
            if not self.line:
                self.reading -= 1
                return
            following = self.line.popitem(last=False)[0]
            following.leads = True
        following.woken.set()

    def retry_after_ms(self, now: float) -> int:
        """When a connect refused now should come back: the line ahead of it and the connects refused in the
        last second, at the rate connects were read in it (at least `readers` a second), within
        [MIN_RETRY_MS, MAX_RETRY_MS]."""
        ahead = self.waiting + self._note(self.refused, now)
        finished = max(self._note(self.finished, now, add=False), self.readers)
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


def read(ask: Any, read_many: Callable[[list], list]) -> Any:
    """This connect's answer from the current app's line (raises Busy)."""
    return current_app.extensions[KEY].read(ask, read_many)
