"""Attachments: upload files to a request, list them, download one, delete one; and whether a file is required."""

from __future__ import annotations

import io

from flask import Response, send_file
from flask_jwt_extended import get_current_user, jwt_required

from ..errors import ValidationFailed
from ..services import attachments as service
from ..services import filetypes
from .base import ApiBlueprint
from .budgets import write_budget
from .schemas.attachments import AttachmentListSchema, RequirementQuerySchema, RequirementSchema
from .uploads import FILE_FIELD, multipart_doc, read_multipart

blp = ApiBlueprint("attachments", __name__, url_prefix="/api", description="Files on requests")

# The file is shown on its own, never as part of a page: no script, no plugin, no frame around it, an opaque
# origin (sandbox) that reaches nothing of the app's; an image may draw itself and a viewer style itself.
CONTENT_POLICY = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"
INLINE = {kind.mime for kind in filetypes.TYPES if kind.inline}
# Every type a download may have, for the document.
BINARY = {"schema": {"type": "string", "format": "binary"}}


@blp.post("/requests/<id:request_id>/attachments")
@jwt_required()
@write_budget("uploads")
@blp.doc(requestBody=multipart_doc(with_data=False))
@blp.response(201, AttachmentListSchema)
@blp.errors(400, 401, 404, 409, 413, 415, 422)
def upload(request_id):
    """Attach files (multipart/form-data, one or more parts named `file`) to an open request I may see."""
    _, files = read_multipart(service.max_files())
    if not files:
        raise ValidationFailed("Send at least one part named `file`", {"fields": {FILE_FIELD: ["Required"]}})
    return {"items": service.add(get_current_user(), request_id, files)}


@blp.get("/requests/<id:request_id>/attachments")
@jwt_required()
@blp.response(200, AttachmentListSchema)
@blp.errors(401, 404)
def index(request_id):
    """The files of a request I may see, oldest first."""
    return {"items": service.listed(get_current_user(), request_id)}


@blp.get("/attachments/<id:attachment_id>/content")
@jwt_required()
@blp.doc(responses={200: {"description": "The file's bytes",
                          "content": {kind.mime: BINARY for kind in filetypes.TYPES}}})
@blp.errors(401, 404)
def content(attachment_id):
    """The file: inline for images and PDF (under a sandboxing policy), a download for every other type."""
    row, data = service.content(get_current_user(), attachment_id)
    # Werkzeug adds "; charset=utf-8" to a text type: what filetypes checked the text to be.
    response: Response = send_file(io.BytesIO(data), mimetype=row.content_type, download_name=row.filename,
                                   as_attachment=row.content_type not in INLINE, etag=row.sha256,
                                   conditional=True, max_age=0)
    response.headers["Content-Security-Policy"] = CONTENT_POLICY
    response.cache_control.private = True
    return response


@blp.delete("/attachments/<id:attachment_id>")
@jwt_required()
@write_budget("uploads")
@blp.response(204)
@blp.errors(401, 403, 404, 409)
def delete(attachment_id):
    """Delete a file I uploaded, while its request is open."""
    service.delete(get_current_user(), attachment_id)


@blp.get("/attachments/required")
@jwt_required()
@blp.arguments(RequirementQuerySchema, location="query")
@blp.response(200, RequirementSchema)
@blp.errors(401, 422)
def required(args):
    """Whether a request like this, by me, would need a file (its approval rule says `attachments: required`)."""
    return {"required": service.required_for_ask(get_current_user(), args["kind"], args.get("asset_id"),
                                                 args.get("category"), args.get("value"))}
