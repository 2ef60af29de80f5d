"""Request and response schemas; they also make the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_jwt_extended import current_user
from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..events import DOMAIN_EVENTS
from ..models.asset import ASSET_STATUSES
from ..models.request import REQUEST_KINDS, REQUEST_STATES
from ..models.user import EMAIL_MODES, LANGUAGES, ROLES
from ..services.delegations import is_active
from ..services.kinds import FIELD_TYPES, all_fields
from ..services.listing import ASSET_SORTS, BULK_LIMIT, NOTIFICATION_SORTS, REQUEST_SORTS
from ..services.notify import event_payload
from ..services.requests import actions_for
from ..services.routing import resubmissions, step_states
from .base import ID_MAX

TEXT = validate.Length(max=2000)
# PostgreSQL refuses NUL in text; a lone surrogate cannot be encoded as UTF-8 by any database.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text must not contain NUL characters or unpaired surrogates."
# NUMERIC(14, 2): twelve digits before the point, two after; written out, never as 1e3.
MONEY_TEXT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
MONEY_MAX = "999999999999.99"  # the largest amount MONEY_TEXT allows


class Whole(validate.Regexp):
    """A Regexp that must match the whole value, as its published JSON Schema `pattern` means.

    With re.match, `$` also matches before a final newline: "CNY\\n" passed ^[A-Z]{3}$ and then
    overflowed VARCHAR(3) on PostgreSQL.
    """

    def __call__(self, value: str) -> str:
        """The value, when the pattern matches all of it."""
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


CURRENCY = Whole(r"^[A-Z]{3}$")


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_unstorable(v) for v in value)
    return False


class InputSchema(Schema):
    """Base of every schema that reads client input: the one place that refuses unstorable text."""

    @pre_load
    def _refuse_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            bad = {str(key): [UNSTORABLE_MESSAGE] for key, value in data.items()
                   if _unstorable(key) or _unstorable(value)}
            if bad:
                raise ValidationError(bad)
        return data


def Id(**kwargs: Any) -> fields.Integer:
    """An id in a JSON body: a whole JSON number in 1..ID_MAX; 4.5, true or "4" are refused."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=ID_MAX), **kwargs)


def QueryInt(low: int, high: int = ID_MAX, **kwargs: Any) -> fields.Integer:
    """A whole number in a query string (always text there, so not strict) in low..high."""
    return fields.Integer(validate=validate.Range(min=low, max=high), **kwargs)


def _positive(value: Any) -> None:
    # Not validate.Range: apispec would publish its bound as a number on a field documented as a string.
    if value <= 0:
        raise ValidationError("Must be greater than 0.")


class Money(fields.Decimal):
    """Money as the decimal string the server sends ("12500.00"); a JSON number is read too, never rounded."""

    default_error_messages = {
        "invalid": "Not a valid amount: up to 12 digits, optionally a point and up to 2 more (e.g. \"12500.00\")."}

    def __init__(self, positive: bool = False, **kwargs: Any) -> None:
        # The pattern bounds it (no sign, NUMERIC(14, 2)); documented as a string, which it is on the wire.
        metadata = {"type": "string", "format": "decimal", "pattern": f"^{MONEY_TEXT.pattern}$", "example": "12500.00"}
        validators = []
        if positive:
            metadata["description"] = "Greater than 0."
            validators.append(_positive)
        super().__init__(places=2, as_string=True, validate=validators, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any):
        if isinstance(value, bool) or not isinstance(value, int | float | str) or not MONEY_TEXT.fullmatch(str(value)):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class JsonBool(fields.Boolean):
    """A boolean in a JSON body: true or false only, never 1, "yes" or "on"."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class PageArgs(InputSchema):
    page = QueryInt(1, 100_000, load_default=1)
    per_page = QueryInt(1, 100, load_default=20)


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "not_found"})
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={
        "description": "fields: {name: [message]} for a 422; state and decided_by for a 409 on a decided request"})


class ErrorSchema(Schema):
    """The one error shape: {"error": {"code", "message", "details"}}."""

    error = fields.Nested(ErrorBodySchema, required=True)


def sort_field(columns: dict, default: str) -> fields.String:
    """A `sort` query parameter: one of the whitelisted keys, `-key` for descending."""
    return fields.String(load_default=default, validate=validate.OneOf(
        [key for name in columns for key in (name, f"-{name}")]))


SEARCH = validate.Length(max=100)


class ComputedList(fields.List):
    """A list a service function computes from the object (documented like any list, unlike fields.Method)."""

    def __init__(self, compute: Any, inner: fields.Field, **kwargs: Any) -> None:
        super().__init__(inner, **kwargs)
        self.compute = compute

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        """The computed list, whatever the attribute is called."""
        return self.compute(obj)


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """A paginated envelope around one item schema."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema)),
        "page": fields.Integer(), "per_page": fields.Integer(), "total": fields.Integer(),
    }, name=f"{item_schema.__name__.removesuffix('Schema')}Page")


