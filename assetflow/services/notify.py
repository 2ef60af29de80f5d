"""The durable inbox: rows written in the deciding transaction, pushed after it commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from ..errors import NotFound
from ..events import NotificationsRead, RequestChange, publish
from ..extensions import db
from ..models import Notification, Request, RevokedToken, User
from ..models.base import insert_rows, utcnow
from ..workflow.actions import APPROVAL_REMINDER, APPROVAL_UPDATE, IMPLIES, REQUEST_COMMENT
from . import routing
from .transaction import committing


@dataclass(frozen=True)
class InboxRows:
    """What the inbox wrote for one change, for the channels that send it on."""

    # One new row per person told.
    added: list[Notification] = field(default_factory=list)
    # Unread rows updated instead of adding one (a comment folded into an unread one): pushed again
    # as their newer version, never e-mailed again.
    updated: list[Notification] = field(default_factory=list)

    @property
    def pushed(self) -> list[Notification]:
        """Every row a socket should receive, new or newer."""
        return self.added + self.updated


def _next_seqs(user_ids: list[int]) -> dict[int, int]:
    """Each user's next notification seq: one statement for any number of recipients.

    The rows stay locked until commit, so seqs never skip or repeat. The subquery locks them first,
    in id order, so two transactions notifying overlapping people cannot deadlock, and with FOR NO
    KEY UPDATE, the lock an UPDATE of a non-key column takes: a plain FOR UPDATE conflicts with the
    KEY SHARE locks the transaction's own inserts took on the same users (foreign keys to them), and
    two concurrent submits to the same deciders deadlocked (tests/test_races_pg.py).
    """
    with db.session.no_autoflush:  # what is pending is the caller's to flush (a Core statement flushes nothing)
        return dict(db.session.execute(_NEXT_SEQS, {"ids": user_ids}).all())


_USERS = User.__table__  # Core statements: nothing in the session reads notification_seq
# Built once, the ids bound per call: a statement built per call is keyed for the compiled cache each time.
_NEXT_SEQS = (_USERS.update()
              .where(_USERS.c.id.in_(sa.select(_USERS.c.id).where(_USERS.c.id.in_(sa.bindparam("ids", expanding=True)))
                                     .order_by(_USERS.c.id).with_for_update(key_share=True).scalar_subquery()))
              .values(notification_seq=_USERS.c.notification_seq + 1)
              .returning(_USERS.c.id, _USERS.c.notification_seq))


def event_payload(notification: Notification, replayed: bool = False) -> dict[str, Any]:
    """The socket event for one inbox row (its name is the row's type)."""
    return {
        **notification.payload,
        "event": notification.type,
        "seq": notification.seq,
        "notification_id": notification.id,
        "replayed": replayed,
    }


def record(change: RequestChange) -> InboxRows:
    """The inbox: one durable row per person a request change concerns; returns the rows written.

    Nobody is notified of their own action (the HTTP answer told them). A comment on a request
    whose earlier comment a recipient has not read yet updates that unread row (its body, count
    and time) instead of adding one: a burst of comments is one notification, and one e-mail.
    """
    req, actor = change.request, change.actor
    kind = IMPLIES[change.action].notification
    if kind is None:
        return InboxRows()
    payload = {**_request_summary(req), **BODIES[kind](change), "at": utcnow().isoformat()}
    author = {actor.id} if actor else set()
    recipients = sorted(set(change.recipients) - author)
    updated = _coalesce(req.id, recipients, payload) if kind == REQUEST_COMMENT and recipients else []
    recipients = sorted(set(recipients) - {row.user_id for row in updated})
    seqs = _next_seqs(recipients) if recipients else {}
    now = utcnow()
    added = [Notification(user_id=uid, seq=seqs[uid], type=kind, payload={**payload, **_first(kind)}, created_at=now)
             for uid in recipients]
    # Not through the unit of work: the channels read the rows' columns and ids, never as persistent objects.
    insert_rows(added)
    return InboxRows(added, updated)


def _first(kind: str) -> dict[str, Any]:
    # How many comments a request_comment stands for; the other types are one change each.
    return {"count": 1} if kind == REQUEST_COMMENT else {}


def _coalesce(request_id: int, recipients: list[int], payload: dict[str, Any]) -> list[Notification]:
    """Fold a comment into each recipient's unread comment notification of this request; the rows updated.

    They keep their id and seq (a seq names one row, never reused), so the push that follows is a
    newer version of a notification the recipient's tabs already have (docs/realtime.md).
    Locked, in id order, so that a concurrent read or comment is not lost.
    """
    unread = db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id.in_(recipients), Notification.read_at.is_(None),
               Notification.type == REQUEST_COMMENT, Notification.payload["request_id"].as_integer() == request_id)
        .order_by(Notification.id).with_for_update()
    ).all()
    updated: dict[int, Notification] = {}
    for row in unread:  # one per recipient; older duplicates (a race of two first comments) stay as they are
        if row.user_id not in updated or row.seq > updated[row.user_id].seq:
            updated[row.user_id] = row
    now = utcnow()
    for row in updated.values():
        row.payload = {**payload, "count": row.payload.get("count", 1) + 1}
        row.created_at = now
    return list(updated.values())


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


