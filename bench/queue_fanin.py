"""The message queue's fan-in: what a process spends on emits for sockets it does not hold.

    .venv/bin/python bench/queue_fanin.py [--quick] [--procs 2,4] [--rate 30] [--decisions 600]

With SOCKETIO_MESSAGE_QUEUE every process receives every emit of every process. For each deployment size
(2 and 4 gunicorn processes, eventlet, one PostgreSQL database, Redis, sockets and decisions spread over
them, the same total decision rate), plus one more process of the same deployment that serves no request
and holds one socket of a user nobody tells anything (the **observer**: all it does is receive the queue;
python-socketio starts a process's queue listener at its first connect), it measures:

- the messages on the queue's channel per decision and per second, and their size (a subscriber of the
  bench counts them);
- the observer's CPU per second and per message over the decisions, less its idle rate measured just
  before: the cost of the messages for sockets a process does not hold, alone;
- the serving processes' CPU per decision and the applicants' push p50/p99 (every decision sent to another
  process than its applicant's socket).

Then, in this process and on the messages the subscriber captured, the CPU per message of python-socketio's
own RedisManager against AssetFlow's (which drops an emit to rooms it holds no socket in before encoding
it, realtime/internals.py `DropForeignMixin`), for a process holding none of the rooms and one holding all.
Prints the tables, writes bench/results/fanin-<time>.json and fanin-latest.json. Needs PostgreSQL and
Redis; everything on 127.0.0.1, bounded in count and time, cleaned up at the end. docs/benchmarks.md,
"The message queue".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import redis  # noqa: E402
from run import (  # noqa: E402
    REDIS_URL,
    Deadline,
    Run,
    cpu_s,
    finish,
    guarded,
    loadavg,
    machine,
    reachable_postgres,
    reachable_redis,
    table,
    worker_pid,
)
from scale import Load, decisions, open_group, start_assetflow, submit_pending  # noqa: E402

FULL = dict(procs=(2, 4), sockets=1000, dashboards=20, decisions=600, rate=30, idle_s=5, flood_rate=1000, flood_s=10,
            timeout=30 * 60)
QUICK = dict(procs=(2,), sockets=200, dashboards=20, decisions=150, rate=30, idle_s=3, flood_rate=500, flood_s=5,
             timeout=10 * 60)


class ChannelTap:
    """A subscriber of the deployment's channel: counts the messages and their bytes, keeps the first ones."""

    def __init__(self, channel: str, keep: int = 5000):
        self.client = redis.Redis.from_url(REDIS_URL)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.count = self.bytes = 0
        self.kept: list[bytes] = []
        self.keep = keep
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                self.count += 1
                self.bytes += len(message["data"])
                if len(self.kept) < self.keep:
                    self.kept.append(message["data"])

    def reading(self) -> tuple[int, int]:
        return self.count, self.bytes

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.pubsub.close()
        self.client.close()


