"""Submitting and deciding approval requests."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..errors import AppError, Conflict, ValidationFailed
from ..extensions import db
from ..metrics import DECISIONS
from ..models import Asset, Decision, Request, RequestEvent, User
from ..models.base import utcnow
from ..workflow import Actor, Approval, allowed_actions, approval_chain, fire
from . import effects, kinds, notify, visibility
from .kinds import KIND_FIELDS
from .transaction import committing

FINAL_ACTION = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field: [message]}})


def _load_asset_for(applicant: User, kind: str, asset_id: int | None) -> Asset | None:
    if kind == "acquire":
        if asset_id is not None:
            raise _invalid("asset_id", "An acquire request creates a new asset; omit asset_id")
        return None
    if asset_id is None:
        raise _invalid("asset_id", f"A {kind} request needs asset_id")
    asset = db.session.get(Asset, asset_id)
    if asset is None:
        raise _invalid("asset_id", f"Asset {asset_id} does not exist")
    kinds.check_fits(kind, asset)
    kinds.check_may_ask(applicant, kind, asset)
    if visibility.pending_request_on(asset.id) is not None:
        raise _locked(asset)
    return asset


def _locked(asset: Asset) -> Conflict:
    return Conflict(f"Asset {asset.tag} already has a pending request", {"asset_id": asset.id})


def _check_kind_fields(kind: str, asset: Asset | None, data: dict[str, Any]) -> None:
    if kind == "acquire":
        for field in KIND_FIELDS["acquire"]["required"]:
            if data.get(field) in (None, ""):
                raise _invalid(field, f"An acquire request needs {field}")
    if kind == "transfer":
        target_id = data.get("target_user_id")
        if target_id is None:
            raise _invalid("target_user_id", "A transfer needs target_user_id")
        target = db.session.get(User, target_id)
        if target is None or not target.active:
            raise _invalid("target_user_id", f"User {target_id} does not exist")
        if asset.custodian_id == target_id:
            raise _invalid("target_user_id", "The target already holds this asset")


def submit(applicant: User, data: dict[str, Any]) -> Request:
    """Validate and store a new pending request, notifying the first step's deciders."""
    kind = data["kind"]
    asset = _load_asset_for(applicant, kind, data.get("asset_id"))
    _check_kind_fields(kind, asset, data)
    value = Decimal(data["value"]) if kind == "acquire" else asset.value
    config = current_app.config
    chain = approval_chain(kind, value, config["HIGH_VALUE_THRESHOLD"], config["APPROVAL_RULES"])
    _check_someone_can_decide(applicant, chain)
    req = Request(
        kind=kind, asset=asset, applicant=applicant, reason=data["reason"],
        target_user_id=data.get("target_user_id") if kind == "transfer" else None,
        name=data.get("name"), category=data.get("category"),
        value=value if kind == "acquire" else None,
        currency=data.get("currency") if kind == "acquire" else None,
        state="pending", step=1, steps_total=len(chain), chain=chain, required_role=chain[0],
    )
    if asset is not None:
        # Locking the asset changes it: this versioned UPDATE loses to an admin's concurrent edit
        # (and to a concurrent submit, as does the pending-request index).
        asset.updated_at = utcnow()
    with committing(lambda: _submit_lost(asset), races=("uq_requests_pending_asset",)):
        db.session.add(req)
        db.session.flush()
        _audit(req, applicant, "submit", None, "")
        notify.approval_update(req, applicant, "submit", "", [applicant.id, *_deciders(req)])
    DECISIONS.labels("submitted").inc()
    return req


def _submit_lost(asset: Asset | None) -> Conflict:
    """The 409 for a submit that lost a race: to another request on the asset, or to an edit of it."""
    if asset is None:
        return Conflict("The request could not be stored; try again")
    if visibility.pending_request_on(asset.id) is not None:
        return _locked(asset)
    return Conflict(f"Asset {asset.tag} was changed concurrently; reload it", {"asset_id": asset.id})


def _check_someone_can_decide(applicant: User, chain: list[str]) -> None:
    """Refuse (422) a chain with a step that no active user but the applicant could ever decide."""
    others = dict(db.session.execute(
        sa.select(User.role, sa.func.count()).where(User.active.is_(True), User.id != applicant.id)
        .group_by(User.role)
    ).all())
    needed: Counter[str] = Counter()
    for step, role in enumerate(chain, start=1):
        needed[role] += 1  # four eyes: each step of one role needs another person
        if needed[role] > others.get(role, 0):
            raise ValidationFailed(
                f"This request could never be approved: step {step} ({role}) has no possible decider "
                f"(too few active {role}s other than you and the deciders of earlier steps)",
                {"step": step, "role": role},
            )


