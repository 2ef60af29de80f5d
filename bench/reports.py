"""How fast the reports answer at company size, on PostgreSQL.

    .venv/bin/python bench/reports.py [--requests 100000] [--departments 50] [--calls 7] [--quick]
    make bench-reports            (BENCH_ARGS=--quick for a short run; `make bench` runs it too)

Seeds a migrated database with `--requests` requests spread over the two years before now across
`--departments` departments (bulk inserts: requests, their steps and decisions, an asset for each
request of another kind than acquire), ANALYZEs it, then times GET /api/reports/summary and every
metric of GET /api/reports/timeseries over several ranges, as the admin (the whole company) and as
the manager of one top department (its subtree). Each figure is the median wall time of `--calls`
calls through Flask's test client (the first call, a warm-up, is not counted), beside the CPU it
cost: this process's (Flask, SQLAlchemy, JSON) and the PostgreSQL backend's (read from /proc, so the
figure holds on a shared machine where the wall time does not; parallel query workers are turned off
for the bench's connections so the backend does all of a statement's work). The floor beside them, in
the same run: a `count(*)` of every request. Prints a table and writes
bench/results/reports-<time>.json and bench/results/reports-latest.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_decision import ROOT, InProcess, bearer, with_database  # bench/ is not a package
from run import save

sys.path.insert(0, str(ROOT))

KINDS = ("acquire", "acquire", "acquire", "assign", "transfer", "repair", "dispose")
STATES = ("approved",) * 6 + ("rejected",) * 2 + ("withdrawn", "pending")
CATEGORIES = ("Laptop", "Phone", "Monitor", "Vehicle", "Furniture")
CHUNK = 5000
# (label, query): the ranges a manager looks at; the two-year one reads every row.
RANGES = (("30 days", 30, "day"), ("1 year", 365, "week"), ("2 years", 730, "month"))


def seed(app: Any, requests: int, departments: int, rng: random.Random) -> dict[str, Any]:
    """Departments with managers and an employee each, then the requests with their steps and decisions."""
    import sqlalchemy as sa

    from assetflow.extensions import db
    from assetflow.models import ROOT_DEPARTMENT_ID, Asset, Decision, Department, Request, RequestStep, User

    with app.app_context():
        hashed = db.session.scalar(sa.select(User.password_hash).limit(1))
        top = departments // 5 or 1
        people, depts = [], []
        for n in range(departments):
            manager = User(username=f"rep-mgr-{n}", display_name=f"Manager {n}", role="approver",
                           email=f"rep-mgr-{n}@bench.invalid", password_hash=hashed)
            worker = User(username=f"rep-emp-{n}", display_name=f"Employee {n}", role="employee",
                          email=f"rep-emp-{n}@bench.invalid", password_hash=hashed)
            db.session.add_all([manager, worker])
            db.session.flush()
            parent = ROOT_DEPARTMENT_ID if n < top else depts[n % top].id  # five below each top department
            dept = Department(name=f"Dept {n}", code=f"REP-{n}", parent_id=parent, manager_id=manager.id)
            db.session.add(dept)
            db.session.flush()
            worker.department_id = dept.id
            depts.append(dept)
            people.append(worker.id)
        db.session.commit()
        approver = db.session.scalar(sa.select(User.id).where(User.role == "admin").limit(1))
        now = datetime.now(UTC)
        next_id = (db.session.scalar(sa.select(sa.func.max(Request.id))) or 0) + 1
        next_asset = (db.session.scalar(sa.select(sa.func.max(Asset.id))) or 0) + 1
        for start in range(0, requests, CHUNK):
            rows = [_request(next_id + i, next_asset + i, rng, now, depts, people)
                    for i in range(start, min(start + CHUNK, requests))]
            assets = [row.pop("asset") for row in rows if "asset" in row]
            steps = [step for row in rows for step in row.pop("steps")]
            decisions = [dict(d, approver_id=approver) for row in rows for d in row.pop("decisions")]
            if assets:
                db.session.execute(sa.insert(Asset), assets)
            db.session.execute(sa.insert(Request), rows)
            db.session.execute(sa.insert(RequestStep), steps)
            if decisions:
                db.session.execute(sa.insert(Decision), decisions)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("requests", "request_steps", "decisions", "assets"):
                db.session.execute(sa.text(f"ANALYZE {table}"))
            db.session.execute(sa.text(f"SELECT setval('requests_id_seq', {next_id + requests})"))
            db.session.execute(sa.text(f"SELECT setval('assets_id_seq', {next_asset + requests})"))
            db.session.commit()
        return {"manager": depts[0].manager_id, "departments": [d.id for d in depts]}


def _request(rid: int, asset_id: int, rng: random.Random, now: datetime, depts: list, people: list) -> dict:
    """One request row (with its steps, decisions and asset under keys the caller pops)."""
    n = rng.randrange(len(depts))
    kind, state = rng.choice(KINDS), rng.choice(STATES)
    created = now - timedelta(seconds=rng.randrange(2 * 365 * 86400))
    steps_total = rng.choice((1, 1, 2))
    waits = [timedelta(seconds=rng.randrange(600, 5 * 86400)) for _ in range(steps_total)]
    value = f"{rng.randrange(100, 5_000_000) / 100:.2f}"
    currency, category = rng.choice(("CNY", "CNY", "CNY", "USD", "EUR")), rng.choice(CATEGORIES)
    row: dict[str, Any] = {
        "id": rid, "kind": kind, "applicant_id": people[n], "reason": "bench", "department_id": depts[n].id,
        "state": state, "step": steps_total, "steps_total": steps_total, "chain": ["manager"] * steps_total,
        "created_at": created, "updated_at": created, "decided_at": None, "version": 1,
        "name": None, "category": None, "value": None, "currency": None, "asset_id": None,
    }
    if kind == "acquire":
        row.update(name="Bench", category=category, value=value, currency=currency)
    elif state != "pending":  # a pending request locks its asset; the bench's pending ones are acquires
        row["asset_id"] = asset_id
        row["asset"] = {"id": asset_id, "tag": f"REP-{asset_id:07d}", "name": "Bench", "category": category,
                        "value": value, "currency": currency, "status": "in_use", "location": "HQ",
                        "department_id": depts[n].id}
    else:
        row.update(kind="acquire", name="Bench", category=category, value=value, currency=currency)
    row["steps"], row["decisions"] = [], []
    started = created
    for number, wait in enumerate(waits, 1):
        decided = started + wait
        last = number == steps_total
        timers = {"remind_after_hours": 24.0, "escalate_after_hours": 72.0}
        row["steps"].append({"request_id": rid, "step": number, "decider": "manager", "scope": "department",
                             "started_at": started, **timers,
                             "reminded_at": started + timedelta(hours=24) if wait > timedelta(hours=24) else None,
                             "escalated_at": started + timedelta(hours=72) if wait > timedelta(hours=72) else None})
        if state in ("approved", "rejected") and decided < now:
            outcome = state if last else "approved"
            row["decisions"].append({"request_id": rid, "step": number, "outcome": outcome, "created_at": decided,
                                     "step_started_at": started, "comment": ""})
        if last and state != "pending":
            row["decided_at"] = min(decided, now)
        started = decided
    return row


class BackendCpu:
    """CPU milliseconds spent by the PostgreSQL backends of the app's connections (Linux /proc)."""

    def __init__(self, app: Any) -> None:
        from sqlalchemy import event

        from assetflow.extensions import db

        self.pids: set[int] = set()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "connect", self._connected)
        engine.dispose()  # every connection from now on is seen connecting

    def _connected(self, dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.pids.add(cursor.fetchone()[0])
            cursor.execute("SET max_parallel_workers_per_gather = 0")  # no CPU in workers /proc cannot see

    def ms(self) -> float:
        ticks = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def timings(app: Any, who: dict[str, dict], calls: int) -> list[dict[str, Any]]:
    """Median milliseconds (wall, this process's CPU, the database's CPU) of each endpoint, range and caller."""
    client, out, backend = app.test_client(), [], BackendCpu(app)
    today = datetime.now(UTC).date() + timedelta(days=1)
    for label, days, interval in RANGES:
        window = f"from={today - timedelta(days=days)}&to={today}&tz=Asia/Shanghai"
        paths = [("summary", f"/api/reports/summary?{window}")] + [
            (f"timeseries {metric} by {interval}", f"/api/reports/timeseries?metric={metric}&interval={interval}&"
                                                   f"{window}")
            for metric in ("submitted", "decided", "approved_value", "time_to_decision")]
        for caller, user in who.items():
            for name, path in paths:
                out.append({"range": label, "caller": caller, "endpoint": name,
                            **_medians(client, backend, path, user, calls)})
    return out


def _medians(client: Any, backend: BackendCpu, path: str, user: dict, calls: int) -> dict[str, float]:
    response = client.get(path, headers=bearer(user))  # warm-up, and a check
    assert response.status_code == 200, response.get_data(as_text=True)
    wall, python, database = [], [], []
    for _ in range(calls):
        started, cpu, db_cpu = time.perf_counter(), time.process_time(), backend.ms()
        client.get(path, headers=bearer(user))
        wall.append((time.perf_counter() - started) * 1000)
        python.append((time.process_time() - cpu) * 1000)
        database.append(backend.ms() - db_cpu)
    return {"median_ms": round(statistics.median(wall), 1), "python_cpu_ms": round(statistics.median(python), 1),
            "database_cpu_ms": round(statistics.median(database), 1)}


def floor_ms(app: Any, calls: int) -> float:
    """The floor beside the figures: the median wall time of a count of every request."""
    import sqlalchemy as sa

    from assetflow.extensions import db

    spent = []
    with app.app_context():
        for _ in range(calls + 1):
            started = time.perf_counter()
            db.session.execute(sa.text("SELECT count(*) FROM requests")).scalar()
            spent.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(spent[1:]), 1)