def bench_deployment(run: Run, procs: int, p: dict, deadline: Deadline) -> tuple[dict[str, Any], list[bytes]]:
    name = f"fanin-x{procs}"
    target = start_assetflow(run, "eventlet", procs, name)
    observer = run.start(target.env, f"{name}-observer")
    observer_pid = worker_pid(observer)
    tap = ChannelTap(target.env["SOCKETIO_CHANNEL"])
    load = Load(deadline.left())
    out: dict[str, Any] = {"procs": procs, "loadavg_start": loadavg()}
    try:
        applicants = target.users("employee", p["sockets"])
        approvers = target.users("approver", p["dashboards"])
        out["open"] = open_group(load, target, "app", "employee", applicants)
        open_group(load, target, "dash", "approver", approvers)
        # python-socketio starts a process's queue listener at its first connect: one socket of a user nobody
        # tells anything, so that the observer receives what every process receives.
        open_group(load, target, "observer", "employee", target.users("employee", len(applicants) + 1)[-1:],
                   urls=[observer.url])
        ids = submit_pending(load, target, applicants, min(p["decisions"], len(applicants)))
        work = list(zip(range(len(ids)), applicants, ids, strict=False))
        time.sleep(2)  # the submissions' own messages are through
        idle0, t0 = cpu_s(observer_pid), time.monotonic()
        time.sleep(p["idle_s"])
        idle_rate = (cpu_s(observer_pid) - idle0) / (time.monotonic() - t0)
        count0, bytes0 = tap.reading()
        obs0, t1 = cpu_s(observer_pid), time.monotonic()
        out["decisions"] = decisions(load, target, work, approvers, p["rate"])
        time.sleep(1)  # the last messages are through
        seconds = time.monotonic() - t1
        count, size = (a - b for a, b in zip(tap.reading(), (count0, bytes0), strict=True))
        busy = max(0.0, cpu_s(observer_pid) - obs0 - idle_rate * seconds)
        out["queue"] = {"messages": count, "per_decision": round(count / len(work), 2),
                        "per_s": round(count / seconds, 1), "bytes_per_message": round(size / max(count, 1)),
                        "observer_idle_cpu_ms_per_s": round(idle_rate * 1000, 2),
                        "observer_cpu_ms_per_s": round(busy * 1000 / seconds, 2),
                        "observer_cpu_us_per_message": round(busy * 1e6 / max(count, 1), 1)}
        kept = list(tap.kept)
        load.close()  # every socket gone: from here on each process holds none of the rooms
        out["flood"] = flood(target.env["SOCKETIO_CHANNEL"], kept, observer_pid, p)
    finally:
        load.close()
        tap.close()
        for server in [*target.servers, observer]:
            run.stop(server)
    out["loadavg_end"] = loadavg()
    return out, kept


def flood(channel: str, messages: list[bytes], observer_pid: int, p: dict) -> dict[str, Any]:
    """The captured messages published again at `flood_rate` a second for `flood_s` seconds, with no socket
    anywhere: the observer's CPU per message received, with a resolution the decisions' few messages lack
    (the kernel counts CPU in 10 ms ticks)."""
    client = redis.Redis.from_url(REDIS_URL)
    idle0, t0 = cpu_s(observer_pid), time.monotonic()
    time.sleep(p["idle_s"])
    idle_rate = (cpu_s(observer_pid) - idle0) / (time.monotonic() - t0)
    cpu0, started, sent = cpu_s(observer_pid), time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < p["flood_s"]:
        due = int(elapsed * p["flood_rate"])
        while sent < due:
            client.publish(channel, messages[sent % len(messages)])
            sent += 1
        time.sleep(0.005)
    time.sleep(1)  # the observer has read them
    seconds = time.monotonic() - started
    busy = max(0.0, cpu_s(observer_pid) - cpu0 - idle_rate * seconds)
    client.close()
    return {"messages": sent, "per_s": round(sent / p["flood_s"], 1),
            "observer_cpu_ms_per_s": round(busy * 1000 / seconds, 1),
            "observer_cpu_us_per_message": round(busy * 1e6 / max(sent, 1), 1)}


def in_process(messages: list[bytes], repeat: int) -> dict[str, Any]:
    """CPU per queue message of python-socketio's RedisManager and of AssetFlow's, holding none of the rooms
    and holding all of them (a socket joined to each room the messages name)."""
    import socketio

    from assetflow.realtime.manager import RedisManager

    emits = [json.loads(m) for m in messages]
    emits = [m for m in emits if m.get("method") == "emit"]
    rooms = {r for m in emits for r in ([m["room"]] if isinstance(m["room"], str) else m["room"] or [])}
    out: dict[str, Any] = {"messages": len(emits), "rooms": len(rooms)}
    runs: dict[str, list[float]] = {}
    configs = [(label, cls, holding) for label, cls in (("python-socketio RedisManager", socketio.RedisManager),
                                                        ("AssetFlow RedisManager", RedisManager))
               for holding in ("none", "all")]  # of the messages' rooms
    for label, manager_class, holding in configs * 3:  # alternating, 3 rounds: the median of each
        manager = manager_class(REDIS_URL, channel=f"fanin-inprocess-{os.getpid()}", write_only=True)
        server = socketio.Server(client_manager=manager, async_mode="threading")
        server._send_eio_packet = lambda eio_sid, pkt: None  # no Engine.IO socket behind it
        sid = manager.connect("eio-1", "/")  # this process holds a socket, in the messages' rooms or not
        for room in rooms if holding == "all" else ["user:0"]:
            manager.enter_room(sid, "/", room)
        raw = [json.dumps(m) for m in emits]
        started = time.process_time()
        for _ in range(repeat):
            for text in raw:
                manager._handle_emit(manager.json.loads(text))  # what its listening thread does with each
        seconds = time.process_time() - started
        runs.setdefault(f"{label}, holding {holding}", []).append(seconds * 1e6 / (repeat * len(raw)))
    out.update({name: round(statistics.median(values), 2) for name, values in runs.items()})
    return out