def _deciders(req: Request) -> list[int]:
    """Active users who may decide the request's current step."""
    excluded = {req.applicant_id, *visibility.prior_deciders(req.id)}
    query = sa.select(User.id).where(User.role == req.required_role, User.active.is_(True))
    return [uid for uid in db.session.scalars(query) if uid not in excluded]


def _audit(req: Request, actor: User, action: str, from_state: str | None, comment: str,
           step: int | None = None) -> None:
    # `step` is the step acted on: an approval that advances the request has already moved req.step.
    db.session.add(RequestEvent(
        request_id=req.id, actor_id=actor.id, action=action, from_state=from_state,
        to_state=req.state, step=step or req.step, comment=comment,
    ))


def approval_for(req: Request, actor: User, comment: str = "") -> Approval:
    """The workflow view of a request, as seen by this actor."""
    return Approval(
        state=req.state, step=req.step, chain=list(req.chain), applicant_id=req.applicant_id,
        actor=Actor(actor.id, actor.role, actor.active),
        # From the loaded relationship: list pages load it for the whole page in one query.
        prior_deciders=frozenset(d.approver_id for d in req.decisions), comment=comment,
    )


def actions_for(req: Request, user: User) -> list[str]:
    """What this user may do to the request now."""
    if req.state != "pending":
        return []
    return allowed_actions(approval_for(req, user))


def decide(actor: User, request_id: int, action: str, comment: str = "",
           version: int | None = None) -> Request:
    """Approve, reject or withdraw a request, under optimistic locking."""
    req = visibility.get_visible(actor, request_id)
    if version is not None and version != req.version:
        raise _already_changed(request_id)
    from_state, decided_step, read_version = req.state, req.step, req.version
    try:
        outcome = fire(approval_for(req, actor, comment), action)
    except Conflict:
        raise _already_changed(request_id) from None
    if outcome.state == "approved" and req.asset is not None:
        kinds.check_still_fits(req.kind, req.asset)  # before anything changes: nothing to undo
    req.state, req.step = outcome.state, outcome.step
    req.required_role = req.chain[req.step - 1] if req.state == "pending" else None
    if req.state != "pending":
        req.decided_at = utcnow()
    if req.state == "approved":
        effects.apply(req)
    with committing(lambda: _already_changed(request_id, read_version), races=("uq_decisions_request_step",)):
        # One versioned UPDATE of the request, before the inbox rows: a lost race stops here.
        db.session.flush()
        if action != "withdraw":
            db.session.add(Decision(request_id=req.id, step=decided_step, approver_id=actor.id,
                                    outcome=FINAL_ACTION[action], comment=comment))
        _audit(req, actor, action, from_state, comment, decided_step)
        notify.approval_update(req, actor, _notify_action(action, req), comment, _recipients(req))
    DECISIONS.labels(FINAL_ACTION[action] if req.state != "pending" else "advanced").inc()
    return req


def _notify_action(action: str, req: Request) -> str:
    return "advance" if action == "approve" and req.state == "pending" else action


def _recipients(req: Request) -> list[int]:
    recipients = [req.applicant_id]
    if req.state == "pending":
        recipients += _deciders(req)
    elif req.state == "approved" and req.kind == "transfer":
        recipients.append(req.target_user_id)
    return recipients


def _already_changed(request_id: int, read_version: int | None = None) -> Conflict:
    """The 409 for a lost race, saying who decided when someone did."""
    db.session.rollback()
    req = db.session.get(Request, request_id)
    if req.version == read_version and req.asset is not None:
        # The request is as it was read: what changed under the approval is its asset.
        return Conflict(f"Asset {req.asset.tag} was changed concurrently; reload it",
                        {"state": req.state, "version": req.version, "asset_id": req.asset_id})
    last = db.session.scalar(
        sa.select(RequestEvent).where(RequestEvent.request_id == request_id)
        .order_by(RequestEvent.id.desc()).limit(1)
    )
    decided_by = None
    if req.state != "pending" and last is not None:
        decided_by = {"id": last.actor.id, "display_name": last.actor.display_name}
    who = f" by {decided_by['display_name']}" if decided_by else ""
    message = (f"Request {request_id} was already {req.state}{who}" if req.state != "pending"
               else f"Request {request_id} was changed by someone else; reload it")
    return Conflict(message, {"state": req.state, "version": req.version, "decided_by": decided_by})


def bulk_approve(actor: User, ids: list[int], comment: str = "") -> list[dict[str, Any]]:
    """Approve each request in its own transaction; one result per id, in order."""
    results = []
    for request_id in ids:
        try:
            results.append({"id": request_id, "ok": True, "request": decide(actor, request_id, "approve", comment)})
        except AppError as error:
            results.append({"id": request_id, "ok": False, "status": error.status,
                            "error": {"code": error.code, "message": error.message}})
    return results
