"""API tokens: a person makes, lists and revokes their own; a deactivation or a lower role ends them."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..auth.api_tokens import API_TOKEN_PREFIX
from ..auth.scopes import ROLE_SCOPES, beyond_role
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import ApiToken, User
from ..models.api_token import SCOPES, secret_hash
from ..models.base import utcnow
from .transaction import committing

TOKENS_PER_USER = 50  # live tokens one person may hold: enough for every integration, not a heap of forgotten ones
SHOWN_CHARACTERS = 8  # of the secret, kept in the clear so its owner can tell tokens apart: "af_" and 5 more
# last_used_at is written at most this often per token: a busy integration costs one UPDATE a minute, not one a call.
TOUCH_EVERY = timedelta(minutes=1)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field: [message]}})


def _live(user_id: int) -> sa.Select:
    return sa.select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))


@dataclass(frozen=True)
class NewToken:
    """A token just made, with its secret: the one time the secret exists outside its owner's hands."""

    token: ApiToken
    secret: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.token, name)


def create(owner: User, name: str, scopes: Collection[str], expires_at: datetime | None) -> NewToken:
    """A new token of the owner's and its secret, which is never stored nor shown again."""
    if over := beyond_role(scopes, owner.role):
        raise _invalid("scopes", f"Your role ({owner.role}) cannot give a token {', '.join(over)}; it may give "
                                 f"{', '.join(scopes_for(owner.role))}")
    if expires_at is not None and expires_at <= utcnow():
        raise _invalid("expires_at", "Must be in the future")
    held = db.session.scalar(sa.select(sa.func.count()).select_from(_live(owner.id).subquery()))
    if held >= TOKENS_PER_USER:
        raise _invalid("name", f"You hold {TOKENS_PER_USER} tokens, the most one person may; revoke one first")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    token = ApiToken(user_id=owner.id, name=name.strip(), token_hash=secret_hash(secret),
                     prefix=secret[:SHOWN_CHARACTERS], scopes=" ".join(s for s in SCOPES if s in scopes),
                     expires_at=expires_at)
    with committing(keep_loaded=True):
        db.session.add(token)
    return NewToken(token, secret)


def scopes_for(role: str) -> list[str]:
    """The scopes a person of this role may give a token, in the contract's order."""
    return [scope for scope in SCOPES if scope in ROLE_SCOPES[role]]


def owned(owner_id: int) -> list[ApiToken]:
    """The owner's tokens that are not revoked (expired ones too, so they can be seen and removed), newest first."""
    return list(db.session.scalars(_live(owner_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke(owner_id: int, token_id: int) -> None:
    """Revoke one of the owner's tokens: from the commit on, no call with it is admitted. Another's is a 404."""
    token = db.session.scalar(_live(owner_id).where(ApiToken.id == token_id))
    if token is None:
        raise NotFound(f"No token {token_id} of yours")
    with committing():
        token.revoked_at = utcnow()


def end_beyond_role(user: User, active: bool, role: str) -> None:
    """In the caller's transaction: revoke the user's tokens that a deactivation (all of them) or a new role (those
    with a scope it may not give) ends. Revoked, not just refused, so a reactivation or a role given back does not
    bring them back: whoever restores the person also decides anew what their integrations may do."""
    doomed = [token.id for token in db.session.scalars(_live(user.id))
              if not active or beyond_role(token.scope_list, role)]
    if doomed:
        db.session.execute(sa.update(ApiToken).where(ApiToken.id.in_(doomed)).values(revoked_at=utcnow()))


def touch(token_id: int, last_used_at: datetime | None) -> None:
    """Record that the token was used now, unless it was within TOUCH_EVERY (as read when it was admitted)."""
    now = utcnow()
    if last_used_at is not None and now - last_used_at < TOUCH_EVERY:
        return
    with committing():
        db.session.execute(sa.update(ApiToken).where(
            ApiToken.id == token_id,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_EVERY),
        ).values(last_used_at=now))