def render(report: dict[str, Any]) -> str:
    rows = []
    for name, r in report["deployments"].items():
        q, d = r.get("queue", {}), r.get("decisions", {})
        rows.append([name, r["procs"], report["params"]["rate"], q.get("messages"), q.get("per_decision"),
                     q.get("per_s"), q.get("bytes_per_message"), q.get("observer_cpu_ms_per_s"),
                     q.get("observer_cpu_us_per_message"), d.get("cpu_ms_per_decision"),
                     (d.get("push_ms") or {}).get("p50"), (d.get("push_ms") or {}).get("p99"),
                     (d.get("push_ms") or {}).get("missed"), d.get("duplicates"),
                     "/".join(map(str, r["loadavg_start"]))])
    out = ["Queue fan-in (eventlet, PostgreSQL + Redis; decisions to another process than the applicant's socket)",
           table(["deployment", "procs", "dec/s", "messages", "per decision", "msgs/s", "bytes/msg",
                  "observer CPU ms/s", "observer us/msg", "serving CPU ms/dec", "push p50", "push p99", "miss",
                  "dup", "loadavg"], rows)]
    rows = [[name, r["procs"], *[(r.get("flood") or {}).get(key) for key in
                                 ("messages", "per_s", "observer_cpu_ms_per_s", "observer_cpu_us_per_message")]]
            for name, r in report["deployments"].items()]
    out += ["", "The captured messages published again with no socket anywhere (the observer's CPU per message, live)",
            table(["deployment", "procs", "messages", "per s", "observer CPU ms/s", "observer us/msg"], rows)]
    ip = report.get("in_process")
    if ip:
        out += ["", f"In process, CPU per queue message (us; {ip['messages']} captured emits to {ip['rooms']} rooms)",
                table(["manager, rooms held", "us per message"],
                      [[k, v] for k, v in ip.items() if k not in ("messages", "rooms")])]
    if report["skipped"]:
        out += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in report["skipped"].items())]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--procs", help="deployment sizes, e.g. 2,4")
    parser.add_argument("--rate", type=float, help="total decisions per second")
    parser.add_argument("--decisions", type=int)
    args = parser.parse_args()
    p = dict(QUICK if args.quick else FULL)
    if args.procs:
        p["procs"] = tuple(int(x) for x in args.procs.split(","))
    p.update({k: v for k, v in (("rate", args.rate), ("decisions", args.decisions)) if v})
    for problem in (reachable_postgres(), reachable_redis()):
        if problem:
            print(f"needs PostgreSQL and Redis: {problem}", file=sys.stderr)
            return 2
    deadline = Deadline(p["timeout"])
    run = Run(p, deadline)
    started = time.monotonic()
    report: dict[str, Any] = {"started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "params": {**p, "procs": list(p["procs"])}, "machine": machine(),
                              "loadavg_start": loadavg(), "deployments": {}, "skipped": {}}

    def body() -> int:
        captured: list[bytes] = []
        for procs in p["procs"]:
            deadline.check()
            result, kept = bench_deployment(run, procs, p, deadline)
            report["deployments"][f"x{procs}"] = result
            captured = captured or kept
        if captured:
            report["in_process"] = in_process(captured, repeat=3)
        return 0

    status = guarded(run, p["timeout"], body, report)
    finish(report, render, started, prefix="fanin-", suffix="-quick" if args.quick else "")
    return status


if __name__ == "__main__":
    sys.exit(main())
