"""What final approval does to the asset, applied in the approving transaction; and the tag an acquire gets."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from ..extensions import db
from ..models import Asset, Request
from .kinds import KINDS

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


def apply(req: Request) -> None:
    """Change the asset as the approved request asks (each kind's effect is in its spec, services/kinds.py)."""
    KINDS[req.kind].effect(req)
