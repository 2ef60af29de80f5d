"""Users and their roles."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow
from .department import ROOT_DEPARTMENT_ID

ROLES = ("employee", "approver", "admin")
EMAIL_MODES = ("off", "instant", "digest")
LANGUAGES = ("en", "zh-CN")
# The password_hash of a user without a password (an imported one): no hash format, so no password ever matches it
# (werkzeug's check_password_hash answers False), like a locked account's "!" in /etc/shadow.
NO_PASSWORD = "!"


class User(db.Model):
    """A person who submits requests and, by role, decides them."""

    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), index=True)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    department_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("departments.id"), index=True, default=ROOT_DEPARTMENT_ID,
        server_default=sa.text(str(ROOT_DEPARTMENT_ID)))
    # Last notification seq handed out to this user; bumped in the notifying transaction.
    notification_seq: so.Mapped[int] = so.mapped_column(default=0)
    # Carried in every token as "gen"; deactivation bumps it, so no older token works again.
    token_generation: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # How notifications the user has not read in the app reach them by e-mail, and in which language.
    email_mode: so.Mapped[str] = so.mapped_column(sa.String(8), default="instant", server_default="instant")
    digest_minutes: so.Mapped[int] = so.mapped_column(default=60, server_default=sa.text("60"))
    language: so.Mapped[str] = so.mapped_column(sa.String(8), default="en", server_default="en")

    # Loaded when read (the admin's user list joins it): every request, decision and socket loads
    # users, and joining each one's department (and that department's manager) cost a decision
    # four of its nine joins.
    department = so.relationship("Department", foreign_keys=[department_id])

    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES}", name="role"),
        sa.CheckConstraint(f"email_mode IN {EMAIL_MODES}", name="email_mode"),
    )

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
