"""Delegations: an approver's stand-in for a period."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow


class Delegation(db.Model):
    """While starts_at <= now < ends_at the delegate may decide what the delegator may."""

    __tablename__ = "delegations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    delegator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    delegate_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    note: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    delegator = so.relationship("User", foreign_keys=[delegator_id], lazy="joined")
    delegate = so.relationship("User", foreign_keys=[delegate_id], lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="period"),
        sa.CheckConstraint("delegate_id <> delegator_id", name="not_self"),
    )

    @property
    def active(self) -> bool:
        """In force now: starts_at <= now < ends_at (`delegators_now` is the same rule in SQL)."""
        return self.starts_at <= utcnow() < self.ends_at


def delegators_now(user_id, now=None) -> sa.ScalarSelect:
    """SQL: the ids of everyone delegating to this user (an id or a bound parameter) at `now` (by default the time
    of the call), comma-separated (NULL for nobody)."""
    now = utcnow() if now is None else now
    return (sa.select(sa.func.aggregate_strings(sa.cast(Delegation.delegator_id, sa.String), ","))
            .where(Delegation.delegate_id == user_id, Delegation.starts_at <= now, Delegation.ends_at > now)
            .scalar_subquery())


def parse_ids(joined: str | None) -> frozenset[int]:
    """The ids of a comma-separated list as `delegators_now` returns it."""
    return frozenset(int(i) for i in (joined or "").split(",") if i)
