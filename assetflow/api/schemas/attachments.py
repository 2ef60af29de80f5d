"""Attachments: a request's files as listed (never their bytes), and the question the submit form asks."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models.request import REQUEST_KINDS
from .fields import InputSchema, Money, PersonSchema, QueryInt


class AttachmentSchema(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    filename = fields.String(metadata={"description": "the name as stored: no folders or control characters, "
                                                      "its extension fitting the content"})
    size = fields.Integer(metadata={"description": "bytes"})
    content_type = fields.String(metadata={"description": "read from the content when it was uploaded"})
    sha256 = fields.String(metadata={"description": "of the content (hex); also the download's ETag"})
    uploader = fields.Nested(PersonSchema)
    created_at = fields.AwareDateTime()


class AttachmentListSchema(Schema):
    items = fields.List(fields.Nested(AttachmentSchema))


class RequirementQuerySchema(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(REQUEST_KINDS))
    asset_id = QueryInt(1, metadata={"description": "kinds on an asset: its category and value count"})
    category = fields.String(validate=validate.Length(max=64))
    value = Money()


class RequirementSchema(Schema):
    required = fields.Boolean(metadata={
        "description": "whether the rule that would route this request by the caller requires a file"})
