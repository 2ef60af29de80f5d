"""AssetFlow scale benchmark: thousands of sockets per process, beside bare Flask-SocketIO and Node.

    .venv/bin/python bench/scale.py [--quick] [--modes eventlet,gevent] [--no-multi]

The load is the official Node socket.io-client (bench/node/load.mjs: thousands of WebSocket-only
sockets in one Node process) driven from here. In one run, for each async mode, it measures
AssetFlow (one gunicorn process, PostgreSQL), a bare Flask-SocketIO app (bench/bare_app.py: same
worker, no database, no auth) and once a bare Node socket.io 4 server (bench/node/server.mjs), all
doing the same pushes:

1. open `applicants` + `dashboards` sockets: connect rate; worker RSS delta / sockets after settling;
2. `decisions` approvals at `rate`/s (open loop): send -> the applicant's `approval_update`,
   p50/p99/max, misses, duplicates; server CPU per decision;
3. dashboard fan-out: one change reaching `fanout` open dashboards: time to the last one;
4. fill to `hold` sockets: KiB/socket there, sockets still connected, /healthz latency;

then AssetFlow with 2 and 4 processes (PostgreSQL + Redis, clients spread across the ports):
aggregate decisions/s (closed loop) and cross-process push latency. Prints the tables and the
ratios AssetFlow / bare Python / Node, writes bench/results/scale-<time>.json and
bench/results/scale-latest.json. Everything on 127.0.0.1, bounded in count and time (SIGALRM, a
watchdog, and the Node processes' own limits), cleaned up at the end. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import requests  # noqa: E402
from run import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    ROOT,
    BenchTimeout,
    Deadline,
    Run,
    cpu_s,
    finish,
    fmt,
    guarded,
    loadavg,
    machine,
    mint_users,
    percentile,
    ratio,
    reachable_postgres,
    reachable_redis,
    rss_kib,
    table,
    worker_pid,
)

from config import database_url  # noqa: E402
from tests.live_server import LiveServer, free_port, stop_process_group  # noqa: E402

NODE_DIR = BENCH / "node"
FULL = dict(applicants=5000, dashboards=20, decisions=1000, rate=100, fanout=1000, fanout_reps=5, hold=10000,
            settle_s=30, multi_procs=(2, 4), multi_sockets=1000, multi_decisions=600, timeout=40 * 60)
QUICK = dict(applicants=1000, dashboards=20, decisions=300, rate=100, fanout=200, fanout_reps=3, hold=2000,
             settle_s=5, multi_procs=(2,), multi_sockets=200, multi_decisions=200, timeout=15 * 60)
PUSH_WAIT_MS = 10_000  # an event later than this counts as missed


# ---------------------------------------------------------------------------------------------
# the Node load generator


class Load:
    """A script of bench/node (load.mjs by default): one JSON command per line in, one JSON answer per line out."""

    def __init__(self, limit_s: float, script: str = "load.mjs"):
        self.proc = subprocess.Popen(["node", str(NODE_DIR / script), str(int(limit_s))], cwd=NODE_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def call(self, cmd: str, timeout: float = 300, **args: Any) -> dict[str, Any]:
        """Send one command and wait for its answer; raises on an error answer or a timeout."""
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        try:
            answer = json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise RuntimeError(f"load generator: no answer to {cmd} within {timeout} s") from None
        if not answer.get("ok"):
            raise RuntimeError(f"load generator: {cmd} failed: {answer}")
        return answer

    def close(self) -> None:
        """Quit, or end its process group."""
        try:
            self.call("quit", timeout=10)
            self.proc.wait(timeout=10)
        except Exception:
            pass
        stop_process_group(self.proc)


# ---------------------------------------------------------------------------------------------
# the servers under test


class Target:
    """One deployment under test: its URLs, the pids holding its sockets, and how to push."""

    def __init__(self, name: str, kind: str, mode: str, servers: list[LiveServer], pids: list[int],
                 env: dict[str, str] | None = None):
        self.name, self.kind, self.mode = name, kind, mode
        self.servers, self.pids, self.env = servers, pids, env
        self.urls = [s.url for s in servers]
        self.tokens: dict[str, list[dict]] = {}

    def rss(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids)

    def cpu(self) -> float:
        return sum(cpu_s(pid) for pid in self.pids)

    def users(self, role: str, count: int) -> list[dict]:
        """`count` users of a role: minted with tokens for AssetFlow, plain numbers for the bare ones."""
        have = self.tokens.setdefault(role, [])
        if len(have) < count:
            if self.kind == "assetflow":
                have[:] = mint_users(self.env, f"scale-{role[:3]}", count, role)
            else:
                offset = {"employee": 0, "approver": 1_000_000}[role]
                have[:] = [{"id": offset + i} for i in range(count)]
        return have[:count]

    def auth(self, user: dict, role: str) -> dict:
        if self.kind == "assetflow":
            return {"token": user["token"], "last_seq": 0}
        return {"user": user["id"], "role": role}

    def header(self, user: dict) -> dict:
        return {"authorization": f"Bearer {user['token']}"} if self.kind == "assetflow" else {}

    def decision_job(self, url: str, approver: dict, applicant_index: int, applicant: dict,
                     request_id: int) -> dict:
        """The HTTP call of one decision and the event it must cause on the applicant's socket."""
        watch = {"group": "app", "index": applicant_index, "key": f"approval_update|{request_id}|approved"}
        if self.kind == "assetflow":
            return {"url": f"{url}/api/requests/{request_id}/approve", "headers": self.header(approver),
                    "body": {}, "watch": watch}
        return {"url": f"{url}/push", "watch": watch,
                "body": {"room": f"user:{applicant['id']}", "event": "approval_update",
                         "data": {"request_id": request_id, "status": "approved"}}}


