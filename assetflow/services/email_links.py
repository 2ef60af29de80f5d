"""One-click approve / reject links in e-mails: signed, single use, expiring, bound to a request version.

A link only opens the SPA's confirmation page; the decision happens on its POST, as the user the
link was made for, and only if the request is still at the version the e-mail described.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..auth.tokens import actor_for
from ..errors import AppError, Conflict
from ..extensions import db
from ..models import Request, UsedLink, User
from . import requests as request_service

SALT = "assetflow.email-action"
ACTIONS = ("approve", "reject")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["JWT_SECRET_KEY"], salt=SALT)


def sign(user_id: int, req: Request, action: str) -> str:
    """A token for one user to take one action on one version of a request."""
    return _serializer().dumps({"u": user_id, "r": req.id, "v": req.version, "a": action,
                                "n": secrets.token_hex(16)})


@dataclass
class Link:
    """What a token says, once its signature and age are checked."""

    user: User
    request: Request
    action: str
    version: int
    nonce: str


class LinkProblem(AppError):
    """A link that cannot act: the page says why (`details.reason`) instead of failing."""

    status = 409
    code = "link_unusable"


def _problem(reason: str, message: str, **details: Any) -> LinkProblem:
    return LinkProblem(message, {"reason": reason, **details})


def read(token: str) -> Link:
    """Check a token; raise LinkProblem with reason invalid | expired | used | stale."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["EMAIL_LINK_HOURS"] * 3600)
    except SignatureExpired:
        raise _problem("expired", "This link has expired; open the request in AssetFlow instead") from None
    except BadSignature:
        raise _problem("invalid", "This link is not valid") from None
    if not isinstance(data, dict) or data.get("a") not in ACTIONS:
        raise _problem("invalid", "This link is not valid")
    user, req = db.session.get(User, data["u"]), db.session.get(Request, data["r"])
    if user is None or req is None or not user.active:
        raise _problem("invalid", "This link is not valid")
    link = Link(user, req, data["a"], data["v"], data["n"])
    if db.session.get(UsedLink, link.nonce) is not None:
        raise _problem("used", "This link was already used", request_id=req.id)
    if req.version != link.version:
        raise _problem("stale", f"Request {req.id} changed since this e-mail was sent: it is {req.state} now",
                       request_id=req.id, state=req.state)
    return link


def signer_of(token: object) -> int | None:
    """The user a token was signed for (signature checked, age not), or None: whose write budget a confirm spends."""
    # Read before the body is validated: anything but a plausible token (ASCII, short) is no one's.
    if not isinstance(token, str) or not token.isascii() or len(token) > 1000:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    return user_id if isinstance(user_id, int) else None


def confirm(token: str, comment: str = "") -> Link:
    """Take the link's action as its user. The link is spent in the decision's own transaction, so it
    stays usable when the decision is refused, and of two concurrent uses exactly one decides."""
    link = read(token)
    db.session.add(UsedLink(nonce=link.nonce, request_id=link.request.id))
    try:
        actor = actor_for(link.user)
        link.request = request_service.decide(actor, link.request.id, link.action, comment, version=link.version)
        return link
    except Conflict as error:
        used = db.session.get(UsedLink, link.nonce) is not None
        raise (_problem("used", "This link was already used", request_id=link.request.id) if used
               else _problem("stale", error.message, request_id=link.request.id)) from None
    finally:
        db.session.rollback()  # after a commit this is a no-op; after a refusal it drops the spent mark
