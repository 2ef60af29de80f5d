"""Assets: list, detail, and the admin's create and edit."""

from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from ..auth.tokens import roles_required
from ..services import assets, custody, listing
from .schemas import (
    AssetCreateSchema,
    AssetDetailSchema,
    AssetQuerySchema,
    AssetSchema,
    AssetUpdateSchema,
    CategoryListSchema,
    CustodyHistorySchema,
    page_of,
)

blp = Blueprint("assets", __name__, url_prefix="/api/assets", description="Fixed assets")


@blp.get("")
@jwt_required()
@blp.arguments(AssetQuerySchema, location="query")
@blp.response(200, page_of(AssetSchema))
def index(args):
    """Assets matching the filters (`mine`: what I hold), one page, by tag unless sorted."""
    items, total = listing.assets_page(current_user, args)
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.get("/categories")
@jwt_required()
@blp.response(200, CategoryListSchema)
def categories():
    """Every asset category in use, for filters and forms."""
    return {"items": assets.categories()}


@blp.get("/<int:asset_id>")
@jwt_required()
@blp.response(200, AssetDetailSchema)
def show(asset_id):
    """One asset with the requests made on it that I may see."""
    return assets.get_asset_detail(current_user, asset_id)


@blp.get("/<int:asset_id>/history")
@jwt_required()
@blp.response(200, CustodyHistorySchema)
def history(asset_id):
    """Every change of the asset's custodian and status, oldest first."""
    return {"items": custody.history(current_user, asset_id)}


@blp.post("")
@jwt_required()
@roles_required("admin")
@blp.arguments(AssetCreateSchema)
@blp.response(201, AssetSchema)
def create(data):
    """Register a new asset (admin)."""
    return assets.create_asset(data, current_user)


@blp.patch("/<int:asset_id>")
@jwt_required()
@roles_required("admin")
@blp.arguments(AssetUpdateSchema)
@blp.response(200, AssetSchema)
def update(data, asset_id):
    """Edit an asset's details, or close a repair (admin)."""
    return assets.update_asset(asset_id, data, current_user)
