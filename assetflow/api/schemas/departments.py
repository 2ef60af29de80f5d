"""Departments: the tree, its managers, create and edit."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .fields import Id, InputSchema, OutputSchema, PersonSchema, Whole


class DepartmentShortSchema(OutputSchema):
    id = fields.Integer()
    name = fields.String()


class DepartmentSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    code = fields.String()
    parent_id = fields.Integer(allow_none=True)
    manager = fields.Nested(PersonSchema, allow_none=True)
    path = fields.List(fields.String(), metadata={"description": "names from the company root down to this one"})


class DepartmentListSchema(Schema):
    items = fields.List(fields.Nested(DepartmentSchema))


DEPARTMENT_CODE = [validate.Length(min=1, max=32), Whole(r"^[A-Z0-9-]+$")]
DEPARTMENT_NAME = [validate.Length(min=1, max=120), validate.Regexp(r"\S", error="Must not be blank.")]


class DepartmentCreateSchema(InputSchema):
    name = fields.String(required=True, validate=DEPARTMENT_NAME)
    code = fields.String(required=True, validate=DEPARTMENT_CODE)
    parent_id = Id(allow_none=True, metadata={"description": "default: the company root"})
    manager_id = Id(allow_none=True)


class DepartmentUpdateSchema(InputSchema):
    name = fields.String(validate=DEPARTMENT_NAME)
    code = fields.String(validate=DEPARTMENT_CODE)
    parent_id = Id(allow_none=True, metadata={"description": "null only for the company root"})
    manager_id = Id(allow_none=True)
