"""Who may see which request, and the queries built on that."""

from __future__ import annotations

import statistics

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..errors import NotFound
from ..extensions import db
from ..models import Decision, Request, User
from ..models.request import REQUEST_STATES


def prior_deciders(request_id: int) -> list[int]:
    """Users who already decided a step of this request."""
    return list(db.session.scalars(sa.select(Decision.approver_id).where(Decision.request_id == request_id)))


def pending_request_on(asset_id: int) -> Request | None:
    """The pending request that locks this asset, if any."""
    return db.session.scalar(
        sa.select(Request).where(Request.asset_id == asset_id, Request.state == "pending")
    )


def _decided_by(user: User):
    return sa.exists().where(Decision.request_id == Request.id, Decision.approver_id == user.id)


def _inbox(user: User):
    """Pending requests whose current step this user may decide."""
    return sa.and_(
        Request.state == "pending",
        Request.required_role == user.role,
        Request.applicant_id != user.id,
        ~_decided_by(user),
    )


def _in_lane(user: User):
    """Requests with a step for the user's role: theirs to watch, even once someone decided."""
    return sa.cast(Request.chain, sa.String).like(f'%"{user.role}"%')


def _visible(user: User):
    if user.role == "admin":
        return sa.true()
    mine = Request.applicant_id == user.id
    if user.role == "employee":
        return mine
    return sa.or_(mine, _decided_by(user), _in_lane(user))


SCOPES = {
    "mine": lambda user: Request.applicant_id == user.id,
    "inbox": _inbox,
    "all": _visible,
}


def get_visible(user: User, request_id: int) -> Request:
    """The request if this user may see it; NotFound otherwise (never someone else's data)."""
    req = db.session.scalar(sa.select(Request).where(Request.id == request_id, _visible(user)))
    if req is None:
        raise NotFound(f"Request {request_id} not found")
    return req


def requests_on_asset(user: User, asset_id: int) -> list[Request]:
    """The requests on an asset that this user may see, newest first."""
    query = sa.select(Request).where(Request.asset_id == asset_id, _visible(user)).order_by(Request.id.desc())
    return list(db.session.scalars(query.options(so.selectinload(Request.decisions))))


def list_requests(user: User, scope: str, state: str | None, kind: str | None,
                  page: int, per_page: int) -> tuple[list[Request], int]:
    """One page of the requests in a scope, newest first, and the total."""
    where = [SCOPES[scope](user)]
    if state:
        where.append(Request.state == state)
    if kind:
        where.append(Request.kind == kind)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Request).where(*where))
    query = (sa.select(Request).where(*where).options(so.selectinload(Request.decisions))
             .order_by(Request.id.desc())
             .offset((page - 1) * per_page).limit(per_page))
    return list(db.session.scalars(query)), total or 0


def stats(user: User) -> dict:
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