def wait_healthy(server: LiveServer, timeout: float = 40) -> None:
    """Wait for /healthz, or raise with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.log_path.name} exited:\n{server.log_text()[-3000:]}")
        try:
            if requests.get(server.url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.log_path.name} did not answer within {timeout} s")


def start_process(run: Run, cmd: list[str], env: dict[str, str], name: str, mode: str,
                  port: int | None = None) -> LiveServer:
    """Start a server command line ({port} filled in) in its own process group; wait for /healthz.
    A `port` restarts a server where its clients expect it; the log file is then appended to."""
    log_path = run.tmp / f"{name}.log"
    with log_path.open("ab" if port else "wb") as log:
        port = port or free_port()
        process = subprocess.Popen([part.format(port=port) for part in cmd], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path, mode, env)
    with run.lock:
        run.servers.append(server)
    wait_healthy(server)
    return server


def stack_env(mode: str) -> dict[str, str]:
    """The per-socket settings docs/deploy.md recommends (compression is declined by default)."""
    return {"GEVENT_TRACK_GREENLET_TREE": "0"} if mode == "gevent" else {}


def gunicorn_args() -> str:
    """Extra gunicorn flags. gunicorn reads ./gunicorn.conf.py (worker_connections sized for 10,000
    sockets) by itself; without one, --worker-connections lifts the default cap of 1,000."""
    return "" if (ROOT / "gunicorn.conf.py").exists() else "--worker-connections 20000"


def start_assetflow(run: Run, mode: str, procs: int, name: str, app: str = "wsgi:app", **settings: str) -> Target:
    """`procs` gunicorn processes of one deployment on PostgreSQL (+ Redis when more than one); `app` may be
    bench/introspect_app.py's, `settings` more environment."""
    extra = {"GUNICORN_CMD_ARGS": gunicorn_args(), **stack_env(mode), **settings}
    if procs > 1:
        extra.update(SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=f"assetflow-scale-{os.getpid()}-{name}")
    env = run.env(run.database("postgres", name.replace("-", "_")), mode, **extra)
    servers = [run.start(env, f"{name}-{i}", app) for i in range(procs)]
    return Target(name, "assetflow", mode, servers, [worker_pid(s) for s in servers], env)


def bare_command(mode: str) -> tuple[list[str], dict[str, str]]:
    """bench/bare_app.py under the same gunicorn worker: its command line ({port} to fill in) and environment."""
    env = {**os.environ, "ASYNC_MODE": mode, "PING_INTERVAL": "25", "PING_TIMEOUT": "20", **stack_env(mode),
           "BARE_DATABASE_URL": database_url(POSTGRES_ADMIN_URL)}
    cmd = [sys.executable, "-m", "gunicorn", "-k", mode, "-w", "1", "-b", "127.0.0.1:{port}",
           "--graceful-timeout", "2", "--pythonpath", "bench", *gunicorn_args().split(), "bare_app:app"]
    return cmd, env


def node_command(limit_s: float) -> list[str]:
    """bench/node/server.mjs's command line ({port} to fill in)."""
    return ["node", str(NODE_DIR / "server.mjs"), "{port}", str(int(limit_s))]


