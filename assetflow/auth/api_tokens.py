"""API tokens at the door: a bearer `af_…` secret turned into the claims of a call, then admitted or refused.

An API token is not a JWT: Flask-JWT-Extended is handed its claims by the JWT manager
(auth/manager.py), read from the database on every call — the token, its owner and whom the owner
stands in for, in one query, as a JWT's blocklist check reads them — so `@jwt_required()`,
`current_user` and the role checks serve both kinds of credential. The claims' `type` is `api`,
neither `access` nor `refresh`: no socket takes one (realtime/sockets.py) and no refresh route either.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from jwt import InvalidTokenError

from ..actor import Actor
from ..errors import Forbidden
from ..extensions import db
from ..models import ApiToken, User
from ..models.api_token import secret_hash
from ..models.base import utcnow
from ..models.delegation import delegators_now, parse_ids
from ..ratelimits import spend
from .scopes import beyond_role, covers, needed_scope

API_TOKEN_PREFIX = "af_"  # how every secret starts; no JWT does (they start with "eyJ")
API_TOKEN_TYPE = "api"
LOADED = "assetflow_api_token"  # request.__dict__: (token, owner, delegators) read by claims_of
USED = "assetflow_api_token_used"  # request.__dict__: (token id, last_used_at) once the call is admitted


class InsufficientScope(Forbidden):
    code = "insufficient_scope"


def is_api_token(text: Any) -> bool:
    """True for a string in the API tokens' form (`af_…`), which no JWT can be."""
    return isinstance(text, str) and text.startswith(API_TOKEN_PREFIX)


def claims_of(secret: str) -> dict[str, Any]:
    """The claims of a call made with this secret; InvalidTokenError (401) when it names no live token."""
    row = db.session.execute(
        sa.select(ApiToken, User, delegators_now(ApiToken.user_id))
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == secret_hash(secret))
    ).first()
    if row is None or row[0].revoked_at is not None:
        raise InvalidTokenError("Unknown or revoked API token")
    token, user, delegators = row
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise InvalidTokenError("The API token has expired")
    # Kept on this HTTP request for tokens.token_revoked and load_actor; it also keeps the rows alive.
    request.__dict__[LOADED] = (token, user, parse_ids(delegators))
    return {"type": API_TOKEN_TYPE, "sub": str(user.id), "jti": f"api:{token.id}", "fresh": False,
            "gen": user.token_generation, "api_token": token.id, "scopes": token.scope_list}


def loaded() -> tuple[ApiToken, User, frozenset[int]]:
    """What claims_of read for this call."""
    return request.__dict__[LOADED]


def admit(user: User) -> Actor:
    """The actor of an API-token call by its (active) owner, once the call passes the token's rate limit and
    scopes."""
    token, _, delegators = loaded()
    scopes = frozenset(token.scope_list)
    if beyond_role(scopes, user.role):
        # The users service revokes such a token when the role drops; this holds for a role set any other way.
        raise InvalidTokenError("The API token's scopes exceed its owner's role")
    request.__dict__[USED] = (token.id, token.last_used_at)
    _spend(token.id)
    needed = needed_scope(request.method, current_app.view_functions.get(request.endpoint))
    if needed is None:
        raise InsufficientScope("API tokens cannot do this; it needs a person signed in", {"required": None})
    if not covers(scopes, needed):
        raise InsufficientScope(f"This API token lacks the scope {needed!r}",
                                {"required": needed, "scopes": token.scope_list})
    return Actor.of(user, delegators, scopes=scopes, token_id=token.id)


def _spend(token_id: int) -> None:
    """Count the call against API_TOKEN_RATE_LIMIT for this token; past it, 429 with Retry-After."""
    spend(current_app.config["API_TOKEN_RATE_LIMIT"], str(token_id), "api_token",
          "Too many calls with this API token")


def used_now() -> tuple[int, Any] | None:
    """(id, last_used_at as read) of the API token this call was admitted with, or None."""
    return request.__dict__.get(USED)
