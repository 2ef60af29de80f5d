"""Ending a session: a logout revokes its tokens, and its sockets close once that commits."""

from __future__ import annotations

import sqlalchemy as sa

from ..actor import Actor
from ..auth.tokens import revoke
from ..errors import Conflict
from ..events import TokenRevoked, publish
from ..extensions import db
from ..models import RevokedToken
from ..models.base import utcnow
from .transaction import committing


def logout(actor: Actor, access_claims: dict, refresh_claims: dict | None) -> None:
    """Revoke the access token and, when it is the actor's, the refresh token; drop its sockets."""
    with committing(lambda: Conflict("The logout could not be stored; try again")):
        revoke(access_claims, actor.id)
        if refresh_claims is not None and refresh_claims.get("sub") == str(actor.id):
            revoke(refresh_claims, actor.id)
        publish(TokenRevoked(access_claims["jti"]))


def prune_revoked() -> int:
    """Forget revoked tokens that have expired anyway; return how many rows went."""
    with committing():
        result = db.session.execute(sa.delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    return result.rowcount
