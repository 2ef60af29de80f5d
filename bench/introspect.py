"""What a server process holds, for bench/socket_memory.py: object counts, green threads, heap; and its
garbage collections, for bench/tail_latency.py.

Routes under /_bench/ are added only to the benchmark's own app modules (bench/bare_app.py with
BENCH_INTROSPECT=1, bench/introspect_app.py), never to wsgi:app, and servers started by the
benchmark listen on 127.0.0.1 only. Start the server with PYTHONTRACEMALLOC=1 for the heap diffs.
The object and green-thread counts come from gc.get_objects(), which leaves out what gunicorn.conf.py's
tune_gc froze at start-up (the app as loaded): compare counts taken under the same GC_TUNING, as
differences between two calls (per socket), not as totals.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from flask import Flask, request

_snapshots: dict[str, tracemalloc.Snapshot] = {}


class Collections:
    """Every collection of the cyclic GC: how many per generation, and how long they stopped the process."""

    def __init__(self) -> None:
        self.started = 0.0
        self.reset()
        gc.callbacks.append(self._observe)

    def reset(self) -> None:
        self.since = time.perf_counter()
        self.pauses_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.older: list[dict[str, Any]] = []  # each collection of generation 1 or 2: what it walked

    def _observe(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            if info["generation"] > 0:  # rare (one a phase): worth counting what it is about to walk
                self.older.append(_young(info["generation"]))
            self.started = time.perf_counter()
        else:
            pause = (time.perf_counter() - self.started) * 1000
            self.pauses_ms[info["generation"]].append(pause)
            if info["generation"] > 0 and self.older:
                # What it did not free moves to the oldest generation: what brings the next full collection nearer.
                self.older[-1] |= {"ms": round(pause, 1), "promoted": self.older[-1]["objects"] - info["collected"]}

    def report(self) -> dict[str, Any]:
        by_generation = {str(g): {"collections": len(p), "total_ms": round(sum(p), 1),
                                  "max_ms": round(max(p, default=0), 1)} for g, p in self.pauses_ms.items()}
        return {"generations": by_generation, "threshold": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                "tracked": len(gc.get_objects()), "older": self.older,
                "seconds": round(time.perf_counter() - self.since, 1)}


def _young(generation: int) -> dict[str, Any]:
    """The objects a collection of `generation` walks (it and the younger ones), and the most numerous types."""
    walked = [obj for g in range(generation + 1) for obj in gc.get_objects(g)]
    types = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in walked)
    return {"generation": generation, "objects": len(walked), "types": types.most_common(8)}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _stack(frame: Any) -> list[str]:
    names = []
    while frame is not None:
        names.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}")
        frame = frame.f_back
    return names


def green_threads(with_ids: bool = False) -> dict[str, Any]:
    """Live greenlets grouped by where they are parked (innermost frames) and their frame depth; `with_ids`:
    also each one's id, to tell which are new between two calls (a difference of totals also loses those
    that ended in between)."""
    try:
        from greenlet import greenlet
    except ImportError:
        return {}
    kinds: Counter = Counter()
    depths: Counter = Counter()
    ids = []
    for obj in gc.get_objects():
        # type(), not isinstance(): werkzeug proxies would resolve themselves (outside a context).
        if issubclass(type(obj), greenlet) and not obj.dead:
            frames = _stack(obj.gr_frame)
            # The innermost app-level frame names the role: reader, writer, ping, hub...
            kinds[" < ".join(frames[:3]) or type(obj).__name__] += 1
            depths[len(frames)] += 1
            ids.append(id(obj))
    found = {"total": sum(kinds.values()), "by_parking_place": kinds.most_common(12),
             "frames_depth": sorted(depths.items()), "gevent_track_greenlet_tree": _gevent_tracks_tree()}
    return found | {"ids": ids} if with_ids else found


def _gevent_tracks_tree() -> bool | None:
    """gevent's track_greenlet_tree setting as this process sees it; None without gevent."""
    if "gevent" not in sys.modules:
        return None
    import gevent

    return bool(gevent.config.track_greenlet_tree)


def object_counts(top: int = 40) -> list[tuple[str, int]]:
    """The most numerous gc-tracked object types."""
    counts = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())
    return counts.most_common(top)


def install(app: Flask) -> None:
    """Add the /_bench/ routes to an app."""
    collections = Collections()

    @app.get("/_bench/gc")
    def bench_gc() -> dict:
        """The collections since the last reset (?reset=1 starts over after answering)."""
        report = collections.report()
        if request.args.get("reset") == "1":
            collections.reset()
        return report

    @app.get("/_bench/memory")
    def bench_memory() -> dict:
        gc.collect()
        return {"rss_kib": _rss_kib(), "objects": object_counts(int(request.args.get("top", 40))),
                "gc_objects": len(gc.get_objects()), "green": green_threads(request.args.get("ids") == "1"),
                "tracemalloc_kib": tracemalloc.get_traced_memory()[0] // 1024 if tracemalloc.is_tracing() else None}

    @app.post("/_bench/snapshot/<name>")
    def bench_snapshot(name: str) -> dict:
        gc.collect()
        if not tracemalloc.is_tracing():
            return {"error": "start the server with PYTHONTRACEMALLOC=1"}
        _snapshots[name] = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)])
        return {"traced_kib": tracemalloc.get_traced_memory()[0] // 1024, "rss_kib": _rss_kib()}

    @app.get("/_bench/diff/<a>/<b>")
    def bench_diff(a: str, b: str) -> dict:
        group = request.args.get("by", "lineno")
        stats = _snapshots[b].compare_to(_snapshots[a], group)
        top = int(request.args.get("top", 30))
        return {"total_kib": sum(s.size_diff for s in stats) / 1024,
                "top": [{"where": str(s.traceback[0]).replace(sys.prefix, "<venv>"), "kib": s.size_diff / 1024,
                         "blocks": s.count_diff} for s in stats[:top]]}
