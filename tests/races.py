"""Run HTTP calls from threads at the worst moment: every racer has read and checked, none has written."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine

Call = tuple[str, str, dict, dict]  # method, path, headers, json body


WRITES = ("INSERT", "UPDATE", "DELETE")


class WriteGate:
    """Holds each racer's first write (a flush's, or a Core statement's) until every racer has reached its own
    (or 5 s passed)."""

    def __init__(self, parties: int):
        self.barrier = threading.Barrier(parties)
        self.local = threading.local()

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not getattr(self.local, "racer", False) or getattr(self.local, "held", False):
            return
        if statement.lstrip()[:6].upper() not in WRITES:
            return
        self.local.held = True
        try:
            self.barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass  # a racer that was refused before writing never arrives; the others go on


@contextmanager
def _listening(gate: WriteGate):
    sa.event.listen(Engine, "before_cursor_execute", gate)
    try:
        yield
    finally:
        sa.event.remove(Engine, "before_cursor_execute", gate)


def race(app, calls: list[Call]) -> list[int]:
    """Send the calls from one thread each, writes held until all have checked; statuses in order."""
    gate = WriteGate(len(calls))
    start = threading.Barrier(len(calls))
    statuses: list[int | None] = [None] * len(calls)

    def worker(index: int, method: str, path: str, headers: dict, body: dict) -> None:
        client = app.test_client()
        gate.local.racer = True
        start.wait(timeout=10)
        statuses[index] = client.open(path, method=method, headers=headers, json=body).status_code

    threads = [threading.Thread(target=worker, args=(i, *call)) for i, call in enumerate(calls)]
    with _listening(gate):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    return statuses


def emitted(event: str) -> float:
    """How many events of this name the after-commit emitter has sent in this process."""
    return REGISTRY.get_sample_value("assetflow_events_emitted_total", {"event": event}) or 0.0