def start_bare(run: Run, mode: str, name: str) -> Target:
    """bench/bare_app.py under the same gunicorn worker."""
    cmd, env = bare_command(mode)
    server = start_process(run, cmd, env, name, mode)
    return Target(name, "bare", mode, [server], [worker_pid(server)])


def start_node(run: Run, limit_s: float) -> Target:
    """bench/node/server.mjs."""
    server = start_process(run, node_command(limit_s), dict(os.environ), "node-server", "node")
    return Target("node", "node", "node", [server], [server.process.pid])


# ---------------------------------------------------------------------------------------------
# measurements


def gc_report(target: Target, reset: bool = False) -> dict[str, Any]:
    """The collections of a server started with bench/introspect_app.py since the last reset."""
    url = f"{target.urls[0]}/_bench/gc" + ("?reset=1" if reset else "")
    return requests.get(url, timeout=60).json()


def slowest(push_ms: list[float | None], http_ms: list[float], sent_ms: list[int], count: int = 10) -> list:
    """The `count` slowest pushes as [seconds into the run when sent, push ms, the call's own ms]: a stall
    shows as a run of them."""
    timed = sorted(((push, http, sent) for push, http, sent in zip(push_ms, http_ms, sent_ms, strict=True)
                    if push is not None), reverse=True)
    return [[round(sent / 1000, 2), round(push, 1), round(http, 1)] for push, http, sent in timed[:count]]


def stats_ms(values: list[float | None]) -> dict[str, Any]:
    """n, misses (None), p50, p99 and max of a list of milliseconds."""
    got = [v for v in values if v is not None]
    return {"n": len(values), "missed": len(values) - len(got), "p50": percentile(got, 50),
            "p99": percentile(got, 99), "max": max(got) if got else None}


def settle_rss(target: Target, seconds: float) -> int:
    time.sleep(seconds)
    return target.rss()


def open_group(load: Load, target: Target, group: str, role: str, users: list[dict],
               urls: list[str] | None = None) -> dict[str, Any]:
    auths = [target.auth(user, role) for user in users]
    answer = load.call("open", group=group, urls=urls or target.urls, auths=auths, concurrency=100, timeout=600)
    times = answer.pop("connect_ms")
    answer["connect_ms"] = stats_ms(times)
    return answer


def submit_pending(load: Load, target: Target, applicants: list[dict], count: int) -> list[int]:
    """`count` pending one-step requests (acquire, value 100), one per applicant in turn; their ids."""
    jobs = [{"url": f"{target.urls[i % len(target.urls)]}/api/requests", "headers": target.header(applicants[i]),
             "body": {"kind": "acquire", "reason": "scale", "name": f"Scale {i}", "category": "Bench",
                      "value": "100.00"}} for i in range(count)]
    answer = load.call("push", jobs=jobs, rate=None, concurrency=4, timeout=600)
    ids = answer["ids"]
    if None in ids:
        raise RuntimeError(f"submits failed: {answer['statuses']}")
    return ids


def decisions(load: Load, target: Target, work: list[tuple[int, dict, int]], approvers: list[dict],
              rate: float | None, concurrency: int = 8) -> dict[str, Any]:
    """Decide each (applicant's socket index, applicant, request id); push latency, CPU per decision."""
    jobs = []
    for i, (index, applicant, request_id) in enumerate(work):
        # Decisions go round-robin over the processes, shifted so that with several processes
        # most land on another process than the applicant's socket.
        url = target.urls[(index + 1) % len(target.urls)]
        jobs.append(target.decision_job(url, approvers[i % len(approvers)], index, applicant, request_id))
    cpu_before = target.cpu()
    answer = load.call("push", jobs=jobs, rate=rate, concurrency=concurrency, timeout_ms=PUSH_WAIT_MS,
                       timeout=len(jobs) / (rate or 20) + 120)
    cpu = target.cpu() - cpu_before
    same = [p for p, s in zip(answer["push_ms"], answer["same_url"], strict=True) if s]
    cross = [p for p, s in zip(answer["push_ms"], answer["same_url"], strict=True) if not s]
    out = {"push_ms": stats_ms(answer["push_ms"]), "http_ms": stats_ms(answer["http_ms"]),
           "statuses": answer["statuses"], "duplicates": answer["duplicates"], "wall_s": answer["wall_s"],
           "cpu_s": round(cpu, 3), "cpu_ms_per_decision": round(cpu * 1000 / len(jobs), 2),
           "slowest": slowest(answer["push_ms"], answer["http_ms"], answer["sent_ms"]),
           "load_loop_delay_ms": answer["loop_delay_ms"]}
    if len(target.urls) > 1:
        out["push_ms_same_process"], out["push_ms_cross_process"] = stats_ms(same), stats_ms(cross)
    if rate is None:
        out["decisions_per_s"] = round(len(jobs) / answer["http_wall_s"], 1)
    return out


