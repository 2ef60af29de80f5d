"""The push tail under a decision rate: CPython's GC and unlimited requests, beside the worker's settings.

    .venv/bin/python bench/tail_latency.py [--sockets 1200] [--rate 80] [--decisions 1200] [--rounds 2]
                                           [--mode eventlet]

One AssetFlow process (gunicorn, PostgreSQL; bench/introspect_app.py, which counts the collections) per
configuration, the three in turn, `rounds` times: `stock` (GC_TUNING=0: CPython's thresholds, nothing
frozen; REQUEST_CONCURRENCY=0: every API request let in at once), `gc` (the tuned GC of gunicorn.conf.py,
every request let in) and `default` (the tuned GC and REQUEST_CONCURRENCY's default). Each opens `sockets`
employee sockets and 20 approver dashboards with the Node load of bench/scale.py, submits `decisions`
requests, then approves them at `rate`/s, open loop: the applicant's push p50/p99/max, CPU per decision,
and the collections during the approvals — how many per generation, their total and their longest pause.
Prints a table, writes bench/results/tail-<time>.json and tail-latest.json. Needs PostgreSQL; 127.0.0.1
only; bounded by --timeout.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import POSTGRES_ADMIN_URL, Deadline, Run, finish, guarded, loadavg, machine, reachable_postgres, table  # noqa: E402
from scale import Load, decisions, gc_report, open_group, start_assetflow, submit_pending  # noqa: E402

CONFIGS = {"stock": {"GC_TUNING": "0", "REQUEST_CONCURRENCY": "0"}, "gc": {"REQUEST_CONCURRENCY": "0"}, "default": {}}
DASHBOARDS = 20



def one_run(run: Run, name: str, settings: dict[str, str], p: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    """One server with these settings: sockets, submits, then the approvals with its collections counted."""
    target = start_assetflow(run, p["mode"], 1, name, app="introspect_app:app", **settings)
    load = Load(deadline.left())
    try:
        applicants = target.users("employee", p["sockets"])
        approvers = target.users("approver", DASHBOARDS)
        open_group(load, target, "app", "employee", applicants)
        open_group(load, target, "dash", "approver", approvers)
        ids = submit_pending(load, target, applicants, p["decisions"])
        time.sleep(2)  # the submits' pushes are out
        before = gc_report(target, reset=True)
        out = decisions(load, target, list(zip(range(len(ids)), applicants, ids, strict=False)), approvers, p["rate"])
        out["gc"] = gc_report(target)
        out["gc_before"] = {key: before[key] for key in ("threshold", "frozen", "tracked")}
        return out
    finally:
        load.close()
        for server in target.servers:
            run.stop(server)


def render(report: dict[str, Any]) -> str:
    rows = []
    for name, r in report["runs"].items():
        push, gens = r["push_ms"], r["gc"]["generations"]
        rows.append([name, r["gc_before"]["threshold"][0], r["gc_before"]["frozen"], r["gc_before"]["tracked"],
                     push["p50"], push["p99"], push["max"], push["missed"], r["cpu_ms_per_decision"],
                     *(f"{gens[g]['collections']} / {gens[g]['total_ms']} / {gens[g]['max_ms']}" for g in "012")])
    p = report["params"]
    return (f"{p['sockets']} sockets + {DASHBOARDS} dashboards, {p['decisions']} approvals at {p['rate']}/s, "
            f"{p['mode']}\n" + table(
                ["run", "gen0 threshold", "frozen", "tracked", "push p50", "p99", "max", "miss", "CPU ms/dec",
                 "gen0: n / ms / max", "gen1: n / ms / max", "gen2: n / ms / max"], rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=1200)
    parser.add_argument("--rate", type=float, default=80)
    parser.add_argument("--decisions", type=int, default=1200, help="at most --sockets")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mode", default="eventlet", choices=("eventlet", "gevent"))
    parser.add_argument("--timeout", type=int, default=20 * 60, help="hard limit for the whole run, seconds")
    args = parser.parse_args()
    if problem := reachable_postgres():
        print(f"tail_latency needs PostgreSQL ({POSTGRES_ADMIN_URL}): {problem}", file=sys.stderr)
        return 2
    p = {"sockets": args.sockets, "rate": args.rate, "decisions": args.decisions, "rounds": args.rounds,
         "mode": args.mode}
    deadline = Deadline(args.timeout)
    run = Run(p, deadline)
    started = time.monotonic()
    report: dict[str, Any] = {"started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "params": p,
                              "machine": machine(), "loadavg_start": loadavg(), "runs": {}}

    def body() -> int:
        for round_ in range(1, args.rounds + 1):
            for config, settings in CONFIGS.items():
                name = f"{config}-{round_}"
                report["runs"][name] = one_run(run, f"tail-{name}", settings, p, deadline)
                print(f"done {name} ({deadline.left():.0f} s left)", flush=True)
        return 0

    status = guarded(run, args.timeout, body, report)
    finish(report, render, started, prefix="tail-")
    return status


if __name__ == "__main__":
    sys.exit(main())
