"""Imports: the columns of each kind of file, read by the API's own field rules, and the report of a run."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models.asset import ASSET_STATUSES
from ...models.user import ROLES
from .assets import CATEGORY, LOCATION, NAME, TAG
from .departments import DEPARTMENT_CODE, DEPARTMENT_NAME
from .fields import CURRENCY, InputSchema, Money
from .users import DISPLAY_NAME, EMAIL

USERNAME = validate.Length(min=1, max=64)  # as the API takes it; the credential rules then read the canonical form


class DepartmentRowSchema(InputSchema):
    code = fields.String(required=True, validate=DEPARTMENT_CODE)
    name = fields.String(validate=DEPARTMENT_NAME)
    parent_code = fields.String(allow_none=True, validate=DEPARTMENT_CODE)
    manager_username = fields.String(allow_none=True, validate=USERNAME)


class UserRowSchema(InputSchema):
    username = fields.String(required=True, validate=USERNAME)
    display_name = fields.String(validate=DISPLAY_NAME)
    email = fields.String(validate=EMAIL)
    role = fields.String(validate=validate.OneOf(ROLES))
    department_code = fields.String(validate=DEPARTMENT_CODE)
    active = fields.Boolean()  # true/false, yes/no, 1/0, any case


class AssetRowSchema(InputSchema):
    tag = fields.String(required=True, validate=TAG)
    name = fields.String(validate=NAME)
    category = fields.String(validate=CATEGORY)
    value = Money()
    currency = fields.String(validate=CURRENCY)
    status = fields.String(validate=validate.OneOf(ASSET_STATUSES))
    department_code = fields.String(validate=DEPARTMENT_CODE)
    custodian_username = fields.String(allow_none=True, validate=USERNAME)
    location = fields.String(validate=LOCATION)


# Per kind: its row schema, its key column, and the columns an empty cell clears (to what).
ROW_SCHEMAS = {"departments": DepartmentRowSchema, "users": UserRowSchema, "assets": AssetRowSchema}
KEYS = {"departments": "code", "users": "username", "assets": "tag"}
CLEARED = {
    "departments": {"parent_code": None, "manager_username": None},  # under the company root; no manager
    "users": {"email": ""},
    "assets": {"custodian_username": None, "location": ""},
}


class ImportArgsSchema(InputSchema):
    dry_run = fields.Boolean(load_default=True, metadata={
        "description": "1 (the default): report what would happen and write nothing; 0: apply every row or none"})


class ImportRowSchema(Schema):
    row = fields.Integer(metadata={"description": "the line number a spreadsheet shows; the header is line 1"})
    key = fields.String(metadata={"description": "the row's code, username or tag"})
    action = fields.String(metadata={"description": "create, update, unchanged or error"})
    errors = fields.List(fields.String())
    changes = fields.List(fields.String(), metadata={"description": "the columns an update changes"})


class ImportSummarySchema(Schema):
    create = fields.Integer()
    update = fields.Integer()
    unchanged = fields.Integer()
    error = fields.Integer()


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    applied = fields.Boolean(metadata={"description": "true when the rows were written"})
    summary = fields.Nested(ImportSummarySchema)
    rows = fields.List(fields.Nested(ImportRowSchema))
