"""Reports on how approvals perform: every figure aggregated in SQL, on PostgreSQL and on SQLite.

The definitions of each figure are in docs/api.md ("Reports"). Two choices made here:
- Percentiles: PostgreSQL's `percentile_cont`; SQLite has none, so the same interpolation is computed there
  with window functions (each duration's rank and its group's size), never by reading durations into Python.
- "Value at approval": an acquire's own requested value and currency; any other kind's asset value and
  currency as they are now (an admin's later edit of an asset's value shows; it is audited in asset_events).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..actor import Actor
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import Asset, Decision, Department, Request, RequestStep, base
from ..models.base import UTCDateTime
from ..models.request import REQUEST_STATES
from .routing import descendants

OUTCOMES = REQUEST_STATES  # pending, returned, approved, rejected, withdrawn
DECIDED = ("approved", "rejected")  # a withdrawal is not a decision
DEFAULT_DAYS = 30
MAX_BUCKETS = 1000  # a day per point over almost three years; beyond that ask for weeks or months
OVERDUE_LISTED = 50
# GROUP BY the selected columns by position: PostgreSQL does not see two renderings of an expression with bound
# parameters (a time zone, the default currency) as the same expression.
BY_POSITION = [sa.text(str(n)) for n in range(1, 4)]


@dataclass(frozen=True)
class Window:
    """The half-open range [start, end) as aware datetimes in the caller's time zone."""

    start: datetime
    end: datetime
    tz: ZoneInfo

    @property
    def utc(self) -> tuple[datetime, datetime]:
        return self.start.astimezone(UTC), self.end.astimezone(UTC)


def _local(value: date | datetime, tz: ZoneInfo) -> datetime:
    """A date (its local midnight) or a time (read in tz unless it carries an offset) as an aware time in tz."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def window(tz: ZoneInfo, start: date | datetime | None, end: date | datetime | None) -> Window:
    """The caller's range; by default the 30 days that end with today (local midnight to local midnight)."""
    now = base.utcnow().astimezone(tz)
    until = _local(end, tz) if end is not None else _local(now.date() + timedelta(days=1), tz)
    since = _local(start, tz) if start is not None else _local(until.date() - timedelta(days=DEFAULT_DAYS), tz)
    if since >= until:
        raise ValidationFailed("`from` must be before `to`", {"from": ["Must be before `to`"]})
    return Window(since, until, tz)


# --- who sees what ---------------------------------------------------------

def scope(actor: Actor, department_id: int | None) -> list[int] | None:
    """The departments the figures cover (None: the whole company); 403 for anyone but admins and managers."""
    managed = None if actor.role == "admin" else _managed(actor)
    if department_id is None:
        return managed
    if db.session.get(Department, department_id) is None:
        raise NotFound(f"Department {department_id} not found")
    if managed is not None and department_id not in managed:
        raise Forbidden("You may see reports of the departments you manage only", {"department_id": department_id})
    return descendants(department_id)


def _managed(actor: Actor) -> list[int]:
    heads = db.session.scalars(sa.select(Department.id).where(Department.manager_id == actor.id)).all()
    if not heads:
        raise Forbidden("Reports are for admins and department managers")
    covered: list[int] = []
    for head in heads:
        covered += [d for d in descendants(head) if d not in covered]
    return covered


def _filters(departments: list[int] | None, kind: str | None) -> list[Any]:
    """Conditions on Request for the department subtree and kind asked for."""
    conditions = []
    if departments is not None:
        conditions.append(Request.department_id.in_(departments))
    if kind is not None:
        conditions.append(Request.kind == kind)
    return conditions


def _between(column: Any, win: Window) -> Any:
    start, end = win.utc
    return sa.and_(column >= start, column < end)


# --- SQL building blocks that differ by database ----------------------------

