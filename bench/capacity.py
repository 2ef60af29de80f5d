"""A decision's cost against the floor, and the applicant's push at 80 % of what one process sustains.

    .venv/bin/python bench/capacity.py [--quick] [--rounds 2] [--sockets 5000] [--mode eventlet|gevent]

In one run: bench/decision_floor.py (AssetFlow's approve beside the least an approve can do on the stack,
in process: CPU per approve, Python calls, statements, and the ratio), then one AssetFlow process
(gunicorn, eventlet or `--mode gevent`, PostgreSQL) holding `sockets` employee sockets and 20 approver
dashboards (the Node load of bench/scale.py), and per round:

1. **sustained**: `decisions` approvals closed loop (8 callers, each sending its next when the last one
   answered): decisions per second, the worker's CPU per decision;
2. **at 80 %**: as many approvals again, open loop at 80 % of that rate, each to a pending request of
   another applicant: the applicant's push (from sending the approve to its socket's `approval_update`)
   p50 / p99 / max, misses, duplicates; the ten slowest pushes with when they were sent (a stall shows as
   a run of them), and the worker's garbage collections (bench/introspect_app.py counts them): how many of
   each generation and the longest pause.

Then the same rounds against the floor app live (bench/floor_wsgi.py: decision_floor.py's approve under the
same gunicorn worker, on the same database and users, with as many sockets and no dashboards, since it
feeds none), AssetFlow's process stopped: what the stack itself gives at 80 % of its own sustained rate.
The load generator's own event-loop delay is reported beside each run at 80 %.

Prints the tables and writes bench/results/capacity-<time>.json and capacity-latest.json. Needs PostgreSQL;
everything on 127.0.0.1, bounded in count and time, cleaned up at the end. docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import (  # noqa: E402
    ROOT,
    Deadline,
    Run,
    finish,
    guarded,
    loadavg,
    machine,
    reachable_postgres,
    table,
    worker_pid,
)
from scale import Load, Target, decisions, gc_report, open_group, start_assetflow, submit_pending  # noqa: E402

FULL = dict(sockets=5000, dashboards=20, decisions=600, rounds=2, floor_n=100, floor_rounds=6, timeout=40 * 60)
QUICK = dict(sockets=1000, dashboards=20, decisions=200, rounds=1, floor_n=50, floor_rounds=4, timeout=15 * 60)
SHARE = 0.8


def floor(p: dict) -> dict[str, Any]:
    """bench/decision_floor.py's table, as it printed it."""
    done = subprocess.run([sys.executable, str(BENCH / "decision_floor.py"), "-n", str(p["floor_n"]),
                           "--rounds", str(p["floor_rounds"])], cwd=ROOT, capture_output=True, text=True,
                          timeout=20 * 60)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    out: dict[str, Any] = {"output": lines[-5:], "loadavg": loadavg()}
    for line in lines:
        if line.startswith("AssetFlow / floor:"):
            out["ratio"] = float(line.split(":")[1].split("x")[0])
    return out


def pending(load: Load, target: Target, applicants: list[dict], offset: int, p: dict) -> list[tuple[int, dict, int]]:
    """One round's pending requests, submitted through AssetFlow: (socket index, applicant, request id)."""
    batch = applicants[offset:offset + 2 * p["decisions"]]
    ids = submit_pending(load, target, batch, len(batch))
    return list(zip(range(offset, offset + len(batch)), batch, ids, strict=True))


def one_round(load: Load, target: Target, work: list, approvers: list[dict], p: dict, collections: bool) -> dict:
    """Sustained, then at 80 % of it; with `collections`, the worker's (bench/introspect_app.py's) per phase."""
    n = p["decisions"]
    out: dict[str, Any] = {"loadavg": loadavg()}
    time.sleep(1)
    gc = (lambda reset=False: gc_report(target, reset)) if collections else (lambda reset=False: {})
    gc(reset=True)
    out["sustained"] = decisions(load, target, work[:n], approvers, None, concurrency=8)
    out["sustained"]["gc"] = gc(reset=True)
    rate = round(out["sustained"]["decisions_per_s"] * SHARE, 1)
    out["rate_at_share"] = rate
    out["at_share"] = decisions(load, target, work[n:], approvers, rate)
    out["at_share"]["gc"] = gc()
    return out


