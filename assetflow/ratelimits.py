"""Rate limits: where they count (`local://`, the default RATELIMIT_STORAGE_URI), spending a budget, the 429s.

Flask-Limiter's decorators hold the login limits, which count only failures (`deduct_when`). The write budgets
(api/budgets.py) and an API token's calls (auth/api_tokens.py) are plain counters of a key that every call spends:
`spend` counts them in the limiter's storage through `limits` directly, for ~300 Python calls less per write
than Flask-Limiter's per-request evaluation of a decorated limit (its exemptions, scopes and request context).

`local://` holds the counters of one process. Every limit here counts in fixed windows (Flask-Limiter's default
strategy), so a counter is a number and the time its window ends. `limits`' own `memory://` keeps them too, but to
expire them it starts a timer thread 10 ms after a hit whenever none is waiting, and that thread walks every counter
of the process: under a steady flow of writes a thread start every 10 ms (a tenth of an approve's CPU in threading
mode, bench/decision_floor.py) and a walk of all keys each time (1.6 ms at 20,000). Here a counter reads as zero
once its window has ended, and the ended ones are dropped by the first hit SWEEP_SECONDS after the last drop: no
thread, one walk a minute.

Registered with `limits` by its scheme when this module is imported (create_app calls `init_app`); `memory://`
and `redis://` still select `limits`' own storages.
"""

from __future__ import annotations

import math
import threading
import time
from functools import lru_cache

from flask import Flask
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import Storage

from .errors import RateLimited, app_error
from .extensions import limiter

SWEEP_SECONDS = 60


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, login_limited)


def spend(setting: str, key: str, scope: str, refusal: str) -> None:
    """Count one call of `key` in `scope` against each limit of `setting` ("30 per minute;500 per hour"); past
    one, RateLimited (429) with Retry-After and `details.budget`, the scope's name; its message starts with `refusal`
    and names the limit that was reached."""
    for item in _limits_of(setting):
        if not limiter.limiter.hit(item, key, scope):
            retry_after = max(1, math.ceil(limiter.limiter.get_window_stats(item, key, scope).reset_time - time.time()))
            error = RateLimited(f"{refusal} ({item}); try again in {retry_after} s", retry_after)
            error.details["budget"] = scope.rpartition(":")[2]
            raise error


@lru_cache(maxsize=64)
def _limits_of(setting: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(setting))


def login_limited(exc: RateLimitExceeded):
    """A breached login limit (a Flask-Limiter decorator's) as a 429 that says when to try again."""
    breached = limiter.current_limit
    # reset_at is when the breached window ends; round up so the retry lands after it.
    retry_after = max(1, math.ceil(breached.reset_at - time.time())) if breached else 60
    return app_error(RateLimited(f"Too many failed attempts ({exc.description}); try again later", retry_after))


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
