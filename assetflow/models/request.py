"""Approval requests, their decisions and their audit trail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from ..workflow.machine import OPEN as OPEN_STATES  # declared once, by the workflow
from ..workflow.machine import STATES as REQUEST_STATES
from .asset import Asset
from .attachment import Attachment
from .base import EpochTime, UTCDateTime, epoch, utcnow
from .department import ROOT_DEPARTMENT_ID
from .user import User

# The kinds stored, in the order of services/kinds.py's registry (which checks that they agree); a new kind
# adds its name here and a migration of the check constraint below.
REQUEST_KINDS = ("acquire", "assign", "transfer", "repair", "dispose")


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
    # A label per step, fixed at submit time, e.g. ["manager", "admin"]; who decides is in `steps`.
    chain: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    # chain[step - 1] while pending, else None, so a client can say whom the request waits for.
    required_role: so.Mapped[str | None] = so.mapped_column(sa.String(16), index=True)
    # The applicant's department when submitted: rules and filters use it, later moves do not.
    department_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("departments.id"), index=True, default=ROOT_DEPARTMENT_ID,
        server_default=sa.text(str(ROOT_DEPARTMENT_ID)))
    # The rejected or withdrawn request this one resubmits.
    previous_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("requests.id"), index=True)
    # Which resolution of its chain the request is on: 1 at submit, one more each time an edit changed the
    # matching rule and the chain was resolved again. Decisions of an earlier chain are history, not votes.
    chain_no: so.Mapped[int] = so.mapped_column(default=1, server_default=sa.text("1"))
    version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    asset: so.Mapped[Asset | None] = so.relationship(lazy="joined")
    applicant: so.Mapped[User] = so.relationship(foreign_keys=[applicant_id], lazy="joined")
    target_user: so.Mapped[User | None] = so.relationship(foreign_keys=[target_user_id], lazy="joined")
    department = so.relationship("Department")  # read by the detail page only: not joined into lists
    decisions: so.Mapped[list[Decision]] = so.relationship(
        back_populates="request", order_by="Decision.id", viewonly=True)
    events: so.Mapped[list[RequestEvent]] = so.relationship(
        back_populates="request", order_by="RequestEvent.id", viewonly=True)
    steps: so.Mapped[list[RequestStep]] = so.relationship(
        back_populates="request", order_by="RequestStep.step", cascade="all, delete-orphan")
    deciders: so.Mapped[list[StepDecider]] = so.relationship(
        order_by="StepDecider.id", cascade="all, delete-orphan")
    # Their rows only (no bytes): what services/attachments.py counts and the list shows.
    attachments: so.Mapped[list[Attachment]] = so.relationship(order_by="Attachment.id")

    # Optimistic locking: every UPDATE carries "WHERE version = <read version>", so of two
    # concurrent deciders only the first commits; the second gets StaleDataError.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {REQUEST_KINDS}", name="kind"),
        sa.CheckConstraint(f"state IN {REQUEST_STATES}", name="state"),
        # The asset lock: at most one open (pending or returned) request per asset, enforced by the database.
        sa.Index(
            "uq_requests_pending_asset",
            "asset_id",
            unique=True,
            sqlite_where=sa.text(f"state IN {OPEN_STATES}"),
            postgresql_where=sa.text(f"state IN {OPEN_STATES}"),
        ),
    )


class Decision(db.Model):
    """One approver's verdict on one step."""

    __tablename__ = "decisions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"))
    step: so.Mapped[int]
    # The request's chain_no when decided: a step of a chain that an edit replaced counts no more.
    chain_no: so.Mapped[int] = so.mapped_column(default=1, server_default=sa.text("1"))
    approver_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    # The decider a delegate stood in for; None when the approver decided in their own right.
    on_behalf_of_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(16))
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # When the decided step became the current one: the reports time a step from one row, without a join.
    step_started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    request: so.Mapped[Request] = so.relationship(back_populates="decisions", viewonly=True)
    approver: so.Mapped[User] = so.relationship(foreign_keys=[approver_id], lazy="joined")
    on_behalf_of: so.Mapped[User | None] = so.relationship(foreign_keys=[on_behalf_of_id], lazy="joined")

    # A second guard under the version check: one decision per step of a chain, ever (the name is older than
    # chain_no; transaction.committing's race lists name it).
    __table_args__ = (sa.UniqueConstraint("request_id", "chain_no", "step", name="uq_decisions_request_step"),)


