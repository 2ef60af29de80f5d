"""An asset's custody history: admin edits (asset_events) merged with the approved requests that moved it."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..extensions import db
from ..models import Asset, AssetEvent, Request, RequestEvent, User
from . import kinds, visibility

TRACKED = ("status", "custodian_id")
AUDITED = ("tag", "name", "category", "value", "currency", "location", "status", "custodian_id")


def _json(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, str, bool)) else str(value)


def record_create(asset: Asset, actor: Actor) -> None:
    """Add the audit row of a newly registered asset (no commit)."""
    db.session.flush()  # the id and the column defaults
    db.session.add(AssetEvent(**created_event(asset.id, {field: getattr(asset, field) for field in AUDITED}, actor)))


def created_event(asset_id: int, values: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    """The columns of a new asset's audit row, from its values (an import inserts many at once)."""
    changes = {field: [None, _json(values.get(field))] for field in AUDITED}
    return {"asset_id": asset_id, "actor_id": actor.id, "action": "create", "changes": changes}


def record_update(asset: Asset, actor: Actor) -> None:
    """Add the audit row of an admin's edit, from the session's unflushed changes (no commit)."""
    state = sa.inspect(asset)
    before, after = {}, {}
    for field in AUDITED:
        history = state.attrs[field].history
        if history.added and history.deleted:
            before[field], after[field] = history.deleted[0], history.added[0]
    if event := updated_event(asset.id, before, after, actor):
        db.session.add(AssetEvent(**event))


def updated_event(asset_id: int, before: Mapping[str, Any], after: Mapping[str, Any],
                  actor: Actor) -> dict[str, Any] | None:
    """The columns of an edit's audit row, from the audited fields' values before and after; None if none changed."""
    changes = {field: [_json(before[field]), _json(after[field])] for field in AUDITED
               if field in after and before[field] != after[field]}
    return {"asset_id": asset_id, "actor_id": actor.id, "action": "update", "changes": changes} if changes else None


def _request_effect(req: Request) -> dict[str, Any]:
    """What the approved request set on the asset, by running its effect on a stand-in."""
    stand_in = SimpleNamespace(asset=SimpleNamespace(status=None, custodian_id=None), **{
        name: getattr(req, name) for name in
        ("id", "kind", "applicant_id", "target_user_id", "name", "category", "value", "currency")})
    kinds.apply(stand_in)
    changed = {field: getattr(stand_in.asset, field) for field in TRACKED}
    # A stand-in field still None was left alone, except where the effect clears the custodian.
    return {field: value for field, value in changed.items()
            if value is not None or (field == "custodian_id" and changed["status"] == "disposed")}


def history(viewer: Actor, asset: Asset) -> list[dict[str, Any]]:
    """Every change of status and custodian, oldest first, each with its before and after.

    Custody is public within the company, as the asset's custodian is; which request moved it is
    named only to those who may see that request (the rule of services/visibility.py)."""
    asset_id = asset.id
    visible = {req.id for req in visibility.requests_on_asset(viewer, asset_id)}
    entries = []
    approvals = db.session.execute(
        sa.select(RequestEvent, Request).join(Request, Request.id == RequestEvent.request_id)
        .where(Request.asset_id == asset_id, RequestEvent.to_state == "approved")
    ).all()
    for event, req in approvals:
        entries.append((event.created_at, 0, event.id, {
            "source": "request", "action": req.kind, "request_id": req.id if req.id in visible else None,
            "actor": event.actor,
            "at": event.created_at, "set": _request_effect(req)}))
    edits = db.session.scalars(sa.select(AssetEvent).where(AssetEvent.asset_id == asset_id))
    for edit in edits:
        changed = {field: edit.changes[field][1] for field in TRACKED if field in edit.changes}
        if changed:
            entries.append((edit.created_at, 1, edit.id, {
                "source": "admin", "action": edit.action, "request_id": None, "actor": edit.actor,
                "at": edit.created_at, "set": changed}))
    return _with_before(entry for *_, entry in sorted(entries, key=lambda e: e[:3]))


def _with_before(entries) -> list[dict[str, Any]]:
    """Walk the changes in order, filling each one's before from the one preceding it."""
    current: dict[str, Any] = {"status": None, "custodian_id": None}
    rows = []
    for entry in entries:
        changed = entry.pop("set")
        after = {**current, **changed}
        rows.append({**entry, "status_from": current["status"], "status_to": after["status"],
                     "custodian_from": current["custodian_id"], "custodian_to": after["custodian_id"]})
        current = after
    users = _users({row[key] for row in rows for key in ("custodian_from", "custodian_to")})
    for row in rows:
        row["custodian_from"], row["custodian_to"] = users.get(row["custodian_from"]), users.get(row["custodian_to"])
    return rows


def _users(ids: set[int | None]) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
