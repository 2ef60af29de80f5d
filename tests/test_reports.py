"""Reports: every figure of both endpoints on a small company with known timings, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetflow.extensions import db
from assetflow.models import ROOT_DEPARTMENT_ID, Decision, Department, Request, RequestStep, User, base

from .actions import approve, request_state, submit
from .conftest import Auth
from .factories import make_asset, make_department, make_user

NOW = datetime(2026, 2, 1, tzinfo=UTC)
JAN = "from=2026-01-01&to=2026-02-01"
H = 3600


def at(day: int, hour: int = 0, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class Step:
    started: datetime
    decided: datetime | None = None
    outcome: str = "approved"
    reminded: bool = False
    escalated: bool = False
    remind: float | None = None
    escalate: float | None = None


@dataclass
class Spec:
    department: object
    kind: str
    created: datetime
    state: str
    decided: datetime | None = None
    value: str | None = None
    currency: str | None = None
    category: str | None = None
    asset_value: str | None = None
    steps: list[Step] = field(default_factory=list)


def add(applicant, spec: Spec) -> Request:
    """A request row with its steps and decisions, at the times the spec gives (the clock injected)."""
    asset = None
    if spec.kind != "acquire":
        asset = make_asset(value=spec.asset_value or "1000", category=spec.category or "Laptop")
    req = Request(kind=spec.kind, applicant_id=applicant.id, reason="r", department_id=spec.department.id,
                  asset_id=asset.id if asset else None, name="n" if spec.kind == "acquire" else None,
                  category=spec.category if spec.kind == "acquire" else None,
                  value=Decimal(spec.value) if spec.value else None, currency=spec.currency, state=spec.state,
                  step=len(spec.steps) or 1, steps_total=len(spec.steps) or 1, chain=["approver"] * len(spec.steps),
                  created_at=spec.created, updated_at=spec.created, decided_at=spec.decided)
    db.session.add(req)
    db.session.flush()
    for number, step in enumerate(spec.steps, 1):
        db.session.add(RequestStep(request_id=req.id, step=number, decider="role", role="approver",
                                   started_at=step.started, remind_after_hours=step.remind,
                                   escalate_after_hours=step.escalate,
                                   reminded_at=step.started + timedelta(minutes=1) if step.reminded else None,
                                   escalated_at=step.started + timedelta(minutes=2) if step.escalated else None))
        if step.decided is not None:
            db.session.add(Decision(request_id=req.id, step=number, approver_id=applicant.id, outcome=step.outcome,
                                    created_at=step.decided, step_started_at=step.started))
    db.session.commit()
    return req


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(base, "utcnow", lambda: NOW)


@pytest.fixture
def company(shared_app, frozen):
    """Sales (with East below it) and Ops, each with a manager, and ten requests with known timings."""
    client = shared_app.test_client()
    auth = Auth(client)
    mgr_sales, mgr_ops = make_user("approver", "mgr_sales"), make_user("approver", "mgr_ops")
    sales = make_department("Sales", manager=mgr_sales)
    east = make_department("East", parent=sales)
    ops = make_department("Ops", manager=mgr_ops)
    applicant = make_user("employee", "applicant")
    specs = {
        "r1": Spec(sales, "acquire", at(5, 10), "approved", at(5, 12), "100", "CNY", "Laptop",
                   steps=[Step(at(5, 10), at(5, 12), reminded=True)]),
        "r2": Spec(east, "assign", at(6), "approved", at(6, 4), category="Laptop", asset_value="2000.50",
                   steps=[Step(at(6), at(6, 4), reminded=True, escalated=True)]),
        "r3": Spec(ops, "acquire", at(7), "approved", at(8), "50", "USD", "Phone",
                   steps=[Step(at(7), at(7, 6)), Step(at(7, 6), at(8))]),
        "r4": Spec(sales, "acquire", at(10), "pending", None, "30", "USD", "Laptop",
                   steps=[Step(at(10), remind=24, escalate=48)]),
        "r5": Spec(east, "assign", at(11), "withdrawn", at(11, 1), steps=[Step(at(11))]),
        "r6": Spec(ops, "repair", at(20), "pending", steps=[Step(at(20))]),
        "r7": Spec(sales, "acquire", at(20, 0, 12, 2025), "approved", at(3), "10", "USD", "Laptop",
                   steps=[Step(at(20, 0, 12, 2025), at(3))]),
        "r8": Spec(sales, "acquire", at(25), "pending", None, "5", "CNY", "Laptop",
                   steps=[Step(at(25), remind=1000)]),
        "r10": Spec(ops, "dispose", at(15), "rejected", at(15, 8), asset_value="999",
                    steps=[Step(at(15), at(15, 8), outcome="rejected")]),
    }
    rows = {name: add(applicant, spec) for name, spec in specs.items()}
    users = {"admin": make_user("admin", "boss"), "mgr_sales": mgr_sales, "mgr_ops": mgr_ops,
             "employee": applicant, "approver": make_user("approver", "plain")}
    return {"client": client, "h": {name: auth.headers(user) for name, user in users.items()},
            "sales": sales, "east": east, "ops": ops, "rows": rows}


def get(company, who: str, path: str):
    return company["client"].get(path, headers=company["h"][who])


def ok(company, who: str, path: str) -> dict:
    response = get(company, who, path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_admin_summary_gives_every_figure_of_the_company(company):
    body = ok(company, "admin", f"/api/reports/summary?{JAN}")
    sales, east, ops = company["sales"].id, company["east"].id, company["ops"].id
    assert body["from"] == "2026-01-01T00:00:00+00:00" and body["to"] == "2026-02-01T00:00:00+00:00"
    assert body["tz"] == "UTC"
    assert body["counts"] == {"submitted": 8, "pending": 3, "returned": 0, "approved": 3, "rejected": 1,
                              "withdrawn": 1}
    # Decided in January: 2 h, 4 h, 8 h, 24 h and r7's 14 days (created in December); r5's withdrawal is not one.
    assert body["time_to_decision"] == {
        "n": 5, "p50_seconds": 8 * H, "p90_seconds": 86400 + 0.6 * (1209600 - 86400),
        "by_step": [{"step": 1, "n": 5, "p50_seconds": 6 * H, "p90_seconds": 8 * H + 0.6 * (1209600 - 8 * H)},
                    {"step": 2, "n": 1, "p50_seconds": 18 * H, "p90_seconds": 18 * H}],
        "by_department": sorted([
            {"department_id": sales, "n": 2, "p50_seconds": 2 * H + 0.5 * (1209600 - 2 * H),
             "p90_seconds": 2 * H + 0.9 * (1209600 - 2 * H)},
            {"department_id": east, "n": 1, "p50_seconds": 4 * H, "p90_seconds": 4 * H},
            {"department_id": ops, "n": 2, "p50_seconds": 8 * H + 0.5 * 16 * H, "p90_seconds": 8 * H + 0.9 * 16 * H},
        ], key=lambda row: row["department_id"])}
    # r7's step started in December: not among January's steps; r4 is overdue since January 11.
    overdue = company["rows"]["r4"]
    assert body["sla"] == {"steps": 9, "reminded": 2, "escalated": 1, "overdue_now": 1, "overdue_requests": [
        {"id": overdue.id, "kind": "acquire", "step": 1, "department_id": sales, "due_at": "2026-01-11T00:00:00+00:00"}]}
    assert body["approved_value"] == [
        {"department_id": sales, "category": "Laptop", "currency": "CNY", "total": "100.00"},
        {"department_id": sales, "category": "Laptop", "currency": "USD", "total": "10.00"},
        {"department_id": east, "category": "Laptop", "currency": "CNY", "total": "2000.50"},
        {"department_id": ops, "category": "Phone", "currency": "USD", "total": "50.00"}]


def test_a_manager_sees_their_department_and_its_subtree_never_another(company):
    body = ok(company, "mgr_sales", f"/api/reports/summary?{JAN}")
    assert body["counts"] == {"submitted": 5, "pending": 2, "returned": 0, "approved": 2, "rejected": 0,
                              "withdrawn": 1}
    assert body["time_to_decision"] == {
        "n": 3, "p50_seconds": 4 * H, "p90_seconds": 4 * H + 0.8 * (1209600 - 4 * H),
        "by_step": [{"step": 1, "n": 3, "p50_seconds": 4 * H, "p90_seconds": 4 * H + 0.8 * (1209600 - 4 * H)}],
        "by_department": [row for row in ok(company, "admin", f"/api/reports/summary?{JAN}")["time_to_decision"][
            "by_department"] if row["department_id"] in (company["sales"].id, company["east"].id)]}
    assert {k: v for k, v in body["sla"].items() if k != "overdue_requests"} == {
        "steps": 5, "reminded": 2, "escalated": 1, "overdue_now": 1}
    assert {row["department_id"] for row in body["approved_value"]} == {company["sales"].id, company["east"].id}

    ops = ok(company, "mgr_ops", f"/api/reports/summary?{JAN}")
    assert ops["counts"]["submitted"] == 3 and ops["sla"]["overdue_now"] == 0
    assert ops["approved_value"] == [{"department_id": company["ops"].id, "category": "Phone", "currency": "USD",
                                      "total": "50.00"}]

    east = ok(company, "mgr_sales", f"/api/reports/summary?{JAN}&department_id={company['east'].id}")
    assert east["counts"] == {"submitted": 2, "pending": 0, "returned": 0, "approved": 1, "rejected": 0,
                              "withdrawn": 1}
    assert east["time_to_decision"]["p50_seconds"] == 4 * H and east["sla"]["overdue_now"] == 0


@pytest.mark.parametrize("path", ["summary?", "timeseries?metric=submitted&"])
def test_another_subtree_or_no_department_to_manage_is_403(company, path):
    for who, query in (("mgr_sales", f"department_id={company['ops'].id}"), ("mgr_ops", f"department_id="
                       f"{company['east'].id}"), ("employee", ""), ("approver", "")):
        response = get(company, who, f"/api/reports/{path}{query}")
        assert response.status_code == 403, (who, response.get_json())
        assert response.get_json()["error"]["code"] == "forbidden"
    assert get(company, "admin", f"/api/reports/{path}department_id=999").status_code == 404


@pytest.mark.parametrize("query, bad", [
    ("metric=speed", "metric"), ("metric=submitted&interval=hour", "interval"), ("interval=day", "metric"),
    ("metric=submitted&tz=Mars/Olympus", "tz"), ("metric=submitted&from=yesterday", "from"),
    ("metric=submitted&kind=steal", "kind"),
])
def test_unknown_metric_interval_or_filter_is_422(company, query, bad):
    response = get(company, "admin", f"/api/reports/timeseries?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and bad in error["details"]["fields"]


def test_a_range_that_ends_before_it_starts_or_has_too_many_buckets_is_422(company):
    backwards = get(company, "admin", "/api/reports/summary?from=2026-02-01&to=2026-01-01")
    assert backwards.status_code == 422 and "from" in backwards.get_json()["error"]["details"]
    many = get(company, "admin", "/api/reports/timeseries?metric=submitted&from=2020-01-01&to=2026-01-01")
    assert many.status_code == 422 and "interval" in many.get_json()["error"]["details"]


def test_the_default_range_is_the_last_30_days_including_today(company):
    body = ok(company, "admin", "/api/reports/summary?tz=Asia/Shanghai")
    # Now is 2026-02-01 08:00 in Shanghai: today ends at the next local midnight.
    assert body["from"] == "2026-01-03T00:00:00+08:00" and body["to"] == "2026-02-02T00:00:00+08:00"


def points(company, metric: str, query: str = f"{JAN}&interval=week", who: str = "admin") -> list:
    return ok(company, who, f"/api/reports/timeseries?metric={metric}&{query}")["points"]


WEEKS = ["2025-12-29", "2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]


def test_every_timeseries_metric_by_week_with_empty_weeks_present(company):
    starts = [f"{day}T00:00:00+00:00" for day in WEEKS]

    def weekly(values: list) -> list:
        return [{"start": s, "value": v} for s, v in zip(starts, values, strict=True)]

    assert points(company, "submitted") == weekly([0, 5, 1, 2, 0])
    assert points(company, "decided") == weekly([1, 3, 1, 0, 0])
    assert points(company, "time_to_decision") == weekly([1209600, 4 * H, 8 * H, None, None])
    values = {"CNY": ["0.00", "2100.50", "0.00", "0.00", "0.00"], "USD": ["10.00", "50.00", "0.00", "0.00", "0.00"]}
    assert points(company, "approved_value") == [
        {"start": s, "currency": c, "value": values[c][i]} for i, s in enumerate(starts) for c in ("CNY", "USD")]
    body = ok(company, "admin", f"/api/reports/timeseries?metric=submitted&{JAN}&interval=month")
    assert body["points"] == [{"start": "2026-01-01T00:00:00+00:00", "value": 8}]
    assert (body["metric"], body["interval"], body["tz"]) == ("submitted", "month", "UTC")


def test_a_managers_series_hold_only_their_subtree(company):
    assert [p["value"] for p in points(company, "submitted", who="mgr_ops")] == [0, 1, 1, 1, 0]
    assert [p["value"] for p in points(company, "decided", who="mgr_sales")] == [1, 2, 0, 0, 0]
    acquire = points(company, "submitted", f"{JAN}&interval=week&kind=acquire")
    assert [p["value"] for p in acquire] == [0, 3, 0, 1, 0]


def test_buckets_start_at_local_midnight_in_the_time_zone(shared_app, frozen):
    applicant = make_user("employee")
    client = shared_app.test_client()
    headers = Auth(client).headers(make_user("admin"))
    root = db.session.get(Department, ROOT_DEPARTMENT_ID)
    for created in (datetime(2026, 1, 5, 15, 59, 59, tzinfo=UTC), datetime(2026, 1, 5, 16, tzinfo=UTC)):
        add(applicant, Spec(root, "acquire", created, "pending", value="1", currency="CNY", category="X"))

    def series(query: str) -> list:
        response = client.get(f"/api/reports/timeseries?metric=submitted&{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [(p["start"], p["value"]) for p in response.get_json()["points"]]

    # 23:59:59 and 00:00 in Shanghai: two days there, one day in UTC.
    assert series("from=2026-01-05&to=2026-01-07&tz=Asia/Shanghai") == [
        ("2026-01-05T00:00:00+08:00", 1), ("2026-01-06T00:00:00+08:00", 1)]
    assert series("from=2026-01-05&to=2026-01-07") == [("2026-01-05T00:00:00+00:00", 2),
                                                         ("2026-01-06T00:00:00+00:00", 0)]
    # A time without an offset is read in tz; the first bucket is the day holding it.
    assert series("from=2026-01-06T00:00&to=2026-01-07&tz=Asia/Shanghai") == [("2026-01-06T00:00:00+08:00", 1)]
    # Across a daylight-saving change the buckets still start at local midnight (23 hours long that day).
    assert [start for start, _ in series("from=2026-03-07&to=2026-03-10&tz=America/New_York")] == [
        "2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"]
    # Weeks start on Monday; a first week begun before `from` counts only from `from` on.
    assert series("from=2026-01-06&to=2026-01-13&tz=Asia/Shanghai&interval=week") == [
        ("2026-01-05T00:00:00+08:00", 1), ("2026-01-12T00:00:00+08:00", 0)]


def _percentile(values: list[float], p: float) -> float | None:
    """The naive interpolated percentile (percentile_cont's definition), for the cross-check."""
    if not values:
        return None
    ordered, position = sorted(values), p * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


requests_strategy = st.lists(st.tuples(
    st.integers(0, 60 * 24 * 20),  # created: minutes after 2026-01-01
    st.sampled_from(["approved", "rejected", "withdrawn", "pending"]),
    st.integers(1, 60 * 24 * 15),  # minutes to decision
    st.sampled_from(["CNY", "USD"]),
    st.integers(1, 100_000),  # cents
), max_size=25)


def test_a_decision_keeps_when_its_step_started(client, people):
    """The per-step times read the decision alone: it must carry its step's start, every step of a chain."""
    body = submit(client, people["alice"], "assign", asset_id=make_asset(value="90000").id)  # two steps
    for person in ("bob", "admin"):
        if request_state(body["id"])[0] == "pending":
            approve(client, people[person], body["id"])
    steps = {s.step: s.started_at for s in db.session.scalars(
        sa.select(RequestStep).where(RequestStep.request_id == body["id"]))}
    decided = db.session.scalars(sa.select(Decision).where(Decision.request_id == body["id"])).all()
    assert len(decided) == 2 and {d.step: d.step_started_at for d in decided} == {d.step: steps[d.step] for d in decided}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=requests_strategy)
