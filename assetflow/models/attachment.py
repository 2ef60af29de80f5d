"""Files attached to a request (quotes, invoices, photos): a row to list, and its bytes in a table of their own."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow
from .user import User


class AttachmentContent(db.Model):
    """The bytes of one file, kept apart so that listing attachments never reads them (bytea on PostgreSQL)."""

    __tablename__ = "attachment_contents"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)


class Attachment(db.Model):
    """A file on a request: its shown name, the type read from its content, its size and who uploaded it."""

    __tablename__ = "attachments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"), index=True)
    uploader_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    size: so.Mapped[int]
    # The content's SHA-256 (hex): the download's ETag, and what a client can check its copy against.
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    content_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("attachment_contents.id"), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    uploader: so.Mapped[User] = so.relationship(lazy="joined")
    # Written with the row; never loaded through it (services/attachments.py reads the bytes by id).
    content: so.Mapped[AttachmentContent] = so.relationship(lazy="raise")