def fanout(load: Load, target: Target, applicant: dict, approver: dict, reps: int, first_id: int) -> dict[str, Any]:
    """One change reaching every socket of the `dash` group: time to the last, `reps` times."""
    lasts, runs = [], []
    for rep in range(reps):
        if target.kind == "assetflow":
            (request_id,) = submit_pending(load, target, [applicant], 1)
            job = target.decision_job(target.urls[0], approver, 0, applicant, request_id)
            job.pop("watch")
        else:
            request_id = first_id + rep
            job = {"url": f"{target.urls[0]}/push", "body": {"room": "role:approver", "event": "queue_update",
                                                             "data": {"request_id": request_id, "state": "approved"}}}
        time.sleep(0.5)  # the submission's own pushes are out before the clock starts
        answer = load.call("fanout", job=job, group="dash", key=f"queue_update|{request_id}|approved",
                           timeout_ms=PUSH_WAIT_MS, timeout=60)
        arrivals = answer.pop("arrival_ms")
        answer["last_ms"] = max(arrivals) if arrivals else None
        answer["p50_ms"] = percentile(arrivals, 50)
        lasts.append(answer["last_ms"])
        runs.append(answer)
    got = [v for v in lasts if v is not None]
    return {"sockets": runs[0]["sockets"], "last_ms_median": percentile(got, 50), "last_ms_max": max(got, default=None),
            "missed": sum(r["missed"] for r in runs), "duplicates": sum(r["duplicates"] for r in runs), "runs": runs}


def healthz_ms(target: Target, count: int = 20) -> dict[str, Any]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        ok = requests.get(target.urls[0] + "/healthz", timeout=10).status_code == 200
        times.append((time.perf_counter() - started) * 1000 if ok else None)
    return stats_ms(times)


def bench_single(run: Run, target: Target, p: dict, deadline: Deadline) -> dict[str, Any]:
    """Steps 1-4 of the module docstring against one single-process target."""
    load = Load(deadline.left())
    out: dict[str, Any] = {"kind": target.kind, "mode": target.mode, "loadavg_start": loadavg()}
    try:
        applicants = target.users("employee", p["hold"] - p["fanout"])
        approvers = target.users("approver", p["dashboards"])
        healthz_ms(target, 5)  # warm-up
        rss0 = settle_rss(target, 1)
        out["rss_start_kib"] = rss0
        opened = open_group(load, target, "app", "employee", applicants[: p["applicants"]])
        opened_dash = open_group(load, target, "dash", "approver", approvers)
        sockets = opened["opened"] + opened_dash["opened"]
        rss1 = settle_rss(target, p["settle_s"])
        out["open"] = opened
        out["sockets"] = sockets
        out["kib_per_socket"] = round((rss1 - rss0) / max(sockets, 1), 1)
        deadline.check()
        cpu0, t0 = target.cpu(), time.monotonic()
        time.sleep(5)
        out["idle_cpu_percent"] = round((target.cpu() - cpu0) * 100 / (time.monotonic() - t0), 1)
        if target.kind == "assetflow":
            ids = submit_pending(load, target, applicants, p["decisions"])
        else:
            ids = list(range(1, p["decisions"] + 1))
        out["decisions"] = decisions(load, target, list(zip(range(len(ids)), applicants, ids, strict=False)),
                                     approvers, p["rate"])
        out["decisions"]["cpu_ms_per_decision_minus_idle"] = round(
            out["decisions"]["cpu_ms_per_decision"] - out["idle_cpu_percent"] * 10 / p["rate"], 2)
        deadline.check()
        # One approver more than the dashboards, who decides without a dashboard open: nobody is told of their
        # own action in a queue_update (their tabs get request_changed), so a deciding dashboard would never hear.
        named = target.users("approver", p["fanout"] + 1)
        more = named[p["dashboards"]:p["fanout"]]
        open_group(load, target, "dash", "approver", more)
        out["fanout"] = fanout(load, target, applicants[0], named[-1], p["fanout_reps"], p["decisions"] + 1)
        deadline.check()
        fill = applicants[p["applicants"]:]
        filled = open_group(load, target, "fill", "employee", fill)
        rss2 = settle_rss(target, p["settle_s"])
        held = sockets + len(more) + filled["opened"]
        out["hold"] = {"sockets": held, "rss_kib": rss2, "kib_per_socket": round((rss2 - rss0) / max(held, 1), 1),
                       "still_connected": sum(load.call("count", group=g)["connected"]
                                              for g in ("app", "dash", "fill")),
                       "connect": filled, "healthz_ms": healthz_ms(target)}
    finally:
        load.close()
    out["loadavg_end"] = loadavg()
    return out


