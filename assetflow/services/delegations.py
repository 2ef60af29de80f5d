"""Delegations: an approver names a stand-in for a period (a holiday); routing reads them at decision time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import Delegation, User
from ..models.base import utcnow
from .transaction import committing

MAX_PERIOD = timedelta(days=90)
# How far ahead a delegation may start: a plan for the next holiday, not for a decade.
MAX_LEAD = timedelta(days=365)
DELEGATING_ROLES = ("approver", "admin")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field: [message]}})


def _check_period(starts_at: datetime, ends_at: datetime) -> None:
    now = utcnow()
    if ends_at <= starts_at:
        raise _invalid("ends_at", "The delegation must end after it starts")
    if ends_at <= now:
        raise _invalid("ends_at", "The delegation must end in the future")
    if ends_at - starts_at > MAX_PERIOD:
        raise _invalid("ends_at", f"A delegation lasts at most {MAX_PERIOD.days} days")
    if starts_at > now + MAX_LEAD:
        raise _invalid("starts_at", f"A delegation starts within {MAX_LEAD.days} days")


def create(delegator: Actor, data: dict[str, Any]) -> Delegation:
    """Let `delegate_id` decide what the delegator may, from starts_at until ends_at."""
    if delegator.role not in DELEGATING_ROLES:
        raise Forbidden("Only approvers and admins delegate: nothing waits for anyone else")
    delegate = db.session.get(User, data["delegate_id"])
    if delegate is None or not delegate.active:
        raise _invalid("delegate_id", f"User {data['delegate_id']} is not an active user")
    if delegate.id == delegator.id:
        raise _invalid("delegate_id", "You cannot delegate to yourself")
    _check_period(data["starts_at"], data["ends_at"])
    delegation = Delegation(delegator_id=delegator.id, delegate_id=delegate.id, starts_at=data["starts_at"],
                            ends_at=data["ends_at"], note=data.get("note", ""))
    with committing(lambda: Conflict("The delegation could not be stored; try again")):
        db.session.add(delegation)
    return delegation


def listed(user: Actor, every: bool = False) -> list[Delegation]:
    """The user's delegations, given and received; every one for an admin who asks (`?all=1`)."""
    query = sa.select(Delegation).order_by(Delegation.starts_at.desc(), Delegation.id.desc())
    if every:
        if user.role != "admin":
            raise Forbidden("Only admins list every delegation")
    else:
        query = query.where(sa.or_(Delegation.delegator_id == user.id, Delegation.delegate_id == user.id))
    return list(db.session.scalars(query))


def delete(user: Actor, delegation_id: int) -> None:
    """End a delegation at once by removing it: its delegator or an admin may."""
    delegation = db.session.get(Delegation, delegation_id)
    involved = delegation is not None and user.id in (delegation.delegator_id, delegation.delegate_id)
    if delegation is None or not (involved or user.role == "admin"):
        raise NotFound(f"Delegation {delegation_id} not found")
    if user.id != delegation.delegator_id and user.role != "admin":
        raise Forbidden("Only the delegator or an admin may end a delegation")
    with committing(lambda: Conflict(f"Delegation {delegation_id} was already removed")):
        db.session.delete(delegation)
