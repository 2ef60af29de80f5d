"""What each request kind asks of its asset and of its applicant: one table for both.

For every kind with an asset, the asset statuses it fits and, per status, who may ask for it
besides an admin: `anyone`, the asset's `custodian`, or a role (the stock keepers, `approver`).
A (kind, status) pair absent here does not fit (422); an applicant the table does not name is
refused (403). docs/architecture.md shows the table for people.
"""

from __future__ import annotations

from ..errors import Conflict, Forbidden, ValidationFailed
from ..models import Asset, User

ANYONE, CUSTODIAN = "anyone", "custodian"

WHO_MAY_ASK: dict[str, dict[str, tuple[str, ...]]] = {
    "assign": {"in_stock": (ANYONE,)},
    "transfer": {"in_use": (CUSTODIAN,)},
    # Stock has no custodian to lock out (and anyone may lock it with an assign): anyone may
    # report it broken; throwing it away is for the approvers who keep it.
    "repair": {"in_stock": (ANYONE,), "in_use": (CUSTODIAN,)},
    "dispose": {"in_stock": ("approver",), "in_use": (CUSTODIAN,), "in_repair": (CUSTODIAN, "approver")},
}
KIND_FITS: dict[str, tuple[str, ...]] = {kind: tuple(by_status) for kind, by_status in WHO_MAY_ASK.items()}
# The fields each kind needs besides kind and reason (published by GET /api/meta).
KIND_FIELDS = {
    "acquire": {"required": ("name", "category", "value"), "optional": ("currency",)},
    "assign": {"required": ("asset_id",), "optional": ()},
    "transfer": {"required": ("asset_id", "target_user_id"), "optional": ()},
    "repair": {"required": ("asset_id",), "optional": ()},
    "dispose": {"required": ("asset_id",), "optional": ()},
}


def _misfit(kind: str, asset: Asset) -> dict:
    return {"asset_status": asset.status, "allowed": list(KIND_FITS[kind])}


def check_fits(kind: str, asset: Asset) -> None:
    """At submit: refuse (422) a kind that does not fit the asset's status."""
    if asset.status not in KIND_FITS[kind]:
        raise ValidationFailed(f"Cannot {kind} asset {asset.tag}: it is {asset.status}", _misfit(kind, asset))


def check_still_fits(kind: str, asset: Asset) -> None:
    """At final approval: refuse (409) when the asset moved on since the request was filed."""
    if asset.status not in KIND_FITS[kind]:
        raise Conflict(f"Cannot approve this {kind}: asset {asset.tag} is now {asset.status}",
                       _misfit(kind, asset))


def check_may_ask(user: User, kind: str, asset: Asset) -> None:
    """Refuse (403) an applicant the table does not allow for this kind and asset status."""
    allowed = WHO_MAY_ASK[kind][asset.status]
    if user.role == "admin" or ANYONE in allowed or user.role in allowed:
        return
    if CUSTODIAN in allowed and asset.custodian_id == user.id:
        return
    who = " or ".join(("the asset's custodian" if a == CUSTODIAN else f"an {a}") for a in allowed)
    raise Forbidden(f"Only {who} or an admin may ask to {kind} asset {asset.tag} while it is {asset.status}",
                    {"asset_status": asset.status, "allowed": [*allowed, "admin"]})
