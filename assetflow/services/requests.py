"""Submitting and deciding approval requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ..actor import Actor
from ..errors import AppError, Conflict, Forbidden, ValidationFailed
from ..events import RequestChange, publish
from ..extensions import db
from ..metrics import DECISIONS
from ..models import Asset, Decision, Request, RequestEvent, User
from ..models.base import insert_rows, insert_values, utcnow
from ..workflow import IMPLIES, Action, Approval, Outcome, fire
from ..workflow.machine import MOVES
from . import attachments, kinds, routing, visibility
from .transaction import committing, update_versioned


def _load_asset_for(spec: kinds.KindSpec, asset_id: int | None) -> Asset | None:
    if not spec.takes_asset:
        if asset_id is not None:
            raise _invalid("asset_id", f"An {spec.name} request creates a new asset; omit asset_id")
        return None
    if asset_id is None:
        raise _invalid("asset_id", f"A {spec.name} request needs asset_id")
    asset = db.session.get(Asset, asset_id)
    if asset is None:
        raise _invalid("asset_id", f"Asset {asset_id} does not exist")
    return asset


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field: [message]}})


def _locked(asset: Asset) -> Conflict:
    return Conflict(f"Asset {asset.tag} already has a pending request", {"asset_id": asset.id})


def check_at_submit(spec: kinds.KindSpec, applicant: User, asset: Asset | None, data: dict[str, Any]) -> None:
    try:
        spec.preconditions(kinds.Ask(spec.name, applicant, asset, data))
    except kinds.Unmet as unmet:
        raise unmet.at_submit() from None


def _check_at_approval(req: Request) -> None:
    """Everything submit checked, again, before the approval changes anything (so there is nothing to undo)."""
    spec = kinds.spec_of(req.kind)
    try:
        spec.preconditions(kinds.Ask(req.kind, req.applicant, req.asset, spec.stored(req)))
    except kinds.Unmet as unmet:
        raise unmet.at_approval(req.kind) from None


def submit(actor: Actor, data: dict[str, Any], previous: Request | None = None,
           files: Sequence[attachments.Upload] = ()) -> Request:
    """Validate and store a new pending request with its files, notifying the first step's deciders.

    `previous` is the rejected or withdrawn request this one resubmits: linked, and audited on it. The request
    and its files are stored together or not at all.
    """
    applicant = actor.user
    kind = data["kind"]
    spec = kinds.spec_of(kind)
    asset = _load_asset_for(spec, data.get("asset_id"))
    check_at_submit(spec, applicant, asset, data)
    staged = attachments.accept(files, applicant.id)
    if asset is not None and visibility.pending_request_on(asset.id) is not None:
        raise _locked(asset)
    own = spec.values(data)
    steps = routing.resolve(applicant, kind, *routed_by(asset, own))
    routing.check_decidable(steps)
    req = Request(
        kind=kind, asset=asset, applicant=applicant, reason=data["reason"], **own,
        state="pending", step=1, department_id=applicant.department_id,
        previous_id=previous.id if previous else None, attachments_count=len(staged),
    )
    routing.freeze(req, steps)
    if asset is not None:
        # Locking the asset changes it: this versioned UPDATE loses to an admin's concurrent edit
        # (and to a concurrent submit, as does the pending-request index).
        asset.updated_at = utcnow()
    action = Action.RESUBMIT if previous else Action.SUBMIT
    with committing(lambda: _submit_lost(asset, _pending_on(asset)), races=("uq_requests_pending_asset",),
                    keep_loaded=True):
        db.session.add(req)
        db.session.flush()
        audit(req, applicant, Action.SUBMIT, None, "")
        attachments.store(req, staged, applicant)
        attachments.require_files(req)
        if previous is not None:
            audit(previous, applicant, Action.RESUBMIT, previous.state, f"Resubmitted as request {req.id}")
        deciders = routing.may_decide_now(req)
        publish(RequestChange(action, req, applicant, [applicant.id, *sorted(deciders)], dashboards=deciders))
    DECISIONS.labels(IMPLIES[action].metric).inc()
    return req


def routed_by(asset: Asset | None, own: dict[str, Any]) -> tuple[str | None, Any]:
    """What the rules route by: the asset's category and value, or those asked for when there is no asset yet."""
    return (asset.category, asset.value) if asset is not None else (own.get("category"), own.get("value"))


