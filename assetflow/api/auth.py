"""Login, refresh, logout, me; which ways of signing in this server offers; the admins' break-glass sign-in."""

from flask import current_app, request
from flask_jwt_extended import decode_token, get_current_user, get_jwt, jwt_required
from jwt import PyJWTError

from ..auth import oidc, tokens
from ..auth.credentials import canonical_username
from ..errors import ValidationFailed
from ..extensions import limiter
from ..services import sessions, sso
from ..services.users import authenticate
from .base import ApiBlueprint
from .schemas.auth import (
    AuthMethodsSchema,
    BreakGlassSchema,
    LoginResultSchema,
    LoginSchema,
    LogoutResultSchema,
    LogoutSchema,
    RefreshResultSchema,
)
from .schemas.users import UserSchema

blp = ApiBlueprint("auth", __name__, url_prefix="/api/auth", description="Tokens and the current user")


def login_limit(index: int):
    return lambda: current_app.config["LOGIN_RATE_LIMITS"][index]


def _username_key() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    # The stored form, so failures under lookalike spellings of one name share one limit.
    return f"login-user:{canonical_username(str(username))[:64]}"


def failed_login(response) -> bool:
    # Only failed logins count, so a whole office behind one address can still log in.
    return response.status_code == 401


@blp.post("/login")
@limiter.limit(login_limit(0), key_func=_username_key, deduct_when=failed_login)
@limiter.limit(login_limit(1), deduct_when=failed_login)
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@blp.errors(400, 401, 403, 413, 422, 429, auth=False)
def login(data):
    """Exchange a username and password for an access and a refresh token; 403 `password_login_disabled` while
    PASSWORD_LOGIN=0."""
    user = authenticate(data["username"], data["password"])
    return {**tokens.issue_tokens(user), "user": user}


@blp.post("/refresh")
@jwt_required(refresh=True)
@blp.response(200, RefreshResultSchema, description="A new access token; send the refresh token as the bearer")
@blp.errors(401)
def refresh():
    """A new access token for a valid refresh token."""
    return {"access_token": tokens.issue_tokens(get_current_user().user)["access_token"]}


@blp.post("/logout")
@jwt_required()
@blp.arguments(LogoutSchema)
@blp.response(200, LogoutResultSchema)
@blp.errors(400, 401, 413, 422)
def logout(data):
    """Revoke this access token (and the refresh token, if given); drop its live sockets."""
    refresh_claims = None
    if data.get("refresh_token"):
        try:
            refresh_claims = decode_token(data["refresh_token"], allow_expired=True)
        except PyJWTError:
            raise ValidationFailed("refresh_token is not a valid token",
                                   {"fields": {"refresh_token": ["Invalid token"]}}) from None
    sessions.logout(get_current_user(), get_jwt(), refresh_claims)
    return {"revoked": True}


@blp.get("/me")
@jwt_required()
@blp.response(200, UserSchema)
@blp.errors(401)
def me():
    """The user the access token belongs to."""
    return get_current_user().user


# Public: the login page asks it before anyone is signed in.
@blp.get("/methods")
@blp.response(200, AuthMethodsSchema)
def methods():
    """How one may sign in here: passwords (PASSWORD_LOGIN) and single sign-on (OIDC_ISSUER)."""
    config = current_app.config
    sso_method = ({"display_name": config["OIDC_DISPLAY_NAME"], "login_url": "/api/auth/oidc/login"}
                  if oidc.configured() else None)
    return {"password": config["PASSWORD_LOGIN"], "sso": sso_method}


@blp.post("/break-glass")
@limiter.limit(login_limit(1), deduct_when=failed_login)
@blp.arguments(BreakGlassSchema)
@blp.response(200, LoginResultSchema)
@blp.errors(400, 401, 413, 422, 429, auth=False)
def break_glass(data):
    """Trade the one-time code of `flask break-glass <admin>` for tokens: an admin gets in when single sign-on
    (or its provider) fails, whatever PASSWORD_LOGIN says. 401 `ticket_invalid` for a forged, expired or used
    code."""
    user = sso.redeem_ticket(data["code"], "break_glass")
    current_app.logger.warning("break-glass sign-in by %s", user.username)
    return {**tokens.issue_tokens(user), "user": user}
