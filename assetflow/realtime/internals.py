"""Every place AssetFlow leans on the internals of python-engineio, python-socketio, Flask-SocketIO
and simple-websocket: written for the versions in TESTED_VERSIONS, which requirements.txt pins and
tests/test_library_versions.py checks (it fails, naming this module, on any other minor version).
Read each piece again against the new release before moving a pin.

- Engine.IO's WebSocket under gevent and threading, without simple-websocket's reader thread.

python-engineio runs a WebSocket under gevent and threading through simple-websocket
(`SimpleWebSocketWSGI`), whose `Server` starts a reader thread per socket (a greenlet under gevent)
while the request's own thread, Engine.IO's read loop, only waits on an event the reader sets.
Here the request's thread reads the socket itself (recv, wsproto, simple-websocket's
`_handle_events`), which leaves 3 green threads per socket instead of 4: the request's (reading),
Engine.IO's writer and its ping task, as under eventlet. Each green thread that has run Python
keeps a data-stack chunk and its saved C stack: AssetFlow under gevent went from 78.6 to 69.4 KiB
per socket at 1,000 sockets, 75.9 to 66.4 at 5,000 (bench/socket_memory.py, docs/benchmarks.md).

Everything else is simple-websocket's: the handshake, the framing (wsproto), the reply to a
client's ping and close, and `max_message_size` (Engine.IO's `max_http_buffer_size`, so an
oversized message is cut off while it arrives instead of being buffered whole first).
eventlet keeps eventlet.websocket, which already reads in the request's green thread.

- `SocketIOMiddleware` (both workers) is Flask-SocketIO's WSGI middleware without python-engineio's
class per request: each open socket's request kept one alive. AssetFlow under gevent went from 62.1 to
59.0 KiB per socket at 5,000 sockets, 61.1 to 58.1 at 10,000; eventlet 61.8 to 59.1 at 5,000.

- The packet gate (realtime/guard.py) takes python-socketio's private packet dispatcher's place.

- `RoomDisconnectMixin` rides python-socketio's own `close_room` pub/sub message (realtime/manager.py).

- `RoomIndexMixin` keeps each socket's rooms, which python-socketio finds by walking every room of the
namespace (`get_rooms`, `basic_disconnect`): with 5,000 sockets in ~10,000 rooms each disconnect, and each
connect refused by the pacing (realtime/pacing.py), walked them all, twice.

- `LocalRoomsOnlyMixin` and `DropForeignMixin` end an emit to rooms without a socket in this process
before python-socketio encodes the packet; with the message queue that is most of what a process receives.

- `WatchMixin` keeps what is sent to a connecting socket's rooms while its connect reads, at the same two
doors every emit comes in by, and the rooms' disconnects at `disconnect_local`.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import simple_websocket
import socketio
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from flask_socketio import _SocketIOMiddleware
from simple_websocket import ConnectionClosed
from wsproto.utilities import LocalProtocolError

from ..metrics import QUEUE_EMITS_NOT_HERE

# The minor versions each piece below was read against and tested with (requirements.txt pins them).
TESTED_VERSIONS = {
    "python-engineio": "4.15",
    "python-socketio": "5.18",
    "Flask-SocketIO": "5.7",
    "simple-websocket": "1.1",
}


class _NoThread:
    """Takes the place of simple-websocket's reader thread: never runs anything."""

    __slots__ = ("name",)

    def __init__(self, target: Any = None):
        self.name = "inline"

    def start(self) -> None:
        """Nothing to start: `InlineServer.receive` reads on the caller's thread."""


class _NoEvent:
    """Takes the place of the event the reader thread set for the waiting receive(): nobody waits."""

    __slots__ = ()

    def set(self) -> None:
        """Nothing waits on it."""

    def clear(self) -> None:
        """Nothing waits on it."""


