"""The rules a client needs, published from the server's own tables so the SPA keeps no copy."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, validate

from ..list_terms import ASSET_SORTS, BULK_LIMIT, NOTIFICATION_SORTS, REQUEST_SORTS
from ..models.asset import ASSET_STATUSES
from ..models.request import REQUEST_STATES
from ..models.user import ROLES
from ..services import filetypes
from ..services.kinds import FIELD_TYPES, KINDS, FieldSpec, KindSpec
from .base import ApiBlueprint
from .requests import SubmitSchema
from .schemas.assets import AssetCreateSchema
from .schemas.fields import MONEY_MAX, PageArgs
from .schemas.meta import meta_schema
from .schemas.requests import BulkApproveSchema, DecideSchema, RequestFilterSchema

MetaSchema = meta_schema(FIELD_TYPES)

blp = ApiBlueprint("meta", __name__, url_prefix="/api/meta", description="Rules for clients")


def _validator(schema: type[Schema], name: str, kind: type) -> Any:
    """The first validator of this kind on a schema field (the schema is where the limit lives)."""
    return next(v for v in schema().fields[name].validators if isinstance(v, kind))


def _max_length(schema: type[Schema], name: str) -> int:
    return _validator(schema, name, validate.Length).max


def _limits() -> dict[str, Any]:
    config = current_app.config
    return {
        "attachment_bytes": config["ATTACHMENT_MAX_BYTES"], "attachments": config["ATTACHMENTS_PER_REQUEST"],
        "reason": _max_length(SubmitSchema, "reason"), "name": _max_length(SubmitSchema, "name"),
        "category": _max_length(SubmitSchema, "category"), "comment": _max_length(DecideSchema, "comment"),
        "tag": _max_length(AssetCreateSchema, "tag"), "location": _max_length(AssetCreateSchema, "location"),
        "max_value": MONEY_MAX, "search": _max_length(RequestFilterSchema, "q"),
        "per_page": _validator(PageArgs, "per_page", validate.Range).max,
        "bulk": _validator(BulkApproveSchema, "ids", validate.Length).max,
    }


def _field(spec: FieldSpec) -> dict[str, Any]:
    return {"name": spec.name, "type": spec.type, "required": spec.required, "max_length": spec.max_length,
            "label": spec.label,
            "default": spec.default(),
            # The server's rule the SPA can check before a round trip; the server checks it anyway.
            "not_custodian": spec.type == "user"}


def _kind(spec: KindSpec) -> dict[str, Any]:
    return {"name": spec.name, "fits": list(spec.fits) if spec.fits is not None else None,
            "required": [f.name for f in spec.fields if f.required],
            "optional": [f.name for f in spec.fields if not f.required],
            "takes_asset": spec.takes_asset, "fields": [_field(f) for f in spec.fields],
            "who_may_ask": {status: list(who) for status, who in spec.who_may_ask.items()},
            "wording": dict(spec.wording)}


def _kinds() -> list[dict[str, Any]]:
    return [_kind(spec) for spec in KINDS.values()]


# Public: the same for everyone, no user data, and the SPA needs it before any request can race a logout.
@blp.get("")
@blp.response(200, MetaSchema)
def show():
    """Request kinds (the asset statuses each fits, their fields), limits, roles, the threshold, sorts, the types
    an attachment may have."""
    config = current_app.config
    return {
        "kinds": _kinds(), "asset_statuses": list(ASSET_STATUSES), "request_states": list(REQUEST_STATES),
        "asset_create_statuses": list(_validator(AssetCreateSchema, "status", validate.OneOf).choices),
        "roles": list(ROLES), "limits": _limits(), "high_value_threshold": config["HIGH_VALUE_THRESHOLD"],
        "default_currency": config["DEFAULT_CURRENCY"],
        # The preferences screen says so rather than offer e-mail that never leaves (issue 20).
        "email_configured": bool(config["MAIL_URL"]),
        "sorts": {"requests": list(REQUEST_SORTS), "assets": list(ASSET_SORTS),
                  "notifications": list(NOTIFICATION_SORTS)},
        "bulk_limit": BULK_LIMIT,
        "attachment_types": [{"mime": kind.mime, "extensions": list(kind.extensions), "inline": kind.inline}
                             for kind in filetypes.TYPES],
    }
