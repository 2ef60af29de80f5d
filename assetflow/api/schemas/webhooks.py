"""Webhooks: subscriptions and their deliveries."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ...events import DOMAIN_EVENTS
from .fields import InputSchema, QueryInt


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