# How many of the people a step waits for a notification names ("waiting for Ada, Bob and 3 others").
NAMED_WAITING = 3


def _waiting_for(req: Request) -> dict[str, Any] | None:
    """Who the current step waits for, by name (the first few, alphabetically) and how many: None once decided."""
    people = routing.step_deciders(req) if req.state == "pending" else set()
    if not people:
        return None
    names = db.session.scalars(sa.select(User.display_name).where(User.id.in_(people))
                               .order_by(User.display_name, User.id).limit(NAMED_WAITING)).all()
    return {"names": list(names), "count": len(people)}


def _update_body(change: RequestChange) -> dict[str, Any]:
    return {
        # Who decides next, so a client can say "waiting for Ada Admin" or "waiting for an admin" (None once decided).
        "required_role": change.request.required_role,
        "waiting_for": _waiting_for(change.request),
        "actor": _actor(change.actor, change.on_behalf_of) if change.actor else None,
        "action": change.action.value,
        "comment": change.comment,
        # A resume: whether it starts again at step 1 of a chain an edit resolved again.
        **{key: change.extra[key] for key in ("rerouted",) if key in change.extra},
    }


def _reminder_body(change: RequestChange) -> dict[str, Any]:
    return {"required_role": change.request.required_role, "waiting_since": change.extra["waiting_since"].isoformat()}


def _comment_body(change: RequestChange) -> dict[str, Any]:
    comment = change.extra["comment"]
    return {"comment_id": comment.id, "actor": {"id": comment.actor_id, "name": comment.actor.display_name},
            "body": comment.comment}


# The payload of each notification type (which type an action writes is in workflow/actions.py).
BODIES = {APPROVAL_UPDATE: _update_body, APPROVAL_REMINDER: _reminder_body, REQUEST_COMMENT: _comment_body}


def _actor(actor: User, on_behalf_of: int | None) -> dict[str, Any]:
    who: dict[str, Any] = {"id": actor.id, "name": actor.display_name}
    if on_behalf_of is not None:
        principal = db.session.get(User, on_behalf_of)
        who["on_behalf_of"] = {"id": principal.id, "name": principal.display_name}
    return who


@dataclass(frozen=True)
class SocketStart:
    """What a socket's connect needs, read in one statement (connect_state)."""

    user: User | None
    revoked: bool
    missed: list[Notification]  # after the socket's last_seq, in seq order, at most the limit asked for


@dataclass(frozen=True)
class SocketAsk:
    """What one connecting socket asks for: its token's user and id, and where its replay starts."""

    user_id: int
    jti: str
    last_seq: int


def connect_states(asks: list[SocketAsk], limit: int) -> list[SocketStart]:
    """For each socket, in order: its token's user, whether the token is on the blocklist, and the user's
    notifications after its last_seq (at most `limit`). On PostgreSQL one statement for all of them (the
    sockets that wait in line together: realtime/pacing.py), elsewhere one per socket (connect_state).
    """
    if not asks:
        return []
    if db.engine.dialect.name != "postgresql":
        return [connect_state(ask.user_id, ask.jti, ask.last_seq, limit) for ask in asks]
    params = {"user_ids": [ask.user_id for ask in asks], "jtis": [ask.jti for ask in asks],
              "last_seqs": [ask.last_seq for ask in asks], "limit": limit}
    with _one_statement_session() as session:
        rows = session.execute(_connect_states_query(), params).all()
    starts = [SocketStart(None, False, []) for _ in asks]
    for i, user, is_revoked, notification in rows:
        start = starts[i - 1]  # WITH ORDINALITY counts from 1
        if start.user is None:
            start = starts[i - 1] = SocketStart(user, bool(is_revoked), [])
        if notification is not None:
            start.missed.append(notification)
    return starts


