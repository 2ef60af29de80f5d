"""Approval rules: the ordered list an admin replaces as a whole, and its audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...models.request import REQUEST_KINDS
from .departments import DepartmentShortSchema
from .fields import CURRENCY, Id, InputSchema, Money, PageArgs, PersonSchema

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


class SimulateInputSchema(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(REQUEST_KINDS))
    value = Money()  # what the rules' `min_value` compares; 0 when neither it nor `asset_id` is given
    currency = fields.String(validate=CURRENCY, metadata={"description": "accepted, not routed by: no rule "
                                                                         "condition looks at the currency"})
    category = fields.String(validate=validate.Length(min=1, max=64))
    asset_id = Id(metadata={"description": "route by this asset's category and value, as submit does "
                                           "(then omit `category` and `value`)"})
    department_id = Id(metadata={"description": "the applicant's department (default: the applicant's own); "
                                                "others than admins: only their own"})
    applicant_id = Id(metadata={"description": "whose request (left out of every step); default the caller, or, "
                                               "for an admin giving `department_id`, a newcomer there; others "
                                               "than admins: only themselves"})
    rules = fields.List(fields.Nested(RuleSchema), validate=validate.Length(min=1, max=100), metadata={
        "description": "admins: a draft list, validated as `PUT /api/approval-rules` validates `items`"})

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        """Errors keyed by path (`rules.1.steps.0.role`), as the save's are."""
        raise ValidationError(flat_errors(error.messages))


class MatchedRuleSchema(Schema):
    index = fields.Integer(metadata={"description": "the rule's position in the list, from 0"})
    match = fields.Dict()


class SimulatedStepSchema(Schema):
    step = fields.Integer()
    decider = fields.String()
    role = fields.String(allow_none=True)
    scope = fields.String(allow_none=True)
    label = fields.String(metadata={"description": "the role, or `manager`"})
    people = fields.List(fields.Nested(PersonSchema), metadata={
        "description": "who would be named for the step (the applicant left out); empty: nobody"})


class ProblemSchema(Schema):
    code = fields.String(metadata={"description": "`no_rule`, `no_decider` (this request); admins also "
                                                  "`shadowed` and `nobody` (the list)"})
    message = fields.String()
    step = fields.Integer(metadata={"description": "`no_decider`, `nobody`: the step, from 1"})
    label = fields.String(metadata={"description": "`no_decider`, `nobody`: the step's role or `manager`"})
    rule = fields.Integer(metadata={"description": "`shadowed`, `nobody`: the rule's position, from 0"})
    by = fields.Integer(metadata={"description": "`shadowed`: the earlier rule that takes its requests"})
    departments = fields.List(fields.Nested(DepartmentShortSchema), metadata={
        "description": "`nobody`: the departments whose requests it would stop"})


class SimulationSchema(Schema):
    rule = fields.Nested(MatchedRuleSchema, allow_none=True, metadata={"description": "null: no rule applies"})
    steps = fields.List(fields.Nested(SimulatedStepSchema))
    problems = fields.List(fields.Nested(ProblemSchema), metadata={
        "description": "empty: submit would route it to these people"})
    applicant = fields.Nested(PersonSchema, allow_none=True, metadata={
        "description": "null: a newcomer of `department`, who decides nothing"})
    department = fields.Nested(DepartmentShortSchema)
