"""Reminders and escalation: what happens to a step that waits too long, fired exactly once.

Any number of server processes run `run_due` on their own clock. Each timer is claimed by a
conditional UPDATE (`... WHERE id = :id AND reminded_at IS NULL`) in the same transaction as its
notifications: only the transaction whose UPDATE changed the row goes on, so a reminder is sent
once even when two processes find it due at the same moment. On PostgreSQL the row is first read
with FOR UPDATE SKIP LOCKED, so a second process skips it instead of queueing behind the first.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from ..events import RequestChange, publish
from ..extensions import db
from ..models import Request, RequestEvent, RequestStep, StepDecider, User
from ..models.base import utcnow
from ..models.request import fires_at
from ..workflow import Action
from . import routing
from .transaction import Lost, committing

log = logging.getLogger(__name__)

# Per timer: the hours column it counts, and the column that marks it fired.
TIMERS = {
    "remind": (RequestStep.remind_after_hours, RequestStep.reminded_at),
    "escalate": (RequestStep.escalate_after_hours, RequestStep.escalated_at),
}


def run_due(now: datetime | None = None) -> dict[str, int]:
    """Fire every reminder and escalation that is due at `now` (default: now); how many fired."""
    now = now or utcnow()
    fired = {"reminded": 0, "escalated": 0}
    for kind, counter, fire in (("remind", "reminded", _remind), ("escalate", "escalated", _escalate)):
        for step_id in due_steps(kind, now):
            try:
                fired[counter] += fire(step_id, now)
            except Exception:  # one bad row must not stop the others (committing() rolled it back); next pass
                log.exception("timer %s of request step %s failed", kind, step_id)
    return fired


def due_steps(kind: str, now: datetime) -> list[int]:
    """Ids of the current steps of pending requests whose `kind` timer is due and has not fired."""
    hours, fired_at = TIMERS[kind]
    ids = db.session.scalars(
        sa.select(RequestStep.id)
        .join(Request, Request.id == RequestStep.request_id)
        .where(Request.state == "pending", Request.step == RequestStep.step,
               fires_at(hours) <= now, fired_at.is_(None))
        .order_by(RequestStep.id)
    ).all()
    db.session.rollback()  # end the read: each step is fired in its own transaction
    return list(ids)


def _claim(step_id: int, kind: str, now: datetime) -> RequestStep:
    """The step, once this transaction has won its `kind` timer; Lost when another process did
    (or the request was decided since the step was found due)."""
    _, fired_at = TIMERS[kind]
    step = db.session.scalar(
        sa.select(RequestStep).where(RequestStep.id == step_id, fired_at.is_(None))
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers anyway
    )
    if step is None:
        raise Lost
    won = db.session.execute(
        sa.update(RequestStep).where(RequestStep.id == step_id, fired_at.is_(None))
        .values({fired_at.key: now}),
        execution_options={"synchronize_session": False},
    ).rowcount == 1
    if not won:
        raise Lost
    db.session.refresh(step)
    req = step.request
    if req.state != "pending" or req.step != step.step:  # decided since it was found due
        raise Lost
    return step


def _remind(step_id: int, now: datetime) -> int:
    with committing() as attempt:
        step = _claim(step_id, "remind", now)
        req = step.request
        db.session.add(RequestEvent(request_id=req.id, actor_id=None, action=Action.REMIND.value,
                                    from_state=req.state, to_state=req.state, step=step.step, comment=""))
        publish(RequestChange(Action.REMIND, req, None, sorted(routing.may_decide_now(req)),
                              extra={"waiting_since": step.started_at}))
    if attempt.lost:
        return 0
    log.info("timer remind request=%s step=%s", req.id, step.step)
    return 1


def _escalate(step_id: int, now: datetime) -> int:
    # A decision made meanwhile wins (the versioned UPDATE below matches no row): the escalation
    # is lost and not retried, the step being no longer current.
    with committing() as attempt:
        step = _claim(step_id, "escalate", now)
        req = step.request
        before = routing.may_decide_now(req)
        added = escalation_targets(req, step)
        req.deciders += [StepDecider(step=step.step, user_id=user_id, via="escalation") for user_id in added]
        req.updated_at = now  # a versioned UPDATE of the request
        names = ", ".join(db.session.scalars(sa.select(User.display_name).where(User.id.in_(added))
                                             .order_by(User.id)))
        db.session.add(RequestEvent(request_id=req.id, actor_id=None, action=Action.ESCALATE.value,
                                    from_state=req.state, to_state=req.state, step=step.step, comment=names))
        db.session.flush()
        db.session.expire(req, ["deciders"])
        newly = sorted(routing.may_decide_now(req) - before)
        publish(RequestChange(Action.ESCALATE, req, None, [req.applicant_id, *newly], names,
                              dashboards=set(newly)))
    if attempt.lost:
        return 0
    log.info("timer escalate request=%s step=%s added=%s", req.id, step.step, added)
    return 1


def escalation_targets(req: Request, step: RequestStep) -> list[int]:
    """Who an escalation adds to the step: never the applicant, a current decider or an earlier one."""
    excluded = {req.applicant_id, *routing.prior_deciders(req),
                *(d.user_id for d in req.deciders if d.step == step.step)}
    target = step.escalate_to
    if target is None:
        return []
    if target == "manager":
        return _manager_up(req, excluded)
    holders = db.session.scalars(sa.select(User.id).where(User.role == target, User.active.is_(True))
                                 .order_by(User.id))
    return [user_id for user_id in holders if user_id not in excluded]


def _manager_up(req: Request, excluded: set[int]) -> list[int]:
    """The nearest active manager up the request's department path who is not excluded."""
    path = routing.ancestry(req.department_id)
    for start in range(len(path)):
        manager = routing.manager_above(path[start:])
        if manager is None:
            return []
        if manager not in excluded:
            return [manager]
    return []

