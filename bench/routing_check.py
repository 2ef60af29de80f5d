"""How long the routing check and the rule simulator take at company size.

    .venv/bin/python bench/routing_check.py [--db postgres|sqlite] [--departments 50] [--users 2000]
                                            [--rules 30] [--calls 7]

On a migrated, seeded database made for the run (as bench/profile_decision.py), adds `--departments`
departments (ten at the top, the rest below them, every one with a manager), `--users` users spread over
them (one in ten an approver, a few admins), and a list of `--rules` rules (per-department, per-kind,
per-category and value rules, and a catch-all). About a third of the departments get no approver, so the
check has problems to report. Times, through Flask's test client in this process, GET /api/routing-check
(every department × every kind, one pass), and POST /api/approval-rules/simulate as an employee (one
request) and as an admin with the list as a draft (the request, shadowing, and the routing check of the
draft). Each figure is the median wall time of `--calls` calls after one warm-up; the SQL statements of
one call are counted too. Prints a table and writes bench/results/routing-check-<time>.json and
bench/results/routing-check-latest.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_decision import ROOT, with_database  # bench/ is not a package
from run import save

sys.path.insert(0, str(ROOT))

KINDS = ("acquire", "assign", "transfer", "repair", "dispose")
CATEGORIES = ("Laptop", "Phone", "Monitor", "Vehicle", "Furniture")


def app_on(url: str):
    import config
    from assetflow import create_app
    from config import DevelopmentConfig, database_url

    class BenchConfig(DevelopmentConfig):
        SQLALCHEMY_DATABASE_URI = database_url(url)
        ASYNC_MODE = "threading"
        LOG_LEVEL = "WARNING"

    for budget in config.WRITE_BUDGETS:
        setattr(BenchConfig, config.budget_setting(budget), "100000 per minute")
    return create_app(BenchConfig)


def seed(app, departments: int, users: int, rules: int, rng: random.Random) -> dict[str, Any]:
    """The company; the rule list as a list of dicts; an employee's and the admin's ids."""
    import sqlalchemy as sa

    from assetflow.extensions import db
    from assetflow.models import ROOT_DEPARTMENT_ID, ApprovalRule, Department, User

    with app.app_context():
        hashed = db.session.scalar(sa.select(User.password_hash).limit(1))
        top = max(departments // 5, 1)
        ids: list[int] = []
        for n in range(departments):
            parent = ROOT_DEPARTMENT_ID if n < top else ids[n % top]
            dept = Department(name=f"Dept {n}", code=f"RB-{n}", parent_id=parent)
            db.session.add(dept)
            db.session.flush()
            ids.append(dept.id)
        # A third of the departments get no approver of their own: their department-scoped steps have nobody.
        without = set(rng.sample(ids, len(ids) // 3))
        people = []
        for n in range(users):
            role = "admin" if n % 400 == 0 else "approver" if n % 10 == 0 else "employee"
            home = rng.choice(ids)
            if role == "approver" and home in without:
                role = "employee"
            people.append(User(username=f"rb-{n}", display_name=f"Person {n}", role=role,
                               email=f"rb-{n}@bench.invalid", password_hash=hashed, department_id=home))
        db.session.add_all(people)
        db.session.flush()
        for dept_id in ids:
            db.session.get(Department, dept_id).manager_id = rng.choice(
                [p.id for p in people if p.department_id == dept_id] or [people[0].id])
        rule_list = make_rules(rules, ids, rng)
        db.session.execute(sa.delete(ApprovalRule))
        db.session.add_all(ApprovalRule(position=i, match=r["match"], steps=r["steps"])
                           for i, r in enumerate(rule_list))
        db.session.commit()
        employee = next(p for p in people if p.role == "employee")
        admin = next(p for p in people if p.role == "admin")
        return {"rules": rule_list, "employee": employee.username, "admin": admin.username}


def make_rules(count: int, departments: list[int], rng: random.Random) -> list[dict]:
    here = {"decider": "role", "role": "approver", "scope": "department"}
    anywhere = {"decider": "role", "role": "approver", "scope": "company"}
    admin = {"decider": "role", "role": "admin", "scope": "company"}
    manager = {"decider": "manager"}
    shapes = [
        lambda: {"kinds": [rng.choice(KINDS)]},
        lambda: {"departments": [rng.choice(departments)]},
        lambda: {"categories": rng.sample(CATEGORIES, 2)},
        lambda: {"min_value": str(rng.choice((5000, 10000, 50000)))},
        lambda: {"kinds": [rng.choice(KINDS)], "min_value": "20000"},
    ]
    chains = [[here], [manager], [here, admin], [manager, anywhere], [anywhere]]
    rules = [{"match": rng.choice(shapes)(), "steps": rng.choice(chains)} for _ in range(count - 1)]
    return rules + [{"match": {}, "steps": [here]}]


def timed(call, calls: int) -> tuple[float, int]:
    """Median ms of `calls` calls after a warm-up, and the SQL statements of one call."""
    import sqlalchemy as sa

    from assetflow.extensions import db

    call()
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1), len(seen)


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from assetflow.auth.tokens import issue_tokens
    from assetflow.extensions import db
    from assetflow.models import User

    app = app_on(url)
    seeded = seed(app, args.departments, args.users, args.rules, random.Random(7))
    client = app.test_client()
    with app.app_context():
        def headers(username: str) -> dict:
            user = db.session.query(User).filter_by(username=username).one()
            return {"Authorization": f"Bearer {issue_tokens(user)['access_token']}"}

        admin, employee = headers(seeded["admin"]), headers(seeded["employee"])

        def get_check():
            response = client.get("/api/routing-check", headers=admin)
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        def simulate(body: dict, as_headers: dict):
            response = client.post("/api/approval-rules/simulate", headers=as_headers, json=body)
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        stuck = get_check()["items"]
        figures = {
            "routing check (GET /api/routing-check)": timed(get_check, args.calls),
            "simulate, an employee's own request": timed(
                lambda: simulate({"kind": "acquire", "value": "12000", "category": "Laptop"}, employee), args.calls),
            "simulate, an admin's draft (+ its routing check)": timed(
                lambda: simulate({"kind": "acquire", "value": "12000", "rules": seeded["rules"]}, admin), args.calls),
        }
    return {"departments": args.departments + 1, "users": args.users, "rules": args.rules, "kinds": len(KINDS),
            "stuck_departments": len(stuck), "figures": {k: {"median_ms": v[0], "statements": v[1]}
                                                         for k, v in figures.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=30)
    parser.add_argument("--calls", type=int, default=7)
    args = parser.parse_args()
    report: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "db": args.db,
                              "loadavg_start": os.getloadavg()}
    with_database(args.db, lambda url: report.update(run(args, url)))
    report["loadavg_end"] = os.getloadavg()
    print(f"{report['departments']} departments × {report['kinds']} kinds, {report['users']} users, "
          f"{report['rules']} rules, {args.db}; {report['stuck_departments']} departments reported; "
          f"load average {report['loadavg_start'][0]:.1f} → {report['loadavg_end'][0]:.1f}")
    for name, figure in report["figures"].items():
        print(f"  {name}: median {figure['median_ms']} ms of {args.calls} calls, {figure['statements']} SQL statements")
    print(f"saved {save(report, 'routing-check-', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
