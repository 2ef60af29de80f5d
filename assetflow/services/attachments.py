"""Files on a request: accept them (type from the content, size, count), store them in the database, list, serve
and delete them, and the rule that may require one.

The bytes live in the database (`attachment_contents`, bytea on PostgreSQL), so every process and machine of a
deployment serves every file, and a file is stored or refused in the same transaction as what it belongs to.
Each file's bytes are read from its upload (spooled to disk past 500 KiB) one file at a time, so a call holds at
most one file in memory however many it carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

import sqlalchemy as sa
from flask import current_app

from ..actor import Actor
from ..errors import AppError, Conflict, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from ..extensions import db
from ..models import Asset, Attachment, AttachmentContent, Request, RequestEvent, User
from ..workflow import Action
from ..workflow.rules import files_required
from . import filetypes, routing, visibility
from .transaction import committing

# A request in one of these states is closed: its files stay as they are.
CLOSED = ("approved", "rejected", "withdrawn")


@dataclass(frozen=True)
class Upload:
    """One file as received: the name the client gave it, and its bytes (a file positioned at the start)."""

    filename: str
    stream: IO[bytes]

    def read(self) -> bytes:
        """All its bytes (the API layer has already refused any file over ATTACHMENT_MAX_BYTES)."""
        self.stream.seek(0)
        return self.stream.read()


@dataclass(frozen=True)
class Staged:
    """An accepted upload: the row to store (without its content yet) and where its bytes are."""

    row: Attachment
    upload: Upload


def max_bytes() -> int:
    """ATTACHMENT_MAX_BYTES: the largest file."""
    return current_app.config["ATTACHMENT_MAX_BYTES"]


def max_files() -> int:
    """ATTACHMENTS_PER_REQUEST: the most files one request may carry."""
    return current_app.config["ATTACHMENTS_PER_REQUEST"]


def too_large(filename: str) -> PayloadTooLarge:
    """The 413 for one file over ATTACHMENT_MAX_BYTES (raised by the API while it reads the body, too)."""
    return _refused(PayloadTooLarge, filename, "size",
                    f"{filename} is larger than {max_bytes():,} bytes, the largest file a request may carry")


def _refused(error: type[AppError], filename: str, reason: str, message: str) -> AppError:
    return error(message, {"files": [{"filename": filename, "reason": reason, "message": message}]})


def too_many(have: int, adding: int) -> ValidationFailed:
    """The 422 for more files than ATTACHMENTS_PER_REQUEST."""
    message = (f"A request carries at most {max_files()} files; it has {have} and {adding} more were sent"
               if have else f"A request carries at most {max_files()} files; {adding} were sent")
    return ValidationFailed(message, {"fields": {"file": [message]}, "limit": max_files()})


def _check(upload: Upload, uploader_id: int) -> Attachment | AppError:
    """The row for one upload, or the error that refuses it (naming the file)."""
    data = upload.read()
    if len(data) > max_bytes():
        return too_large(upload.filename)
    if not data:
        return _refused(ValidationFailed, upload.filename, "empty", f"{upload.filename} is empty")
    kind = filetypes.sniff(data, upload.filename)
    if kind is None:
        return _refused(UnsupportedMediaType, upload.filename, "type",
                        f"{upload.filename} is not a file a request may carry: its content is not "
                        f"{filetypes.NAMES}")
    return Attachment(filename=filetypes.clean_name(upload.filename, kind), content_type=kind.mime, size=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), uploader_id=uploader_id)


def accept(uploads: Sequence[Upload], uploader_id: int, have: int = 0) -> list[Staged]:
    """Check every upload before anything is stored: the count, then each file's size, content and type.

    Refused files are all named in `details.files` (`filename`, `reason`: size, empty or type, `message`); the
    status is the first one's (413 too large, 422 empty, 415 a type not accepted).
    """
    if have + len(uploads) > max_files():
        raise too_many(have, len(uploads))
    checked = [(_check(upload, uploader_id), upload) for upload in uploads]
    refusals = [row for row, _ in checked if isinstance(row, AppError)]
    if refusals:
        first = refusals[0]
        first.details = {"files": [file for error in refusals for file in error.details["files"]]}
        if len(refusals) > 1:
            first.message = " · ".join(error.message for error in refusals)
        raise first
    return [Staged(row, upload) for row, upload in checked]


def store(req: Request, staged: Iterable[Staged], actor: User) -> list[Attachment]:
    """In the caller's transaction: each file's bytes (one file in memory at a time), its row, its audit row."""
    rows = []
    for item in staged:
        content = sa.insert(AttachmentContent).values(data=item.upload.read()).returning(AttachmentContent.id)
        item.row.content_id = db.session.execute(content).scalar_one()
        req.attachments.append(item.row)
        rows.append(item.row)
    db.session.flush()
    for row in rows:
        _audit(req, actor, Action.ATTACH, row.filename)
    return rows


def _audit(req: Request, actor: User, action: Action, filename: str) -> None:
    db.session.add(RequestEvent(request_id=req.id, actor_id=actor.id, action=action.value, from_state=req.state,
                                to_state=req.state, step=req.step, comment=filename))


def _open(req: Request) -> None:
    if req.state in CLOSED:
        raise Conflict(f"Request {req.id} is {req.state}; its files can no longer change", {"state": req.state})


def _still_open(request_id: int) -> None:
    """After writing, re-read the request under a row lock (PostgreSQL; SQLite's write lock is already held):
    a decision that closed it, or another upload that filled it, since it was read wins over this change."""
    state = db.session.scalar(sa.select(Request.state).where(Request.id == request_id)
                              .with_for_update(key_share=True))
    if state in CLOSED:
        raise Conflict(f"Request {request_id} was {state} meanwhile; its files can no longer change",
                       {"state": state})
    have = db.session.scalar(sa.select(sa.func.count()).where(Attachment.request_id == request_id))
    if have > max_files():
        raise ValidationFailed(f"A request carries at most {max_files()} files; others were added meanwhile",
                               {"fields": {"file": [f"At most {max_files()} files"]}, "limit": max_files()})


def add(actor: Actor, request_id: int, uploads: Sequence[Upload]) -> list[Attachment]:
    """Attach files to an open request that the actor may see (404 otherwise)."""
    req = visibility.get_visible(actor, request_id)
    _open(req)
    staged = accept(uploads, actor.id, have=len(req.attachments))
    with committing(lambda: Conflict("The files could not be stored; try again"), keep_loaded=True):
        rows = store(req, staged, actor.user)
        _still_open(req.id)
    return rows


def listed(actor: Actor, request_id: int) -> list[Attachment]:
    """The files of a request the actor may see (404 otherwise), oldest first; their bytes are not read."""
    return list(visibility.get_visible(actor, request_id).attachments)


def _visible(actor: Actor, attachment_id: int) -> Attachment:
    """The attachment, if the actor may see its request; the same 404 whether it does not exist or is hidden."""
    row = db.session.get(Attachment, attachment_id)
    try:
        if row is None:
            raise NotFound("")
        visibility.get_visible(actor, row.request_id)
    except NotFound:
        raise NotFound(f"Attachment {attachment_id} not found") from None
    return row


def content(actor: Actor, attachment_id: int) -> tuple[Attachment, bytes]:
    """The attachment and its bytes, if the actor may see its request."""
    row = _visible(actor, attachment_id)
    data = db.session.scalar(sa.select(AttachmentContent.data).where(AttachmentContent.id == row.content_id))
    return row, data


def delete(actor: Actor, attachment_id: int) -> None:
    """Remove a file: only its uploader, and only while the request is open."""
    row = _visible(actor, attachment_id)
    if row.uploader_id != actor.id:
        raise Forbidden("Only whoever uploaded a file may delete it")
    req = db.session.get(Request, row.request_id)
    _open(req)
    content_id, filename = row.content_id, row.filename
    with committing(lambda: Conflict("The file could not be deleted; try again")):
        db.session.delete(row)
        db.session.flush()
        db.session.execute(sa.delete(AttachmentContent).where(AttachmentContent.id == content_id))
        _audit(req, actor.user, Action.DETACH, filename)
        _still_open(req.id)


def counts(request_ids: Iterable[int]) -> dict[int, int]:
    """How many files each request carries, in one grouped query for a page of requests."""
    ids = set(request_ids)
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Attachment.request_id, sa.func.count()).where(Attachment.request_id.in_(ids))
                              .group_by(Attachment.request_id))
    return dict(rows.tuples().all())


def required_for(applicant: User, kind: str, category: str | None, value: Decimal | None) -> bool:
    """Whether the rule that would route such a request by this applicant requires a file."""
    return files_required(routing.rule_for(applicant, kind, category, value))


def required_for_ask(actor: Actor, kind: str, asset_id: int | None, category: str | None,
                     value: Decimal | None) -> bool:
    """`required_for` for a request the actor is about to submit: on an asset, its category and value count."""
    asset = db.session.get(Asset, asset_id) if asset_id is not None else None
    if asset is not None:
        category, value = asset.category, asset.value
    return required_for(actor.user, kind, category, value)


def require_files(req: Request) -> None:
    """Refuse (422 naming `attachments`) a request whose rule requires a file while it carries none.

    Called at submit (after the files sent with it are staged on it) and at resume.
    """
    if req.attachments:
        return
    category, value = (req.asset.category, req.asset.value) if req.asset is not None else (req.category, req.value)
    if required_for(req.applicant, req.kind, category, value):
        message = "The approval rule for this request requires at least one attachment (a quote, an invoice, a photo)"
        raise ValidationFailed(message, {"fields": {"attachments": [message]}})
