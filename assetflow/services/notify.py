"""The durable inbox: rows written in the deciding transaction, pushed after it commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db
from ..models import Notification, Request, RequestEvent, User
from ..models.base import utcnow
from ..realtime import emitter

APPROVAL_UPDATE = "approval_update"
APPROVAL_REMINDER = "approval_reminder"
REQUEST_COMMENT = "request_comment"
REQUEST_CHANGED = "request_changed"


def _next_seq(user_id: int) -> int:
    # UPDATE ... RETURNING locks the user's row until commit, so seqs never skip or repeat.
    return db.session.execute(
        sa.update(User)
        .where(User.id == user_id)
        .values(notification_seq=User.notification_seq + 1)
        .returning(User.notification_seq),
        # Nothing in the session reads notification_seq; skipping the ORM's identity-map sync
        # saves its bulk-update bookkeeping on every recipient of every decision.
        execution_options={"synchronize_session": False},
    ).scalar_one()


def event_payload(notification: Notification, replayed: bool = False) -> dict[str, Any]:
    """The socket event for one inbox row (its name is the row's type)."""
    return {
        **notification.payload,
        "event": notification.type,
        "seq": notification.seq,
        "notification_id": notification.id,
        "replayed": replayed,
    }


def approval_update(req: Request, actor: User | None, action: str, comment: str, recipients: Iterable[int],
                    dashboards: Iterable[int] = (), on_behalf_of: int | None = None) -> None:
    """Write one notification per recipient and queue its push and the dashboards' update.

    `dashboards` are the users whose queue the change touches: who could decide before and who can now.
    `actor` is None for what the system does by itself (an escalation).
    """
    body = {
        "request_id": req.id,
        "asset_id": req.asset_id,
        "asset_tag": req.asset.tag if req.asset else None,
        "kind": req.kind,
        "status": req.state,
        "step": req.step,
        "steps_total": req.steps_total,
        # Who decides next, so a client can say "waiting for an admin" (None once decided).
        "required_role": req.required_role,
        "actor": _actor(actor, on_behalf_of) if actor else None,
        "action": action,
        "comment": comment,
        "at": utcnow().isoformat(),
    }
    # Sorted, so concurrent transactions lock user rows in one order and cannot deadlock.
    # Nobody is notified of their own action: the HTTP answer told them.
    author = {actor.id} if actor else set()
    rows = [
        Notification(user_id=uid, seq=_next_seq(uid), type=APPROVAL_UPDATE, payload=body)
        for uid in sorted(set(recipients) - author)
    ]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        emitter.queue(APPROVAL_UPDATE, event_payload(row), emitter.user_room(row.user_id))
    queue_event = {"request_id": req.id, "state": req.state, "step": req.step, "action": action}
    # Only to the people whose queue changes: never to a whole role (another department's approvers).
    rooms = [emitter.user_room(uid) for uid in sorted(set(dashboards) - author)]
    if rooms:
        emitter.queue("queue_update", queue_event, rooms)
    if actor:
        # The actor's other tabs learn of it without an inbox row (not durable, no seq).
        emitter.queue(REQUEST_CHANGED, {**queue_event, "at": body["at"]}, emitter.user_room(actor.id))


def _request_summary(req: Request) -> dict[str, Any]:
    """What every notification about a request says of it."""
    return {
        "request_id": req.id,
        "asset_id": req.asset_id,
        "asset_tag": req.asset.tag if req.asset else None,
        "kind": req.kind,
        "status": req.state,
        "step": req.step,
        "steps_total": req.steps_total,
    }


def _deliver(kind: str, body: dict[str, Any], recipients: Iterable[int]) -> None:
    """One durable row per recipient (sorted: user rows lock in one order), pushed under `kind` after commit."""
    rows = [Notification(user_id=uid, seq=_next_seq(uid), type=kind, payload=body) for uid in sorted(set(recipients))]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        emitter.queue(kind, event_payload(row), emitter.user_room(row.user_id))


def approval_reminder(req: Request, recipients: Iterable[int], waiting_since: datetime) -> None:
    """Remind who may decide the current step that it has waited since `waiting_since`."""
    body = {**_request_summary(req), "required_role": req.required_role,
            "waiting_since": waiting_since.isoformat(), "at": utcnow().isoformat()}
    _deliver(APPROVAL_REMINDER, body, recipients)


def request_comment(req: Request, comment: RequestEvent, recipients: Iterable[int]) -> None:
    """Tell everyone involved but the author of a new comment on the request."""
    body = {**_request_summary(req), "comment_id": comment.id,
            "actor": {"id": comment.actor_id, "name": comment.actor.display_name},
            "body": comment.comment, "at": comment.created_at.isoformat()}
    _deliver(REQUEST_COMMENT, body, set(recipients) - {comment.actor_id})


def _actor(actor: User, on_behalf_of: int | None) -> dict[str, Any]:
    who: dict[str, Any] = {"id": actor.id, "name": actor.display_name}
    if on_behalf_of is not None:
        principal = db.session.get(User, on_behalf_of)
        who["on_behalf_of"] = {"id": principal.id, "name": principal.display_name}
    return who


def after_seq(user_id: int, seq: int, limit: int) -> list[Notification]:
    """The user's notifications with seq > `seq`, in seq order."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id, Notification.seq > seq)
        .order_by(Notification.seq)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def latest(user_id: int, limit: int, unread: bool | None = None,
           before_seq: int | None = None) -> list[Notification]:
    """The user's newest notifications first (older than before_seq, to page back), optionally only (un)read."""
    query = sa.select(Notification).where(Notification.user_id == user_id)
    if before_seq is not None:
        query = query.where(Notification.seq < before_seq)
    if unread is not None:
        query = query.where(Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None))
    return list(db.session.scalars(query.order_by(Notification.seq.desc()).limit(limit)))


def unread_count(user_id: int) -> int:
    """How many of the user's notifications are unread."""
    query = sa.select(sa.func.count()).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return db.session.scalar(query) or 0


def last_seq(user_id: int) -> int:
    """The newest seq handed to this user (0 before the first)."""
    return db.session.scalar(sa.select(User.notification_seq).where(User.id == user_id)) or 0


def mark_read(user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (idempotent)."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"Notification {notification_id} not found")
    if row.read_at is None:
        row.read_at = utcnow()
        db.session.commit()
    return row


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user read; return how many changed."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount
