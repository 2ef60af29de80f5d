"""Every channel that tells people about a change: the one place to add one.

Each runs inside the transaction of the change (assetflow/events.py); each sender is what the
outbox worker calls for a row of its channel (assetflow/delivery/worker.py).
"""

from .delivery import email, webhooks, worker
from .events import NotificationsRead, QueueChanged, RequestChange, SessionsEnded, TokenRevoked, subscribe
from .realtime import push
from .services import notify


def request_changed(change: RequestChange) -> None:
    """Tell every channel of a request change: the inbox writes its rows, the push and e-mail send those rows."""
    rows = notify.record(change)
    push.request_changed(change, rows)
    email.request_changed(change, rows)
    webhooks.request_changed(change)


def init_app(app) -> None:
    """Wire the channels (once per process; calling it again changes nothing)."""
    subscribe(RequestChange, request_changed)
    subscribe(SessionsEnded, push.sessions_ended)
    subscribe(QueueChanged, push.queue_changed)
    subscribe(TokenRevoked, push.token_revoked)
    subscribe(NotificationsRead, push.notifications_read)
    worker.SENDERS.update({"email": email.send, "webhook": webhooks.send})
