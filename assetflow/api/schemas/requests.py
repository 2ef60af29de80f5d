"""Requests: the list row and the request page (read models the services build, services/views.py), the
submit, decide, comment and bulk bodies, and the list filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...list_terms import BULK_LIMIT, REQUEST_SORTS
from ...models.request import REQUEST_KINDS, REQUEST_STATES
from .departments import DepartmentShortSchema
from .fields import (
    CURRENCY,
    SEARCH,
    TEXT,
    Id,
    InputSchema,
    Money,
    OutputSchema,
    PageArgs,
    PersonSchema,
    QueryInt,
    Stripped,
    sort_field,
)
from .users import UserShortSchema


class KindField(Protocol):
    """What the submit body needs of a kind's field (services/kinds.py, FieldSpec)."""

    name: str
    type: str
    max_length: int | None


class AssetBriefSchema(OutputSchema):
    id = fields.Integer()
    tag = fields.String()
    name = fields.String()
    status = fields.String()
    value = Money()
    currency = fields.String()


class RequestSchema(OutputSchema):
    id = fields.Integer()
    kind = fields.String()
    state = fields.String()
    step = fields.Integer()
    steps_total = fields.Integer()
    required_role = fields.String(allow_none=True)
    version = fields.Integer()
    reason = fields.String()
    asset_id = fields.Integer(allow_none=True)
    asset = fields.Nested(AssetBriefSchema, allow_none=True)
    applicant = fields.Nested(UserShortSchema)
    target_user = fields.Nested(UserShortSchema, allow_none=True)
    name = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    value = Money(allow_none=True)
    currency = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
    department = fields.Nested(DepartmentShortSchema, metadata={
        "description": "The applicant's department when the request was submitted"})
    due_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When the current step of a pending request is due: its first reminder or escalation "
                       "(null when the step has neither, or the request is not pending)"})
    overdue = fields.Boolean(metadata={"description": "`due_at` has passed (the step's first timer is due)"})
    allowed_actions = fields.List(fields.String(), metadata={
        "description": "what the caller may do now: approve, reject, return, withdraw, edit, resume, comment, "
                       "resubmit"})
    attachments_count = fields.Integer(metadata={"description": "how many files the request carries"})


class DecisionSchema(Schema):
    id = fields.Integer()
    step = fields.Integer()
    chain_no = fields.Integer(metadata={
        "description": "The chain it decided a step of: an edit that changed the matching rule starts a new one"})
    approver = fields.Nested(UserShortSchema)
    on_behalf_of = fields.Nested(UserShortSchema, allow_none=True,
                                 metadata={"description": "The decider a delegate stood in for"})
    outcome = fields.String()
    comment = fields.String()
    at = fields.AwareDateTime(attribute="created_at")


class EventSchema(Schema):
    id = fields.Integer()
    actor = fields.Nested(UserShortSchema, allow_none=True, metadata={"description": "null: the system (timers)"})
    on_behalf_of = fields.Nested(UserShortSchema, allow_none=True)
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    step = fields.Integer()
    comment = fields.String()
    at = fields.AwareDateTime(attribute="created_at")


class CommentSchema(Schema):
    id = fields.Integer()
    author = fields.Nested(UserShortSchema, attribute="actor")
    body = fields.String(attribute="comment")
    at = fields.AwareDateTime(attribute="created_at")


class StepDeciderSchema(Schema):
    id = fields.Integer()
    display_name = fields.String()
    via = fields.String(metadata={"description": "`rule` (resolved at submit) or `escalation`"})
    active = fields.Boolean()
    entitled = fields.Boolean(metadata={
        "description": "still holds what named them (role, manager's post, department) under today's organisation"})


class DecidedBySchema(Schema):
    id = fields.Integer(attribute="approver.id")
    display_name = fields.String(attribute="approver.display_name")
    on_behalf_of = fields.Nested(PersonSchema, allow_none=True)
    outcome = fields.String(metadata={"description": "the step's decision: approved or rejected"})