def bench_multi(run: Run, mode: str, procs: int, p: dict, deadline: Deadline) -> dict[str, Any]:
    """`procs` AssetFlow processes behind no balancer: sockets and decisions spread over the ports."""
    target = start_assetflow(run, mode, procs, f"{mode}-x{procs}")
    load = Load(deadline.left())
    out: dict[str, Any] = {"procs": procs, "loadavg_start": loadavg()}
    try:
        applicants = target.users("employee", p["multi_sockets"])
        approvers = target.users("approver", p["dashboards"])
        out["open"] = open_group(load, target, "app", "employee", applicants)
        open_group(load, target, "dash", "approver", approvers)
        ids = submit_pending(load, target, applicants, min(p["multi_decisions"], len(applicants)))
        work = list(zip(range(len(ids)), applicants, ids, strict=False))
        half = len(work) // 2
        # Closed loop first: as many decisions per second as the processes give.
        out["throughput"] = decisions(load, target, work[:half], approvers, None, concurrency=4 * procs)
        # Then the steady rate, for the cross-process latency.
        out["steady"] = decisions(load, target, work[half:], approvers, p["rate"])
    finally:
        load.close()
        for server in target.servers:
            run.stop(server)
    out["loadavg_end"] = loadavg()
    return out


# ---------------------------------------------------------------------------------------------
# report


def _get(entry: dict | None, *path: str) -> Any:
    for key in path:
        if not isinstance(entry, dict):
            return None
        entry = entry.get(key)
    return entry


ROW_METRICS = {  # label -> path in a single-target result
    "KiB/socket": ("kib_per_socket",),
    "KiB/socket @hold": ("hold", "kib_per_socket"),
    "push p50 ms": ("decisions", "push_ms", "p50"),
    "push p99 ms": ("decisions", "push_ms", "p99"),
    "push max ms": ("decisions", "push_ms", "max"),
    "fan-out last ms": ("fanout", "last_ms_median"),
    "connects/s": ("open", "connects_per_s"),
}


def ratios(report: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """AssetFlow / bare Python, bare Python / Node and AssetFlow / Node, per mode and metric."""
    single, out = report["single"], {}
    node = single.get("node")
    for mode in report["modes"]:
        app, bare = single.get(f"assetflow-{mode}"), single.get(f"bare-{mode}")
        for label, path in ROW_METRICS.items():
            a, b, n = _get(app, *path), _get(bare, *path), _get(node, *path)
            out.setdefault(label, {}).update({f"{mode}: AssetFlow/bare": ratio(a, b), f"{mode}: bare/Node": ratio(b, n),
                                              f"{mode}: AssetFlow/Node": ratio(a, n)})
    return out


def render(report: dict[str, Any]) -> str:
    """The tables printed at the end of a run."""
    rows = []
    for name, r in report["single"].items():
        d, f, h = r.get("decisions") or {}, r.get("fanout") or {}, r.get("hold") or {}
        rows.append([name, r.get("sockets"), _get(r, "open", "connects_per_s"), r.get("kib_per_socket"),
                     h.get("sockets"), h.get("kib_per_socket"), h.get("still_connected"),
                     _get(h, "healthz_ms", "p50"), _get(d, "push_ms", "p50"), _get(d, "push_ms", "p99"),
                     _get(d, "push_ms", "max"), _get(d, "push_ms", "missed"), d.get("duplicates"),
                     d.get("cpu_ms_per_decision_minus_idle"), r.get("idle_cpu_percent"),
                     f.get("sockets"), f.get("last_ms_median"), f.get("last_ms_max"),
                     (f.get("missed") or 0) + (f.get("duplicates") or 0) if f else None])
    out = [f"Single process ({report['params']['applicants']} applicants + {report['params']['dashboards']} "
           f"dashboards, {report['params']['decisions']} decisions at {report['params']['rate']}/s)",
           table(["target", "sockets", "conn/s", "KiB/sock", "hold", "KiB/sock", "alive", "healthz p50",
                  "push p50", "p99", "max", "miss", "dup", "CPU ms/dec", "idle CPU %",
                  "fan-out N", "last p50", "last max", "miss+dup"], rows)]
    rows = []
    for name, r in report["multi"].items():
        t, s = r.get("throughput") or {}, r.get("steady") or {}
        rows.append([name, _get(r, "open", "opened"), t.get("decisions_per_s"), t.get("cpu_ms_per_decision"),
                     _get(s, "push_ms_cross_process", "p50"), _get(s, "push_ms_cross_process", "p99"),
                     _get(s, "push_ms_same_process", "p50"), _get(s, "push_ms", "missed"),
                     (s.get("duplicates") or 0) + (t.get("duplicates") or 0)])
    if rows:
        out += ["", "Multi-process (PostgreSQL + Redis; sockets and decisions spread over the ports)",
                table(["deployment", "sockets", "decisions/s", "CPU ms/dec", "cross p50", "cross p99",
                       "same p50", "miss", "dup"], rows)]
    rows = [[label, *[fmt(v, 2) for v in values.values()]] for label, values in report["ratios"].items()]
    if rows:
        headers = list(next(iter(report["ratios"].values())))
        out += ["", "Ratios (same run)", table(["metric", *headers], rows)]
    if report["skipped"]:
        out += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in report["skipped"].items())]
    return "\n".join(out)


