"""Assets: the list and detail, custody history, the admin's create and edit."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...list_terms import ASSET_SORTS
from ...models.asset import ASSET_STATUSES
from .departments import DepartmentShortSchema
from .fields import CURRENCY, Id, InputSchema, Money, PageArgs, QueryInt, Whole, sort_field
from .requests import RequestSchema
from .users import UserShortSchema


class AssetSchema(Schema):
    id = fields.Integer()
    tag = fields.String()
    name = fields.String()
    category = fields.String()
    value = Money()
    currency = fields.String()
    status = fields.String()
    custodian = fields.Nested(UserShortSchema, allow_none=True)
    location = fields.String()
    locked = fields.Boolean()
    department = fields.Nested(DepartmentShortSchema)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class AssetDetailSchema(AssetSchema):
    requests = fields.List(fields.Nested(RequestSchema))


class CategoryListSchema(Schema):
    items = fields.List(fields.String())


class AssetFilterSchema(InputSchema):
    status = fields.String(validate=validate.OneOf(ASSET_STATUSES))
    category = fields.String(validate=validate.Length(max=64))
    custodian_id = QueryInt(1)
    q = fields.String(validate=validate.Length(max=100))
    mine = fields.Boolean(metadata={"description": "Only the assets I hold"})
    sort = sort_field(ASSET_SORTS, "tag")


class AssetQuerySchema(PageArgs, AssetFilterSchema):
    pass


class CustodyChangeSchema(Schema):
    at = fields.AwareDateTime()
    source = fields.String(metadata={"description": "`request` (an approved request) or `admin` (an edit)"})
    action = fields.String(metadata={"description": "the request's kind, or `create` / `update`"})
    request_id = fields.Integer(allow_none=True)
    actor = fields.Nested(UserShortSchema)
    status_from = fields.String(allow_none=True)
    status_to = fields.String(allow_none=True)
    custodian_from = fields.Nested(UserShortSchema, allow_none=True)
    custodian_to = fields.Nested(UserShortSchema, allow_none=True)


class CustodyHistorySchema(Schema):
    items = fields.List(fields.Nested(CustodyChangeSchema))


# The rules of each field, shared by the API's create and edit and by the import (schemas/imports.py).
TAG = [validate.Length(min=1, max=32), Whole(r"^[A-Za-z0-9._-]+$")]
NAME = validate.Length(min=1, max=120)
CATEGORY = validate.Length(min=1, max=64)
LOCATION = validate.Length(max=120)


class AssetCreateSchema(InputSchema):
    tag = fields.String(required=True, validate=TAG)
    name = fields.String(required=True, validate=NAME)
    category = fields.String(required=True, validate=CATEGORY)
    value = Money(required=True)
    currency = fields.String(validate=CURRENCY)
    location = fields.String(validate=LOCATION)
    status = fields.String(validate=validate.OneOf(("in_stock", "in_repair")))
    department_id = Id(metadata={"description": "the owning department; default: the company root"})


class AssetUpdateSchema(InputSchema):
    name = fields.String(validate=NAME)
    category = fields.String(validate=CATEGORY)
    value = Money()
    currency = fields.String(validate=CURRENCY)
    location = fields.String(validate=LOCATION)
    status = fields.String(validate=validate.OneOf(("in_stock", "in_use", "in_repair")))
    department_id = Id()
