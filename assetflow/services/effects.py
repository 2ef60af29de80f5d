"""What final approval does to the asset, applied in the approving transaction."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import sqlalchemy as sa

from ..extensions import db
from ..models import Asset, Request

ACQUIRED_PREFIX = "ACQ-"


def acquired_tag(request_id: int) -> str:
    """The tag of the asset an acquire creates: ACQ-<request id>, or a free variant of it."""
    base = f"{ACQUIRED_PREFIX}{request_id:06d}"
    # Admins cannot register ACQ- tags (services/assets.py), but a row registered before that
    # rule may hold one; the request's own id keeps the variants of two requests apart.
    with db.session.no_autoflush:
        taken = set(db.session.scalars(sa.select(Asset.tag).where(Asset.tag.like(f"{base}%"))))
    return next(tag for tag in itertools.chain([base], (f"{base}-{n}" for n in itertools.count(2)))
                if tag not in taken)


def _acquire(req: Request) -> None:
    req.asset = Asset(
        tag=acquired_tag(req.id), name=req.name, category=req.category, value=req.value,
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
