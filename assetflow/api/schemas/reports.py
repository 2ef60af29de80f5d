"""Schemas of the reports (GET /api/reports/*): their descriptions define each figure in the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, fields, validate

from ...list_terms import REPORT_INTERVALS as INTERVALS
from ...list_terms import REPORT_METRICS as METRICS
from ...models.request import REQUEST_KINDS
from .fields import InputSchema, QueryInt

# Years a report can be about; outside them a time zone's offset could overflow a datetime.
YEARS = (1970, 2999)
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")


class LocalTime(fields.Field):
    """An ISO date (its local midnight) or date and time, read in `tz` unless it carries an offset."""

    default_error_messages = {"invalid": "Not an ISO date or time (e.g. 2026-01-31 or 2026-01-31T08:00)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date | datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            parsed = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None
        if not YEARS[0] <= parsed.year <= YEARS[1]:
            raise self.make_error("invalid")
        return parsed


class TimeZone(fields.Field):
    """An IANA time zone name, e.g. Asia/Shanghai."""

    default_error_messages = {"invalid": "Not a known IANA time zone (e.g. UTC, Europe/Paris, Asia/Shanghai)."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> ZoneInfo:
        if not isinstance(value, str) or len(value) > 64 or ZONE_NAME.fullmatch(value) is None:
            raise self.make_error("invalid")
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.make_error("invalid") from None

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


_TZ = {"type": "string", "example": "Asia/Shanghai"}


class ReportQuerySchema(InputSchema):
    start = LocalTime(data_key="from", metadata={"type": "string", "example": "2026-01-01", "description":
                      "Start of the range, included: an ISO date (local midnight in `tz`) or date and time "
                      "(read in `tz` unless it has an offset). Default: 30 days before `to`."})
    end = LocalTime(data_key="to", metadata={"type": "string", "example": "2026-02-01", "description":
                    "End of the range, excluded (so to=2026-02-01 covers January 31). Default: the next local "
                    "midnight in `tz`, so the default range is the last 30 days including today."})
    tz = TimeZone(load_default=ZoneInfo("UTC"), metadata={**_TZ, "default": "UTC", "description":
                  "IANA time zone in which dates are read and buckets start at local midnight"})
    department_id = QueryInt(1, metadata={"description":
                             "Only requests of this department and the departments below it (by the applicant's "
                             "department at submit). A manager may name only a department they manage or one "
                             "below it (else 403)."})
    kind = fields.String(validate=validate.OneOf(REQUEST_KINDS), metadata={"description": "Only this request kind"})


class TimeseriesQuerySchema(ReportQuerySchema):
    metric = fields.String(required=True, validate=validate.OneOf(METRICS), metadata={"description":
                           "submitted: requests created in the bucket; decided: requests approved or rejected in "
                           "it; approved_value: sum of the value of requests approved in it, one point per "
                           "currency; time_to_decision: median seconds from creation to final decision of the "
                           "requests decided in it (null when none)"})
    interval = fields.String(load_default="day", validate=validate.OneOf(INTERVALS), metadata={"description":
                             "Bucket length: buckets start at local midnight in `tz`, weeks on Monday, months on "
                             "the 1st; the first bucket holds `from`"})


class CountsSchema(Schema):
    submitted = fields.Integer(metadata={"description": "Requests created in [from, to)"})
    pending = fields.Integer(metadata={"description": "Of the submitted requests, those pending now"})
    returned = fields.Integer(metadata={"description": "Of the submitted requests, those returned for changes now"})
    approved = fields.Integer(metadata={"description": "Of the submitted requests, those approved now"})
    rejected = fields.Integer(metadata={"description": "Of the submitted requests, those rejected now"})
    withdrawn = fields.Integer(metadata={"description": "Of the submitted requests, those withdrawn now"})


_P50 = "Median seconds (interpolated, as PostgreSQL's percentile_cont(0.5)); null when n is 0"
_P90 = "90th percentile seconds (interpolated, as percentile_cont(0.9)); null when n is 0"


class StepTimeSchema(Schema):
    step = fields.Integer(metadata={"description": "Step number in the request's chain (1 = first)"})
    n = fields.Integer(metadata={"description": "Decisions (approve or reject) of this step made in [from, to), "
                                                "whatever became of the request"})
    p50_seconds = fields.Float(allow_none=True, metadata={"description": f"{_P50}; from the step's start to its "
                                                                         "decision"})
    p90_seconds = fields.Float(allow_none=True, metadata={"description": _P90})


class DepartmentTimeSchema(Schema):
    department_id = fields.Integer(metadata={"description": "The applicant's department at submit"})
    n = fields.Integer(metadata={"description": "Its requests finally approved or rejected in [from, to)"})
    p50_seconds = fields.Float(allow_none=True, metadata={"description": f"{_P50}; from creation to the final "
                                                                         "approve or reject"})
    p90_seconds = fields.Float(allow_none=True, metadata={"description": _P90})


class TimeToDecisionSchema(Schema):
    n = fields.Integer(metadata={"description": "Requests finally approved or rejected in [from, to) (a withdrawal "
                                                "is not a decision)"})
    p50_seconds = fields.Float(allow_none=True, metadata={"description": f"{_P50}; from creation to the final "
                                                                         "approve or reject"})
    p90_seconds = fields.Float(allow_none=True, metadata={"description": _P90})
    by_step = fields.List(fields.Nested(StepTimeSchema), metadata={"description": "Per step, ordered by step"})
    by_department = fields.List(fields.Nested(DepartmentTimeSchema), metadata={
        "description": "The same requests per applicant's department (at submit), ordered by department id; "
                       "departments with no decided request are absent"})


class OverdueRequestSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    step = fields.Integer(metadata={"description": "The current step, the one overdue"})
    department_id = fields.Integer()
    due_at = fields.AwareDateTime(metadata={"description": "The step's start plus the first of its reminder and "
                                                           "escalation hours"})


class SlaSchema(Schema):
    steps = fields.Integer(metadata={"description": "Steps started in [from, to) (a count)"})
    reminded = fields.Integer(metadata={"description": "Of those steps, how many sent a reminder (a count, not a "
                                                       "share)"})
    escalated = fields.Integer(metadata={"description": "Of those steps, how many were escalated (a count)"})
    overdue_now = fields.Integer(metadata={"description": "Pending requests, now, whatever the range, whose current "
                                                         "step's due time (its start plus the first of its reminder "
                                                         "and escalation hours) has passed"})
    overdue_requests = fields.List(fields.Nested(OverdueRequestSchema), metadata={
        "description": "The longest overdue of those requests (at most 50), the longest first"})


class ApprovedValueSchema(Schema):
    department_id = fields.Integer(metadata={"description": "The applicant's department at submit"})
    category = fields.String(metadata={"description": "The asset's category (an acquire's requested category)"})
    currency = fields.String(metadata={"description": "ISO 4217 code; amounts of different currencies are never "
                                                      "added together"})
    total = fields.String(metadata={"format": "decimal", "example": "12500.00", "description":
                                    "Sum over requests approved in [from, to): an acquire's requested value, "
                                    "other kinds their asset's value"})


class ReportSummarySchema(Schema):
    start = fields.AwareDateTime(data_key="from", metadata={"description": "Start of the range, with tz's offset"})
    end = fields.AwareDateTime(data_key="to", metadata={"description": "End of the range (excluded)"})
    tz = fields.String(metadata=_TZ)
    counts = fields.Nested(CountsSchema)
    time_to_decision = fields.Nested(TimeToDecisionSchema)
    sla = fields.Nested(SlaSchema)
    approved_value = fields.List(fields.Nested(ApprovedValueSchema), metadata={
        "description": "By department, category and currency"})


class PointSchema(Schema):
    start = fields.AwareDateTime(metadata={"description": "The bucket's start: local midnight in tz, with its offset"})
    value = fields.Raw(allow_none=True, metadata={"description":
                       "A count (submitted, decided; 0 when empty), a decimal string with two places "
                       "(approved_value; \"0.00\" when empty) or median seconds (time_to_decision; null when empty)"})
    currency = fields.String(metadata={"description": "approved_value only: the point's currency (when nothing was "
                                                      "approved in the range, the default currency with 0.00)"})


class ReportTimeseriesSchema(Schema):
    metric = fields.String()
    interval = fields.String()
    tz = fields.String(metadata=_TZ)
    start = fields.AwareDateTime(data_key="from")
    end = fields.AwareDateTime(data_key="to")
    points = fields.List(fields.Nested(PointSchema), metadata={
        "description": "Every bucket of the range in order, empty ones included; each counts only what falls "
                       "in [from, to)"})
