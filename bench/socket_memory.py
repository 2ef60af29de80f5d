"""What one socket holds in a server process: RSS, Python heap, objects and green threads per socket.

    .venv/bin/python bench/socket_memory.py [--modes eventlet,gevent] [--apps bare,assetflow]
                                            [--counts 1000,5000] [--no-tracemalloc]

For each async mode and app (bench/bare_app.py, or AssetFlow's wsgi:app on PostgreSQL through
bench/introspect_app.py) it starts one gunicorn worker with PYTHONTRACEMALLOC=1 and the /_bench/
routes (bench/introspect.py), opens the sockets with the Node load generator (bench/node/load.mjs,
WebSocket only), and at 0 and at each count reports, per socket: the worker's RSS delta, the
Python heap delta seen by tracemalloc (and the source lines that grew most), the gc-tracked
objects by type, and the live greenlets grouped by where they are parked. The part of the RSS
that tracemalloc does not see is memory Python's allocators do not trace: the interpreter's
frame stacks of the green threads (Python 3.11 gives each greenlet its own data-stack chunk),
malloc overhead and fragmentation. tracemalloc itself costs memory, so the RSS figures of this
script are higher than bench/scale.py's; compare them with --no-tracemalloc. Results go to
bench/results/socket-memory-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import requests  # noqa: E402
from run import RESULTS_DIR, Deadline, Run, loadavg, machine, worker_pid  # noqa: E402
from scale import Load, Target, gunicorn_args, open_group, start_process  # noqa: E402


def start(run: Run, app: str, mode: str, trace: bool) -> Target:
    """One introspectable gunicorn worker of the bare app or of AssetFlow."""
    spec = {"bare": "bare_app:app", "assetflow": "introspect_app:app"}[app]
    if app == "assetflow":
        env = run.env(run.database("postgres", f"mem_{mode}"), mode)
    else:
        env = {**os.environ, "ASYNC_MODE": mode, "PING_INTERVAL": "25", "PING_TIMEOUT": "20"}
    env = {**env, "BENCH_INTROSPECT": "1"}
    if trace:
        env["PYTHONTRACEMALLOC"] = "1"
    cmd = [sys.executable, "-m", "gunicorn", "-k", mode, "-w", "1", "-b", "127.0.0.1:{port}", "--graceful-timeout",
           "2", "--timeout", "120", "--pythonpath", "bench", *gunicorn_args().split(), spec]
    server = start_process(run, cmd, env, f"mem-{app}-{mode}", mode)
    return Target(f"{app}-{mode}", app, mode, [server], [worker_pid(server)], env)


def state(url: str) -> dict[str, Any]:
    return requests.get(url + "/_bench/memory", params={"top": 400}, timeout=300).json()


def per_socket(before: dict, after: dict, sockets: int) -> dict[str, Any]:
    """The growth between two states, divided by the number of sockets."""
    objects_before = dict(before["objects"])
    grown = {name: (count - objects_before.get(name, 0)) / sockets for name, count in after["objects"]}
    out = {"rss_kib": (after["rss_kib"] - before["rss_kib"]) / sockets,
           "gc_objects": (after["gc_objects"] - before["gc_objects"]) / sockets,
           "greenlets": (after["green"].get("total", 0) - before["green"].get("total", 0)) / sockets,
           "objects": sorted(((n, round(v, 2)) for n, v in grown.items() if v >= 0.5), key=lambda x: -x[1])[:30]}
    if after.get("tracemalloc_kib") is not None:
        out["traced_kib"] = (after["tracemalloc_kib"] - before["tracemalloc_kib"]) / sockets
        out["untraced_kib"] = out["rss_kib"] - out["traced_kib"]
    return out


def measure(run: Run, app: str, mode: str, counts: list[int], trace: bool, deadline: Deadline) -> dict[str, Any]:
    target = start(run, app, mode, trace)
    load = Load(deadline.left())
    url = target.urls[0]
    try:
        users = target.users("employee", max(counts))
        requests.get(url + "/healthz", timeout=10)
        time.sleep(1)
        base = state(url)
        if trace:
            requests.post(url + "/_bench/snapshot/0", timeout=300)
        out: dict[str, Any] = {"at_0": {k: base[k] for k in ("rss_kib", "gc_objects", "tracemalloc_kib")},
                               "green_at_0": base["green"]}
        opened = 0
        for count in counts:
            deadline.check()
            open_group(load, target, "s", "employee", users[opened:count])
            opened = count
            time.sleep(3)
            now = state(url)
            row = {"sockets": count, "rss_kib": now["rss_kib"], "per_socket": per_socket(base, now, count),
                   "green": now["green"]}
            if trace:
                requests.post(url + f"/_bench/snapshot/{count}", timeout=300)
                diff = requests.get(url + f"/_bench/diff/0/{count}", params={"top": 25}, timeout=300).json()
                row["heap_top_per_socket"] = [{**t, "kib": round(t["kib"] / count, 3),
                                               "blocks": round(t["blocks"] / count, 2)} for t in diff["top"]]
            out[f"at_{count}"] = row
            print(f"{app}-{mode} @ {count}: RSS {row['per_socket']['rss_kib']:.1f} KiB/socket, "
                  f"traced {row['per_socket'].get('traced_kib', 0):.1f}, "
                  f"greenlets {row['per_socket']['greenlets']:.2f}/socket", flush=True)
    finally:
        load.close()
        for server in target.servers:
            run.stop(server)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="eventlet,gevent")
    parser.add_argument("--apps", default="bare,assetflow")
    parser.add_argument("--counts", default="1000,5000")
    parser.add_argument("--no-tracemalloc", action="store_true")
    args = parser.parse_args()
    counts = sorted(int(c) for c in args.counts.split(","))
    deadline = Deadline(20 * 60)
    run = Run({}, deadline)
    report: dict[str, Any] = {"machine": machine(), "loadavg_start": loadavg(), "results": {},
                              "tracemalloc": not args.no_tracemalloc}
    try:
        for mode in args.modes.split(","):
            for app in args.apps.split(","):
                report["results"][f"{app}-{mode}"] = measure(run, app, mode, counts, not args.no_tracemalloc,
                                                             deadline)
    finally:
        run.cleanup()
    report["loadavg_end"] = loadavg()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "socket-memory-latest.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
