"""Approval requests, their decisions and their audit trail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .asset import Asset
from .base import UTCDateTime, utcnow
from .user import User

REQUEST_KINDS = ("acquire", "assign", "transfer", "repair", "dispose")
REQUEST_STATES = ("pending", "approved", "rejected", "withdrawn")


class Request(db.Model):
    """An ask for something to happen to an asset, moved along by the workflow."""

    __tablename__ = "requests"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    asset_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("assets.id"), index=True)
    applicant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    target_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    # What an `acquire` asks to buy; copied onto the new asset when approved.
    name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    category: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    value: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(14, 2))
    currency: so.Mapped[str | None] = so.mapped_column(sa.String(3))
    state: so.Mapped[str] = so.mapped_column(sa.String(16), index=True, default="pending")
    step: so.Mapped[int] = so.mapped_column(default=1)
    steps_total: so.Mapped[int]
    # The role deciding each step, fixed at submit time, e.g. ["approver", "admin"].
    chain: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    # chain[step - 1] while pending, else None: kept as a column so inbox queries can index it.
    required_role: so.Mapped[str | None] = so.mapped_column(sa.String(16), index=True)
    version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    asset: so.Mapped[Asset | None] = so.relationship(lazy="joined")
    applicant: so.Mapped[User] = so.relationship(foreign_keys=[applicant_id], lazy="joined")
    target_user: so.Mapped[User | None] = so.relationship(foreign_keys=[target_user_id], lazy="joined")
    decisions: so.Mapped[list[Decision]] = so.relationship(
        back_populates="request", order_by="Decision.id", viewonly=True)
    events: so.Mapped[list[RequestEvent]] = so.relationship(
        back_populates="request", order_by="RequestEvent.id", viewonly=True)

    # Optimistic locking: every UPDATE carries "WHERE version = <read version>", so of two
    # concurrent deciders only the first commits; the second gets StaleDataError.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {REQUEST_KINDS}", name="kind"),
        sa.CheckConstraint(f"state IN {REQUEST_STATES}", name="state"),
        # The asset lock: at most one pending request per asset, enforced by the database.
        sa.Index(
            "uq_requests_pending_asset",
            "asset_id",
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        ),
    )


class Decision(db.Model):
    """One approver's verdict on one step."""

    __tablename__ = "decisions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"))
    step: so.Mapped[int]
    approver_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(16))
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    request: so.Mapped[Request] = so.relationship(back_populates="decisions", viewonly=True)
    approver: so.Mapped[User] = so.relationship(lazy="joined")

    # A second guard under the version check: one decision per step, ever.
    __table_args__ = (sa.UniqueConstraint("request_id", "step", name="uq_decisions_request_step"),)


class RequestEvent(db.Model):
    """Immutable audit row: who did what to a request, from which state to which."""

    __tablename__ = "request_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"), index=True)
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(16))
    from_state: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    to_state: so.Mapped[str] = so.mapped_column(sa.String(16))
    step: so.Mapped[int]
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    request: so.Mapped[Request] = so.relationship(back_populates="events", viewonly=True)
    actor: so.Mapped[User] = so.relationship(lazy="joined")


# An asset is locked while a request on it is pending; loaded with the asset, never stored.
# An alias, so the subquery never correlates with a query that itself selects requests.
_pending = Request.__table__.alias("pending_requests")
Asset.locked = so.column_property(
    sa.exists().where(_pending.c.asset_id == Asset.id, _pending.c.state == "pending")
)
