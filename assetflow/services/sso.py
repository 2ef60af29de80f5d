"""Single sign-on: a sign-in's round trip through the OpenID provider, the user it signs in, and the
one-time ticket that hands the SPA its session.

- The state, nonce and PKCE verifier travel in a signed, short-lived cookie (no row per started
  sign-in, so anyone may start one without writing to the database); the callback spends the state
  in `spent_sign_in_values`, so a replayed callback is refused in every process.
- A user is linked to the provider by issuer + `sub` (`user_identities`), never by username. The first
  sign-in makes the user; each later one brings name, e-mail, department and role up to date through
  `users.update_user`, as an admin's edit would (sessions end on a role change, routing requalifies).
- No token travels in a URL: the callback leaves a single-use ticket in an HttpOnly cookie, and the
  SPA trades it for its tokens with a POST. The CLI's break-glass ticket for admins is redeemed the
  same way.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..auth import oidc
from ..auth.credentials import canonical_username, display_name_problem, username_problem
from ..auth.oidc import SignInRefused
from ..auth.tokens import INSERT_IGNORING_CONFLICTS
from ..errors import AppError, Conflict, ValidationFailed
from ..extensions import db
from ..models import ROOT_DEPARTMENT_ID, Department, SpentSignInValue, User, UserIdentity
from ..models.base import utcnow
from ..models.user import ROLES
from . import users
from .transaction import committing

STATE_SALT = "assetflow.oidc-state"
TICKET_SALT = "assetflow.sign-in-ticket"
STATE_SECONDS = 600  # from leaving for the provider to coming back
TICKET_SECONDS = 60  # from the callback to the SPA's POST
BREAK_GLASS_SECONDS = 900  # from the CLI printing the link to the admin opening it
PURPOSES = {"sso": TICKET_SECONDS, "break_glass": BREAK_GLASS_SECONDS}
EMAIL_MAX = 254
SUBJECT_MAX = 255  # the column's width, and the spec's limit
NEXT_MAX = 500


class TicketRefused(AppError):
    """A sign-in ticket that is missing, forged, expired, spent or no longer its user's."""

    status, code = 401, "ticket_invalid"


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["JWT_SECRET_KEY"], salt=salt)


def _spend(value: str) -> bool:
    """Mark a single-use value spent; False when it already was (in any process)."""
    insert = INSERT_IGNORING_CONFLICTS[db.session.get_bind().dialect.name]
    with committing():
        # Values older than the longest lifetime are refused by their signature's age anyway.
        db.session.execute(sa.delete(SpentSignInValue).where(
            SpentSignInValue.spent_at < utcnow() - timedelta(seconds=2 * max(STATE_SECONDS, *PURPOSES.values()))))
        spent = db.session.execute(insert(SpentSignInValue).values(value=value, spent_at=utcnow())
                                   .on_conflict_do_nothing(index_elements=["value"]))
    return spent.rowcount == 1


def safe_next(path: str | None) -> str:
    """An in-app path to land on after signing in, or "" (never another site)."""
    path = path or ""
    if len(path) > NEXT_MAX or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return ""
    return path if path.isprintable() else ""


def begin(redirect_uri: str, next_path: str | None) -> tuple[str, str]:
    """Start a sign-in: the provider's URL, and the signed state cookie the callback needs."""
    if not oidc.configured():
        raise SignInRefused("not_configured")
    started = oidc.start(redirect_uri)
    cookie = _serializer(STATE_SALT).dumps({"s": started.state, "n": started.nonce, "v": started.code_verifier,
                                            "next": safe_next(next_path)})
    return started.url, cookie


@dataclass(frozen=True)
class SignedIn:
    """A finished sign-in: who, where to land, and the ticket the SPA redeems."""

    user: User
    next: str
    ticket: str


def complete(redirect_uri: str, cookie: str | None, args: Mapping[str, str]) -> SignedIn:
    """Finish a sign-in from the provider's redirect; raise SignInRefused saying why not."""
    if not oidc.configured():
        raise SignInRefused("not_configured")
    try:
        pending = _serializer(STATE_SALT).loads(cookie or "", max_age=STATE_SECONDS)
    except BadSignature:
        raise SignInRefused("state_invalid", "no sign-in was started in this browser, or it took too long") from None
    if not secrets.compare_digest(str(args.get("state", "")), pending["s"]):
        raise SignInRefused("state_invalid", "the state is not the one this browser was sent with")
    if not _spend(pending["s"]):
        raise SignInRefused("state_replayed")
    if args.get("error"):
        raise SignInRefused("provider_error", f"{args['error']}: {args.get('error_description', '')}")
    issuer = current_app.config["OIDC_ISSUER"]
    # RFC 9207: a provider that names itself must be the one we sent the user to (mix-up attacks).
    if args.get("iss") and args["iss"] != issuer:
        raise SignInRefused("provider_error", f"the answer came from {args['iss']!r}")
    if not args.get("code"):
        raise SignInRefused("provider_error", "the provider sent no code")
    claims = oidc.finish(redirect_uri, args["code"], pending["n"], pending["v"])
    user = sign_in(issuer, claims)
    return SignedIn(user, pending["next"], issue_ticket(user, "sso"))


@dataclass(frozen=True)
class Profile:
    """What the claims say of a user; None: the claims do not manage that field."""

    display_name: str | None
    email: str | None
    department_id: int | None
    role: str | None


def _text_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _department(claims: Mapping[str, Any]) -> int | None:
    claim = current_app.config["OIDC_DEPARTMENT_CLAIM"]
    if not claim:
        return None
    code = (_text_claim(claims, claim) or "").upper()
    department_id = db.session.scalar(sa.select(Department.id).where(Department.code == code)) if code else None
    if department_id is None:
        raise SignInRefused("unknown_department", f"no department has the code {code!r} ({claim})")
    return department_id