def _pending_on(asset: Asset | None) -> Request | None:
    """Re-read after a lost submit: the request that holds the asset now, if any."""
    return visibility.pending_request_on(asset.id) if asset is not None else None


def _submit_lost(asset: Asset | None, pending: Request | None) -> Conflict:
    """The 409 for a submit that lost a race: to another request on the asset, or to an edit of it."""
    if asset is None:
        return Conflict("The request could not be stored; try again")
    if pending is not None:
        return _locked(asset)
    return Conflict(f"Asset {asset.tag} was changed concurrently; reload it", {"asset_id": asset.id})


def audit(req: Request, actor: Actor | None, action: Action, from_state: str | None, comment: str,
           step: int | None = None, on_behalf_of: int | None = None) -> None:
    # `step` is the step acted on: an approval that advances the request has already moved req.step.
    # Written at once, outside the session (an audit row never changes, and is not read back): after the request's
    # own flush.
    insert_values(RequestEvent.__table__, [dict(
        request_id=req.id, actor_id=actor.id if actor else None, on_behalf_of_id=on_behalf_of, action=action.value,
        from_state=from_state, to_state=req.state, step=step or req.step, comment=comment, created_at=utcnow(),
    )])


def approval_for(req: Request, actor: Actor, comment: str = "") -> Approval:
    """The workflow view of a request, as seen by this actor (who may stand in for their delegators)."""
    return Approval(
        state=req.state, step=req.step, chain=list(req.chain), applicant_id=req.applicant_id,
        actor=actor,
        # From the loaded relationships: list pages load them for the whole page in one query each.
        deciders=frozenset(routing.step_deciders(req)),
        prior_deciders=frozenset(routing.prior_deciders(req)), comment=comment,
    )


RESUBMITTABLE = ("rejected", "withdrawn")


def decide(actor: Actor, request_id: int, action: str, comment: str = "",
           version: int | None = None) -> Request:
    """Approve, reject, return or withdraw a request, under optimistic locking."""
    req = visibility.get_visible(actor, request_id)
    if version is not None and version != req.version:
        raise already_changed(req, _last_decision(request_id))
    read_version, from_state = req.version, req.state
    approval = approval_for(req, actor, comment)
    on_behalf_of = approval.acting_for()
    before = routing.may_decide_now(req, set(approval.deciders))
    try:
        outcome = fire(approval, action)
    except Conflict:
        raise already_changed(req, _last_decision(request_id)) from None
    if outcome.action is Action.APPROVE:
        _check_at_approval(req)
    _apply(req, outcome)
    with committing(lambda: already_changed(*as_it_is_now(request_id), read_version),
                    races=("uq_decisions_request_step",), keep_loaded=True):
        # The versioned UPDATE of the request first: a lost race stops here, and the request's row is locked
        # before its people's (as every writer of a request locks them).
        update_versioned(req)
        behalf = on_behalf_of if on_behalf_of != actor.id else None
        if outcome.implies.decision is not None:
            decision = Decision(request_id=req.id, chain_no=req.chain_no, step=outcome.decided_step,
                                approver_id=actor.id, on_behalf_of_id=behalf, outcome=outcome.implies.decision,
                                comment=comment, step_started_at=routing.started_at(req, outcome.decided_step),
                                created_at=utcnow())
            insert_rows([decision])  # never changed once written: not through the unit of work
            # The next step's deciders exclude this one (four eyes): added to the loaded list, not reloaded.
            set_committed_value(req, "decisions", [*req.decisions, decision])
        audit(req, actor, outcome.trigger, from_state, comment, outcome.decided_step, behalf)
        after = routing.may_decide_now(req)
        recipients = _recipients(req, after) + ([behalf] if behalf else [])
        publish(RequestChange(outcome.action, req, actor.user, recipients, comment, behalf,
                              dashboards=before | after))
    DECISIONS.labels(outcome.implies.metric).inc()
    return req


def _apply(req: Request, outcome: Outcome) -> None:
    """Write the workflow's outcome onto the request: its state and step, and what a final approval does."""
    req.state, req.step, req.required_role = outcome.state, outcome.step, outcome.required_role
    if outcome.action in (Action.ADVANCE, Action.RESUME):
        routing.start_step(req)  # a new step, or one given back to its deciders: its timers count from now
    elif outcome.finished:
        req.decided_at = utcnow()
    if outcome.action is Action.APPROVE:
        kinds.apply(req)


