"""What final approval does to the asset, applied in the approving transaction."""

from __future__ import annotations

from collections.abc import Callable

from ..models import Asset, Request


def _acquire(req: Request) -> None:
    req.asset = Asset(
        tag=f"ACQ-{req.id:06d}", name=req.name, category=req.category, value=req.value,
        currency=req.currency or "CNY", status="in_use", custodian_id=req.applicant_id,
    )


def _assign(req: Request) -> None:
    req.asset.status, req.asset.custodian_id = "in_use", req.applicant_id


def _transfer(req: Request) -> None:
    req.asset.custodian_id = req.target_user_id


def _repair(req: Request) -> None:
    req.asset.status = "in_repair"


def _dispose(req: Request) -> None:
    req.asset.status, req.asset.custodian_id = "disposed", None


EFFECTS: dict[str, Callable[[Request], None]] = {
    "acquire": _acquire,
    "assign": _assign,
    "transfer": _transfer,
    "repair": _repair,
    "dispose": _dispose,
}


def apply(req: Request) -> None:
    """Change the asset as the approved request asks."""
    EFFECTS[req.kind](req)
