"""The routing check: departments whose employees' requests could not be decided today, and why."""

from __future__ import annotations

from marshmallow import Schema, fields


class CheckedDepartmentSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class GapSchema(Schema):
    kinds = fields.List(fields.String(), metadata={"description": "the request kinds it stops"})
    rule = fields.Integer(allow_none=True, metadata={
        "description": "the rule's position, from 0; null: no rule applies to some of these requests"})
    step = fields.Integer(allow_none=True, metadata={"description": "the step nobody could decide, from 1"})
    label = fields.String(allow_none=True, metadata={"description": "that step's role, or `manager`"})
    message = fields.String()


class StuckSchema(Schema):
    department = fields.Nested(CheckedDepartmentSchema)
    members = fields.Integer(metadata={"description": "its active users"})
    problems = fields.List(fields.Nested(GapSchema), attribute="gaps")


class RoutingCheckSchema(Schema):
    items = fields.List(fields.Nested(StuckSchema), metadata={
        "description": "every department with a problem, by id; empty: every request can be decided"})
    departments_checked = fields.Integer()
