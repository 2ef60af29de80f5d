"""Users: authentication, creation, lookup."""

from __future__ import annotations

import secrets
from functools import cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, NotFound, Unauthorized, ValidationFailed
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
    user = db.session.scalar(sa.select(User).where(User.username == username))
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
    """Create a user; the username must be free."""
    if role not in ROLES:
        raise ValidationFailed("Unknown role", {"fields": {"role": [f"One of {', '.join(ROLES)}"]}})
    user = User(username=username, display_name=display_name or username, email=email, role=role)
    user.set_password(password)
    with committing(lambda: Conflict(f"Username {username!r} is taken")):
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