@cache
def _connect_states_query() -> sa.Select:
    """connect_states' statement on PostgreSQL, built once: the sockets come as three arrays, so it is one
    statement (and one compiled form) whatever their number. Each socket's replay is read on the
    (user_id, seq) index, as connect_state reads it."""
    asked = (
        sa.func.unnest(sa.bindparam("user_ids", type_=ARRAY(sa.Integer)), sa.bindparam("jtis", type_=ARRAY(sa.String)),
                       sa.bindparam("last_seqs", type_=ARRAY(sa.BigInteger)))
        .table_valued(sa.column("user_id", sa.Integer), sa.column("jti", sa.String),
                      sa.column("last_seq", sa.BigInteger), with_ordinality="i")
        .render_derived(name="asked")
    )
    missed = (
        sa.select(Notification)
        .where(Notification.user_id == asked.c.user_id, Notification.seq > asked.c.last_seq)
        .order_by(Notification.seq)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .lateral("missed")
    )
    revoked = sa.exists().where(RevokedToken.jti == asked.c.jti)
    return (
        sa.select(asked.c.i, User, revoked, aliased(Notification, missed))
        .select_from(asked)
        .join(User, User.id == asked.c.user_id)
        .outerjoin(missed, sa.true())
        .order_by(asked.c.i, missed.c.seq)
    )


def connect_state(user_id: int, jti: str, last_seq: int, limit: int) -> SocketStart:
    """The token's user, whether the token is on the blocklist, and the user's notifications after last_seq:
    one statement (a connect used to send three: bench/profile_connect.py).

    The notifications are outer-joined to the user's row on the (user_id, seq) index, so the user comes back
    once with no notification missed, and the LIMIT counts the notifications.
    """
    revoked = sa.exists().where(RevokedToken.jti == jti)
    query = (
        sa.select(User, revoked, Notification)
        .outerjoin(Notification, sa.and_(Notification.user_id == User.id, Notification.seq > last_seq))
        .where(User.id == user_id)
        .order_by(Notification.seq)
        .limit(limit)
    )
    with _one_statement_session() as session:
        rows = session.execute(query).all()
    if not rows:
        return SocketStart(None, False, [])
    return SocketStart(rows[0][0], bool(rows[0][1]), [row[2] for row in rows if row[2] is not None])


@contextmanager
def _one_statement_session() -> Iterator[Session]:
    """Where a lone read runs. On PostgreSQL, a session of its own in autocommit: one statement is consistent
    by itself, and without a transaction the connection takes 1 round trip instead of 3 (BEGIN, the
    statement, the ROLLBACK when it goes back to the pool), which bounds how many connects a process admits
    per second while the database is slow to answer (docs/benchmarks.md, "Reconnect storm"). Elsewhere the
    request's own session (SQLite answers in process; and tests share its one in-memory connection).
    """
    if db.engine.dialect.name != "postgresql":
        yield db.session
        return
    app = current_app._get_current_object()
    engine = app.extensions.get(AUTOCOMMIT_ENGINE)
    if engine is None:
        engine = app.extensions[AUTOCOMMIT_ENGINE] = db.engine.execution_options(isolation_level="AUTOCOMMIT")
    with Session(engine) as session:
        yield session


AUTOCOMMIT_ENGINE = "assetflow.autocommit_engine"


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
        with committing():  # two marks at once both mean "read": neither loses anything
            row.read_at = utcnow()
            _announce_read(user_id, (row.id,))
    return row


def mark_all_read(user_id: int, request_id: int | None = None) -> int:
    """Mark every unread notification of the user read, or only those about one request; return how many changed."""
    where = [Notification.user_id == user_id, Notification.read_at.is_(None)]
    if request_id is not None:
        where.append(Notification.payload["request_id"].as_integer() == request_id)
    with committing():
        ids = db.session.scalars(sa.update(Notification).where(*where).values(read_at=utcnow())
                                 .returning(Notification.id)).all()
        if ids:
            _announce_read(user_id, tuple(sorted(ids)) if request_id is not None else None)
    return len(ids)


def _announce_read(user_id: int, ids: tuple[int, ...] | None) -> None:
    """Publish what was read with the count after it, read in the marking transaction."""
    count, seq = db.session.execute(sa.select(
        sa.select(sa.func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery(),
        sa.select(User.notification_seq).where(User.id == user_id).scalar_subquery())).one()
    publish(NotificationsRead(user_id, ids, count, seq or 0))