class InlineServer(simple_websocket.Server):
    """A simple-websocket server connection whose receive() reads the socket on the caller's thread."""

    def __init__(self, environ: dict, **kwargs: Any):
        if kwargs.get("ping_interval"):
            raise ValueError("InlineServer sends no WebSocket pings (simple-websocket's reader thread did)")
        kwargs.update(thread_class=_NoThread, event_class=_NoEvent)
        super().__init__(environ, **kwargs)

    def receive(self, timeout: float | None = None) -> Any:
        """The next message (str or bytes), read from the socket here; ConnectionClosed once the
        connection has ended (closed by the client, by close(), or by a message over the size limit).

        Only `timeout=None` (wait as long as it takes) is supported: Engine.IO passes no other.
        """
        if timeout is not None:
            raise ValueError("InlineServer.receive waits without a timeout")
        while self.connected and not self.input_buffer:
            try:
                data = self.sock.recv(self.receive_bytes)
                if not data:
                    raise ConnectionResetError("the peer closed the connection")
                self.ws.receive_data(data)
                self.connected = self._handle_events()
            except (OSError, LocalProtocolError):
                self.connected = False
        if self.input_buffer:
            return self.input_buffer.pop(0)
        self.sock.close()  # what simple-websocket's reader thread did on its way out
        raise ConnectionClosed(self.close_reason, self.close_message)

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """Send the close frame, then shut the socket down: that ends the recv() the request's
        thread may be blocked in (Engine.IO's writer closes on a ping timeout or a server
        disconnect), even when the peer never answers."""
        try:
            super().close(reason, message)
        except OSError:
            self.connected = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class InlineWebSocket(SimpleWebSocketWSGI):
    """Engine.IO's `websocket` entry for gevent and threading: SimpleWebSocketWSGI on an InlineServer,
    with Engine.IO's message size limit."""

    def __init__(self, handler: Any, server: Any, **kwargs: Any):
        super().__init__(handler, server, **kwargs)
        self.server_args["max_message_size"] = server.max_http_buffer_size

    def __call__(self, environ: dict, start_response: Any) -> Any:
        # SimpleWebSocketWSGI.__call__ with InlineServer in place of simple_websocket.Server.
        self.ws = InlineServer(environ, **self.server_args)
        ret = self.app(self)
        if self.ws.mode == "gunicorn":
            raise StopIteration()
        if self.ws.mode == "werkzeug":
            raise ConnectionError()
        return ret


class SocketInput:
    """`environ["eventlet.input"]` under gunicorn: the connection's socket, where eventlet.websocket
    (Engine.IO's WebSocket under `-k eventlet`) looks for it. One class for every request.

    It also stands in for that socket. eventlet.websocket's close() shuts down only the writing half
    (`shutdown(True)`) and closes the descriptor, which never wakes the request's own green thread,
    blocked in recv() on it: a socket the server closed (a graceful stop, a logout) kept its request,
    and so the stopping worker, until the socket timeout (PING_INTERVAL + PING_TIMEOUT, 45 s). Here a
    shutdown ends both halves, so that recv() returns at once, and the close is left to gunicorn,
    which closes the connection when its request ends. (eventlet's own close also made a client's close
    frame close the descriptor twice, and it logged the second one's EBADF glued to the next log line.)
    """

    __slots__ = ("socket",)

    def __init__(self, sock: Any):
        self.socket = sock

    def get_socket(self) -> Any:
        """The connection's socket, as eventlet.websocket should close it."""
        return self

    def shutdown(self, how: int = socket.SHUT_RDWR) -> None:
        """Both halves, whatever eventlet.websocket asks: the blocked recv() must end too."""
        self.socket.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Nothing yet: gunicorn closes the connection when the request ends."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.socket, name)


class SocketIOMiddleware(_SocketIOMiddleware):
    """Flask-SocketIO's WSGI middleware, minus python-engineio's class per request.

    `engineio.WSGIApp.__call__` defines a class (`Input`) inside itself on every request gunicorn
    serves, to put the socket where eventlet.websocket looks for it; a WebSocket's request lasts as
    long as the socket, so every open socket kept a class of its own alive: ~3.0 KiB per socket
    (tracemalloc, `engineio/middleware.py:53` and `:60`), under both workers. This is that
    `__call__` (Flask-SocketIO's part, then python-engineio's) with one shared `SocketInput`
    class. Engine.IO's static files are not served here: AssetFlow configures none.
    """

    def __call__(self, environ: dict, start_response: Any) -> Any:
        environ = environ.copy()  # Flask-SocketIO's part
        environ["flask.app"] = self.flask_app
        if "gunicorn.socket" in environ:
            environ["eventlet.input"] = SocketInput(environ["gunicorn.socket"])
        path = environ["PATH_INFO"]
        if path is not None and path.startswith(self.engineio_path):
            return self.engineio_app.handle_request(environ, start_response)
        return self.wsgi_app(environ, start_response)