def bench(run: Run, p: dict, deadline: Deadline) -> dict[str, Any]:
    # wsgi:app with bench/introspect.py's routes, which count the worker's collections.
    target = start_assetflow(run, p["mode"], 1, "capacity", app="introspect_app:app")
    load = Load(deadline.left())
    out: dict[str, Any] = {"rounds": []}
    try:
        applicants = target.users("employee", p["sockets"])
        approvers = target.users("approver", p["dashboards"])
        out["open"] = open_group(load, target, "app", "employee", applicants)
        open_group(load, target, "dash", "approver", approvers)
        for r in range(p["rounds"]):
            deadline.check()
            work = pending(load, target, applicants, r * 2 * p["decisions"], p)
            out["rounds"].append(one_round(load, target, work, approvers, p, collections=True))
        out["floor_rounds"] = floor_rounds(run, load, target, applicants, approvers, p, deadline)
    finally:
        load.close()
        for server in run.servers:
            run.stop(server)
    return out


def floor_rounds(run: Run, load: Load, target: Target, applicants: list[dict], approvers: list[dict], p: dict,
                 deadline: Deadline) -> list[dict]:
    """The same rounds against the floor app (bench/floor_wsgi.py) in AssetFlow's place, on the same database and
    users: the least an approve can do, live with as many sockets (and no dashboards, which it does not feed)."""
    load.call("close", group="app")
    load.call("close", group="dash")
    first = p["rounds"] * 2 * p["decisions"]
    works = [pending(load, target, applicants, first + r * 2 * p["decisions"], p) for r in range(p["rounds"])]
    run.stop(target.servers[0])  # AssetFlow's worker leaves the cores to the floor's
    server = run.start(target.env, "capacity-floor", app="floor_wsgi:app")
    floor = Target("floor", "assetflow", "eventlet", [server], [worker_pid(server)], target.env)
    floor.tokens = target.tokens
    open_group(load, floor, "app", "employee", applicants)
    rounds = []
    for work in works:
        deadline.check()
        rounds.append(one_round(load, floor, work, approvers, p, collections=False))
    return rounds


def render(report: dict[str, Any]) -> str:
    f = report.get("floor", {})
    lines = ["bench/decision_floor.py (in process, the same run):", *f.get("output", []), ""]
    live, p = report.get("live", {}), report["params"]
    for title, rounds in ((f"AssetFlow, one process, {p['sockets']} sockets + {p['dashboards']} dashboards",
                           live.get("rounds", [])),
                          (f"The floor app (bench/floor_wsgi.py), one process, {p['sockets']} sockets",
                           live.get("floor_rounds", []))):
        lines += [title, table(["round", "loadavg", "sustained dec/s", "CPU ms/dec", f"{SHARE:.0%} rate", "CPU ms/dec",
                                "push p50", "push p99", "max", "miss", "dup", "statuses", "gc n/max ms (0 1 2)"],
                               [row(i, r) for i, r in enumerate(rounds, 1)])]
        lines += [f"round {i} at {SHARE:.0%}: the load generator's own event-loop delay "
                  f"{r['at_share']['load_loop_delay_ms']} ms; slowest pushes [s into the run, push ms, HTTP ms]: "
                  f"{r['at_share']['slowest']}" for i, r in enumerate(rounds, 1)]
    return "\n".join(lines)


def row(i: int, r: dict[str, Any]) -> list:
    s, a = r["sustained"], r["at_share"]
    return [i, "/".join(map(str, r["loadavg"])), s["decisions_per_s"], s["cpu_ms_per_decision"], r["rate_at_share"],
            a["cpu_ms_per_decision"], a["push_ms"]["p50"], a["push_ms"]["p99"], a["push_ms"]["max"],
            a["push_ms"]["missed"], a["duplicates"], a["statuses"],
            " ".join(f"{gen['collections']}/{gen['max_ms']}" for gen in a["gc"].get("generations", {}).values()) or "-"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--sockets", type=int)
    parser.add_argument("--mode", choices=("eventlet", "gevent"), default="eventlet", help="both servers' worker")
    args = parser.parse_args()
    p = dict(QUICK if args.quick else FULL, mode=args.mode)
    p.update({k: v for k, v in (("rounds", args.rounds), ("sockets", args.sockets)) if v})
    if problem := reachable_postgres():
        print(f"needs PostgreSQL: {problem}", file=sys.stderr)
        return 2
    deadline = Deadline(p["timeout"])
    run = Run(p, deadline)
    started = time.monotonic()
    report: dict[str, Any] = {"started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "params": p,
                              "machine": machine(), "loadavg_start": loadavg()}

    def body() -> int:
        report["floor"] = floor(p)
        report["live"] = bench(run, p, deadline)
        return 0

    status = guarded(run, p["timeout"], body, report)
    finish(report, render, started, prefix="capacity-", suffix="-quick" if args.quick else "")
    return status


if __name__ == "__main__":
    sys.exit(main())
