"""Profile one decision end to end: CPU per approve, and where it goes (cProfile).

    .venv/bin/python bench/profile_decision.py [--db postgres|sqlite] [-n 300] [--top 35] [--approvers 20]
                                               [--sql] [--save FILE]

Runs the real app in this process (threading async mode, Flask's test client: the whole WSGI app,
auth, service, database, emitter; no HTTP server) against a migrated, seeded database created for
the run and removed after. `--approvers` active approver users exist, as in the scale benchmark,
since a submit notifies each of them. Prints the CPU time per approve without the profiler (median
of 3 batches), then the cProfile table of another batch sorted by own time and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def database(kind: str, tmp: Path):
    """A migrated, seeded database URL and a function that removes it."""
    from run import POSTGRES_ADMIN_URL

    from config import database_url
    from tests.live_server import PostgresDatabases, sqlite_template

    if kind == "sqlite":
        return f"sqlite:///{sqlite_template(tmp)}", lambda: None
    pg = PostgresDatabases(database_url(POSTGRES_ADMIN_URL))
    pg.prefix = f"assetflow_profile_{os.getpid()}"
    return pg.create("run"), pg.drop_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("-n", type=int, default=300, help="approvals per batch")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--approvers", type=int, default=20)
    parser.add_argument("--sql", action="store_true", help="also print the SQL statements of one approve")
    parser.add_argument("--save", metavar="FILE", help="also write the profile, for pstats or snakeviz")
    args = parser.parse_args()
    with_database(args.db, lambda url: profile(args, url))
    return 0


def with_database(kind: str, action: Callable[[str], None]) -> None:
    """Run action(url) on a migrated, seeded database created for it and removed after."""
    with tempfile.TemporaryDirectory(prefix="assetflow-profile-") as tmp:
        url, drop = database(kind, Path(tmp))
        try:
            action(url)
        finally:
            drop()


@dataclass
class InProcess:
    """AssetFlow in this process (threading mode) on a bench database, with an applicant and approvers."""

    app: Flask
    applicant: dict
    approvers: list[dict]

    @classmethod
    def on(cls, url: str, approvers: int = 20) -> InProcess:
        from mint_users import mint

        import config
        from assetflow import create_app
        from config import DevelopmentConfig, database_url

        class ProfileConfig(DevelopmentConfig):
            SQLALCHEMY_DATABASE_URI = database_url(url)
            ASYNC_MODE = "threading"
            LOG_LEVEL = "WARNING"
            ACCESS_TOKEN_MINUTES = 120

        # The write budgets are checked (their cost is part of a decision's) but never reached here.
        for budget in getattr(config, "WRITE_BUDGETS", ()):
            setattr(ProfileConfig, config.budget_setting(budget), "100000 per minute")
        app = create_app(ProfileConfig)
        return cls(app, mint(app, "prof-emp", 1, "employee")[0], mint(app, "prof-apr", approvers, "approver"))

    def submit(self, count: int) -> list[int]:
        """Submit `count` pending acquire requests as the applicant; their ids."""
        client, ids = self.app.test_client(), []
        for i in range(count):
            response = client.post("/api/requests", headers=bearer(self.applicant), json={
                "kind": "acquire", "reason": "profile", "name": f"Profile {i}", "category": "Bench",
                "value": "100.00"})
            assert response.status_code == 201, response.get_data(as_text=True)
            ids.append(response.get_json()["id"])
        return ids

    def approve(self, client: FlaskClient, ids: list[int], turn: int = 0) -> float:
        """Approve the requests through `client` (this app's, or another on the same database), the
        approvers taking turns from the `turn`th; CPU milliseconds per approve."""
        started = time.process_time()
        for i, request_id in enumerate(ids, turn):
            approver = self.approvers[i % len(self.approvers)]
            response = client.post(f"/api/requests/{request_id}/approve", headers=bearer(approver), json={})
            assert response.status_code == 200, response.get_data(as_text=True)
        return (time.process_time() - started) * 1000 / len(ids)


def bearer(user: dict) -> dict:
    return {"Authorization": f"Bearer {user['token']}"}


def profile(args: argparse.Namespace, url: str) -> None:
    bench = InProcess.on(url, args.approvers)
    app, client, submit = bench.app, bench.app.test_client(), bench.submit

    def approve(ids: list[int]) -> float:
        return bench.approve(client, ids)

    approve(submit(20))  # warm-up: imports, caches, connection pool
    per_decision = [approve(submit(args.n)) for _ in range(3)]
    started = time.process_time()
    submit(args.n)
    per_submit = (time.process_time() - started) * 1000 / args.n
    print(f"CPU per approve: median {statistics.median(per_decision):.2f} ms of {per_decision!r} "
          f"({args.n} approvals per batch, {args.db}, {args.approvers} approvers); per submit {per_submit:.2f} ms")
    if args.sql:
        print_statements(app, lambda: approve(submit(1)[:1]), "submit + approve")
    ids = submit(args.n)
    profiler = cProfile.Profile(time.process_time)  # CPU, not the waits for the database
    profiler.enable()
    approve(ids)
    profiler.disable()
    if args.save:
        profiler.dump_stats(args.save)
    calls = sum(stat[1] for stat in pstats.Stats(profiler).stats.values())
    # The number of Python calls does not depend on how busy the machine is: a steady yardstick
    # on a shared machine, where CPU times move by +-20 %.
    print(f"Python function calls per approve: {calls / args.n:.0f}")
    print_by_package(pstats.Stats(profiler), args.n)
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        print(out.getvalue().split("\n", 4)[-1] if order == "tottime" else out.getvalue())


def package_of(filename: str) -> str:
    """The installed package, the app, or the standard library module a profiled function is in."""
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0].removesuffix(".py")
    if f"{os.sep}assetflow{os.sep}" in filename:
        return "assetflow"
    return "(built-in)" if filename == "~" else "stdlib " + Path(filename).stem


def print_by_package(stats: pstats.Stats, approvals: int) -> None:
    """Own CPU time and calls per approve by package: which layer a decision's time goes to."""
    own: dict[str, float] = {}
    calls: dict[str, int] = {}
    for (filename, _, _), (_, count, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        package = package_of(filename)
        own[package] = own.get(package, 0.0) + tottime
        calls[package] = calls.get(package, 0) + count
    total = sum(own.values())
    print("own time by package (share, calls per approve):")
    for package, seconds in sorted(own.items(), key=lambda item: -item[1])[:15]:
        print(f"  {package:28} {seconds * 100 / total:5.1f} %  {calls[package] / approvals:7.0f}")


def print_statements(app, action, label: str) -> None:
    """Each SQL statement `action` runs, in order: the round trips a decision costs."""
    import sqlalchemy as sa

    from assetflow.extensions import db

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split())[:160])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    print(f"SQL statements for {label}: {len(statements)}")
    for number, statement in enumerate(statements, 1):
        print(f"{number:3} {statement}")


if __name__ == "__main__":
    sys.exit(main())
