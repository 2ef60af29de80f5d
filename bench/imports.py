"""How long an import of 10,000 assets takes, through the API, on PostgreSQL and SQLite.

    .venv/bin/python bench/imports.py [--assets 10000] [--db postgres|sqlite|both] [--quick]
    make bench-imports            (BENCH_ARGS=--quick for a short run; `make bench` runs it too)

On a migrated, seeded database it builds a CSV of `--assets` assets (a third of them in use by one of 50 people,
the rest in stock, across the seeded departments), then times, each as one POST /api/imports/assets through
Flask's test client in this process (wall time, and the CPU time of this process, which a busy machine inflates
less): the dry run of the new file (every row `create`), the real run (bulk INSERTs
and their custody audit rows), the same file again (every row `unchanged`), a file that changes every asset's
value (every row `update`, through the versioned per-row UPDATE and audit the API's edit uses), and the round trip
of GET /api/assets/export.csv re-imported as a dry run (every row `unchanged`). Prints a table and writes
bench/results/imports-<time>.json and bench/results/imports-latest.json.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mint_users import mint  # bench/ is not a package
from profile_decision import ROOT, InProcess, bearer, with_database
from run import loadavg, save

sys.path.insert(0, str(ROOT))

HEADER = "tag,name,category,value,currency,status,department_code,custodian_username,location\n"


def assets_csv(count: int, people: list[str], departments: list[str], value_step: int = 0) -> bytes:
    lines = [HEADER]
    for n in range(count):
        holder = people[n % len(people)] if n % 3 == 0 else ""
        status = "in_use" if holder else "in_stock"
        lines.append(f"BN-{n:06d},Laptop {n},Laptop,{1000 + n % 500 + value_step}.50,CNY,{status},"
                     f"{departments[n % len(departments)]},{holder},Floor {n % 12}\n")
    return "".join(lines).encode()


def timed_import(client: Any, headers: dict, data: bytes, dry_run: int) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds of this process, the summary) of one import call."""
    started, cpu = time.perf_counter(), time.process_time()
    response = client.post(f"/api/imports/assets?dry_run={dry_run}", headers=headers,
                           data={"file": (io.BytesIO(data), "assets.csv")}, content_type="multipart/form-data")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    body = response.get_json()
    if response.status_code != 200:
        raise SystemExit(f"import failed: {response.status_code} {str(body)[:500]}")
    return seconds, cpu, body["summary"]


def run_on(kind: str, count: int) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def measure(url: str) -> None:
        import sqlalchemy as sa

        from assetflow.extensions import db
        from assetflow.models import Department

        bench = InProcess.on(url, approvers=1)
        app = bench.app
        app.config["IMPORT_MAX_ROWS"] = max(count, app.config["IMPORT_MAX_ROWS"])
        admin = mint(app, "imp-admin", 1, "admin")[0]
        people = [user["username"] for user in mint(app, "imp-emp", 50, "employee")]
        with app.app_context():
            departments = list(db.session.scalars(sa.select(Department.code)))
        client, headers = app.test_client(), bearer(admin)
        new = assets_csv(count, people, departments)
        steps = [("dry run, all new", new, 1, "create"), ("import, all new", new, 0, "create"),
                 ("same file again", new, 0, "unchanged"),
                 ("every value changed", assets_csv(count, people, departments, value_step=1), 0, "update")]
        for label, data, dry_run, expected in steps:
            seconds, cpu, summary = timed_import(client, headers, data, dry_run)
            assert summary[expected] == count, summary
            results[label] = {"wall_s": round(seconds, 2), "cpu_s": round(cpu, 2)}
            print(f"  {kind:10} {label:28} {seconds:7.2f} {cpu:7.2f}  {summary}")
        started, cpu = time.perf_counter(), time.process_time()
        exported = client.get("/api/assets/export.csv", headers=headers).data
        _, _, summary = timed_import(client, headers, exported, 1)
        assert summary["unchanged"] >= count, summary
        label = "export + re-import (dry run)"
        results[label] = {"wall_s": round(time.perf_counter() - started, 2),
                          "cpu_s": round(time.process_time() - cpu, 2)}
        print(f"  {kind:10} {label:28} {results[label]['wall_s']:7.2f} {results[label]['cpu_s']:7.2f}  {summary}")

    with_database(kind, measure)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--db", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="1,000 assets: checks that it runs")
    args = parser.parse_args()
    count = 1000 if args.quick else args.assets
    report: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "assets": count,
                              "loadavg_start": loadavg(), "seconds": {}}
    print(f"Importing {count:,} assets through POST /api/imports/assets: seconds of wall time and of this process's"
          f" CPU per call (load average {report['loadavg_start']})")
    print(f"  {'database':10} {'call':28} {'wall':>7} {'CPU':>7}")
    for kind in (("postgres", "sqlite") if args.db == "both" else (args.db,)):
        report["seconds"][kind] = run_on(kind, count)
    report["loadavg_end"] = loadavg()
    print(f"wrote {save(report, 'imports-', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