def share_socket_input(sockio: Any) -> None:
    """Put Flask-SocketIO's middleware (`sockio.sockio_mw`, already `app.wsgi_app` or wrapped by it)
    on SocketIOMiddleware, keeping its state (server, Flask app, path)."""
    middleware = sockio.sockio_mw
    if type(middleware) is not _SocketIOMiddleware or middleware.static_files:
        raise RuntimeError(f"unexpected Socket.IO middleware {type(middleware).__name__}: update SocketIOMiddleware")
    middleware.__class__ = SocketIOMiddleware


def bound_websocket_messages(eio: Any) -> None:
    """Put Engine.IO's gevent and threading WebSocket (simple-websocket) on InlineWebSocket: it reads
    in the request's own green thread (no reader thread per socket) and stops reading a message at
    the Engine.IO size limit instead of buffering all of it before Engine.IO checks its size.

    eventlet's WebSocket already reads in the request's green thread, and python-engineio gives it
    the limit itself (max_frame_length).
    """
    websocket_class = eio._async.get("websocket")
    if isinstance(websocket_class, type) and issubclass(websocket_class, SimpleWebSocketWSGI):
        eio._async = {**eio._async, "websocket": InlineWebSocket}


PacketHandler = Callable[[str, Any], None]


def intercept_packets(server: socketio.Server, gate: PacketHandler) -> PacketHandler:
    """Route every client packet through `gate` before python-socketio dispatches it; return the dispatcher.

    Engine.IO hands messages to the handler registered with `eio.on("message")`, and Flask-SocketIO's
    test client calls the server's `_handle_eio_message` directly, so the gate takes both places.
    """
    dispatch = server._handle_eio_message
    server._handle_eio_message = gate
    server.eio.on("message", gate)
    return dispatch


class RoomIndexMixin:
    """For a python-socketio Manager: the rooms of each socket kept beside `rooms`, so that finding them is
    O(the socket's rooms), not O(every room). Every change of `rooms` goes through basic_enter_room and
    basic_leave_room (pre_connect, enter_room, leave_room, close_room, disconnect)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.rooms_of: dict[tuple[str, str], set] = {}  # (namespace, sid) -> its rooms, None (all sockets) included

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: str) -> list:
        """The rooms a socket is in (python-socketio's answer, without walking every room)."""
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """python-socketio's basic_disconnect, with the socket's rooms from the index."""
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.rooms_of.pop((namespace, sid), None)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]


class Watch:
    """What was sent to a connecting socket's rooms while it was not in them yet: the emits, in order, and
    whether the rooms were disconnected (a logout, a deactivation)."""

    __slots__ = ("rooms", "emits", "ended")

    def __init__(self, rooms: tuple[str, ...]):
        self.rooms = rooms
        self.emits: list[tuple[str, Any]] = []
        self.ended = False


