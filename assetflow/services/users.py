"""Users: authentication, creation, lookup."""

from __future__ import annotations

import secrets
from functools import cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..auth.credentials import canonical_username, display_name_problem, password_problem, username_problem
from ..errors import Conflict, NotFound, Unauthorized, ValidationFailed
from ..events import UserDeactivated, publish
from ..extensions import db
from ..models import User
from ..models.user import ROLES
from .transaction import committing


@cache
def _dummy_hash() -> str:
    """A hash made like every real one, to verify against when there is no user to check."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(username: str, password: str) -> User:
    """Return the active user with these credentials, or raise Unauthorized."""
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


def get_active_user(user_id: int) -> User:
    """Return an active user by id, or raise NotFound."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(f"User {user_id} not found")
    return user


def create_user(username: str, password: str, role: str, display_name: str | None = None,
                email: str = "") -> User:
    """Create a user under the credential rules; the normalised username must be free."""
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
    user = User(username=name, display_name=display, email=email, role=role)
    user.set_password(password)
    with committing(lambda: Conflict(f"Username {name!r} is taken"), races=("uq_users_username",)):
        db.session.add(user)
    return user


def list_users(role: str | None = None, text: str | None = None) -> list[User]:
    """Active users, optionally by role or matching text, by display name."""
    query = sa.select(User).where(User.active.is_(True)).order_by(User.display_name)
    if role:
        query = query.where(User.role == role)
    if text:
        like = f"%{text}%"
        query = query.where(sa.or_(User.username.ilike(like), User.display_name.ilike(like)))
    return list(db.session.scalars(query.limit(200)))


def get_by_username(username: str) -> User:
    """A user (active or not) by username, or NotFound."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"User {username!r} not found")
    return user


def set_active(user_id: int, active: bool) -> User:
    """Activate or deactivate a user; deactivation also ends every session of theirs at once.

    Every token is refused from the commit on, since each use loads the user and requires the
    active flag (HTTP, refresh and socket connect), and a new token generation keeps them refused
    on the API after a reactivation; the sockets already open are disconnected after the commit
    in every process on the message queue.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found")
    if user.active and not active:
        user.token_generation += 1
        publish(UserDeactivated(user.id))
    user.active = active
    db.session.commit()
    return user


def set_preferences(user: User, data: dict) -> User:
    """Store the user's e-mail mode, digest interval and language (validated by the schema)."""
    user.email_mode, user.digest_minutes, user.language = data["email_mode"], data["digest_minutes"], data["language"]
    db.session.commit()
    return user
