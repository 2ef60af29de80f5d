"""Server-side lists: search, filters, a whitelisted sort and pages with totals."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..errors import ValidationFailed
from ..extensions import db
from ..list_terms import (
    ASSET_SORTS,
    BULK_LIMIT,
    NOTIFICATION_SORTS,
    NULLS_LAST,
    REQUEST_DUE,
    REQUEST_SORTS,
    REQUEST_VALUE,
)
from ..models import Asset, Department, Notification, Request, User, base
from . import requests as request_service
from . import views
from .routing import descendants
from .visibility import LOADED, SCOPES

REVERSED_KEYS = {"age"}


def order_by(sort: str, columns: Mapping[str, Any], tiebreak: Any) -> list[Any]:
    """ORDER BY for a whitelisted `key` / `-key`, with a unique tiebreak so pages never overlap."""
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key in REVERSED_KEYS:
        descending = not descending
    direction = sa.desc if descending else sa.asc
    first = direction(columns[key])
    return [first.nulls_last() if key in NULLS_LAST else first, direction(tiebreak)]


def _contains(column: Any, text: str) -> Any:
    return column.icontains(text, autoescape=True)


def _request_search(text: str) -> Any:
    """Reason, what an acquire asks for, the asset's tag or name, the applicant; `#12` or `12` is an id."""
    asset_match = sa.exists().where(
        Asset.id == Request.asset_id, sa.or_(_contains(Asset.tag, text), _contains(Asset.name, text)))
    applicant_match = sa.exists().where(
        User.id == Request.applicant_id,
        sa.or_(_contains(User.display_name, text), _contains(User.username, text)))
    clauses = [_contains(Request.reason, text), _contains(Request.name, text), asset_match, applicant_match]
    number = text.strip().removeprefix("#")
    if number.isdigit() and len(number) < 10:
        clauses.append(Request.id == int(number))
    return sa.or_(*clauses)


def request_filters(user: Actor, args: Mapping[str, Any]) -> list[Any]:
    """WHERE clauses for a request list: the scope, then every filter given."""
    where = [SCOPES[args.get("scope") or "mine"](user)]
    for field in ("state", "kind", "step", "asset_id", "applicant_id"):
        if args.get(field) is not None:
            where.append(getattr(Request, field) == args[field])
    if args.get("q"):
        where.append(_request_search(args["q"]))
    if args.get("min_value") is not None:
        where.append(REQUEST_VALUE >= args["min_value"])
    if args.get("max_value") is not None:
        where.append(REQUEST_VALUE <= args["max_value"])
    if args.get("department_id") is not None:
        where.append(Request.department_id.in_(_department_and_below(args["department_id"])))
    if args.get("overdue") is not None:
        now = base.utcnow()
        where.append(REQUEST_DUE <= now if args["overdue"] else sa.or_(REQUEST_DUE.is_(None), REQUEST_DUE > now))
    return where


def _department_and_below(department_id: int) -> list[int]:
    """The department filter: the request's department or any below it; 422 for a department that does not exist."""
    if db.session.get(Department, department_id) is None:
        raise ValidationFailed(f"Department {department_id} does not exist",
                               {"fields": {"department_id": [f"Department {department_id} does not exist"]}})
    return descendants(department_id)


def _page(query: sa.Select, where: list[Any], model: type, page: int, per_page: int) -> tuple[list, int]:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).unique()
    return list(rows), total


def requests_page(user: Actor, args: Mapping[str, Any]) -> tuple[list[views.RequestView], int]:
    """One page of the requests matching scope, filters and search, in the chosen order, as this user's list rows,
    and the total."""
    where = request_filters(user, args)
    query = (sa.select(Request).where(*where).options(*LOADED)
             .order_by(*order_by(args.get("sort") or "-created_at", REQUEST_SORTS, Request.id)))
    rows, total = _page(query, where, Request, args["page"], args["per_page"])
    return views.request_page(user, rows), total