def _role(claims: Mapping[str, Any]) -> str | None:
    mapping = current_app.config["OIDC_ROLES"]
    if not mapping:
        return None
    groups = claims.get(current_app.config["OIDC_ROLE_CLAIM"])
    groups = [groups] if isinstance(groups, str) else groups if isinstance(groups, list) else []
    mapped = [mapping[group] for group in groups if isinstance(group, str) and group in mapping]
    # The highest mapped role wins; groups that map to no role give an employee.
    return max(mapped, key=ROLES.index, default="employee")


def profile_of(claims: Mapping[str, Any]) -> Profile:
    """The user's fields from the ID token's claims, under the OIDC_* settings."""
    name = _text_claim(claims, "name")
    email = _text_claim(claims, "email")
    return Profile(display_name=name if name and not display_name_problem(name) else None,
                   email=email if email and len(email) <= EMAIL_MAX else None,
                   department_id=_department(claims), role=_role(claims))


def sign_in(issuer: str, claims: Mapping[str, Any]) -> User:
    """The user these checked claims sign in: linked by issuer + sub, made on the first sign-in,
    brought up to date on each later one; a deactivated user is refused."""
    subject = claims["sub"]
    if not isinstance(subject, str) or len(subject) > SUBJECT_MAX:  # OpenID Connect Core 1.0, 2: 255 ASCII at most
        raise SignInRefused("token_invalid", "sub is longer than 255 characters")
    identity = _identity(issuer, subject)
    if identity is not None and not identity.user.active:
        raise SignInRefused("deactivated")
    profile = profile_of(claims)
    if identity is None:
        identity = _create(issuer, subject, claims, profile)
    else:
        _update(identity.user, profile)
    with committing():
        identity.last_sign_in_at = utcnow()
    return identity.user


def _identity(issuer: str, subject: str) -> UserIdentity | None:
    return db.session.scalar(sa.select(UserIdentity).where(UserIdentity.issuer == issuer,
                                                            UserIdentity.subject == subject))


def _create(issuer: str, subject: str, claims: Mapping[str, Any], profile: Profile) -> UserIdentity:
    claim = current_app.config["OIDC_USERNAME_CLAIM"]
    username = canonical_username(_text_claim(claims, claim) or "")
    if username_problem(username):
        raise SignInRefused("username_invalid", f"{claim} {username!r}: {username_problem(username)}")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        # Never take over a local account by its name: an admin links it (`flask sso-link`) if it is the same person.
        raise SignInRefused("username_taken", f"a user named {username!r} exists and is not linked to this provider")
    user = users.new_user(username, secrets.token_urlsafe(32), profile.role or "employee", profile.display_name,
                          profile.email or "", profile.department_id or ROOT_DEPARTMENT_ID)
    identity = UserIdentity(user=user, issuer=issuer, subject=subject)
    with committing(races=("uq_users_username", "uq_user_identities_issuer_subject")) as attempt:
        db.session.add_all([user, identity])
    if attempt.lost:  # a second sign-in of the same person, or a new user of that name, came first
        identity = _identity(issuer, subject)
        if identity is None:
            raise SignInRefused("username_taken", f"a user named {username!r} was just created")
    return identity


def _update(user: User, profile: Profile) -> None:
    wanted = {"display_name": profile.display_name, "email": profile.email,
              "department_id": profile.department_id, "role": profile.role}
    changes = {field: value for field, value in wanted.items() if value is not None and getattr(user, field) != value}
    if not changes:
        return
    try:
        users.update_user(user, changes)
    except (ValidationFailed, Conflict) as error:  # e.g. the claims would demote the last active admin
        raise SignInRefused("account_refused", error.message) from None


def link(username: str, subject: str, issuer: str | None = None) -> UserIdentity:
    """Link an existing user to their account at the provider (an admin's decision, from the CLI)."""
    user = users.get_by_username(canonical_username(username))
    identity = UserIdentity(user=user, issuer=issuer or current_app.config["OIDC_ISSUER"], subject=subject)
    with committing(lambda: Conflict(f"{identity.issuer} {subject} is already linked to a user"),
                    races=("uq_user_identities_issuer_subject",)):
        db.session.add(identity)
    return identity


def issue_ticket(user: User, purpose: str) -> str:
    """A signed, single-use ticket that signs this user in once (see PURPOSES for how long it lasts)."""
    return _serializer(TICKET_SALT).dumps({"u": user.id, "g": user.token_generation, "p": purpose,
                                           "t": secrets.token_hex(16)})


def redeem_ticket(ticket: str | None, purpose: str) -> User:
    """The user a ticket signs in, spending it; TicketRefused when it cannot."""
    try:
        data = _serializer(TICKET_SALT).loads(ticket or "", max_age=PURPOSES[purpose])
    except BadSignature:
        raise TicketRefused("This sign-in link or ticket is not valid, or has expired") from None
    if not isinstance(data, dict) or data.get("p") != purpose:
        raise TicketRefused("This sign-in link or ticket is not valid, or has expired")
    user = db.session.get(User, data["u"])
    # A deactivation (or role change) since the ticket was made ends it, as it ends tokens.
    if user is None or not user.active or user.token_generation != data["g"]:
        raise TicketRefused("This sign-in link or ticket is no longer valid")
    if not _spend(data["t"]):
        raise TicketRefused("This sign-in link or ticket was already used")
    return user


def break_glass_ticket(username: str) -> str:
    """A one-time sign-in for an active admin when single sign-on or the provider fails (the CLI prints it)."""
    user = users.get_by_username(canonical_username(username))
    if user.role != "admin" or not user.active:
        raise ValidationFailed(f"{user.username} is not an active admin")
    return issue_ticket(user, "break_glass")