# --- users and auth ---------------------------------------------------------

class UserShortSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()


class PersonSchema(Schema):
    """Someone named in another record: enough to show them."""

    id = fields.Integer()
    display_name = fields.String()


class UserSchema(UserShortSchema):
    email = fields.String()
    active = fields.Boolean()


class LoginSchema(InputSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class LoginResultSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserShortSchema)


class LogoutSchema(InputSchema):
    refresh_token = fields.String(validate=validate.Length(max=4096))


class LogoutResultSchema(Schema):
    revoked = fields.Boolean(required=True)


class RefreshResultSchema(Schema):
    access_token = fields.String(required=True)


class UserListSchema(Schema):
    items = fields.List(fields.Nested(UserShortSchema))


class DepartmentShortSchema(Schema):
    id = fields.Integer()
    name = fields.String()


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


# --- departments ----------------------------------------------------------

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


# --- assets ---------------------------------------------------------------

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


class CategoryListSchema(Schema):
    items = fields.List(fields.String())


class AssetBriefSchema(Schema):
    id = fields.Integer()
    tag = fields.String()
    name = fields.String()
    status = fields.String()
    value = Money()
    currency = fields.String()


class AssetQuerySchema(PageArgs):
    status = fields.String(validate=validate.OneOf(ASSET_STATUSES))
    category = fields.String(validate=validate.Length(max=64))
    custodian_id = QueryInt(1)
    q = fields.String(validate=validate.Length(max=100))
    mine = fields.Boolean(metadata={"description": "Only the assets I hold"})
    sort = sort_field(ASSET_SORTS, "tag")


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


class AssetCreateSchema(InputSchema):
    tag = fields.String(required=True, validate=[validate.Length(min=1, max=32), Whole(r"^[A-Za-z0-9._-]+$")])
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    value = Money(required=True)
    currency = fields.String(validate=CURRENCY)
    location = fields.String(validate=validate.Length(max=120))
    status = fields.String(validate=validate.OneOf(("in_stock", "in_repair")))
    department_id = Id(metadata={"description": "the owning department; default: the company root"})