def iter_requests(user: Actor, args: Mapping[str, Any], batch: int = 500) -> Iterator[Request]:
    """Every request matching the filters, in order, fetched in batches (for exports).

    The filters are checked now, the rows read as the caller iterates: a bad filter (an unknown
    department) is a 422 before a streamed download has sent its first byte.
    """
    where = request_filters(user, args)
    query = (sa.select(Request).where(*where)
             .order_by(*order_by(args.get("sort") or "-created_at", REQUEST_SORTS, Request.id)))

    def rows() -> Iterator[Request]:
        yield from db.session.scalars(query.execution_options(yield_per=batch))

    return rows()


def inbox_ids(user: Actor, filters: Mapping[str, Any]) -> list[int]:
    """Ids of the requests waiting for this user that match the filters, oldest first; 422 beyond BULK_LIMIT."""
    limit = BULK_LIMIT
    where = request_filters(user, {**filters, "scope": "inbox"})
    query = sa.select(Request.id).where(*where).order_by(Request.created_at, Request.id).limit(limit + 1)
    ids = list(db.session.scalars(query))
    if len(ids) > limit:
        raise ValidationFailed(f"The filter matches more than {limit} requests; narrow it",
                               {"fields": {"filter": [f"More than {limit} requests match"]}, "limit": limit})
    return ids


def bulk_approve(user: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Approve the listed ids, or every inbox request matching `filter`; one result per id."""
    ids = data["ids"] if data.get("ids") else inbox_ids(user, data["filter"])
    results = request_service.bulk_approve(user, ids, data.get("comment", ""))
    for result in results:
        if "request" in result:
            result["request"] = views.request_view(user, result["request"])
    return {"matched": len(ids), "results": results}


def asset_filters(user: Actor, args: Mapping[str, Any]) -> list[Any]:
    """WHERE clauses for the asset list; `mine` is what this user holds."""
    where = []
    for field in ("status", "category", "custodian_id"):
        if args.get(field) is not None:
            where.append(getattr(Asset, field) == args[field])
    if args.get("mine"):
        where.append(Asset.custodian_id == user.id)
    if args.get("q"):
        text = args["q"]
        where.append(sa.or_(_contains(Asset.tag, text), _contains(Asset.name, text),
                            _contains(Asset.location, text), _contains(Asset.category, text)))
    return where


def assets_page(user: Actor, args: Mapping[str, Any]) -> tuple[list[Asset], int]:
    """One page of the assets matching the filters, in the chosen order (by tag by default), and the total."""
    where = asset_filters(user, args)
    query = sa.select(Asset).where(*where).order_by(*order_by(args.get("sort") or "tag", ASSET_SORTS, Asset.id))
    return _page(query, where, Asset, args["page"], args["per_page"])


def _payload_text(*path: str) -> Any:
    return Notification.payload[path if len(path) > 1 else path[0]].as_string()


def notification_filters(user_id: int, args: Mapping[str, Any]) -> list[Any]:
    """WHERE clauses for a page of the inbox: read state, the request's status and kind, a search."""
    where = [Notification.user_id == user_id]
    if args.get("unread") is not None:
        where.append(Notification.read_at.is_(None) if args["unread"] else Notification.read_at.is_not(None))
    for field in ("status", "kind"):
        if args.get(field):
            where.append(_payload_text(field) == args[field])
    if args.get("q"):
        text = args["q"]
        clauses = [_contains(_payload_text("asset_tag"), text), _contains(_payload_text("actor", "name"), text),
                   _contains(_payload_text("comment"), text),
                   _contains(_payload_text("body"), text)]  # a request_comment's text
        number = text.strip().removeprefix("#")
        if number.isdigit() and len(number) < 10:
            clauses.append(Notification.payload["request_id"].as_integer() == int(number))
        where.append(sa.or_(*clauses))
    return where


def notifications_page(user_id: int, args: Mapping[str, Any]) -> tuple[list[views.NotificationView], int]:
    """One page of the user's notifications matching the filters (newest first by default), and the total."""
    where = notification_filters(user_id, args)
    query = (sa.select(Notification).where(*where)
             .order_by(*order_by(args.get("sort") or "-seq", NOTIFICATION_SORTS, Notification.id)))
    rows, total = _page(query, where, Notification, args["page"], args["per_page"])
    return views.notification_page(rows), total
