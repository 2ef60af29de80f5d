"""Submitting and deciding approval requests."""

from __future__ import annotations

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
from . import effects, notify, visibility
from .transaction import committing

# Which asset statuses each kind may be asked for; acquire has no asset yet.
KIND_FITS = {
    "assign": ("in_stock",),
    "transfer": ("in_use",),
    "repair": ("in_stock", "in_use"),
    "dispose": ("in_stock", "in_use", "in_repair"),
}
# The fields each kind needs besides kind and reason (published by GET /api/meta).
KIND_FIELDS = {
    "acquire": {"required": ("name", "category", "value"), "optional": ("currency",)},
    "assign": {"required": ("asset_id",), "optional": ()},
    "transfer": {"required": ("asset_id", "target_user_id"), "optional": ()},
    "repair": {"required": ("asset_id",), "optional": ()},
    "dispose": {"required": ("asset_id",), "optional": ()},
}
FINAL_ACTION = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field: [message]}})


def _load_asset_for(kind: str, asset_id: int | None) -> Asset | None:
    if kind == "acquire":
        if asset_id is not None:
            raise _invalid("asset_id", "An acquire request creates a new asset; omit asset_id")
        return None
    if asset_id is None:
        raise _invalid("asset_id", f"A {kind} request needs asset_id")
    asset = db.session.get(Asset, asset_id)
    if asset is None:
        raise _invalid("asset_id", f"Asset {asset_id} does not exist")
    if asset.status not in KIND_FITS[kind]:
        raise ValidationFailed(
            f"Cannot {kind} asset {asset.tag}: it is {asset.status}",
            {"asset_status": asset.status, "allowed": list(KIND_FITS[kind])},
        )
    if visibility.pending_request_on(asset.id) is not None:
        raise _locked(asset)
    return asset


def _locked(asset: Asset) -> Conflict:
    return Conflict(f"Asset {asset.tag} already has a pending request", {"asset_id": asset.id})


def _check_kind_fields(kind: str, applicant: User, asset: Asset | None, data: dict[str, Any]) -> None:
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
        if applicant.role != "admin" and asset.custodian_id != applicant.id:
            raise _invalid("asset_id", "Only the asset's custodian or an admin may transfer it")


def submit(applicant: User, data: dict[str, Any]) -> Request:
    """Validate and store a new pending request, notifying the first step's deciders."""
    kind = data["kind"]
    asset = _load_asset_for(kind, data.get("asset_id"))
    _check_kind_fields(kind, applicant, asset, data)
    value = Decimal(data["value"]) if kind == "acquire" else asset.value
    config = current_app.config
    chain = approval_chain(kind, value, config["HIGH_VALUE_THRESHOLD"], config["APPROVAL_RULES"])
    req = Request(
        kind=kind, asset=asset, applicant=applicant, reason=data["reason"],
        target_user_id=data.get("target_user_id") if kind == "transfer" else None,
        name=data.get("name"), category=data.get("category"),
        value=value if kind == "acquire" else None,
        currency=data.get("currency") if kind == "acquire" else None,
        state="pending", step=1, steps_total=len(chain), chain=chain, required_role=chain[0],
    )
    # The race a submit can lose is the asset lock (one pending request per asset); an acquire has no asset.
    with committing(lambda: _locked(asset) if asset else Conflict("The request could not be stored; try again")):
        db.session.add(req)
        db.session.flush()
        _audit(req, applicant, "submit", None, "")
        notify.approval_update(req, applicant, "submit", "", [applicant.id, *_deciders(req)])
    DECISIONS.labels("submitted").inc()
    return req


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
    from_state, decided_step = req.state, req.step
    try:
        outcome = fire(approval_for(req, actor, comment), action)
    except Conflict:
        raise _already_changed(request_id) from None
    req.state, req.step = outcome.state, outcome.step
    req.required_role = req.chain[req.step - 1] if req.state == "pending" else None
    if req.state != "pending":
        req.decided_at = utcnow()
    if req.state == "approved":
        effects.apply(req)
    with committing(lambda: _already_changed(request_id)):
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


def _already_changed(request_id: int) -> Conflict:
    """The 409 for a lost race, saying who decided when someone did."""
    db.session.rollback()
    req = db.session.get(Request, request_id)
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