class WatchMixin:
    """For both managers: a connect reads what its user missed, then joins the user's room (realtime/sockets.py).
    An emit to the room between the two would reach no socket, and joining before the read would hand the
    socket its user's events before its token and user are checked. So the connect watches its rooms from
    before its read: an emit to them — made here, or come through the queue — and their disconnect are kept
    for it, and it takes them over once it is in (or drops them, refused)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.watches: dict[tuple[str, str], list[Watch]] = {}  # (namespace, room) -> the connects watching it

    @contextmanager
    def watching(self, namespace: str, rooms: tuple[str, ...]) -> Iterator[Watch]:
        """Keep what is sent to `rooms` until the block ends."""
        watch = Watch(rooms)
        for room in rooms:
            self.watches.setdefault((namespace, room), []).append(watch)
        try:
            yield watch
        finally:
            for room in rooms:
                watchers = self.watches[(namespace, room)]
                watchers.remove(watch)
                if not watchers:
                    del self.watches[(namespace, room)]

    def seen_emit(self, namespace: str | None, target: Any, event: str, data: Any) -> None:
        if not self.watches:
            return
        for room in rooms_of_target(target):
            for watch in tuple(self.watches.get((namespace or "/", room), ())):  # a copy: threads may leave it
                watch.emits.append((event, data))

    def seen_disconnect(self, namespace: str, room: str) -> None:
        for watch in tuple(self.watches.get((namespace, room), ())):
            watch.ended = True


def rooms_of_target(target: Any) -> list:
    """An emit's target as a list of rooms: one room (None is every socket) or a list of them."""
    return [target] if target is None or isinstance(target, str) else target


def held_here(manager: socketio.Manager, namespace: str | None, target: Any) -> bool:
    """Whether this process holds a socket in the room (or in any of a list of rooms); None is every socket."""
    rooms = manager.rooms.get(namespace or "/", {})
    return any(room in rooms for room in rooms_of_target(target))


class LocalRoomsOnlyMixin:
    """For the single-process Manager: an emit to rooms without a socket here (a user with no tab open) ends
    before python-socketio builds and encodes the packet, which Manager.emit does before it looks for the
    sockets."""

    def emit(self, event: str, data: Any, namespace: str, room: Any = None, skip_sid: Any = None,
             callback: Any = None, to: Any = None, **kwargs: Any) -> Any:
        self.seen_emit(namespace, to or room, event, data)
        if callback is None and not held_here(self, namespace, to or room):
            return None
        return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to,
                            **kwargs)


class DropForeignMixin:
    """For a PubSubManager: every process receives every emit through the queue (`_handle_emit`, also for its
    own emits); one to rooms without a socket here is dropped before python-socketio unpacks its data and
    encodes the packet. At N processes that is (N-1)/N of what each receives (docs/benchmarks.md, "The
    message queue")."""

    def _handle_emit(self, message: dict[str, Any]) -> None:
        self.seen_emit(message.get("namespace"), message.get("room"), message.get("event"), _queued_data(message))
        if message.get("callback") is None and not held_here(self, message.get("namespace"), message.get("room")):
            _not_here(str(message.get("event"))).inc()
            return
        super()._handle_emit(message)


def _queued_data(message: dict[str, Any]) -> Any:
    """An emit's data as PubSubManager._handle_emit hands it on: one argument itself, several as a tuple
    (AssetFlow sends no binary data)."""
    data = message.get("data")
    if isinstance(data, list):
        return data[0] if len(data) == 1 else tuple(data)
    return data


@functools.cache
def _not_here(event: str) -> Any:
    """The counter of one event's dropped emits (prometheus' labels() costs more than the drop itself)."""
    return QUEUE_EMITS_NOT_HERE.labels(event)


class RoomDisconnectMixin:
    """For a PubSubManager: `disconnect_room` reaches the sockets of every process, through python-socketio's
    own `close_room` message with a `disconnect` flag (an older process ignores the flag and still closes
    the room, so it receives nothing)."""

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        """Disconnect every socket in the room, in every process on the queue."""
        message = {"method": "close_room", "room": room, "namespace": namespace,
                   "host_id": self.host_id, "disconnect": True}
        self._handle_close_room(message)
        self._publish(message)

    def _handle_close_room(self, message: dict[str, Any]) -> None:
        if message.get("disconnect"):
            disconnect_local(self, message.get("room"), message.get("namespace") or "/")
        super()._handle_close_room(message)


def disconnect_local(manager: socketio.Manager, room: str, namespace: str = "/") -> None:
    """Disconnect the sockets in a room that this process holds (and end the connects watching it)."""
    manager.seen_disconnect(namespace, room)
    for sid, _ in list(manager.get_participants(namespace, room)):
        manager.server.disconnect(sid, namespace=namespace, ignore_queue=True)
