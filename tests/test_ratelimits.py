"""Rate limits: local://, the default storage (fixed windows counted in this process, no expiry thread)."""

from __future__ import annotations

import threading

import pytest
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from assetflow import ratelimits
from assetflow.errors import RateLimited
from assetflow.extensions import limiter
from assetflow.ratelimits import LocalStorage


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimits.time, "time", clock)
    return clock


def test_the_scheme_is_registered_with_limits():
    assert isinstance(storage_from_string("local://"), LocalStorage)


def test_the_app_counts_in_it_by_default(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "local://"
    assert isinstance(limiter.storage, LocalStorage)


def test_a_window_counts_its_hits_then_starts_over(clock):
    storage = LocalStorage()
    item, limiter_ = parse("3 per minute"), FixedWindowRateLimiter(storage)
    assert [limiter_.hit(item, "decisions", "user:1") for _ in range(4)] == [True, True, True, False]
    assert limiter_.hit(item, "decisions", "user:2")  # another key has its own window
    stats = limiter_.get_window_stats(item, "decisions", "user:1")
    assert (stats.remaining, stats.reset_time) == (0, clock.now + 60)
    clock.now += 59.9
    assert not limiter_.test(item, "decisions", "user:1")
    clock.now += 0.1  # the window has ended: nothing counted, and it resets now
    assert limiter_.test(item, "decisions", "user:1")
    assert limiter_.get_window_stats(item, "decisions", "user:1").reset_time == clock.now
    assert limiter_.hit(item, "decisions", "user:1")
    assert storage.get(item.key_for("decisions", "user:1")) == 1


def test_ended_windows_are_dropped_by_a_later_hit_once_a_sweep_is_due(clock):
    storage = LocalStorage()
    storage.incr("a", 10)
    storage.incr("b", 600)
    clock.now += 30
    storage.incr("c", 10)
    assert set(storage._counters) == {"a", "b", "c"}  # "a" has ended, but no sweep is due yet
    clock.now += ratelimits.SWEEP_SECONDS
    storage.incr("d", 10)
    assert set(storage._counters) == {"b", "d"}


def test_clear_and_reset(clock):
    storage = LocalStorage()
    storage.incr("a", 60, amount=2)
    storage.incr("b", 60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.reset() == 1
    assert storage.get("b") == 0 and storage.check()


def test_counting_starts_no_thread():
    item = parse("1000 per minute")
    # limits' memory:// starts a new timer thread after a hit whenever none is waiting: the cost this storage removes.
    memory = MemoryStorage()
    FixedWindowRateLimiter(memory).hit(item, "warm")
    waited = memory.timer
    waited.join()
    FixedWindowRateLimiter(memory).hit(item, "decisions", "user:1")
    assert memory.timer is not waited
    local, before = LocalStorage(), threading.enumerate()
    assert all(FixedWindowRateLimiter(local).hit(item, "decisions", "user:1") for _ in range(100))
    assert threading.enumerate() == before


def test_spend_refuses_past_the_limit_naming_it_and_when_to_retry(app, clock):
    with app.app_context():
        for _ in range(2):
            ratelimits.spend("2 per minute;100 per hour", "user:7", "budget:comments", "Too many comments for now")
        with pytest.raises(RateLimited) as refused:
            ratelimits.spend("2 per minute;100 per hour", "user:7", "budget:comments", "Too many comments for now")
        ratelimits.spend("2 per minute;100 per hour", "user:8", "budget:comments", "Too many comments for now")
    error = refused.value
    assert (error.message, error.details["budget"]) == (
        "Too many comments for now (2 per 1 minute); try again in 60 s", "comments")
    assert error.headers["Retry-After"] == "60"
