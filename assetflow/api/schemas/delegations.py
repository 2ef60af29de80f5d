"""Delegations: who stands in for whom, and when."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .fields import Id, InputSchema, PersonSchema


class DelegationSchema(Schema):
    id = fields.Integer()
    delegator = fields.Nested(PersonSchema)
    delegate = fields.Nested(PersonSchema)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    note = fields.String()
    active = fields.Boolean(metadata={"description": "in force now: starts_at <= now < ends_at"})


class DelegationListSchema(Schema):
    items = fields.List(fields.Nested(DelegationSchema))


class DelegationCreateSchema(InputSchema):
    delegate_id = Id(required=True)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "With a time zone"})
    ends_at = fields.AwareDateTime(required=True, metadata={
        "description": "In the future, after starts_at, at most 90 days after it"})
    note = fields.String(load_default="", validate=validate.Length(max=500))


class DelegationQuerySchema(InputSchema):
    all = fields.Boolean(load_default=False, metadata={"description": "Every delegation (admins only)"})