class StepSchema(Schema):
    step = fields.Integer()
    decider = fields.String(metadata={"description": "`manager` or `role`"})
    role = fields.String(allow_none=True)
    scope = fields.String()
    label = fields.String()
    state = fields.String(metadata={"description": "done, current, returned (with the applicant), waiting or skipped"})
    deciders = fields.List(fields.Nested(StepDeciderSchema))
    decided_by = fields.Nested(DecidedBySchema, allow_none=True)
    remind_after_hours = fields.Float(allow_none=True)
    escalate_after_hours = fields.Float(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    escalated_at = fields.AwareDateTime(allow_none=True)


class RequestDetailSchema(RequestSchema):
    chain_no = fields.Integer(metadata={"description": "1 at submit; one more each time an edit re-routed it"})
    previous_id = fields.Integer(allow_none=True, metadata={"description": "The request this one resubmits"})
    next_ids = fields.List(fields.Integer(), metadata={"description": "The requests that resubmit this one"})
    steps = fields.List(fields.Nested(StepSchema),
                        metadata={"description": "The chain frozen at submit: who decides each step, by name"})
    decisions = fields.List(fields.Nested(DecisionSchema))
    events = fields.List(fields.Nested(EventSchema))
    comments = fields.List(fields.Nested(CommentSchema))


class CommentCreateSchema(InputSchema):
    body = Stripped(required=True, validate=validate.Length(min=1, max=2000))


class ResubmitSchema(InputSchema):
    reason = Stripped(validate=validate.Length(min=1, max=2000))


def _kind_field(spec: KindField) -> fields.Field:
    """How the submit body reads a field of the kinds' registry (its type and limits); which kind needs it is
    checked by the kind's spec."""
    description = {"metadata": {"description": f"For kinds taking `{spec.name}` (GET /api/meta, kinds.fields)"}}
    if spec.type == "text":
        return fields.String(validate=validate.Length(min=1, max=spec.max_length), **description)
    if spec.type == "money":
        return Money(positive=True)
    if spec.type == "currency":
        return fields.String(validate=CURRENCY, **description)
    return Id(**description)  # asset, user


def submit_schema(kind_fields: Mapping[str, KindField]) -> type[Schema]:
    """The submit body: kind, reason and every field some kind takes (`services.kinds.all_fields()`, which the
    blueprint passes in: the registry is the kinds' one home, and schemas import no service)."""
    return InputSchema.from_dict({
        "kind": fields.String(required=True, validate=validate.OneOf(REQUEST_KINDS)),
        "reason": fields.String(required=True, validate=validate.Length(min=1, max=2000)),
        **{name: _kind_field(spec) for name, spec in kind_fields.items()},
    }, name="Submit")


def edit_schema(kind_fields: Mapping[str, KindField]) -> type[Schema]:
    """The PATCH body: the reason and the fields a kind stores on the request (not its asset), each optional;
    which of them the request's kind takes is checked by the service (422 naming the others)."""
    return InputSchema.from_dict({
        "reason": fields.String(validate=validate.Length(min=1, max=2000)),
        **{name: _kind_field(spec) for name, spec in kind_fields.items() if spec.type != "asset"},
        "version": Id(metadata={"description": "The version the edit was made on: 409 if the request changed since"}),
    }, name="RequestEdit")


class RequestFilterSchema(InputSchema):
    state = fields.String(validate=validate.OneOf(REQUEST_STATES))
    kind = fields.String(validate=validate.OneOf(REQUEST_KINDS))
    q = fields.String(validate=SEARCH)
    step = QueryInt(1, 100)
    asset_id = QueryInt(1)
    applicant_id = QueryInt(1)
    min_value = Money()
    max_value = Money()
    department_id = QueryInt(1, metadata={"description": "The request's department or one below it"})
    overdue = fields.Boolean(metadata={
        "description": "true: pending requests whose current step is past its due time; false: all others"})


class RequestExportSchema(RequestFilterSchema):
    scope = fields.String(load_default="mine", validate=validate.OneOf(("mine", "inbox", "all")))
    sort = sort_field(REQUEST_SORTS, "-created_at")


class RequestQuerySchema(PageArgs, RequestExportSchema):
    pass


class DecideSchema(InputSchema):
    comment = fields.String(load_default="", validate=TEXT)
    version = Id()


class RejectSchema(DecideSchema):
    comment = fields.String(required=True, validate=[TEXT, validate.Regexp(r"\S", error="A rejection needs a comment")])


class ReturnSchema(DecideSchema):
    comment = fields.String(required=True, validate=[TEXT, validate.Regexp(
        r"\S", error="A return needs a comment: say what to change")])


class WithdrawSchema(InputSchema):
    version = Id()


class ResumeSchema(WithdrawSchema):
    pass


class BulkFilterSchema(RequestFilterSchema):
    """The list filters, read from a JSON body: whole numbers must be JSON integers."""

    step = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))
    asset_id = Id()
    applicant_id = Id()
    department_id = Id()


class BulkApproveSchema(InputSchema):
    ids = fields.List(Id(), validate=validate.Length(min=1, max=BULK_LIMIT))
    filter = fields.Nested(BulkFilterSchema, metadata={
        "description": f"Instead of ids: every request of my inbox matching these filters (at most {BULK_LIMIT})"})
    comment = fields.String(load_default="", validate=TEXT)

    @validates_schema
    def _ids_or_filter(self, data, **kwargs):
        if ("ids" in data) == ("filter" in data):
            raise ValidationError("Send either ids or filter", "ids")


class BulkResultSchema(Schema):
    id = fields.Integer()
    ok = fields.Boolean()
    status = fields.Integer()
    request = fields.Nested(RequestSchema)
    error = fields.Dict()


class BulkResultsSchema(Schema):
    matched = fields.Integer()
    results = fields.List(fields.Nested(BulkResultSchema))


class StatsSchema(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    median_decision_seconds = fields.Float(allow_none=True)
