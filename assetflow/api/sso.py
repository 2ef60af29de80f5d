"""Single sign-on with OpenID Connect: leave for the provider, come back, trade the ticket for tokens.

The two GETs are browser navigations, not API calls: each answers with a redirect, and a refused
sign-in redirects to the SPA's login page with `?sso_error=<code>` (a code, never a token).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, after_this_request, current_app, redirect, request, url_for

from ..auth.oidc import SignInRefused
from ..auth.tokens import issue_tokens
from ..extensions import limiter
from ..services import sso
from .auth import failed_login, login_limit
from .base import ApiBlueprint
from .schemas.auth import LoginResultSchema

blp = ApiBlueprint("sso", __name__, url_prefix="/api/auth/oidc", description="Single sign-on (OpenID Connect)")

STATE_COOKIE = "assetflow_oidc_state"
TICKET_COOKIE = "assetflow_sso_ticket"
CALLBACK_PATH = "/api/auth/oidc/callback"
SESSION_PATH = "/api/auth/oidc/session"
REDIRECT_DOC = {"302": {"description": "To the provider; or, refused, to `/login?sso_error=<code>`"}}


def _redirect_uri() -> str:
    """The callback URL registered at the provider: under PUBLIC_URL when set, else this request's host."""
    public = current_app.config["PUBLIC_URL"]
    return f"{public}{CALLBACK_PATH}" if public else url_for("sso.callback", _external=True)


def _set_cookie(response: Response, name: str, value: str, path: str, max_age: int) -> None:
    # HttpOnly: no script reads it. Lax: sent on the provider's top-level redirect back to us, not on
    # cross-site subrequests.
    response.set_cookie(name, value, max_age=max_age, path=path, secure=request.is_secure, httponly=True,
                        samesite="Lax")


def _to_login(**query: str) -> Response:
    response = redirect(f"/login?{urlencode(query)}", code=302)
    response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH, secure=request.is_secure, httponly=True,
                           samesite="Lax")
    return response


def _refused(refusal: SignInRefused) -> Response:
    current_app.logger.warning("single sign-on refused: %s", refusal)
    return _to_login(sso_error=refusal.reason)


@blp.get("/login")
@blp.doc(parameters=[{"in": "query", "name": "next", "schema": {"type": "string"},
                      "description": "an in-app path to land on once signed in (anything else is ignored)"}],
         responses=REDIRECT_DOC)
def login():
    """Send the browser to the provider (authorization code flow with PKCE, state and nonce)."""
    try:
        url, cookie = sso.begin(_redirect_uri(), request.args.get("next"))
    except SignInRefused as refusal:
        return _refused(refusal)
    response = redirect(url, code=302)
    _set_cookie(response, STATE_COOKIE, cookie, CALLBACK_PATH, sso.STATE_SECONDS)
    return response


@blp.get("/callback")
@blp.doc(parameters=[{"in": "query", "name": name, "schema": {"type": "string"}}
                     for name in ("code", "state", "iss", "error", "error_description")],
         responses={"302": {"description": "To `/login?sso=done` (signed in: the SPA redeems the ticket "
                                           "cookie), or to `/login?sso_error=<code>`"}})
def callback():
    """Where the provider sends the browser back: check everything, sign the user in, hand the SPA a ticket."""
    try:
        signed_in = sso.complete(_redirect_uri(), request.cookies.get(STATE_COOKIE), request.args)
    except SignInRefused as refusal:
        return _refused(refusal)
    query = {"sso": "done"} | ({"redirect": signed_in.next} if signed_in.next else {})
    response = _to_login(**query)
    _set_cookie(response, TICKET_COOKIE, signed_in.ticket, SESSION_PATH, sso.TICKET_SECONDS)
    return response


@blp.post("/session")
@limiter.limit(login_limit(1), deduct_when=failed_login)
@blp.response(200, LoginResultSchema)
@blp.errors(401, 429, auth=False)
def session():
    """Trade the single-use ticket cookie the callback left for an access and a refresh token."""
    user = sso.redeem_ticket(request.cookies.get(TICKET_COOKIE), "sso")

    @after_this_request
    def forget_ticket(response: Response) -> Response:
        response.delete_cookie(TICKET_COOKIE, path=SESSION_PATH, secure=request.is_secure, httponly=True,
                               samesite="Lax")
        return response

    return {**issue_tokens(user), "user": user}