def run(args: argparse.Namespace, url: str) -> None:
    from mint_users import mint

    started, clock = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    bench = InProcess.on(url, approvers=1)
    seeded_at = time.perf_counter()
    company = seed(bench.app, args.requests, args.departments, random.Random(args.seed))
    seeding = time.perf_counter() - seeded_at
    admin = mint(bench.app, "rep-admin", 1, "admin")[0]
    manager = _token_for(bench.app, company["manager"])
    rows = timings(bench.app, {"admin": admin, "manager": manager}, args.calls)
    floor = floor_ms(bench.app, args.calls)
    report = {"floor_count_ms": floor, "loadavg": Path("/proc/loadavg").read_text().split()[:3],
              "started_at": started, "requests": args.requests, "departments": args.departments,
              "calls": args.calls, "seed_seconds": round(seeding, 1), "database": "postgresql", "timings": rows,
              "total_seconds": round(time.perf_counter() - clock, 1)}
    print(f"seeded {args.requests} requests across {args.departments} departments in {seeding:.1f} s")
    print(f"{'range':<8} {'caller':<8} {'endpoint':<40} {'wall ms':>9} {'py cpu':>7} {'db cpu':>7}")
    for row in rows:
        print(f"{row['range']:<8} {row['caller']:<8} {row['endpoint']:<40} {row['median_ms']:>9} "
              f"{row['python_cpu_ms']:>7} {row['database_cpu_ms']:>7}")
    print(f"floor: count(*) of {args.requests} requests in {floor} ms; load average {' '.join(report['loadavg'])}")
    print(f"written {save(report, 'reports-', '')}")


def _token_for(app: Any, user_id: int) -> dict:
    from assetflow.auth.tokens import issue_tokens
    from assetflow.extensions import db
    from assetflow.models import User

    with app.app_context():
        return {"id": user_id, "token": issue_tokens(db.session.get(User, user_id))["access_token"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--calls", type=int, default=7, help="timed calls per figure (the median is kept)")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--quick", action="store_true", help="10,000 requests, 3 calls: checks the bench runs")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.calls = min(args.requests, 10_000), min(args.calls, 3)
    with_database("postgres", lambda url: run(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
