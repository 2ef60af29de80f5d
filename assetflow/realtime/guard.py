"""The gate every Socket.IO packet from a client passes before python-socketio dispatches it.

python-socketio looks a client's EVENT packet up by its name in the same table as its own
lifecycle calls, so a client emitting "connect" or "disconnect" would run those handlers. And it
starts a green thread per event, so one socket sending thousands of events a second would starve
every other socket and request of the process. This gate stands in front of the dispatch:

- every packet spends one token of its socket's budget (a token bucket kept in the
  connection's WSGI environ, so it goes away with the connection); past the bucket it is
  dropped, and a socket that keeps sending `overflow` packets past it is cut off;
- an EVENT named like a lifecycle event is dropped.

How it takes the dispatcher's place leans on python-socketio's internals: realtime/internals.py.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import socketio
from socketio import packet

from ..metrics import SOCKET_EVENTS_DROPPED, SOCKETS_CUT_OFF
from .emitter import user_of_rooms
from .internals import PacketHandler, bound_websocket_messages, intercept_packets

log = logging.getLogger(__name__)
RESERVED_EVENTS = frozenset(socketio.Server.reserved_events)
BUDGET_KEY = "assetflow.socket_budget"
NAMESPACE = "/"


@dataclass
class Budget:
    """A token bucket that may run into debt: below zero a packet is dropped, below -overflow
    the socket is cut off. Refilling at `rate` pays the debt back, so a client that only
    bursts now and then is never cut off."""

    rate: float
    burst: float
    overflow: float
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)
    cut: bool = False

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def spend(self, now: float) -> str:
        """Take one token at time `now`: "ok", "drop" (over the budget) or "cut" (far over it)."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate) - 1
        self.stamp = now
        if self.tokens >= 0:
            return "ok"
        return "cut" if self.tokens < -self.overflow else "drop"


class Gate:
    """Budget and reserved-name checks in front of one python-socketio server."""

    def __init__(self, server: socketio.Server, rate: float, burst: float, overflow: float):
        self.server = server
        self.limits = (rate, burst, overflow)
        self.dispatch: PacketHandler | None = None  # python-socketio's own packet dispatcher, once installed

    def install(self) -> None:
        """Put the gate in front of the server's packet dispatch."""
        self.dispatch = intercept_packets(self.server, self.on_message)

    def on_message(self, eio_sid: str, data: Any) -> None:
        """Dispatch one client packet unless it is over budget or uses a reserved name."""
        budget = self._budget(eio_sid)
        if budget is not None and budget.cut:
            return
        verdict = budget.spend(time.monotonic()) if budget is not None else "ok"
        if verdict == "drop":
            SOCKET_EVENTS_DROPPED.inc()
            return
        if verdict == "cut":
            self._cut_off(eio_sid, budget)
            return
        if _reserved_event(self.server, data):
            log.warning("socket event ignored sid=%s reason=reserved name", self._sid(eio_sid))
            return
        self.dispatch(eio_sid, data)

    def _budget(self, eio_sid: str) -> Budget | None:
        environ = self.server.environ.get(eio_sid)
        if environ is None:
            return None
        if BUDGET_KEY not in environ:
            environ[BUDGET_KEY] = Budget(*self.limits)
        return environ[BUDGET_KEY]

    def _sid(self, eio_sid: str) -> str | None:
        return self.server.manager.sid_from_eio_sid(eio_sid, NAMESPACE)

    def _cut_off(self, eio_sid: str, budget: Budget) -> None:
        # From here on every packet of this connection is dropped unread.
        budget.cut = True
        SOCKETS_CUT_OFF.inc()
        sid = self._sid(eio_sid)
        user_id = user_of_rooms(self.server.manager.get_rooms(sid, NAMESPACE)) if sid else None
        log.warning("socket cut off user=%s sid=%s reason=event flood", user_id, sid)
        if sid is not None and self.server.manager.is_connected(sid, NAMESPACE):
            # A Socket.IO DISCONNECT: clients do not reconnect by themselves after it.
            self.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
        if _transport(self.server, eio_sid) == "websocket":
            # Close the connection too, so a client that ignores the DISCONNECT costs nothing more.
            # (A long-polling close would wait for the client's next GET; its packets are dropped.)
            self.server.eio.disconnect(eio_sid)


def _reserved_event(server: socketio.Server, data: Any) -> bool:
    if not isinstance(data, str) or data[:1] not in (str(packet.EVENT), str(packet.BINARY_EVENT)):
        return False
    try:
        pkt = server.packet_class(encoded_packet=data)
    except ValueError:
        return False  # python-socketio refuses it itself
    name = pkt.data[0] if isinstance(pkt.data, list) and pkt.data else None
    return isinstance(name, str) and name in RESERVED_EVENTS


def _transport(server: socketio.Server, eio_sid: str) -> str | None:
    try:
        return server.eio.transport(eio_sid)
    except KeyError:  # not an Engine.IO connection of this server (the test client)
        return None


class OneLine(logging.Filter):
    """Escape line breaks and other control characters, so text a client sent (python-engineio
    logs a bad session id as given) cannot start a log line of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with its unprintable characters escaped."""
        message = record.getMessage()
        if not message.isprintable():
            record.msg = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
            record.args = None
        return True


def library_logger(name: str) -> logging.Logger:
    """The logger python-engineio / python-socketio get: errors only, as their default, one line each."""
    logger = logging.getLogger(f"assetflow.{name}")
    logger.setLevel(logging.ERROR)
    if not any(isinstance(f, OneLine) for f in logger.filters):
        logger.addFilter(OneLine())
    return logger


def install(server: socketio.Server, rate: float, burst: float, overflow: float) -> None:
    """Guard a freshly built python-socketio server."""
    Gate(server, rate, burst, overflow).install()
    bound_websocket_messages(server.eio)
