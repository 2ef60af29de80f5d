"""Domain events and their one dispatcher: services say what happened, channels decide whom to tell.

A service publishes inside its transaction; every subscriber runs there too and writes its rows
(the inbox's notifications, the outbox's e-mails and webhook calls), so all of them commit or roll
back with the change. What leaves the process — a socket push, an e-mail, an HTTP call — goes
only after the commit: pushes through realtime.emitter's after-commit queue, the rest through
the outbox worker. A request change has one subscriber, assetflow/channels.py's dispatcher, which
calls each channel in turn and hands the inbox's rows to those that send them; a new channel is one
more line there, and no service changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .workflow.actions import DOMAIN_EVENTS, IMPLIES, Action

if TYPE_CHECKING:
    from .models import Request, User  # only for the types: models import nothing from here

__all__ = ["DOMAIN_EVENTS", "PING", "Action", "NotificationsRead", "QueueChanged", "RequestChange", "SessionsEnded",
           "TokenRevoked", "publish", "subscribe"]

# Sent only by an admin's "send a test" on one webhook.
PING = "webhook.ping"


@dataclass(frozen=True)
class RequestChange:
    """Something happened to a request; `recipients` are the people it concerns (the inbox tells them).

    Nothing on it is filled in by a channel: what one channel hands the next is an argument (assetflow/channels.py).
    """

    action: Action
    request: Request
    actor: User | None
    recipients: list[int]
    comment: str = ""
    on_behalf_of: int | None = None
    # Whose approver queue the change touches: who could decide before and who can now.
    dashboards: set[int] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", Action(self.action))  # an unknown action fails here, not in a channel

    @property
    def name(self) -> str:
        """The domain event webhooks subscribe to (request.approved, …)."""
        return IMPLIES[self.action].event


@dataclass
class SessionsEnded:
    """A user was deactivated or changed role: their open sockets close everywhere once this commits."""

    user_id: int


@dataclass(frozen=True)
class QueueChanged:
    """People gained or lost the right to decide a pending request's current step (an organisation change):
    their dashboards add or drop it once this commits."""

    request_id: int
    step: int
    users: frozenset[int]


@dataclass(frozen=True)
class TokenRevoked:
    """An access token was revoked (a logout): the sockets opened with it close once this commits."""

    jti: str


@dataclass(frozen=True)
class NotificationsRead:
    """A user read notifications (`ids`; None: every one up to `last_seq`): each of their tabs marks them read and
    shows `unread_count` once this commits (with `last_seq`, so a tab adds the rows that arrived since)."""

    user_id: int
    ids: tuple[int, ...] | None
    unread_count: int
    last_seq: int


Event = RequestChange | SessionsEnded | QueueChanged | TokenRevoked | NotificationsRead
_subscribers: list[tuple[type, Callable[[Any], None]]] = []


def subscribe(kind: type, handler: Callable[[Any], None]) -> None:
    """Call `handler` with every published event of this kind, after the handlers registered before it."""
    if (kind, handler) not in _subscribers:
        _subscribers.append((kind, handler))


def publish(event: Event) -> None:
    """Hand the event to every subscriber, inside the caller's transaction."""
    for kind, handler in _subscribers:
        if isinstance(event, kind):
            handler(event)
