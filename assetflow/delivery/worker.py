"""The delivery worker: claims due outbox rows under a lease, sends them, marks them.

Several processes may run it: a claim is one UPDATE of rows no live lease holds (with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two claims never wait on or take the same row), and
every claim increments `attempts`, which the mark must match, so a worker whose lease ran out can
never mark a row someone else re-claimed. A crash between sending and marking leaves the row
leased; once the lease ends it is sent again with the same message id: at most one resend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models.base import utcnow
from ..models.outbox import OutboxMessage
from ..services.transaction import committing

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)


class DeliveryFailed(Exception):
    """A send that may work later (a timeout, a 5xx, a refused connection): retried with backoff."""


class NothingToSend(Exception):
    """The message has lost its point (the notification was read, the webhook removed): skipped."""


# channel -> sender (filled by assetflow/channels.py); a sender returns when the message went out
# and raises one of the two above otherwise.
SENDERS: dict[str, Callable[[OutboxMessage], None]] = {}


@dataclass
class Pass:
    """What one pass of the worker did."""

    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0


def claim(now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to this worker; returns them as claimed."""
    free = sa.and_(OutboxMessage.state == "pending", OutboxMessage.due_at <= now,
                   sa.or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now))
    due = (sa.select(OutboxMessage.id).where(free).order_by(OutboxMessage.due_at, OutboxMessage.id)
           .limit(limit).with_for_update(skip_locked=True))
    with committing():  # conditional UPDATEs: a row another worker leased is simply not among the ids
        ids = list(db.session.scalars(
            # `free` again in the UPDATE: on SQLite (no row locks) it is what keeps two claims apart.
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()), free)
            .values(lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id),
            execution_options={"synchronize_session": False},
        ))
    if not ids:
        return []
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                   .order_by(OutboxMessage.id)))


def _finish(message: OutboxMessage, **values) -> bool:
    """Record the end of the claimed attempt; False when the lease was lost to another worker."""
    with committing():
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.attempts == message.attempts,
                   OutboxMessage.state == "pending")
            .values(lease_until=None, **values),
            execution_options={"synchronize_session": False},
        )
    return result.rowcount == 1


def backoff(attempts: int, base: float) -> timedelta:
    """base, 2·base, 4·base, … seconds, at most an hour."""
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver(message: OutboxMessage, tally: Pass, now: datetime | None = None) -> None:
    """Send one claimed message and record how it ended (`now`: the pass's clock, for the backoff)."""
    now = now or utcnow()
    if message.state != "pending":  # taken over by a sibling in this batch (an e-mail digest)
        return
    config = current_app.config
    send = SENDERS.get(message.channel)
    try:
        if send is None:
            raise NothingToSend(f"no sender for channel {message.channel!r}")
        send(message)
    except NothingToSend as reason:
        _finish(message, state="skipped", finished_at=now, last_error=str(reason)[:2000])
        tally.skipped += 1
    except DeliveryFailed as error:
        if now - message.created_at >= timedelta(hours=config["DELIVERY_GIVE_UP_HOURS"]):
            _finish(message, state="failed", finished_at=now, last_error=str(error)[:2000])
            log.warning("delivery given up message=%s channel=%s error=%s", message.message_id, message.channel, error)
            tally.failed += 1
        else:
            wait = backoff(message.attempts, config["DELIVERY_RETRY_SECONDS"])
            _finish(message, due_at=now + wait, last_error=str(error)[:2000])
            tally.retried += 1
    else:
        _finish(message, state="sent", finished_at=now, last_error="")
        tally.sent += 1


def run_once(now: datetime | None = None) -> Pass:
    """One pass: claim what is due and deliver it."""
    config = current_app.config
    now = now or utcnow()
    tally = Pass()
    claimed = claim(now, config["DELIVERY_BATCH"], timedelta(seconds=config["DELIVERY_LEASE_SECONDS"]))
    for message in claimed:
        deliver(message, tally, now)
    return tally