class AssetUpdateSchema(InputSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    category = fields.String(validate=validate.Length(min=1, max=64))
    value = Money()
    currency = fields.String(validate=CURRENCY)
    location = fields.String(validate=validate.Length(max=120))
    status = fields.String(validate=validate.OneOf(("in_stock", "in_use", "in_repair")))
    department_id = Id()


# --- requests -------------------------------------------------------------

class RequestSchema(Schema):
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
    allowed_actions = fields.Method("_allowed_actions")

    def _allowed_actions(self, req) -> list[str]:
        return actions_for(req, current_user)


class DecisionSchema(Schema):
    id = fields.Integer()
    step = fields.Integer()
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


class StepSchema(Schema):
    step = fields.Integer()
    decider = fields.String(metadata={"description": "`manager` or `role`"})
    role = fields.String(allow_none=True)
    scope = fields.String()
    label = fields.String()
    state = fields.String(metadata={"description": "done, current, waiting or skipped"})
    deciders = fields.List(fields.Nested(StepDeciderSchema))
    decided_by = fields.Nested(DecidedBySchema, allow_none=True)
    remind_after_hours = fields.Float(allow_none=True)
    escalate_after_hours = fields.Float(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    escalated_at = fields.AwareDateTime(allow_none=True)


class RequestDetailSchema(RequestSchema):
    department = fields.Nested(DepartmentShortSchema)
    previous_id = fields.Integer(allow_none=True, metadata={"description": "The request this one resubmits"})
    next_ids = ComputedList(resubmissions, fields.Integer(),
                            metadata={"description": "The requests that resubmit this one"})
    steps = ComputedList(step_states, fields.Nested(StepSchema),
                         metadata={"description": "The chain frozen at submit: who decides each step, by name"})
    decisions = fields.List(fields.Nested(DecisionSchema))
    events = fields.List(fields.Nested(EventSchema))
    comments = fields.Method("_comments")

    def _comments(self, req) -> list[dict]:
        return CommentSchema(many=True).dump([e for e in req.events if e.action == "comment"])


class Stripped(fields.String):
    """Text with the blanks around it removed before it is validated (so "   " is empty)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class CommentCreateSchema(InputSchema):
    body = Stripped(required=True, validate=validate.Length(min=1, max=2000))


class ResubmitSchema(InputSchema):
    reason = Stripped(validate=validate.Length(min=1, max=2000))


class AssetDetailSchema(AssetSchema):
    requests = fields.List(fields.Nested(RequestSchema))


def _kind_field(spec: Any) -> fields.Field:
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


SubmitSchema = InputSchema.from_dict({
    "kind": fields.String(required=True, validate=validate.OneOf(REQUEST_KINDS)),
    "reason": fields.String(required=True, validate=validate.Length(min=1, max=2000)),
    **{name: _kind_field(spec) for name, spec in all_fields().items()},
}, name="Submit")


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


class WithdrawSchema(InputSchema):
    version = Id()


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


# --- delegations ----------------------------------------------------------

class DelegationSchema(Schema):
    id = fields.Integer()
    delegator = fields.Nested(PersonSchema)
    delegate = fields.Nested(PersonSchema)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    note = fields.String()
    active = fields.Method("_active")

    def _active(self, delegation) -> bool:
        return is_active(delegation)


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


# --- notifications --------------------------------------------------------

class NotificationSchema(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    type = fields.String()
    payload = fields.Method("_payload")
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)

    def _payload(self, notification) -> dict:
        # The same event the socket pushed, so a client handles both paths with one function.
        payload = event_payload(notification)
        del payload["replayed"]
        return payload


class NotificationQuerySchema(InputSchema):
    after_seq = QueryInt(0)
    before_seq = QueryInt(1)
    unread = fields.Boolean()
    limit = QueryInt(1, 500, load_default=50)
    # Page mode (when `page` is given): a numbered page with a total, searchable and filterable.
    page = QueryInt(1, 100_000)
    per_page = QueryInt(1, 100, load_default=20)
    q = fields.String(validate=SEARCH)
    status = fields.String(validate=validate.OneOf(REQUEST_STATES))
    kind = fields.String(validate=validate.OneOf(REQUEST_KINDS))
    sort = sort_field(NOTIFICATION_SORTS, "-seq")


class UnreadCountSchema(Schema):
    count = fields.Integer(required=True)


class ReadAllSchema(Schema):
    updated = fields.Integer(required=True)
    count = fields.Integer(required=True)


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread_count = fields.Integer()
    last_seq = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


# --- meta -----------------------------------------------------------------

class KindFieldSchema(Schema):
    name = fields.String()
    type = fields.String(validate=validate.OneOf(FIELD_TYPES),
                         metadata={"description": "text, money, currency, asset (an asset id) or user (a user id)"})
    required = fields.Boolean()
    max_length = fields.Integer(allow_none=True)
    label = fields.String(metadata={"description": "the i18n key the SPA labels the field with"})
    default = fields.String(allow_none=True, metadata={"description": "stored when the field is omitted"})
    not_custodian = fields.Boolean(metadata={"description": "must not be the asset's custodian (a transfer's target)"})


class KindRuleSchema(Schema):
    name = fields.String()
    fits = fields.List(fields.String(), allow_none=True,
                       metadata={"description": "asset statuses this kind may be asked for; null: no asset (acquire)"})
    required = fields.List(fields.String())
    optional = fields.List(fields.String())
    takes_asset = fields.Boolean()
    fields_ = fields.List(fields.Nested(KindFieldSchema), data_key="fields", attribute="fields",
                          metadata={"description": "the fields the kind takes besides kind and reason, in form order"})
    who_may_ask = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "per asset status: who besides an admin may ask (anyone, custodian or a role)"})
    wording = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "i18n keys: label (the kind's name), help (what it does)"})


class MetaSchema(Schema):
    kinds = fields.List(fields.Nested(KindRuleSchema))
    asset_statuses = fields.List(fields.String())
    asset_create_statuses = fields.List(fields.String())
    request_states = fields.List(fields.String())
    roles = fields.List(fields.String())
    limits = fields.Dict(keys=fields.String())
    high_value_threshold = Money()
    default_currency = fields.String()
    sorts = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    bulk_limit = fields.Integer()


# --- webhooks -------------------------------------------------------------

def _webhook_fields(required: bool) -> dict[str, fields.Field]:
    return {
        "url": fields.Url(schemes={"http", "https"}, require_tld=False, required=required,
                          validate=validate.Length(max=2000)),
        "events": fields.List(fields.String(validate=validate.OneOf(DOMAIN_EVENTS)), required=required,
                              validate=validate.Length(min=1, max=len(DOMAIN_EVENTS))),
        # Shared with the receiver, who checks X-AssetFlow-Signature with it; never shown again.
        "secret": fields.String(required=required, validate=validate.Length(min=16, max=200)),
        "active": fields.Boolean(truthy={True}, falsy={False}),  # JSON true or false, not "yes"
    }


WebhookCreateSchema = InputSchema.from_dict(_webhook_fields(required=True), name="WebhookCreate")
WebhookUpdateSchema = InputSchema.from_dict(_webhook_fields(required=False), name="WebhookUpdate")


class WebhookSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.AwareDateTime()


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema))
    events = fields.List(fields.String(), metadata={"description": "Every event a webhook may subscribe to"})


class WebhookCallSchema(Schema):
    attempt = fields.Integer()
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer()
    error = fields.String()
    at = fields.AwareDateTime()


class WebhookDeliverySchema(Schema):
    id = fields.String(attribute="message_id", metadata={"description": "The X-AssetFlow-Delivery header"})
    event = fields.String()
    state = fields.String(metadata={"description": "pending | sent | skipped | failed"})
    attempts = fields.Integer()
    created_at = fields.AwareDateTime()
    next_attempt_at = fields.Method("_next_attempt")
    finished_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String()
    calls = fields.List(fields.Nested(WebhookCallSchema))

    def _next_attempt(self, message) -> str | None:
        return message.due_at.isoformat() if message.state == "pending" else None


class WebhookDeliveryQuerySchema(InputSchema):
    page = QueryInt(1, load_default=1)
    per_page = QueryInt(1, 100, load_default=20)


# --- preferences and e-mail links -------------------------------------------

class PreferencesSchema(InputSchema):
    email = fields.String(required=True, attribute="email_mode", validate=validate.OneOf(EMAIL_MODES),
                          metadata={"description": "off: no e-mail; instant: each unread notification after "
                                                   "EMAIL_DELAY_SECONDS; digest: unread ones gathered"})
    digest_minutes = fields.Integer(strict=True, validate=validate.Range(min=15, max=7 * 24 * 60), load_default=60)
    language = fields.String(validate=validate.OneOf(LANGUAGES), load_default="en",
                             metadata={"description": "The language of e-mails"})


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


# --- approval rules -------------------------------------------------------

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


class RuleListInputSchema(InputSchema):
    items = fields.List(fields.Nested(RuleSchema), required=True, validate=validate.Length(min=1, max=100),
                        metadata={"description": "the ordered rules; the first that matches a request wins"})

    def handle_error(self, error: ValidationError, data: Any, **kwargs: Any) -> None:
        """Errors keyed by path (`items.1.steps.0.role`), as a form shows them beside the field."""
        raise ValidationError(flat_errors(error.messages))


class RuleOutSchema(Schema):
    match = fields.Dict()
    steps = fields.List(fields.Dict())


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
