"""Users: the short and long forms, the admin's list, create and edit."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...models.user import ROLES
from .departments import DepartmentShortSchema
from .fields import Id, InputSchema, JsonBool, OutputSchema, PageArgs, QueryInt, Whole


class UserShortSchema(OutputSchema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()


class UserSchema(UserShortSchema):
    email = fields.String()
    active = fields.Boolean()


class UserListSchema(Schema):
    items = fields.List(fields.Nested(UserShortSchema))


class UserAdminSchema(UserSchema):
    department = fields.Nested(DepartmentShortSchema)


class UserPageSchema(UserListSchema):
    """Admins get every user in the long form, paginated; others the short form of active users."""

    items = fields.List(fields.Nested(UserAdminSchema), metadata={
        "description": "admins: every field; others: id, username, display_name, role of active users"})
    page = fields.Integer(metadata={"description": "admins only"})
    per_page = fields.Integer(metadata={"description": "admins only"})
    total = fields.Integer(metadata={"description": "admins only"})


class UserQuerySchema(PageArgs):
    role = fields.String(validate=validate.OneOf(ROLES))
    q = fields.String(validate=validate.Length(max=100))
    department_id = QueryInt(1)
    active = fields.Boolean(metadata={"description": "admins only (others see active users)"})


EMAIL = [validate.Length(max=254), Whole(r"^([^@\s]+@[^@\s]+)?$", error="Not a valid e-mail address.")]
DISPLAY_NAME = validate.Length(min=1, max=120)


class UserCreateSchema(InputSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    display_name = fields.String(validate=DISPLAY_NAME)
    email = fields.String(validate=EMAIL)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    department_id = Id()


class UserUpdateSchema(InputSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    department_id = Id()
    active = JsonBool()
    display_name = fields.String(validate=DISPLAY_NAME)
    email = fields.String(validate=EMAIL)
