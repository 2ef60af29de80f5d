"""Changing a request after it was filed: the applicant edits a returned request (or a pending one before any
decision) and resumes it. The return itself is a decision of the current step (services/requests.py `decide`).

The re-routing rule: an edit that makes the request match another rule than before the edit (under the rules in
force) resolves its chain again at once — step 1 of a new chain (`chain_no` + 1), the earlier chain's decisions kept
as history; otherwise the frozen chain stays. So a resume continues at the request's current step: the step that
returned it when no edit changed the rule, step 1 of the new chain when one did. Both are audited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..actor import Actor
from ..errors import ValidationFailed
from ..events import RequestChange, publish
from ..extensions import db
from ..metrics import DECISIONS
from ..models import Request, RequestEvent
from ..workflow import IMPLIES, Action, fire
from ..workflow.machine import RETURNED
from . import attachments, kinds, routing, visibility
from .requests import (
    _apply,
    _last_decision,
    already_changed,
    approval_for,
    as_it_is_now,
    audit,
    check_at_submit,
    routed_by,
)
from .transaction import committing

# The audit row of an edit that changed the matching rule (the chain was resolved again). Not an Action: it is
# part of the edit, which tells everyone; the trail keeps it as a row of its own so a resume can name it.
REROUTE = "reroute"


def editable(spec: kinds.KindSpec) -> tuple[str, ...]:
    """What the applicant may change of a request of this kind: the reason and the kind's own fields (not its
    asset: another asset is another request)."""
    return ("reason", *(f.name for f in spec.own_fields))


def _refuse_foreign(spec: kinds.KindSpec, changes: dict[str, Any]) -> None:
    """422 for a field this kind does not take, or one that cannot change."""
    allowed = editable(spec)
    if not changes:
        raise ValidationFailed(f"Send a field to change: {', '.join(allowed)}", {"fields": {}})
    foreign = sorted(name for name in changes if name not in allowed)
    if foreign:
        message = f"A {spec.name} request cannot change {', '.join(foreign)}; it may change {', '.join(allowed)}"
        raise ValidationFailed(message, {"fields": {name: [message] for name in foreign}})


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "—" if value in (None, "") else str(value)


def _differences(req: Request, new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Each field whose new value differs from the stored one: name -> (before, after)."""
    return {name: (getattr(req, name), value) for name, value in new.items() if getattr(req, name) != value}


def edit(actor: Actor, request_id: int, changes: dict[str, Any], version: int | None = None) -> Request:
    """Change a returned request, or a pending one before any decision, as its applicant; validated as a submit.

    Changing nothing writes nothing. An edit that makes another rule match re-routes the request (module doc).
    """
    req = visibility.get_visible(actor, request_id)
    if version is not None and version != req.version:
        raise already_changed(req, _last_decision(request_id))
    read_version, before = req.version, routing.may_decide_now(req)
    fire(approval_for(req, actor), Action.EDIT)  # 403 not the applicant, 409 not editable now
    spec = kinds.spec_of(req.kind)
    _refuse_foreign(spec, changes)
    data = {"kind": req.kind, "reason": req.reason, **spec.copy(req), **changes}
    check_at_submit(spec, req.applicant, req.asset, data)  # 422 / 403, nothing changed
    new = {"reason": data["reason"], **spec.values(data)}
    differences = _differences(req, new)
    if not differences:
        return req
    rule_before = routing.matching_rule(req.kind, *routed_by(req.asset, _own(spec, req)), req.department_id)
    rule_after = routing.matching_rule(req.kind, *routed_by(req.asset, new), req.department_id)
    steps = None
    if rule_after != rule_before:
        steps = routing.resolve(req.applicant, req.kind, *routed_by(req.asset, new), req.department_id)
        routing.check_decidable(steps)  # 422 naming the step nobody could decide: nothing changed
    with committing(lambda: already_changed(*as_it_is_now(request_id), read_version), keep_loaded=True):
        for name, (_, value) in differences.items():
            setattr(req, name, value)
        people = [name.removesuffix("_id") for name in differences if name.endswith("_user_id")]
        if people:  # a changed person (a transfer's target) is read again for the answer, not the loaded one
            db.session.expire(req, people)
        if steps is not None:
            routing.refreeze(req, steps)
            if req.state == RETURNED:
                req.required_role = None  # it waits for its applicant still
        db.session.flush()
        audit(req, actor, Action.EDIT, req.state, _describe(differences))
        if steps is not None:
            _audit_reroute(req, actor, rule_before, rule_after)
        after = routing.may_decide_now(req)  # nobody while returned: they hear of it when it resumes
        publish(RequestChange(Action.EDIT, req, actor.user, sorted(after), _describe(differences),
                              dashboards=before | after))
    return req


def _own(spec: kinds.KindSpec, req: Request) -> dict[str, Any]:
    return {f.name: getattr(req, f.name) for f in spec.own_fields}


def _describe(differences: dict[str, tuple[Any, Any]]) -> str:
    """The audit trail's words for an edit: each field, before → after (the reason in full: it is what was asked)."""
    return "; ".join(f"{name}: {_shown(old)} → {_shown(new)}" for name, (old, new) in differences.items())


def _audit_reroute(req: Request, actor: Actor, rule_before: int | None, rule_after: int | None) -> None:
    chain = " → ".join(req.chain)
    db.session.add(RequestEvent(
        request_id=req.id, actor_id=actor.id, action=REROUTE, from_state=req.state, to_state=req.state, step=1,
        comment=f"The edit changed the matching rule (rule {_position(rule_before)} → rule {_position(rule_after)}); "
                f"the chain was resolved again and starts at step 1: {chain}",
    ))


def _position(index: int | None) -> str:
    return "none" if index is None else str(index + 1)


def _rerouted_since_return(req: Request) -> bool:
    """Whether an edit resolved the chain again since the request was last returned."""
    for event in reversed(req.events):
        if event.action == Action.RETURN.value:
            return False
        if event.action == REROUTE:
            return True
    return False


def resume(actor: Actor, request_id: int, version: int | None = None) -> Request:
    """Send a returned request back to its deciders, as its applicant: at the step that returned it, or at step 1
    of the chain an edit resolved again. The named deciders are re-checked for entitlement; the step's timers
    start again."""
    req = visibility.get_visible(actor, request_id)
    if version is not None and version != req.version:
        raise already_changed(req, _last_decision(request_id))
    read_version, from_state = req.version, req.state
    outcome = fire(approval_for(req, actor), Action.RESUME)  # 403 not the applicant, 409 not returned
    spec = kinds.spec_of(req.kind)
    # Still what a submit accepts (a transfer's target may have left since it was filed): 422 / 403.
    check_at_submit(spec, req.applicant, req.asset, {"kind": req.kind, "reason": req.reason, **spec.copy(req)})
    attachments.require_files(req)  # a rule that requires a file refuses a resume without one
    rerouted = _rerouted_since_return(req)
    routing.recheck(req)
    _apply(req, outcome)
    reason = ("Resumed at step 1 of the chain resolved again: an edit changed the matching rule"
              if rerouted else f"Resumed at step {req.step}, where it was returned: the matching rule is unchanged")
    with committing(lambda: already_changed(*as_it_is_now(request_id), read_version), keep_loaded=True):
        db.session.flush()
        audit(req, actor, Action.RESUME, from_state, reason)
        after = routing.may_decide_now(req)
        publish(RequestChange(Action.RESUME, req, actor.user, sorted(after), reason, dashboards=after,
                              extra={"rerouted": rerouted}))
    DECISIONS.labels(IMPLIES[Action.RESUME].metric).inc()
    return req
