"""The one-click e-mail links: what a link acts on, and its confirmation."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .fields import InputSchema


class EmailTokenSchema(InputSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class EmailConfirmSchema(EmailTokenSchema):
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class EmailRequestSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    state = fields.String()
    step = fields.Integer()
    steps_total = fields.Integer()
    reason = fields.String()
    asset_tag = fields.Function(lambda req: req.asset.tag if req.asset else None)
    applicant = fields.Function(lambda req: req.applicant.display_name)


class EmailActionSchema(Schema):
    action = fields.String(metadata={"description": "approve | reject"})
    user = fields.Function(lambda link: link.user.display_name, metadata={"description": "Who the link acts as"})
    request = fields.Nested(EmailRequestSchema)
