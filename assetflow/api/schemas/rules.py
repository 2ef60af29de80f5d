"""Approval rules: the ordered list an admin replaces as a whole, and its audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...models.request import REQUEST_KINDS
from .fields import Id, InputSchema, Money, PageArgs, PersonSchema

RULE_ROLES = ("approver", "admin")
MAX_HOURS = 8760  # a year
HOURS = validate.Range(min=0, min_inclusive=False, max=MAX_HOURS)


def flat_errors(messages: Any, prefix: str = "") -> dict[str, Any]:
    """Nested marshmallow errors as one level keyed by path: {"items.1.steps.0.role": [...]}."""
    if not isinstance(messages, Mapping):
        return {prefix or "_schema": messages}
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        flat |= flat_errors(value, f"{prefix}.{key}" if prefix else str(key))
    return flat


class RuleStepSchema(InputSchema):
    decider = fields.String(required=True, validate=validate.OneOf(("manager", "role")))
    role = fields.String(allow_none=True, validate=validate.OneOf(RULE_ROLES),
                         metadata={"description": "required when decider is `role`; not allowed for `manager`"})
    scope = fields.String(allow_none=True, validate=validate.OneOf(("department", "company")),
                          metadata={"description": "role steps: the applicant's department (and its ancestors) "
                                                   "or the whole company (default)"})
    remind_after_hours = fields.Float(allow_none=True, allow_nan=False, validate=HOURS)
    escalate_after_hours = fields.Float(allow_none=True, allow_nan=False, validate=HOURS, metadata={
        "description": "greater than remind_after_hours when both are set; needs escalate_to"})
    escalate_to = fields.String(allow_none=True, validate=validate.OneOf((*RULE_ROLES, "manager")), metadata={
        "description": "a role (its active holders company-wide) or `manager` (the next manager up the tree)"})

    @validates_schema
    def _consistent(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        role_step = data.get("decider") == "role"
        if role_step and data.get("role") is None:
            errors["role"] = ["Required for a role step."]
        if not role_step and data.get("role") is not None:
            errors["role"] = ["Only a role step names a role."]
        remind, escalate = data.get("remind_after_hours"), data.get("escalate_after_hours")
        if remind is not None and escalate is not None and escalate <= remind:
            errors["escalate_after_hours"] = ["Must be greater than remind_after_hours."]
        if (escalate is None) != (data.get("escalate_to") is None):
            field = "escalate_to" if escalate is not None else "escalate_after_hours"
            errors.setdefault(field, []).append("escalate_after_hours and escalate_to go together.")
        if errors:
            raise ValidationError(errors)


class RuleMatchSchema(InputSchema):
    kinds = fields.List(fields.String(validate=validate.OneOf(REQUEST_KINDS)),
                        validate=validate.Length(min=1, max=len(REQUEST_KINDS)))
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                             validate=validate.Length(min=1, max=100))
    departments = fields.List(Id(), validate=validate.Length(min=1, max=100), metadata={
        "description": "matches the applicant's department or any department above it"})
    min_value = Money()  # matches a value at or above it


class RuleSchema(InputSchema):
    match = fields.Nested(RuleMatchSchema, load_default=dict, metadata={
        "description": "every condition given must hold; {} matches every request"})
    steps = fields.List(fields.Nested(RuleStepSchema), required=True, validate=validate.Length(min=1, max=10))
    attachments = fields.String(allow_none=True, validate=validate.OneOf(("required",)), metadata={
        "description": "`required`: a request this rule matches is not submitted without a file; null or "
                       "absent: files are optional"})


class RuleListInputSchema(InputSchema):
    items = fields.List(fields.Nested(RuleSchema), required=True, validate=validate.Length(min=1, max=100),
                        metadata={"description": "the ordered rules; the first that matches a request wins"})

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        """Errors keyed by path (`items.1.steps.0.role`), as a form shows them beside the field."""
        raise ValidationError(flat_errors(error.messages))


class RuleOutSchema(Schema):
    match = fields.Dict()
    steps = fields.List(fields.Dict())
    attachments = fields.String(metadata={"description": "`required`, or absent when files are optional"})


class RuleListSchema(Schema):
    items = fields.List(fields.Nested(RuleOutSchema))
    default = fields.Boolean(metadata={"description": "true: no list was saved, the built-in defaults apply"})
    updated_at = fields.AwareDateTime(allow_none=True)
    updated_by = fields.Nested(PersonSchema, allow_none=True)


class RuleChangeSchema(Schema):
    id = fields.Integer()
    actor = fields.Nested(PersonSchema)
    before = fields.List(fields.Nested(RuleOutSchema))
    after = fields.List(fields.Nested(RuleOutSchema))
    at = fields.AwareDateTime(attribute="created_at")


class RuleChangeQuerySchema(PageArgs):
    pass
