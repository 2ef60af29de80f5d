"""GET /api/meta: the rules a client needs, published from the server's own tables."""

from __future__ import annotations

from collections.abc import Sequence

from marshmallow import Schema, fields, validate

from .fields import Money


def meta_schema(field_types: Sequence[str]) -> type[Schema]:
    """The /api/meta document; `field_types` are the kinds' field types (`services.kinds.FIELD_TYPES`, which the
    blueprint passes in: schemas import no service)."""

    class KindFieldSchema(Schema):
        name = fields.String()
        type = fields.String(validate=validate.OneOf(field_types), metadata={
            "description": "text, money, currency, asset (an asset id) or user (a user id)"})
        required = fields.Boolean()
        max_length = fields.Integer(allow_none=True)
        label = fields.String(metadata={"description": "the i18n key the SPA labels the field with"})
        default = fields.String(allow_none=True, metadata={"description": "stored when the field is omitted"})
        not_custodian = fields.Boolean(metadata={
            "description": "must not be the asset's custodian (a transfer's target)"})

    class KindRuleSchema(Schema):
        name = fields.String()
        fits = fields.List(fields.String(), allow_none=True, metadata={
            "description": "asset statuses this kind may be asked for; null: no asset (acquire)"})
        required = fields.List(fields.String())
        optional = fields.List(fields.String())
        takes_asset = fields.Boolean()
        fields_ = fields.List(fields.Nested(KindFieldSchema), data_key="fields", attribute="fields", metadata={
            "description": "the fields the kind takes besides kind and reason, in form order"})
        who_may_ask = fields.Dict(
            keys=fields.String(), values=fields.List(fields.String()),
            metadata={"description": "per asset status: who besides an admin may ask (anyone, custodian or a role)"})
        wording = fields.Dict(keys=fields.String(), values=fields.String(),
                              metadata={"description": "i18n keys: label (the kind's name), help (what it does)"})

    class AttachmentTypeSchema(Schema):
        mime = fields.String()
        extensions = fields.List(fields.String(), metadata={"description": "the first is added to a name "
                                                                           "that ends in none of them"})
        inline = fields.Boolean(metadata={"description": "shown in the page (images, PDF)"})

    class MetaSchema(Schema):
        kinds = fields.List(fields.Nested(KindRuleSchema))
        asset_statuses = fields.List(fields.String())
        asset_create_statuses = fields.List(fields.String())
        request_states = fields.List(fields.String())
        roles = fields.List(fields.String())
        limits = fields.Dict(keys=fields.String())
        high_value_threshold = Money()
        default_currency = fields.String(metadata={
            "description": "DEFAULT_CURRENCY: stored on an acquire that names no currency"})
        email_configured = fields.Boolean(metadata={
            "description": "MAIL_URL is set: e-mail preferences have an effect"})
        sorts = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
        bulk_limit = fields.Integer()
        attachment_types = fields.List(fields.Nested(AttachmentTypeSchema), metadata={
            "description": "what a file's content may be; the server reads it from the content, never the name"})

    return MetaSchema