def test_random_data_sets_match_a_naive_computation(shared_app, data):
    db.session.execute(sa.delete(Decision))
    db.session.execute(sa.delete(RequestStep))
    db.session.execute(sa.delete(Request))
    db.session.commit()
    admin = db.session.scalar(sa.select(User).where(User.username == "xadmin")) or make_user("admin", "xadmin")
    root = db.session.get(Department, ROOT_DEPARTMENT_ID)
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 16, tzinfo=UTC)
    durations, totals, submitted = [], {}, [0] * 15
    for minutes, state, to_decision, currency, cents in data:
        created = start + timedelta(minutes=minutes)
        decided = created + timedelta(minutes=to_decision) if state != "pending" else None
        add(admin, Spec(root, "acquire", created, state, decided, str(Decimal(cents) / 100), currency, "Laptop"))
        if start <= created < end:
            submitted[(created - start).days] += 1
        if state in ("approved", "rejected") and start <= decided < end:
            durations.append(to_decision * 60.0)
            if state == "approved":
                totals[currency] = totals.get(currency, 0) + cents
    client = shared_app.test_client()
    headers = Auth(client).headers(admin)
    body = client.get("/api/reports/summary?from=2026-01-01&to=2026-01-16", headers=headers).get_json()
    ttd = body["time_to_decision"]
    assert ttd["n"] == len(durations)
    for key, p in (("p50_seconds", 0.5), ("p90_seconds", 0.9)):
        expected = _percentile(durations, p)
        assert ttd[key] == (None if expected is None else pytest.approx(expected, abs=0.051))
    assert {row["currency"]: row["total"] for row in body["approved_value"]} == {
        c: f"{Decimal(v) / 100:.2f}" for c, v in totals.items()}
    series = client.get("/api/reports/timeseries?metric=submitted&from=2026-01-01&to=2026-01-16",
                        headers=headers).get_json()["points"]
    assert [p["value"] for p in series] == submitted

