"""Approval requests: submit, list, detail, decide."""

from collections.abc import Iterator

from flask import Response, stream_with_context
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from ..services import export, listing, visibility
from ..services import requests as service
from .schemas import (
    BulkApproveSchema,
    BulkResultsSchema,
    DecideSchema,
    RejectSchema,
    RequestDetailSchema,
    RequestExportSchema,
    RequestQuerySchema,
    RequestSchema,
    StatsSchema,
    SubmitSchema,
    WithdrawSchema,
    page_of,
)

blp = Blueprint("requests", __name__, url_prefix="/api/requests", description="Approval requests")


def _csv(lines: Iterator[str], filename: str) -> Response:
    """A streamed CSV download; the generator runs inside the request context."""
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.post("")
@jwt_required()
@blp.arguments(SubmitSchema)
@blp.response(201, RequestSchema)
def submit(data):
    """Submit a request; it starts pending at step 1."""
    return service.submit(current_user, data)


@blp.get("")
@jwt_required()
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, page_of(RequestSchema))
def index(args):
    """My requests, my inbox, or all I may see; newest first."""
    items, total = listing.requests_page(current_user, args)
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.get("/export.csv")
@jwt_required()
@blp.arguments(RequestExportSchema, location="query")
@blp.response(200, content_type="text/csv")
def export_csv(args):
    """Every request matching the list's filters, as CSV (streamed, UTF-8 with BOM)."""
    return _csv(export.requests_rows(current_user, args), "requests.csv")


@blp.get("/stats")
@jwt_required()
@blp.response(200, StatsSchema)
def stats():
    """Counts by state and median time to decision, over what I may see."""
    return visibility.stats(current_user)


@blp.get("/<int:request_id>")
@jwt_required()
@blp.response(200, RequestDetailSchema)
def show(request_id):
    """One request with its decisions and audit trail."""
    return visibility.get_visible(current_user, request_id)


@blp.get("/<int:request_id>/trail.csv")
@jwt_required()
@blp.response(200, content_type="text/csv")
def trail_csv(request_id):
    """The request's audit trail as CSV (streamed, UTF-8 with BOM)."""
    return _csv(export.trail_rows(current_user, request_id), f"request-{request_id}-trail.csv")


@blp.post("/<int:request_id>/approve")
@jwt_required()
@blp.arguments(DecideSchema)
@blp.response(200, RequestSchema)
def approve(data, request_id):
    """Approve the current step."""
    return service.decide(current_user, request_id, "approve", **data)


@blp.post("/<int:request_id>/reject")
@jwt_required()
@blp.arguments(RejectSchema)
@blp.response(200, RequestSchema)
def reject(data, request_id):
    """Reject the request, with a comment."""
    return service.decide(current_user, request_id, "reject", **data)


@blp.post("/<int:request_id>/withdraw")
@jwt_required()
@blp.arguments(WithdrawSchema)
@blp.response(200, RequestSchema)
def withdraw(data, request_id):
    """Withdraw my own pending request."""
    return service.decide(current_user, request_id, "withdraw", **data)


@blp.post("/bulk-approve")
@jwt_required()
@blp.arguments(BulkApproveSchema)
@blp.response(200, BulkResultsSchema)
def bulk_approve(data):
    """Approve the listed requests, or every inbox request matching a filter; each on its own."""
    return listing.bulk_approve(current_user, data)