def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _seconds(start: Any, end: Any) -> Any:
    """SQL: seconds from `start` to `end` (both naive UTC timestamps)."""
    if _postgres():
        return sa.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def _percentiles(durations: Any, groups: list[Any]) -> sa.Select:
    """SQL: per group of `durations` (a subquery with column `d` and the group columns): n, p50, p90.

    PostgreSQL: percentile_cont. SQLite: the same linear interpolation between the ranks around
    p * (n - 1), ranked by window functions.
    """
    d = durations.c.d
    if _postgres():
        return (sa.select(*groups, sa.func.count().label("n"),
                          sa.func.percentile_cont(0.5).within_group(d).label("p50"),
                          sa.func.percentile_cont(0.9).within_group(d).label("p90"))
                .group_by(*groups))
    by = {"partition_by": groups} if groups else {}
    ranked = sa.select(*groups, d, (sa.func.row_number().over(order_by=d, **by) - 1).label("rank"),
                       sa.func.count().over(**by).label("n")).subquery()
    keys = [ranked.c[g.key] for g in groups]

    def around(p: float) -> list[Any]:
        below = sa.cast(p * (ranked.c.n - 1), sa.Integer)  # floor: the position is never negative
        return [sa.func.max(sa.case((ranked.c.rank == below, ranked.c.d))).label(f"lo{int(p * 100)}"),
                sa.func.max(sa.case((ranked.c.rank == below + 1, ranked.c.d))).label(f"hi{int(p * 100)}")]

    bounds = sa.select(*keys, sa.func.max(ranked.c.n).label("n"), *around(0.5), *around(0.9)) \
        .group_by(*keys).subquery()

    def interpolate(p: float) -> Any:
        lo, hi = bounds.c[f"lo{int(p * 100)}"], bounds.c[f"hi{int(p * 100)}"]
        position = p * (bounds.c.n - 1)
        return lo + (position - sa.cast(position, sa.Integer)) * (sa.func.coalesce(hi, lo) - lo)

    return sa.select(*[bounds.c[g.key] for g in groups], bounds.c.n,
                     interpolate(0.5).label("p50"), interpolate(0.9).label("p90"))


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds), 1)


def _money_sum(value: Any) -> Any:
    """SQL: an exact sum of money. SQLite keeps NUMERIC as a float, so it sums whole cents there."""
    if _postgres():
        return sa.func.sum(value)
    return sa.func.sum(sa.cast(sa.func.round(value * 100), sa.Integer))


def _money(total: Any) -> str:
    amount = Decimal(total) if _postgres() else Decimal(int(total)) / 100
    return f"{amount.quantize(Decimal('0.01'))}"


def _valued() -> tuple[Any, Any, Any]:
    """SQL: the category, value and currency of an approved request (needs an outer join to Asset)."""
    own = Request.value.is_not(None)
    default = current_app.config["DEFAULT_CURRENCY"]
    return (sa.func.coalesce(Request.category, Asset.category, ""),
            sa.case((own, Request.value), else_=Asset.value),
            sa.case((own, sa.func.coalesce(Request.currency, default)), else_=Asset.currency))


# --- the summary --------------------------------------------------------------

