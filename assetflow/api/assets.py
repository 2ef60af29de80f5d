"""Assets: list, detail, and the admin's create and edit."""

from flask_jwt_extended import get_current_user, jwt_required

from ..auth.tokens import roles_required
from ..services import assets, export, listing
from .base import ApiBlueprint, csv_download, link
from .budgets import write_budget
from .schemas.assets import (
    AssetCreateSchema,
    AssetDetailSchema,
    AssetFilterSchema,
    AssetQuerySchema,
    AssetSchema,
    AssetUpdateSchema,
    CategoryListSchema,
    CustodyHistorySchema,
)
from .schemas.fields import page_of

blp = ApiBlueprint("assets", __name__, url_prefix="/api/assets", description="Fixed assets")


def asset_links(pointer: str) -> dict:
    """Links from a response naming an asset (at this JSON pointer) to reading and editing it."""
    ref = f"$response.body#{pointer}"
    return {"GetAsset": link("/api/assets/{asset_id}", "get", asset_id=ref),
            "UpdateAsset": link("/api/assets/{asset_id}", "patch", asset_id=ref),
            "RequestRepair": link("/api/requests", "post", body={"kind": "repair", "asset_id": ref,
                                                                 "reason": "It needs a repair"})}


@blp.get("")
@jwt_required()
@blp.arguments(AssetQuerySchema, location="query")
@blp.response(200, page_of(AssetSchema))
@blp.links(200, **asset_links("/items/0/id"))
@blp.errors(401, 422)
def index(args):
    """Assets matching the filters (`mine`: what I hold), one page, by tag unless sorted."""
    items, total = listing.assets_page(get_current_user(), args)
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.get("/export.csv")
@jwt_required()
@blp.arguments(AssetFilterSchema, location="query")
@blp.response(200, content_type="text/csv")
@blp.errors(401, 422)
def export_csv(args):
    """Every asset matching the list's filters, as CSV in the columns of an assets import (streamed, UTF-8 with
    BOM): the file re-imports as "unchanged"."""
    return csv_download(export.assets_rows(get_current_user(), args), "assets.csv")


@blp.get("/categories")
@jwt_required()
@blp.response(200, CategoryListSchema)
@blp.errors(401)
def categories():
    """Every asset category in use, for filters and forms."""
    return {"items": assets.categories()}


@blp.get("/<id:asset_id>")
@jwt_required()
@blp.response(200, AssetDetailSchema)
@blp.errors(401, 404)
def show(asset_id):
    """One asset with the requests made on it that I may see."""
    return assets.get_asset_detail(get_current_user(), asset_id)


@blp.get("/<id:asset_id>/history")
@jwt_required()
@blp.response(200, CustodyHistorySchema)
@blp.errors(401, 404)
def history(asset_id):
    """Every change of the asset's custodian and status, oldest first."""
    return {"items": assets.custody_history(get_current_user(), asset_id)}


@blp.post("")
@jwt_required()
@write_budget("assets")
@roles_required("admin")
@blp.arguments(AssetCreateSchema)
@blp.response(201, AssetSchema)
@blp.links(201, **asset_links("/id"))
@blp.errors(400, 401, 403, 409, 413, 422)
def create(data):
    """Register a new asset (admin)."""
    return assets.create_asset(data, get_current_user())


@blp.patch("/<id:asset_id>")
@jwt_required()
@write_budget("assets")
@roles_required("admin")
@blp.arguments(AssetUpdateSchema)
@blp.response(200, AssetSchema)
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def update(data, asset_id):
    """Edit an asset's details, or close a repair (admin)."""
    return assets.update_asset(asset_id, data, get_current_user())
