"""Approval requests: submit, list, detail, decide."""


from flask_jwt_extended import get_current_user, jwt_required

from ..services import export, kinds, listing, returns, views, visibility
from ..services import requests as service
from .base import ApiBlueprint, csv_download, link
from .budgets import write_budget
from .schemas.fields import page_of
from .schemas.requests import (
    BulkApproveSchema,
    BulkResultsSchema,
    CommentCreateSchema,
    CommentSchema,
    DecideSchema,
    RejectSchema,
    RequestDetailSchema,
    RequestExportSchema,
    RequestQuerySchema,
    RequestSchema,
    ResubmitSchema,
    ResumeSchema,
    ReturnSchema,
    StatsSchema,
    WithdrawSchema,
    edit_schema,
    submit_schema,
)
from .uploads import accepts_files, multipart_doc, uploaded

# Built from the kinds' registry: a field a kind takes is read as the registry says.
SubmitSchema = submit_schema(kinds.all_fields())
EditSchema = edit_schema(kinds.all_fields())

blp = ApiBlueprint("requests", __name__, url_prefix="/api/requests", description="Approval requests")


def request_links(pointer: str) -> dict:
    """Links from a response naming a request (at this JSON pointer) to what can be done with it."""
    ref = f"$response.body#{pointer}"
    return {f"{action.title()}Request": link(f"/api/requests/{{request_id}}{suffix}", method, request_id=ref)
            for action, suffix, method in (("get", "", "get"), ("approve", "/approve", "post"),
                                           ("reject", "/reject", "post"), ("return", "/return", "post"),
                                           ("withdraw", "/withdraw", "post"), ("edit", "", "patch"),
                                           ("resume", "/resume", "post"))}


@blp.post("")
@jwt_required()
@write_budget("submits")
@accepts_files
@blp.arguments(SubmitSchema)
@blp.doc(requestBody=multipart_doc(with_data=True))
@blp.response(201, RequestSchema)
@blp.links(201, **request_links("/id"))
@blp.errors(400, 401, 403, 409, 413, 415, 422)
def submit(data):
    """Submit a request; it starts pending at step 1. As multipart/form-data: the JSON in the part `data` and
    files in parts `file`, stored with the request in one transaction."""
    actor = get_current_user()
    return views.request_view(actor, service.submit(actor, data, files=uploaded()))


@blp.get("")
@jwt_required()
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, page_of(RequestSchema))
@blp.links(200, **request_links("/items/0/id"))
@blp.errors(401, 422)
def index(args):
    """My requests, my inbox, or all I may see; newest first."""
    items, total = listing.requests_page(get_current_user(), args)
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.get("/export.csv")
@jwt_required()
@blp.arguments(RequestExportSchema, location="query")
@blp.response(200, content_type="text/csv")
@blp.errors(401, 422)
def export_csv(args):
    """Every request matching the list's filters, as CSV (streamed, UTF-8 with BOM)."""
    return csv_download(export.requests_rows(get_current_user(), args), "requests.csv")


@blp.get("/stats")
@jwt_required()
@blp.response(200, StatsSchema)
@blp.errors(401)
def stats():
    """Counts by state and median time to decision, over what I may see."""
    return visibility.stats(get_current_user())


@blp.get("/<id:request_id>")
@jwt_required()
@blp.response(200, RequestDetailSchema)
@blp.errors(401, 404)
def show(request_id):
    """One request with its decisions and audit trail."""
    return views.request_detail(get_current_user(), request_id)


@blp.get("/<id:request_id>/trail.csv")
@jwt_required()
@blp.response(200, content_type="text/csv")
@blp.errors(401, 404)
def trail_csv(request_id):
    """The request's audit trail as CSV (streamed, UTF-8 with BOM)."""
    return csv_download(export.trail_rows(get_current_user(), request_id), f"request-{request_id}-trail.csv")


@blp.post("/<id:request_id>/approve")
@jwt_required()
@write_budget("decisions")
@blp.arguments(DecideSchema)
@blp.response(200, RequestSchema)
@blp.links(200, **request_links("/id"))
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def approve(data, request_id):
    """Approve the current step."""
    actor = get_current_user()
    return views.request_view(actor, service.decide(actor, request_id, "approve", **data))


@blp.post("/<id:request_id>/reject")
@jwt_required()
@write_budget("decisions")
@blp.arguments(RejectSchema)
@blp.response(200, RequestSchema)
@blp.links(200, **request_links("/id"))
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def reject(data, request_id):
    """Reject the request, with a comment."""
    actor = get_current_user()
    return views.request_view(actor, service.decide(actor, request_id, "reject", **data))


@blp.post("/<id:request_id>/return")
@jwt_required()
@write_budget("decisions")
@blp.arguments(ReturnSchema)
@blp.response(200, RequestSchema)
@blp.links(200, **request_links("/id"))
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def return_(data, request_id):
    """Return the request to its applicant for changes, with a comment saying what to change."""
    actor = get_current_user()
    return views.request_view(actor, service.decide(actor, request_id, "return", **data))


@blp.patch("/<id:request_id>")
@jwt_required()
@write_budget("submits")
@blp.arguments(EditSchema)
@blp.response(200, RequestSchema)
@blp.links(200, **request_links("/id"))
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def edit(data, request_id):
    """Change my returned request, or my pending one before any decision (reason and the kind's own fields)."""
    version = data.pop("version", None)
    actor = get_current_user()
    return views.request_view(actor, returns.edit(actor, request_id, data, version))


@blp.post("/<id:request_id>/resume")
@jwt_required()
@write_budget("submits")
@blp.arguments(ResumeSchema)
@blp.response(200, RequestSchema)
@blp.links(200, **request_links("/id"))
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def resume(data, request_id):
    """Send my returned request back to its deciders (the same step, or step 1 when an edit re-routed it)."""
    actor = get_current_user()
    return views.request_view(actor, returns.resume(actor, request_id, **data))


@blp.post("/<id:request_id>/withdraw")
@jwt_required()
@write_budget("decisions")
@blp.arguments(WithdrawSchema)
@blp.response(200, RequestSchema)
@blp.links(200, **request_links("/id"))
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def withdraw(data, request_id):
    """Withdraw my own pending request."""
    actor = get_current_user()
    return views.request_view(actor, service.decide(actor, request_id, "withdraw", **data))


@blp.post("/bulk-approve")
@jwt_required()
@write_budget("decisions")
@blp.arguments(BulkApproveSchema)
@blp.response(200, BulkResultsSchema)
@blp.errors(400, 401, 413, 422)
def bulk_approve(data):
    """Approve the listed requests, or every inbox request matching a filter; each on its own."""
    return listing.bulk_approve(get_current_user(), data)


@blp.post("/<id:request_id>/resubmit")
@jwt_required()
@write_budget("submits")
@blp.arguments(ResubmitSchema)
@blp.response(201, RequestSchema)
@blp.links(201, **request_links("/id"))
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def resubmit(data, request_id):
    """Resubmit my rejected or withdrawn request: a new pending request, routed by today's rules."""
    actor = get_current_user()
    return views.request_view(actor, service.resubmit(actor, request_id, data.get("reason")))


@blp.post("/<id:request_id>/comments")
@jwt_required()
@write_budget("comments")
@blp.arguments(CommentCreateSchema)
@blp.response(201, CommentSchema)
@blp.errors(400, 401, 404, 413, 422)
def add_comment(data, request_id):
    """Comment on a request I may see; everyone else involved is told live."""
    return service.comment(get_current_user(), request_id, data["body"])
