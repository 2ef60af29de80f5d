"""Every channel that tells people about a change, in the order it runs: the one place to add one.

Each subscriber runs inside the transaction of the change (assetflow/events.py); each sender is
what the outbox worker calls for a row of its channel (assetflow/delivery/worker.py).
"""

from .delivery import email, webhooks, worker
from .events import QueueChanged, RequestChange, SessionsEnded, TokenRevoked, subscribe
from .realtime import push
from .services import notify


def init_app(app) -> None:
    """Wire the channels (once per process; calling it again changes nothing)."""
    # The inbox first: the live push and e-mail work from the notification rows it writes.
    subscribe(RequestChange, notify.record)
    subscribe(RequestChange, push.request_changed)
    subscribe(RequestChange, email.request_changed)
    subscribe(RequestChange, webhooks.request_changed)
    subscribe(SessionsEnded, push.sessions_ended)
    subscribe(QueueChanged, push.queue_changed)
    subscribe(TokenRevoked, push.token_revoked)
    worker.SENDERS.update({"email": email.send, "webhook": webhooks.send})