def _recipients(req: Request, deciders: set[int]) -> list[int]:
    recipients = [req.applicant_id]
    if req.state == "pending":
        recipients += sorted(deciders)
    elif req.state == "approved":
        recipients += kinds.spec_of(req.kind).also_told(req)
    return recipients


def _last_decision(request_id: int) -> RequestEvent | None:
    """The request's latest approve, reject, return, withdraw or resume in its audit trail (not a later comment
    or edit)."""
    return db.session.scalar(
        sa.select(RequestEvent).where(RequestEvent.request_id == request_id, RequestEvent.action.in_(MOVES))
        .order_by(RequestEvent.id.desc()).limit(1)
    )


def as_it_is_now(request_id: int) -> tuple[Request, RequestEvent | None]:
    """Re-read after a lost race (committing() has rolled back): the request and its latest decision."""
    return db.session.get(Request, request_id), _last_decision(request_id)


def already_changed(req: Request, last: RequestEvent | None, read_version: int | None = None) -> Conflict:
    """The 409 for a lost race, saying who decided when someone did (reads only what it is given)."""
    if req.version == read_version and req.asset is not None:
        # The request is as it was read: what changed under the approval is its asset.
        return Conflict(f"Asset {req.asset.tag} was changed concurrently; reload it",
                        {"state": req.state, "version": req.version, "asset_id": req.asset_id})
    decided_by = None
    if req.state != "pending" and last is not None:
        decided_by = {"id": last.actor.id, "display_name": last.actor.display_name}
    who = f" by {decided_by['display_name']}" if decided_by else ""
    message = (f"Request {req.id} was already {req.state}{who}" if req.state != "pending"
               else f"Request {req.id} was changed by someone else; reload it")
    return Conflict(message, {"state": req.state, "version": req.version, "decided_by": decided_by})


def bulk_approve(actor: Actor, ids: list[int], comment: str = "") -> list[dict[str, Any]]:
    """Approve each request in its own transaction; one result per id, in order."""
    results = []
    for request_id in ids:
        try:
            approved = decide(actor, request_id, Action.APPROVE, comment)
            results.append({"id": request_id, "ok": True, "request": approved})
        except AppError as error:
            results.append({"id": request_id, "ok": False, "status": error.status,
                            "error": {"code": error.code, "message": error.message}})
    return results


def resubmit(applicant: Actor, request_id: int, reason: str | None = None) -> Request:
    """A new pending request like a rejected or withdrawn one, routed by today's rules and linked to it."""
    old = visibility.get_visible(applicant, request_id)
    if old.applicant_id != applicant.id:
        raise Forbidden("Only the applicant may resubmit a request")
    if old.state not in RESUBMITTABLE:
        raise Conflict(f"Only a rejected or withdrawn request can be resubmitted; this one is {old.state}",
                       {"state": old.state})
    data = {"kind": old.kind, "reason": reason or old.reason, **kinds.spec_of(old.kind).copy(old)}
    return submit(applicant, data, previous=old)


def involved(req: Request) -> set[int]:
    """Everyone a comment on the request concerns: applicant, named deciders, who decided,
    earlier commenters and the delegates of whoever may decide now."""
    people = {req.applicant_id, *(d.user_id for d in routing.named_on(req)), *routing.prior_deciders(req)}
    people |= {e.actor_id for e in req.events if e.action == "comment"}
    return people | routing.may_decide_now(req)


def comment(author: Actor, request_id: int, body: str) -> RequestEvent:
    """Add a comment to a request the author may see; everyone else involved is told live."""
    req = visibility.get_visible(author, request_id)
    recipients = involved(req)
    event = RequestEvent(request_id=req.id, actor_id=author.id, action=Action.COMMENT.value, from_state=req.state,
                         to_state=req.state, step=req.step, comment=body)
    with committing(lambda: Conflict("The comment could not be stored; try again")):
        db.session.add(event)
        db.session.flush()
        publish(RequestChange(Action.COMMENT, req, author.user, sorted(recipients), body, extra={"comment": event}))
    return event
