"""API tokens: long-lived credentials an integration sends as `Authorization: Bearer af_…`."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow

# `read` lets a token read what its owner may; each of the others also lets it write one part of the API.
SCOPES = ("read", "requests:write", "assets:write", "admin")


def secret_hash(secret: str) -> str:
    """What is stored of a secret: its SHA-256. A secret has 256 random bits, so no salt or slow hash is
    needed to keep it from being guessed back, and a look-up by the hash compares no secret in Python."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(db.Model):
    """One token of one user; its secret is shown once at creation and only its hash is kept."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The first characters of the secret, so its owner can tell which token a config file holds.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    # Space-separated, as OAuth writes scopes: "read requests:write".
    scopes: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Written at most once a minute per token (services/api_tokens.touch), not on every call.
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… user={self.user_id}>"
