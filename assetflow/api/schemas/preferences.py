"""A user's e-mail preferences."""

from __future__ import annotations

from marshmallow import fields, validate

from ...models.user import EMAIL_MODES, LANGUAGES
from .fields import InputSchema


class PreferencesSchema(InputSchema):
    email = fields.String(required=True, attribute="email_mode", validate=validate.OneOf(EMAIL_MODES),
                          metadata={"description": "off: no e-mail; instant: each unread notification after "
                                                   "EMAIL_DELAY_SECONDS; digest: unread ones gathered"})
    digest_minutes = fields.Integer(strict=True, validate=validate.Range(min=15, max=7 * 24 * 60), load_default=60)
    language = fields.String(validate=validate.OneOf(LANGUAGES), load_default="en",
                             metadata={"description": "The language of e-mails"})