class RequestEvent(db.Model):
    """Immutable audit row: who did what to a request, from which state to which."""

    __tablename__ = "request_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"), index=True)
    # None for what the system does by itself (a reminder, an escalation).
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    on_behalf_of_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(16))
    from_state: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    to_state: so.Mapped[str] = so.mapped_column(sa.String(16))
    step: so.Mapped[int]
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    request: so.Mapped[Request] = so.relationship(back_populates="events", viewonly=True)
    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id], lazy="joined")
    on_behalf_of: so.Mapped[User | None] = so.relationship(foreign_keys=[on_behalf_of_id], lazy="joined")


class RequestStep(db.Model):
    """One step of a request's chain as its rule said at submit time, and its timers."""

    __tablename__ = "request_steps"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"))
    step: so.Mapped[int]
    decider: so.Mapped[str] = so.mapped_column(sa.String(16))  # "manager" | "role"
    role: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    scope: so.Mapped[str] = so.mapped_column(sa.String(16), default="company")  # "department" | "company"
    remind_after_hours: so.Mapped[float | None]
    escalate_after_hours: so.Mapped[float | None]
    escalate_to: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    # When the step became the current one; the timers count from here.
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Set once, by whichever process fires first: the mark that makes each timer fire exactly once.
    reminded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    escalated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    request: so.Mapped[Request] = so.relationship(back_populates="steps")

    __table_args__ = (sa.UniqueConstraint("request_id", "step", name="uq_request_steps_request_step"),)


def fires_at(hours: sa.ColumnElement[float]) -> sa.ColumnElement[datetime]:
    """SQL: when a timer counting `hours` from its step's start is due (null without a start or hours).

    The one computation of a step's times, in SQL so that lists can sort and filter by it: the timers
    (services/timers.py), the reports' overdue figures and the requests' `due_at` all read it.
    """
    return sa.type_coerce(epoch(RequestStep.started_at) + hours * 3600, EpochTime())


def _first_timer_hours() -> sa.ColumnElement[float]:
    remind, escalate = RequestStep.remind_after_hours, RequestStep.escalate_after_hours
    return sa.case((remind.is_(None), escalate), (escalate.is_(None), remind), (remind < escalate, remind),
                   else_=escalate)


# When the step is due: its first timer, the reminder or the escalation, whichever comes first.
RequestStep.due_at = so.column_property(fires_at(_first_timer_hours()))


class StepDecider(db.Model):
    """A person who may decide one step: resolved from the rule at submit time, or added by escalation."""

    __tablename__ = "request_step_deciders"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"), index=True)
    step: so.Mapped[int]
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    via: so.Mapped[str] = so.mapped_column(sa.String(16), default="rule")  # "rule" | "escalation"
    # Whether the person still holds what named them (the step's role, post or department scope) under
    # today's organisation: rewritten in the transaction of every change to a role, a department or a
    # manager (services/routing.requalify), so a decision reads it with the row it reads anyway.
    entitled: so.Mapped[bool] = so.mapped_column(default=True, server_default=sa.true())

    # Whether the person is active, read with the row, not through a user object per person: deciding
    # and the dashboards' pushes need only this, and a step may name hundreds of people (the request
    # page reads their names in one query, routing.step_states). Kept through a flush, so a new row
    # says what the code that made it knew (freeze names active people only).
    active: so.Mapped[bool] = so.column_property(
        sa.select(User.active).where(User.id == user_id).correlate_except(User).scalar_subquery(),
        expire_on_flush=False)

    __table_args__ = (
        sa.UniqueConstraint("request_id", "step", "user_id", name="uq_request_step_deciders_person"),
    )


# How many files a request carries: counted in the statement that loads the request (an index lookup per row), so
# a page of requests costs no query more. Kept through a flush, so the answer to a decision, serialised from the
# rows it wrote, reads nothing back; a submit sets it on the new request.
Request.attachments_count = so.column_property(
    sa.select(sa.func.count(Attachment.id)).where(Attachment.request_id == Request.id)
    .correlate_except(Attachment).scalar_subquery(),
    expire_on_flush=False)

# An asset is locked while a request on it is open (pending or returned); loaded with the asset, never stored.
# An alias, so the subquery never correlates with a query that itself selects requests.
_pending = Request.__table__.alias("pending_requests")
Asset.locked = so.column_property(
    sa.exists().where(_pending.c.asset_id == Asset.id, _pending.c.state.in_(OPEN_STATES))
)

# A request's named people, and their delegates now, in one column of its own row: read with the request by a query
# that asks for it (visibility.get_visible), so a decision builds no object per person (a step may name hundreds);
# None when not asked for. routing.NAMED_PEOPLE is the expression, routing.named_on reads it.
Request.named_people = so.query_expression()
