"""`local://`: the rate-limit counters of one process (the default RATELIMIT_STORAGE_URI), for Flask-Limiter.

The login limits, the write budgets and the API tokens' limit count in fixed windows (Flask-Limiter's default
strategy), so a counter is a number and the time its window ends. `limits`' own `memory://` keeps them too, but
to expire them it starts a timer thread 10 ms after a hit whenever none is waiting, and that thread walks every
counter of the process: under a steady flow of writes a thread start every 10 ms (a tenth of an approve's CPU in
threading mode, bench/decision_floor.py) and a walk of all keys each time (1.6 ms at 20,000). Here a counter is
read as zero once its window has ended, and the ended ones are dropped by the hit that comes at most
SWEEP_SECONDS after the last drop: no thread, one walk a minute.

Registered with `limits` by its scheme when this module is imported (assetflow/extensions.py does); `memory://`
and `redis://` still select `limits`' own storages.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SWEEP_SECONDS = 60


class LocalStorage(Storage):
    """Fixed-window counters in this process: key → (count, when its window ends)."""

    STORAGE_SCHEME = ["local"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: object) -> None:
        self._counters: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            count, ends = self._counters.get(key, (0, 0.0))
            if ends <= now:  # a new window starts with this hit
                count, ends = 0, now + expiry
            count += amount
            self._counters[key] = (count, ends)
        return count

    def get(self, key: str) -> int:
        count, ends = self._counters.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        ends = self._counters.get(key, (0, 0.0))[1]
        return ends if ends > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._counters)
            self._counters.clear()
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counters = {key: value for key, value in self._counters.items() if value[1] > now}
        self._next_sweep = now + SWEEP_SECONDS
