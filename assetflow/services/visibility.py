"""Who may see which request, and the queries built on that."""

from __future__ import annotations

import statistics

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..actor import Actor
from ..errors import NotFound
from ..extensions import db
from ..models import Asset, Request, StepDecider, User
from ..models.request import OPEN_STATES, REQUEST_STATES
from .routing import NAMED_PEOPLE, decided_by, named_on


def pending_request_on(asset_id: int) -> Request | None:
    """The open (pending or returned) request that locks this asset, if any."""
    return db.session.scalar(
        sa.select(Request).where(Request.asset_id == asset_id, Request.state.in_(OPEN_STATES))
    )


def _inbox(user: Actor):
    """Pending requests whose current step this user may decide, in person or for a delegator."""
    named = so.aliased(StepDecider)
    person = so.aliased(User)
    return sa.and_(
        Request.state == "pending",
        Request.applicant_id != user.id,
        ~decided_by(user.id, chain_no=Request.chain_no),
        sa.exists().where(
            named.request_id == Request.id, named.step == Request.step,
            named.user_id.in_(user.principals), named.user_id != Request.applicant_id,
            named.entitled.is_(True), person.id == named.user_id, person.active.is_(True),
            ~decided_by(named.user_id, named.request_id, Request.chain_no),
        ),
    )


def _named(user: Actor):
    """Requests with a step this user (or someone they stand in for) is named to decide."""
    return sa.exists().where(StepDecider.request_id == Request.id, StepDecider.user_id.in_(user.principals))


def _visible(user: Actor):
    """SQL: the requests this user may see (lists); may_see is the same rule on one loaded request."""
    if user.role == "admin":
        return sa.true()
    return sa.or_(Request.applicant_id == user.id, decided_by(user.id), _named(user))


def may_see(user: Actor, req: Request) -> bool:
    """Whether this user may see a loaded request: `_visible`'s rule, read from the request's decisions
    and named people (which deciding and the request page load anyway) instead of a query of its own."""
    if user.role == "admin" or req.applicant_id == user.id:
        return True
    if any(user.id in (d.approver_id, d.on_behalf_of_id) for d in req.decisions):
        return True
    mine = user.principals
    return any(d.user_id in mine for d in named_on(req))


# What allowed_actions reads for every row of a page, and the departments the rows show, loaded for the whole
# page in one query each.
LOADED = (so.selectinload(Request.decisions), so.selectinload(Request.deciders), so.selectinload(Request.department))

SCOPES = {
    "mine": lambda user: Request.applicant_id == user.id,
    "inbox": _inbox,
    "all": _visible,
}


# Built once, the id bound per call: a statement (and its options) built per call is keyed for the compiled cache
# each time.
_CALLED_UP = (sa.select(Request).where(Request.id == sa.bindparam("id"))
              .options(so.joinedload(Request.decisions), so.joinedload(Request.steps),
                       so.joinedload(Request.department), so.with_expression(Request.named_people, NAMED_PEOPLE),
                       so.defaultload(Request.asset).lazyload(Asset.custodian),
                       so.defaultload(Request.asset).lazyload(Asset.department)))


def get_visible(user: Actor, request_id: int) -> Request:
    """The request if this user may see it; NotFound otherwise (never someone else's data)."""
    # In the same query what every caller reads: its decisions and steps (a few each; a decision times its step,
    # the page shows them) and its department (every answer shows it, and a lazy load after a kept commit would
    # expire and re-read the request). Its named people, who may be hundreds, and their delegates now, as one
    # column (routing.named_on), not an object each and a query more. Not its asset's custodian and department,
    # which no caller shows: each object joined costs every read ~50 Python calls, null or not.
    req = db.session.execute(_CALLED_UP, {"id": request_id}).unique().scalar_one_or_none()
    if req is None or not may_see(user, req):
        raise NotFound(f"Request {request_id} not found")
    return req


def requests_on_asset(user: Actor, asset_id: int) -> list[Request]:
    """The requests on an asset that this user may see, newest first."""
    query = sa.select(Request).where(Request.asset_id == asset_id, _visible(user)).order_by(Request.id.desc())
    return list(db.session.scalars(query.options(*LOADED)))


def stats(user: Actor) -> dict:
    """Counts by state and the median seconds from submit to final decision."""
    visible = _visible(user)
    rows = db.session.execute(
        sa.select(Request.state, sa.func.count()).where(visible).group_by(Request.state)
    ).all()
    counts = dict.fromkeys(REQUEST_STATES, 0) | {state: n for state, n in rows}
    spans = db.session.execute(
        sa.select(Request.created_at, Request.decided_at)
        .where(visible, Request.decided_at.is_not(None))
    ).all()
    seconds = [(decided - created).total_seconds() for created, decided in spans]
    median = round(statistics.median(seconds), 1) if seconds else None
    return {"counts": counts, "median_decision_seconds": median}