def run_all(run: Run, report: dict[str, Any], p: dict, deadline: Deadline, multi: bool) -> int:
    """Every target, one at a time, each stopped before the next starts."""
    starters = []
    for mode in report["modes"]:
        starters += [(f"assetflow-{mode}", lambda m=mode: start_assetflow(run, m, 1, f"assetflow-{m}")),
                     (f"bare-{mode}", lambda m=mode: start_bare(run, m, f"bare-{m}"))]
    starters.append(("node", lambda: start_node(run, deadline.left())))
    for name, start in starters:
        deadline.check()
        target = None
        try:
            target = start()
            report["single"][name] = bench_single(run, target, p, deadline)
        except BenchTimeout:
            raise
        except Exception as error:  # one broken target does not hide the others
            traceback.print_exc()
            report["skipped"][name] = f"failed: {type(error).__name__}: {error}"[:500]
        finally:
            for server in target.servers if target else []:
                run.stop(server)
        print(f"done {name} ({deadline.left():.0f} s left)", flush=True)
    problem = reachable_redis()
    for mode in report["modes"]:
        for procs in p["multi_procs"]:
            name = f"assetflow-{mode}-x{procs}"
            if not multi or problem:
                report["skipped"][name] = "--no-multi" if not multi else problem
                continue
            try:
                report["multi"][name] = bench_multi(run, mode, procs, p, deadline)
            except BenchTimeout:
                raise
            except Exception as error:
                traceback.print_exc()
                report["skipped"][name] = f"failed: {type(error).__name__}: {error}"[:500]
            print(f"done {name} ({deadline.left():.0f} s left)", flush=True)
    return 1 if any(v.startswith("failed") for v in report["skipped"].values()) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 sockets instead of 5,000; 15 minute limit")
    parser.add_argument("--modes", default="eventlet,gevent", help="async modes to measure (comma-separated)")
    parser.add_argument("--no-multi", action="store_true", help="skip the 2- and 4-process runs")
    args = parser.parse_args()
    p = dict(QUICK if args.quick else FULL)
    if problem := reachable_postgres():
        print(f"scale benchmark needs PostgreSQL ({POSTGRES_ADMIN_URL}): {problem}", file=sys.stderr)
        return 2
    deadline = Deadline(p["timeout"])
    run = Run(p, deadline)
    started = time.monotonic()
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": "quick" if args.quick else "full",
        "params": {**p, "multi_procs": list(p["multi_procs"])}, "modes": args.modes.split(","),
        "machine": machine(), "loadavg_start": loadavg(), "single": {}, "multi": {}, "skipped": {},
    }

    status = guarded(run, p["timeout"], lambda: run_all(run, report, p, deadline, not args.no_multi), report)
    report["ratios"] = ratios(report)
    finish(report, render, started, prefix="scale-", suffix="-quick" if report["mode"] == "quick" else "")
    return status


if __name__ == "__main__":
    sys.exit(main())
