"""Users: authentication, creation, lookup."""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import Conflict, NotFound, Unauthorized, ValidationFailed
from ..extensions import db
from ..models import User
from ..models.user import ROLES
from ..realtime import emitter
from .transaction import committing


def authenticate(username: str, password: str) -> User:
    """Return the active user with these credentials, or raise Unauthorized."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.active or not user.check_password(password):
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
    with committing(lambda: Conflict(f"Username {username!r} is taken"), races=("uq_users_username",)):
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
    user.active = active
    db.session.commit()
    if not active:
        emitter.disconnect_user(user.id)
    return user
