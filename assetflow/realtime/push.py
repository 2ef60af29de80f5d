"""The live push: the inbox's rows and the dashboards' queue changes, sent to sockets after the commit."""

from __future__ import annotations

from ..events import NotificationsRead, QueueChanged, RequestChange, SessionsEnded, TokenRevoked
from ..services.notify import InboxRows, event_payload
from ..workflow.actions import IMPLIES, Action
from . import emitter

REQUEST_CHANGED = "request_changed"


def request_changed(change: RequestChange, rows: InboxRows) -> None:
    """Queue the push of each row the inbox wrote, the queue change of the dashboards it touches, the actor's tabs."""
    for row in rows.pushed:
        emitter.queue(row.type, event_payload(row), emitter.user_room(row.user_id))
    if not IMPLIES[change.action].moves_queue:  # a comment or a reminder leaves the request as it was
        return
    req = change.request
    queue_event = {"request_id": req.id, "state": req.state, "step": req.step, "action": change.action.value}
    actor_id = change.actor.id if change.actor else None
    # Only to the people whose queue changes: never to a whole role (another department's approvers).
    rooms = [emitter.user_room(uid) for uid in sorted(change.dashboards - {actor_id})]
    if rooms:
        emitter.queue("queue_update", queue_event, rooms)
    if actor_id is not None:
        # The actor's other tabs learn of it without an inbox row (not durable, no seq).
        at = rows.added[0].payload["at"] if rows.added else None
        emitter.queue(REQUEST_CHANGED, {**queue_event, "at": at}, emitter.user_room(actor_id))


def sessions_ended(change: SessionsEnded) -> None:
    """End the user's sockets in every process once the deactivation commits."""
    emitter.queue_disconnect(change.user_id)


def token_revoked(change: TokenRevoked) -> None:
    """End the sockets opened with a revoked token, in every process, once the logout commits."""
    emitter.queue_disconnect_token(change.jti)


def queue_changed(change: QueueChanged) -> None:
    """Tell the people who gained or lost a request's current step (a role, department or manager change)."""
    rooms = [emitter.user_room(uid) for uid in sorted(change.users)]
    event = {"request_id": change.request_id, "state": "pending", "step": change.step, "action": Action.REQUALIFY.value}
    emitter.queue("queue_update", event, rooms)


def notifications_read(change: NotificationsRead) -> None:
    """Tell every tab of the user which notifications are read now, so each bell shows the same count."""
    event = {"ids": list(change.ids) if change.ids is not None else None, "unread_count": change.unread_count,
             "last_seq": change.last_seq}
    emitter.queue("notifications_read", event, emitter.user_room(change.user_id))
