"""The notification inbox."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...list_terms import NOTIFICATION_SORTS
from ...models.request import REQUEST_KINDS, REQUEST_STATES
from .fields import SEARCH, InputSchema, QueryInt, sort_field


class NotificationSchema(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    type = fields.String()
    payload = fields.Dict(metadata={"description": "the event the socket pushed (its name is `type`)"})
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)


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


class ReadAllQuerySchema(InputSchema):
    request_id = QueryInt(1, metadata={"description": "Only the notifications about this request"})


class ReadAllSchema(Schema):
    updated = fields.Integer(required=True, metadata={"description": "how many were unread and are read now"})
    count = fields.Integer(required=True, metadata={"description": "how many stay unread"})


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread_count = fields.Integer()
    last_seq = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