def summary(actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Every figure of GET /api/reports/summary for this actor and these filters."""
    win = window(args["tz"], args.get("start"), args.get("end"))
    where = _filters(scope(actor, args.get("department_id")), args.get("kind"))
    if _postgres():  # the per-step and per-department percentiles sort ~100,000 rows: in memory, not on disk
        db.session.execute(sa.text("SET LOCAL work_mem = '32MB'"))
    return {"start": win.start, "end": win.end, "tz": win.tz.key, "counts": _counts(win, where),
            "time_to_decision": _time_to_decision(win, where), "sla": _sla(win, where),
            "approved_value": _approved_value(win, where)}


def _counts(win: Window, where: list[Any]) -> dict[str, int]:
    rows = db.session.execute(sa.select(Request.state, sa.func.count())
                              .where(_between(Request.created_at, win), *where).group_by(Request.state)).all()
    counts = dict.fromkeys(OUTCOMES, 0) | dict(rows)
    return {"submitted": sum(counts.values()), **counts}


def _request_durations(win: Window, where: list[Any], *columns: Any) -> Any:
    """Subquery: seconds from creation to final decision of the requests decided in the window (column d)."""
    return (sa.select(*columns, _seconds(Request.created_at, Request.decided_at).label("d"))
            .where(Request.state.in_(DECIDED), _between(Request.decided_at, win), *where).subquery())


def _time_to_decision(win: Window, where: list[Any]) -> dict[str, Any]:
    overall, by_department = _overall_and_by_department(win, where)
    steps = sa.select(Decision.step.label("step"), _seconds(Decision.step_started_at, Decision.created_at).label("d"))
    if where:  # the requests themselves only when a department or kind narrows them (not for the whole company)
        steps = steps.join(Request, Request.id == Decision.request_id)
    steps = steps.where(Decision.outcome.in_(DECIDED), Decision.step_started_at.is_not(None),
                        _between(Decision.created_at, win), *where).subquery()
    by_step = db.session.execute(_percentiles(steps, [steps.c.step]).order_by(sa.text("1"))).all()
    return {"n": overall.n or 0, "p50_seconds": _rounded(overall.p50), "p90_seconds": _rounded(overall.p90),
            "by_step": [{"step": row.step, "n": row.n, "p50_seconds": _rounded(row.p50),
                         "p90_seconds": _rounded(row.p90)} for row in by_step],
            "by_department": [{"department_id": row.department_id, "n": row.n, "p50_seconds": _rounded(row.p50),
                               "p90_seconds": _rounded(row.p90)} for row in by_department]}


@dataclass(frozen=True)
class _Percentiles:
    n: int = 0
    p50: float | None = None
    p90: float | None = None


def _overall_and_by_department(win: Window, where: list[Any]) -> tuple[Any, list[Any]]:
    """Time to decision over all the requests decided in the window, and per department.

    PostgreSQL computes both from one scan (GROUPING SETS: the company's row has no department); SQLite, which
    has no grouping sets, in two statements.
    """
    durations = _request_durations(win, where, Request.department_id.label("department_id"))
    department = durations.c.department_id
    if _postgres():
        grouped = _percentiles(durations, []).add_columns(department, sa.func.grouping(department).label("whole")) \
            .group_by(sa.func.grouping_sets(sa.tuple_(), sa.tuple_(department))).order_by(department)
        rows = db.session.execute(grouped).all()
        overall = next((row for row in rows if row.whole), _Percentiles())
        return overall, [row for row in rows if not row.whole]
    overall = db.session.execute(_percentiles(durations, [])).one()
    by_department = db.session.execute(_percentiles(durations, [department]).order_by(sa.text("1"))).all()
    return overall, by_department


def _sla(win: Window, where: list[Any]) -> dict[str, Any]:
    counted = sa.select(sa.func.count(), sa.func.count(RequestStep.reminded_at),
                        sa.func.count(RequestStep.escalated_at))
    if where:
        counted = counted.join(Request, Request.id == RequestStep.request_id)
    started = db.session.execute(counted.where(_between(RequestStep.started_at, win), *where)).one()
    overdue, overdue_now = _overdue(where)
    return {"steps": started[0], "reminded": started[1], "escalated": started[2],
            "overdue_now": overdue_now, "overdue_requests": overdue}


def _overdue_where(where: list[Any]) -> list[Any]:
    """Conditions: a pending request whose current step's first timer is due (as the timers judge it: <= now)."""
    return [Request.state == "pending", RequestStep.request_id == Request.id, RequestStep.step == Request.step,
            RequestStep.due_at <= base.utcnow(), *where]


def _overdue(where: list[Any]) -> tuple[list[dict[str, Any]], int]:
    """The overdue requests, the longest overdue first (at most OVERDUE_LISTED), with when they were due; and how
    many there are in all (counted by the same scan)."""
    rows = db.session.execute(
        sa.select(Request.id, Request.kind, Request.step, Request.department_id, RequestStep.due_at,
                  sa.func.count().over().label("total"))
        .where(*_overdue_where(where))
        .order_by(RequestStep.due_at, Request.id)
        .limit(OVERDUE_LISTED)).all()
    listed = [{"id": row.id, "kind": row.kind, "step": row.step, "department_id": row.department_id,
               "due_at": row.due_at} for row in rows]
    return listed, (rows[0].total if rows else 0)


def _approved_value(win: Window, where: list[Any]) -> list[dict[str, Any]]:
    category, value, currency = _valued()
    rows = db.session.execute(
        sa.select(Request.department_id, category.label("category"), currency.label("currency"),
                  _money_sum(value).label("total"))
        .outerjoin(Asset, Asset.id == Request.asset_id)
        .where(Request.state == "approved", _between(Request.decided_at, win), value.is_not(None), *where)
        .group_by(*BY_POSITION[:3]).order_by(*BY_POSITION[:3])).all()
    return [{"department_id": row.department_id, "category": row.category, "currency": row.currency,
             "total": _money(row.total)} for row in rows]


# --- the time series ----------------------------------------------------------

def buckets(win: Window, interval: str) -> list[datetime]:
    """Bucket starts at local midnight in the window's time zone (weeks on Monday), the first holding `from`,
    and the end of the last; each an aware time in tz."""
    first = win.start.date()
    if interval == "week":
        first -= timedelta(days=first.weekday())
    elif interval == "month":
        first = first.replace(day=1)
    starts = [_local(first, win.tz)]
    while starts[-1] < win.end:
        if len(starts) > MAX_BUCKETS:
            raise ValidationFailed(f"More than {MAX_BUCKETS} points: choose a longer interval or a shorter range",
                                   {"interval": [f"Too many {interval}s in the range"]})
        starts.append(_local(_next(starts[-1].date(), interval), win.tz))
    return starts


def _next(day: date, interval: str) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7)
    return day + timedelta(days=monthrange(day.year, day.month)[1] - day.day + 1)


def timeseries(actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    """Every point of GET /api/reports/timeseries for this actor, metric, interval and filters."""
    win = window(args["tz"], args.get("start"), args.get("end"))
    where = _filters(scope(actor, args.get("department_id")), args.get("kind"))
    metric, interval = args["metric"], args["interval"]
    starts = buckets(win, interval)
    points = POINTS[metric](win, where, starts, interval)
    return {"metric": metric, "interval": interval, "tz": win.tz.key, "start": win.start, "end": win.end,
            "points": points}


def _bucketed(column: Any, win: Window, starts: list[datetime], interval: str) -> tuple[Any, list[Any], Any]:
    """SQL to put rows in buckets by `column`: (bucket key expression, extra FROM/conditions, key of bucket i).

    PostgreSQL truncates the local time in tz itself (date_trunc's weeks start on Monday); SQLite has no
    time zones, so rows are joined to a VALUES list of the buckets' UTC bounds.
    """
    if _postgres():
        local = sa.func.date_trunc(interval, sa.func.timezone(win.tz.key, sa.func.timezone("UTC", column)))
        return local, [], lambda i: starts[i].replace(tzinfo=None)
    table = sa.values(sa.column("idx", sa.Integer), sa.column("lo", UTCDateTime), sa.column("hi", UTCDateTime),
                      name="buckets").data([(i, starts[i], starts[i + 1]) for i in range(len(starts) - 1)]).cte()
    return table.c.idx, [column >= table.c.lo, column < table.c.hi], lambda i: i


def _keyed(starts: list[datetime], key: Any) -> dict[Any, int]:
    return {key(i): i for i in range(len(starts) - 1)}


def _count_points(column: Any, conditions: list[Any]):
    """A points builder counting the rows that meet `conditions`, bucketed by `column`."""
    def build(win: Window, where: list[Any], starts: list[datetime], interval: str) -> list[dict[str, Any]]:
        bucket, join, key = _bucketed(column, win, starts, interval)
        rows = db.session.execute(sa.select(bucket.label("b"), sa.func.count())
                                  .where(*conditions, _between(column, win), *join, *where)
                                  .group_by(BY_POSITION[0])).all()
        values = [0] * (len(starts) - 1)
        index = _keyed(starts, key)
        for b, n in rows:
            values[index[b]] = n
        return [{"start": starts[i], "value": v} for i, v in enumerate(values)]
    return build


def _value_points(win: Window, where: list[Any], starts: list[datetime], interval: str) -> list[dict[str, Any]]:
    bucket, join, key = _bucketed(Request.decided_at, win, starts, interval)
    category, value, currency = _valued()
    rows = db.session.execute(
        sa.select(bucket.label("b"), currency.label("currency"), _money_sum(value).label("total"))
        .outerjoin(Asset, Asset.id == Request.asset_id)
        .where(Request.state == "approved", _between(Request.decided_at, win), value.is_not(None), *join, *where)
        .group_by(*BY_POSITION[:2])).all()
    index = _keyed(starts, key)
    totals = {(index[row.b], row.currency): _money(row.total) for row in rows}
    currencies = sorted({c for _, c in totals}) or [current_app.config["DEFAULT_CURRENCY"]]
    return [{"start": starts[i], "currency": c, "value": totals.get((i, c), "0.00")}
            for i in range(len(starts) - 1) for c in currencies]


def _median_points(win: Window, where: list[Any], starts: list[datetime], interval: str) -> list[dict[str, Any]]:
    bucket, join, key = _bucketed(Request.decided_at, win, starts, interval)
    durations = (sa.select(bucket.label("b"), _seconds(Request.created_at, Request.decided_at).label("d"))
                 .where(Request.state.in_(DECIDED), _between(Request.decided_at, win), *join, *where).subquery())
    index = _keyed(starts, key)
    medians = {index[row.b]: _rounded(row.p50)
               for row in db.session.execute(_percentiles(durations, [durations.c.b])).all()}
    return [{"start": starts[i], "value": medians.get(i)} for i in range(len(starts) - 1)]


POINTS = {
    "submitted": _count_points(Request.created_at, []),
    "decided": _count_points(Request.decided_at, [Request.state.in_(DECIDED)]),
    "approved_value": _value_points,
    "time_to_decision": _median_points,
}
