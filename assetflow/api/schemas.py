"""Request and response schemas; they also make the OpenAPI document."""

from __future__ import annotations

from flask_jwt_extended import current_user
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..models.asset import ASSET_STATUSES
from ..models.request import REQUEST_KINDS, REQUEST_STATES
from ..models.user import ROLES
from ..services.listing import ASSET_SORTS, BULK_LIMIT, NOTIFICATION_SORTS, REQUEST_SORTS
from ..services.notify import event_payload
from ..services.requests import actions_for

TEXT = validate.Length(max=2000)
Money = fields.Decimal(places=2, as_string=True, validate=validate.Range(min=0, max=10**12))


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def sort_field(columns: dict, default: str) -> fields.String:
    """A `sort` query parameter: one of the whitelisted keys, `-key` for descending."""
    return fields.String(load_default=default, validate=validate.OneOf(
        [key for name in columns for key in (name, f"-{name}")]))


SEARCH = validate.Length(max=100)


def id_field() -> fields.Integer:
    """A database id in a query or body."""
    return fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


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


class UserSchema(UserShortSchema):
    email = fields.String()
    active = fields.Boolean()


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class LoginResultSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    user = fields.Nested(UserShortSchema)


class LogoutSchema(Schema):
    refresh_token = fields.String(validate=validate.Length(max=4096))


class UserListSchema(Schema):
    items = fields.List(fields.Nested(UserShortSchema))


class UserQuerySchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))
    q = fields.String(validate=validate.Length(max=100))


# --- assets ---------------------------------------------------------------

class AssetSchema(Schema):
    id = fields.Integer()
    tag = fields.String()
    name = fields.String()
    category = fields.String()
    value = Money
    currency = fields.String()
    status = fields.String()
    custodian = fields.Nested(UserShortSchema, allow_none=True)
    location = fields.String()
    locked = fields.Boolean()
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
    value = Money
    currency = fields.String()


class AssetQuerySchema(PageArgs):
    status = fields.String(validate=validate.OneOf(ASSET_STATUSES))
    category = fields.String(validate=validate.Length(max=64))
    custodian_id = fields.Integer(validate=validate.Range(min=1))
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


class AssetCreateSchema(Schema):
    tag = fields.String(required=True, validate=[validate.Length(min=1, max=32), validate.Regexp(r"^[A-Za-z0-9._-]+$")])
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    value = fields.Decimal(required=True, places=2, validate=validate.Range(min=0, max=10**12))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"))
    location = fields.String(validate=validate.Length(max=120))
    status = fields.String(validate=validate.OneOf(("in_stock", "in_repair")))


class AssetUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    category = fields.String(validate=validate.Length(min=1, max=64))
    value = fields.Decimal(places=2, validate=validate.Range(min=0, max=10**12))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"))
    location = fields.String(validate=validate.Length(max=120))
    status = fields.String(validate=validate.OneOf(("in_stock", "in_use", "in_repair")))


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
    value = fields.Decimal(places=2, as_string=True, allow_none=True)
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
    outcome = fields.String()
    comment = fields.String()
    at = fields.AwareDateTime(attribute="created_at")


class EventSchema(Schema):
    id = fields.Integer()
    actor = fields.Nested(UserShortSchema)
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    step = fields.Integer()
    comment = fields.String()
    at = fields.AwareDateTime(attribute="created_at")


class RequestDetailSchema(RequestSchema):
    decisions = fields.List(fields.Nested(DecisionSchema))
    events = fields.List(fields.Nested(EventSchema))


class AssetDetailSchema(AssetSchema):
    requests = fields.List(fields.Nested(RequestSchema))


class SubmitSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(REQUEST_KINDS))
    asset_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    target_user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    name = fields.String(validate=validate.Length(min=1, max=120))
    category = fields.String(validate=validate.Length(min=1, max=64))
    value = fields.Decimal(places=2, validate=validate.Range(min=0, max=10**12, min_inclusive=False))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"))


class RequestFilterSchema(Schema):
    state = fields.String(validate=validate.OneOf(REQUEST_STATES))
    kind = fields.String(validate=validate.OneOf(REQUEST_KINDS))
    q = fields.String(validate=SEARCH)
    step = fields.Integer(validate=validate.Range(min=1, max=100))
    asset_id = id_field()
    applicant_id = id_field()
    min_value = fields.Decimal(places=2, validate=validate.Range(min=0, max=10**12))
    max_value = fields.Decimal(places=2, validate=validate.Range(min=0, max=10**12))


class RequestExportSchema(RequestFilterSchema):
    scope = fields.String(load_default="mine", validate=validate.OneOf(("mine", "inbox", "all")))
    sort = sort_field(REQUEST_SORTS, "-created_at")


class RequestQuerySchema(PageArgs, RequestExportSchema):
    pass


class DecideSchema(Schema):
    comment = fields.String(load_default="", validate=TEXT)
    version = fields.Integer(validate=validate.Range(min=1))


class RejectSchema(DecideSchema):
    comment = fields.String(required=True, validate=[TEXT, validate.Regexp(r"\S", error="A rejection needs a comment")])


class WithdrawSchema(Schema):
    version = fields.Integer(validate=validate.Range(min=1))


class BulkApproveSchema(Schema):
    ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)),
                      validate=validate.Length(min=1, max=BULK_LIMIT))
    filter = fields.Nested(RequestFilterSchema, metadata={
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


class NotificationQuerySchema(Schema):
    after_seq = fields.Integer(validate=validate.Range(min=0))
    before_seq = fields.Integer(validate=validate.Range(min=1))
    unread = fields.Boolean()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    # Page mode (when `page` is given): a numbered page with a total, searchable and filterable.
    page = fields.Integer(validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    q = fields.String(validate=SEARCH)
    status = fields.String(validate=validate.OneOf(REQUEST_STATES))
    kind = fields.String(validate=validate.OneOf(REQUEST_KINDS))
    sort = sort_field(NOTIFICATION_SORTS, "-seq")


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread_count = fields.Integer()
    last_seq = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


# --- meta -----------------------------------------------------------------

class KindRuleSchema(Schema):
    name = fields.String()
    fits = fields.List(fields.String(), allow_none=True,
                       metadata={"description": "asset statuses this kind may be asked for; null: no asset (acquire)"})
    required = fields.List(fields.String())
    optional = fields.List(fields.String())


class ApprovalRuleSchema(Schema):
    role = fields.String()
    when = fields.String()


class MetaSchema(Schema):
    kinds = fields.List(fields.Nested(KindRuleSchema))
    asset_statuses = fields.List(fields.String())
    asset_create_statuses = fields.List(fields.String())
    request_states = fields.List(fields.String())
    roles = fields.List(fields.String())
    limits = fields.Dict(keys=fields.String())
    high_value_threshold = fields.Decimal(places=2, as_string=True)
    default_currency = fields.String()
    approval_rules = fields.List(fields.Nested(ApprovalRuleSchema))
    sorts = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    bulk_limit = fields.Integer()
