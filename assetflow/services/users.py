"""Users: authentication, creation, lookup."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..auth.credentials import canonical_username, display_name_problem, password_problem, username_problem
from ..errors import Conflict, NotFound, PasswordLoginOff, Unauthorized, ValidationFailed
from ..events import SessionsEnded, publish
from ..extensions import db
from ..models import ROOT_DEPARTMENT_ID, User
from ..models.user import ROLES
from . import api_tokens, departments, routing
from .transaction import committing


@cache
def _dummy_hash() -> str:
    """A hash made like every real one, to verify against when there is no user to check."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(username: str, password: str) -> User:
    """Return the active user with these credentials, or raise Unauthorized (Forbidden with PASSWORD_LOGIN=0)."""
    if not current_app.config["PASSWORD_LOGIN"]:
        raise PasswordLoginOff("Password sign-in is turned off here; sign in with single sign-on")
    name = canonical_username(username)
    # A name outside the rule cannot exist; not looking it up also keeps NUL bytes off the database.
    user = None if username_problem(name) else db.session.scalar(sa.select(User).where(User.username == name))
    # Hash the password on every path: answering an unknown or inactive name sooner would
    # tell which usernames exist.
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        raise Unauthorized("Invalid username or password")
    if not user.check_password(password):
        raise Unauthorized("Invalid username or password")
    return user


def create_user(username: str, password: str, role: str, display_name: str | None = None,
                email: str = "", department_id: int = ROOT_DEPARTMENT_ID) -> User:
    """Create a user under the credential rules; the normalised username must be free."""
    user = new_user(username, password, role, display_name, email, department_id)
    with committing(lambda: Conflict(f"Username {user.username!r} is taken"), races=("uq_users_username",)):
        db.session.add(user)
    return user


def new_user(username: str, password: str, role: str, display_name: str | None = None,
             email: str = "", department_id: int = ROOT_DEPARTMENT_ID) -> User:
    """A user checked against the credential rules, not yet added (the caller commits it)."""
    name = canonical_username(username)
    display = display_name.strip() if display_name else name
    problems = {
        "username": username_problem(name),
        "password": password_problem(password),
        "display_name": display_name_problem(display) if display_name else None,
        "role": None if role in ROLES else f"One of {', '.join(ROLES)}",
    }
    fields = {field: [problem] for field, problem in problems.items() if problem}
    if fields:
        raise ValidationFailed("Invalid user", {"fields": fields})
    departments.check_exists(department_id)
    user = User(username=name, display_name=display, email=email, role=role, department_id=department_id)
    user.set_password(password)
    return user


def _user_filters(args: Mapping[str, Any]) -> list[Any]:
    where = [User.role == args["role"]] if args.get("role") else []
    if args.get("department_id") is not None:
        where.append(User.department_id == args["department_id"])
    if args.get("active") is not None:
        where.append(User.active.is_(args["active"]))
    if args.get("q"):
        text = args["q"]
        where.append(sa.or_(*(column.icontains(text, autoescape=True)
                              for column in (User.username, User.display_name, User.email))))
    return where


def list_users(role: str | None = None, text: str | None = None, department_id: int | None = None) -> list[User]:
    """Active users, optionally by role, department or matching text, by display name (at most 200)."""
    where = _user_filters({"role": role, "q": text, "department_id": department_id, "active": True})
    query = sa.select(User).where(*where).order_by(User.display_name, User.id)
    return list(db.session.scalars(query.limit(200)))


def users_page(args: Mapping[str, Any]) -> tuple[list[User], int]:
    """For admins: one page of every user matching the filters (active or not), by display name, and the total."""
    where = _user_filters(args)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(*where)) or 0
    page, per_page = args["page"], args["per_page"]
    query = (sa.select(User).where(*where).options(so.joinedload(User.department))
             .order_by(User.display_name, User.id).offset((page - 1) * per_page).limit(per_page))
    return list(db.session.scalars(query)), total


def get_by_username(username: str) -> User:
    """A user (active or not) by username, or NotFound."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"User {username!r} not found")
    return user


def get_user(user_id: int) -> User:
    """A user (active or not) by id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found")
    return user


def _end_sessions(user: User) -> None:
    """Refuse every token the user holds: tokens carry the generation, and a new one never matches them."""
    user.token_generation += 1


def set_active(user_id: int, active: bool) -> User:
    """Activate or deactivate a user; deactivation also ends every session of theirs at once.

    Every token is refused from the commit on, since each use loads the user and requires the
    active flag (HTTP, refresh and socket connect), and a new token generation keeps them refused
    on the API after a reactivation; the sockets already open are disconnected after the commit
    in every process on the message queue.
    """
    return update_user(get_user(user_id), {"active": active})


