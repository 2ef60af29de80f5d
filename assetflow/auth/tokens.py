"""JWT loaders: identity, revocation, and errors in the one JSON shape."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps

import sqlalchemy as sa
from flask import Flask, request
from flask_jwt_extended import create_access_token, create_refresh_token, current_user
from sqlalchemy.dialects import postgresql, sqlite

from ..actor import Actor
from ..errors import Forbidden, error_response
from ..extensions import db, jwt
from ..models import RevokedToken, User
from ..models.base import utcnow
from ..models.delegation import delegators_now, parse_ids
from . import api_tokens

INSERT_IGNORING_CONFLICTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def issue_tokens(user: User) -> dict[str, str]:
    """A fresh access and refresh token pair for the user."""
    claims = {"role": user.role, "gen": user.token_generation}
    return {
        "access_token": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh_token": create_refresh_token(identity=str(user.id), additional_claims=claims),
    }


def is_revoked(jti: str) -> bool:
    """True when the token id is on the blocklist."""
    return db.session.scalar(sa.select(RevokedToken.id).where(RevokedToken.jti == jti)) is not None


TOKEN_ROW = "assetflow_token_row"  # request.__dict__ key: the token query's user and delegators, for load_actor


# Built once, its values bound per request: a statement built per request is keyed for the compiled cache each time.
_TOKEN_ROW = (sa.select(sa.exists().where(RevokedToken.jti == sa.bindparam("jti")),
                        delegators_now(sa.bindparam("user_id"), sa.bindparam("now")), User)
              .where(User.id == sa.bindparam("user_id")))


def token_revoked(claims: dict) -> bool:
    """The blocklist check of a request's token. It loads the user the token names and whom that user
    stands in for in the same query, so the user loader Flask-JWT-Extended calls next builds the actor
    without a round trip of its own: one query, not three. An API token's query was made as its claims
    were read (auth/api_tokens.py), and found it live."""
    if claims.get("type") == api_tokens.API_TOKEN_TYPE:
        _, user, delegators = api_tokens.loaded()
        request.__dict__[TOKEN_ROW] = (user, delegators)
        return False
    try:
        user_id = int(claims["sub"])
    except (KeyError, TypeError, ValueError):
        return is_revoked(claims["jti"])
    row = db.session.execute(_TOKEN_ROW, {"jti": claims["jti"], "user_id": user_id, "now": utcnow()}).first()
    if row is None:
        return is_revoked(claims["jti"])
    # Kept on this HTTP request (not on `g`, which can outlive it, as in tests). It also keeps the user
    # alive: the session's identity map holds users weakly.
    request.__dict__[TOKEN_ROW] = (row[2], parse_ids(row[1]))
    return row[0]


def revoke(decoded: dict, user_id: int) -> None:
    """Put a decoded token on the blocklist until it would expire anyway; twice is the same as once."""
    # Insert-if-absent in one statement: two logouts with one token race past any prior check.
    insert = INSERT_IGNORING_CONFLICTS[db.session.get_bind().dialect.name]
    db.session.execute(insert(RevokedToken).values(
        jti=decoded["jti"], token_type=decoded["type"], user_id=user_id,
        expires_at=datetime.fromtimestamp(decoded["exp"], UTC),
    ).on_conflict_do_nothing(index_elements=["jti"]))


def load_user(identity: str, claims: dict | None = None) -> User | None:
    """The active user a token's subject names, or None (also when the token predates a deactivation)."""
    try:
        user = db.session.get(User, int(identity))
    except (TypeError, ValueError):
        return None
    return user if may_act(user, claims) else None


def may_act(user: User | None, claims: dict | None) -> bool:
    """Whether a token's user may act: active, and the token not older than a deactivation (its `gen`)."""
    if user is None or not user.active:
        return False
    return claims is None or claims.get("gen", 0) == user.token_generation


def load_actor(identity: str, claims: dict) -> Actor | None:
    """The actor of an API call: the token's active user and whom they stand in for, read by token_revoked."""
    user = load_user(identity, claims)
    if user is None:
        return None
    loaded, delegators = request.__dict__.get(TOKEN_ROW, (None, None))
    if claims.get("type") == api_tokens.API_TOKEN_TYPE:
        return api_tokens.admit(user)
    if loaded is not user:  # not read with the token (a caller that skipped the blocklist check)
        return actor_for(user)
    return Actor.of(user, delegators)


def actor_for(user: User) -> Actor:
    """The actor a user is now, with whom they stand in for (an e-mail link, the CLI, tests; an API call gets its
    actor from the token's own query instead)."""
    return Actor.of(user, parse_ids(db.session.scalar(sa.select(delegators_now(user.id)))))


def roles_required(*roles: str):
    """Allow the view only to users holding one of the roles (after @jwt_required)."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                raise Forbidden(f"Requires role {' or '.join(roles)}")
            return view(*args, **kwargs)
        return wrapper
    return decorator


def init_app(app: Flask) -> None:
    """Wire the JWT loaders."""
    jwt.user_lookup_loader(lambda header, payload: load_actor(payload["sub"], payload))
    jwt.token_in_blocklist_loader(lambda header, payload: token_revoked(payload))
    jwt.other_tokens_loader(api_tokens.is_api_token, api_tokens.claims_of)

    def unauthorized(message: str):
        return error_response(401, "unauthorized", message)

    jwt.unauthorized_loader(lambda reason: unauthorized(reason))
    jwt.invalid_token_loader(lambda reason: unauthorized(f"Invalid token: {reason}"))
    jwt.expired_token_loader(lambda header, payload: unauthorized("Token has expired"))
    jwt.revoked_token_loader(lambda header, payload: unauthorized("Token has been revoked"))
    jwt.user_lookup_error_loader(lambda header, payload: unauthorized("User is unknown or inactive"))
    jwt.token_verification_failed_loader(lambda header, payload: unauthorized("Token rejected"))
