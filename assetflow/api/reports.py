"""Reports: how approvals perform, for admins (the company) and managers (their departments)."""

from flask_jwt_extended import get_current_user, jwt_required

from ..services import reports
from .base import ApiBlueprint
from .schemas.reports import ReportQuerySchema, ReportSummarySchema, ReportTimeseriesSchema, TimeseriesQuerySchema

blp = ApiBlueprint("reports", __name__, url_prefix="/api/reports", description="How approvals perform")


@blp.get("/summary")
@jwt_required()
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSummarySchema)
@blp.errors(401, 403, 404, 422)
def summary(args):
    """Counts by outcome, time to decision (overall and per step), SLA counts, overdue now, approved value."""
    return reports.summary(get_current_user(), args)


@blp.get("/timeseries")
@jwt_required()
@blp.arguments(TimeseriesQuerySchema, location="query")
@blp.response(200, ReportTimeseriesSchema)
@blp.errors(401, 403, 404, 422)
def timeseries(args):
    """One metric per day, week or month of the range, empty buckets included."""
    return reports.timeseries(get_current_user(), args)