def update_user(user: User, data: Mapping[str, Any]) -> User:
    """Apply an admin's edit (role, department, active, display name, e-mail) in one transaction.

    Deactivation and a role change end the user's sessions (tokens and sockets, in every process):
    a token carries its role, so after a role change the user logs in again and every client of
    theirs sees the new role at once instead of acting on the old one. They also revoke the API
    tokens that the user's state no longer allows: all of them on a deactivation, and on a role
    change those holding a scope the new role may not give.
    """
    if "department_id" in data:
        departments.check_exists(data["department_id"])
    if data.get("display_name") is not None and (problem := display_name_problem(data["display_name"].strip())):
        raise ValidationFailed("Invalid user", {"fields": {"display_name": [problem]}})
    removing = removes_an_admin(user, data)
    with committing(lambda: Conflict(f"User {user.username} was changed concurrently")):
        if removing:
            lock_admins()
        rechecks = change_user(user, data)
        if removing:
            check_an_admin_remains()
        if rechecks:
            for change in routing.requalify({user.id}, activity_changed="active" in data):
                publish(change)  # whose dashboards gain or lose a request
    return user


def removes_an_admin(user: User, data: Mapping[str, Any]) -> bool:
    """True when the edit takes an active admin away (a demotion or a deactivation)."""
    return user.role == "admin" and user.active and (
        data.get("role", user.role) != user.role or data.get("active") is False)


def change_user(user: User, data: Mapping[str, Any]) -> bool:
    """In the caller's transaction: apply a validated edit to one user and end what it ends (sessions, sockets, API
    tokens). True when the requests' named deciders must be rechecked (routing.requalify) for this user."""
    role_changes = data.get("role", user.role) != user.role
    ends_sessions = role_changes or (user.active and data.get("active") is False)
    for field, value in data.items():
        setattr(user, field, value.strip() if field == "display_name" else value)
    if ends_sessions:
        _end_sessions(user)
        api_tokens.end_beyond_role(user, user.active, user.role)
    if role_changes or data.get("active") is False:  # again when already inactive: a socket may have outlived it
        publish(SessionsEnded(user.id))  # its sockets are dropped everywhere once this commits
    return role_changes or "department_id" in data or "active" in data


ACTIVE_ADMIN = (User.role == "admin", User.active.is_(True))


def lock_admins() -> None:
    # Two admins removing each other at once: on PostgreSQL the second waits here for the first's
    # commit, then counts without it; SQLite serialises the writes themselves.
    db.session.execute(sa.select(User.id).where(*ACTIVE_ADMIN).with_for_update())


def check_an_admin_remains() -> None:
    db.session.flush()
    if not db.session.scalar(sa.select(sa.func.count()).select_from(User).where(*ACTIVE_ADMIN)):
        raise ValidationFailed("This would leave no active admin", {"fields": {"role": ["The last active admin"]}})


def admin_update_user(actor: User, user_id: int, data: Mapping[str, Any]) -> User:
    """An admin's edit of a user; nobody deactivates or demotes themselves (the last admin stays one)."""
    user = get_user(user_id)
    check_own_edit(actor.id, user, data)
    return update_user(user, data)


def check_own_edit(actor_id: int, user: User, data: Mapping[str, Any]) -> None:
    """422 when an admin's edit would deactivate or demote themselves."""
    if user.id != actor_id:
        return
    if data.get("active") is False:
        raise ValidationFailed("You cannot deactivate yourself", {"fields": {"active": ["Not for yourself"]}})
    if data.get("role", user.role) != user.role:
        raise ValidationFailed("You cannot change your own role", {"fields": {"role": ["Not for yourself"]}})


def set_password(username: str, password: str) -> User:
    """Give a user a new password (an imported user has none), under the password rule; their other sessions end."""
    if problem := password_problem(password):
        raise ValidationFailed("Invalid password", {"fields": {"password": [problem]}})
    user = get_by_username(canonical_username(username))
    with committing(lambda: Conflict(f"User {user.username} was changed concurrently")):
        user.set_password(password)
        _end_sessions(user)
        publish(SessionsEnded(user.id))
    return user


def set_preferences(user: User, data: dict) -> User:
    """Store the user's e-mail mode, digest interval and language (validated by the schema)."""
    with committing(lambda: Conflict("Your preferences were changed concurrently; try again")):
        user.email_mode, user.digest_minutes, user.language = (
            data["email_mode"], data["digest_minutes"], data["language"])
    return user
