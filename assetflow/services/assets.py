"""Assets: listing, lookup and the admin's edits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import Asset
from . import custody, departments, views, visibility
from .kinds import ACQUIRED_PREFIX
from .transaction import committing


def categories() -> list[str]:
    """Every category in use, sorted."""
    return list(db.session.scalars(sa.select(Asset.category).distinct().order_by(Asset.category)))


def get_asset(asset_id: int) -> Asset:
    """An asset by id, or NotFound."""
    asset = db.session.get(Asset, asset_id)
    if asset is None:
        raise NotFound(f"Asset {asset_id} not found")
    return asset


@dataclass(frozen=True)
class AssetDetail:
    """An asset and the part of its request history that the caller may see."""

    asset: Asset
    requests: list[views.RequestView]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.asset, name)


def get_asset_detail(user: Actor, asset_id: int) -> AssetDetail:
    """An asset with the requests on it that this user may see (the rule of services/visibility.py)."""
    return AssetDetail(get_asset(asset_id), views.request_page(user, visibility.requests_on_asset(user, asset_id)))


def custody_history(viewer: Actor, asset_id: int) -> list[dict[str, Any]]:
    """Every change of the asset's status and custodian (services/custody.py); NotFound for no such asset."""
    return custody.history(viewer, get_asset(asset_id))


def create_asset(data: dict[str, Any], actor: Actor) -> Asset:
    """Register a new asset; the tag must be free and not in the system's ACQ- series."""
    check_new_asset(data["tag"], data.get("status"))
    if "department_id" in data:
        departments.check_exists(data["department_id"])
    asset = Asset(**data)
    with committing(lambda: Conflict(f"Asset tag {data['tag']!r} is taken", {"tag": data["tag"]}),
                    races=("uq_assets_tag",)):
        db.session.add(asset)
        custody.record_create(asset, actor)
    return asset


def check_new_asset(tag: str, status: str | None) -> None:
    """422 unless an admin may register an asset with this tag and status (API and import alike)."""
    if status == "disposed":
        raise ValidationFailed("A new asset cannot be disposed", {"fields": {"status": ["Not allowed"]}})
    if tag.upper().startswith(ACQUIRED_PREFIX):
        message = f"Tags starting with {ACQUIRED_PREFIX} are given to acquired assets by the system"
        raise ValidationFailed(message, {"fields": {"tag": [message]}})


def update_asset(asset_id: int, data: dict[str, Any], actor: Actor) -> Asset:
    """Edit an asset's descriptive fields, or put it back in stock or use after repair."""
    asset = get_asset(asset_id)
    if "department_id" in data:
        departments.check_exists(data["department_id"])
    if "status" in data:
        check_status_change(asset, data["status"], visibility.pending_request_on(asset.id) is not None,
                            asset.custodian_id)
        if data["status"] == "in_stock":
            asset.custodian_id = None
    with committing(lambda: Conflict(f"Asset {asset.tag} was changed concurrently")):
        for field, value in data.items():
            setattr(asset, field, value)
        custody.record_update(asset, actor)
    return asset


def check_status_change(asset: Asset, status: str, locked: bool, custodian_id: int | None) -> None:
    """409 / 422 unless an admin may give the asset this status with this custodian after the change; `locked`: it
    has a pending request. Disposal and custody follow the workflow; an edit only closes a repair or a loan."""
    if status == "disposed" or asset.status == "disposed":
        raise Conflict("Disposal goes through a dispose request and is final", {"status": asset.status})
    if locked:
        raise Conflict(f"Asset {asset.tag} has a pending request", {"asset_id": asset.id})
    if status == "in_use" and custodian_id is None:
        raise ValidationFailed("An asset in use needs a custodian; use an assign request",
                               {"fields": {"status": ["in_use needs a custodian"]}})
