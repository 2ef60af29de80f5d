"""AssetFlow benchmarks: push latency, decision throughput, reconnect replay, memory, scale-out.

    .venv/bin/python bench/run.py [--quick]

Starts real gunicorn servers (eventlet and gevent workers, SQLite and PostgreSQL) through
tests/live_server.py, measures them side by side in one run, prints tables and writes
bench/results/latest.json plus a timestamped copy. Everything listens on 127.0.0.1; every loop is
bounded in count and in time; servers and databases are removed at the end, also on failure.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402

from tests.live_server import (  # noqa: E402
    PostgresDatabases,
    Probe,
    base_env,
    current_seq,
    sqlite_copy,
    sqlite_template,
    start_server,
    stop_process_group,
)

RESULTS_DIR = ROOT / "bench" / "results"
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
WAIT = 10.0  # the longest any single event or call may take before it counts as missed

FULL = dict(decisions=200, warmup=10, idle=500, pairs=200, threads=4, replay_k=(100, 500),
            replay_reps=5, scaleout_decisions=200, memory_cycles=3, memory_settle=True, timeout=15 * 60)
QUICK = dict(decisions=30, warmup=3, idle=500, pairs=40, threads=4, replay_k=(100, 500),
             replay_reps=2, scaleout_decisions=30, memory_cycles=0, memory_settle=False, timeout=3 * 60)
CONFIGS = (("eventlet", "sqlite"), ("gevent", "sqlite"), ("eventlet", "postgres"), ("gevent", "postgres"))


class BenchTimeout(Exception):
    """The hard overall time limit was reached."""


class Deadline:
    """One hard limit for the whole run, checked by every loop and enforced by SIGALRM."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> None:
        if self.left() <= 0:
            raise BenchTimeout("hard time limit reached")


# ---------------------------------------------------------------------------------------------
# statistics


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of the values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summary_ms(values_s: list[float]) -> dict[str, Any]:
    """n, median, p95, p99, min, max in milliseconds."""
    ms = [v * 1000 for v in values_s]
    return {"n": len(ms), "median": percentile(ms, 50), "p95": percentile(ms, 95),
            "p99": percentile(ms, 99), "min": min(ms) if ms else None, "max": max(ms) if ms else None}


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


# ---------------------------------------------------------------------------------------------
# server-side helpers (what tests/live_server.py does not provide)


def worker_pid(server) -> int:
    """The pid of the gunicorn worker (the master's only child): the process holding the sockets."""
    master = server.process.pid
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn worker not found")


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages: other work sharing the 2 cores shows here."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def metrics(server) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(server.url + "/metrics", timeout=WAIT).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def histogram_median_bucket(before: dict, after: dict, name: str) -> dict[str, Any]:
    """From two /metrics snapshots: observations in between and the bucket holding their median."""
    buckets = []
    for (sample, labels), value in after.items():
        if sample == f"{name}_bucket":
            le = dict(labels)["le"]
            buckets.append((math.inf if le == "+Inf" else float(le), value - before.get((sample, labels), 0.0)))
    buckets.sort()
    count = buckets[-1][1] if buckets else 0
    if not count:
        return {"observations": 0, "median_le_ms": None}
    for le, cumulative in buckets:
        if cumulative >= count / 2:
            return {"observations": int(count), "median_le_ms": None if le == math.inf else le * 1000}
    return {"observations": int(count), "median_le_ms": None}


def mint_users(env: dict[str, str], prefix: str, count: int, role: str = "employee") -> list[dict]:
    """Create `count` users of a role in the server's database; their ids and access tokens."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "mint_users.py"), prefix, str(count), role],
                         cwd=ROOT, env={**env, "ASYNC_MODE": "threading"}, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)["users"]


def log_problems(server) -> dict[str, Any]:
    """Tracebacks and ERROR/CRITICAL lines in a server's log."""
    text = server.log_text()
    lines = [line for line in text.splitlines()
             if "Traceback" in line or " ERROR " in line or "CRITICAL" in line or "[ERROR]" in line]
    return {"count": len(lines), "first": lines[:5]}


class Session:
    """A keep-alive HTTP session of one logged-in user, like a browser tab."""

    def __init__(self, server_url: str, token: str):
        self.url = server_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def post(self, path: str, body: dict) -> requests.Response:
        return self.http.post(self.url + path, json=body, timeout=WAIT)

    def submit_acquire(self, label: str) -> requests.Response:
        # `acquire` needs no existing asset, so the benchmark never runs out of in-stock assets;
        # a value under HIGH_VALUE_THRESHOLD keeps the chain at one approver step.
        return self.post("/api/requests", {"kind": "acquire", "reason": "benchmark", "name": f"Bench {label}",
                                           "category": "Bench", "value": "100.00"})

    def close(self) -> None:
        self.http.close()


class TimedProbe(Probe):
    """The harness's recording client, plus the arrival time (perf_counter) of every event."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.stamps: list[float] = []
        self.arrivals: dict[tuple, float] = {}

    def _record(self, event: str, data: Any = None) -> None:
        now = time.perf_counter()
        with self.cond:
            self.events.append((event, data))
            self.stamps.append(now)
            if event == "approval_update" and isinstance(data, dict):
                self.arrivals.setdefault((data.get("request_id"), data.get("status")), now)
            self.cond.notify_all()

    def wait_key(self, key: tuple, timeout: float = WAIT) -> float | None:
        with self.cond:
            if self.cond.wait_for(lambda: key in self.arrivals, timeout=timeout):
                return self.arrivals[key]
        return None

    def approval_updates(self) -> list[dict]:
        return self.named("approval_update")


def delivery_check(updates: list[dict]) -> dict[str, Any]:
    """Exactly once and in order: duplicates by notification_id and gaps/reorders in seq."""
    ids = [u["notification_id"] for u in updates]
    seqs = [u["seq"] for u in updates]
    out_of_order = sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b != a + 1)
    return {"events": len(updates), "duplicates": len(ids) - len(set(ids)), "seq_breaks": out_of_order}


# ---------------------------------------------------------------------------------------------
# the benchmarks


def push_latency(server, alice: dict, bob: dict, count: int, warmup: int, deadline: Deadline,
                 approve_via=None) -> dict[str, Any]:
    """Sequential submit (alice) + approve (bob); time until alice's socket gets `approved`.

    `approve_via` is another server of the same deployment (scale-out: decide on B, listen on A).
    """
    probe = TimedProbe(server.url, alice["access_token"], current_seq(server, alice["access_token"]))
    probe.connect()
    applicant = Session(server.url, alice["access_token"])
    approver = Session((approve_via or server).url, bob["access_token"])
    send_to_push, response_to_push, http_approve = [], [], []
    missed, errors = 0, {}
    before = metrics(server)
    try:
        for index in range(warmup + count):
            deadline.check()
            response = applicant.submit_acquire(f"latency {index}")
            if response.status_code != 201:
                errors[f"submit {response.status_code}"] = errors.get(f"submit {response.status_code}", 0) + 1
                continue
            request_id = response.json()["id"]
            # The submission's own push first, so nothing is in flight when the clock starts.
            if probe.wait_key((request_id, "pending")) is None:
                missed += 1
                continue
            started = time.perf_counter()
            response = approver.post(f"/api/requests/{request_id}/approve", {})
            answered = time.perf_counter()
            if response.status_code != 200:
                errors[f"approve {response.status_code}"] = errors.get(f"approve {response.status_code}", 0) + 1
                continue
            arrived = probe.wait_key((request_id, "approved"))
            if arrived is None:
                missed += 1
                continue
            if index >= warmup:
                send_to_push.append(arrived - started)
                response_to_push.append(arrived - answered)
                http_approve.append(answered - started)
        after = metrics(server)
        time.sleep(0.2)  # late duplicates, if any, would arrive now
        check = delivery_check(probe.approval_updates())
    finally:
        probe.close()
        applicant.close()
        approver.close()
    return {
        "send_to_push_ms": summary_ms(send_to_push),
        "response_to_push_ms": summary_ms(response_to_push),
        "push_before_response": sum(1 for v in response_to_push if v < 0),
        "http_approve_ms": summary_ms(http_approve),
        "server_commit_to_emit": histogram_median_bucket(before, after, "assetflow_commit_to_emit_seconds"),
        "missed": missed, "errors": errors, "delivery": check,
    }


def open_idle(server, users: list[dict], deadline: Deadline) -> tuple[list[socketio.Client], dict]:
    """One websocket-only python-socketio client per user, opened by 8 threads; refused ones counted."""
    def connect(user: dict) -> socketio.Client | None:
        if deadline.left() <= 0:
            return None
        client = socketio.Client(reconnection=False)
        try:
            client.connect(server.url, auth={"token": user["token"], "last_seq": 0},
                           transports=["websocket"], wait_timeout=WAIT)
            return client
        except Exception:
            client.shutdown() if hasattr(client, "shutdown") else None
            return None

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(connect, users))
    wall = time.perf_counter() - started
    opened = [c for c in clients if c is not None]
    return opened, {"requested": len(users), "opened": len(opened), "connect_wall_s": round(wall, 2),
                    "connects_per_s": round(len(opened) / wall, 1) if wall else None}


def close_idle(clients: list[socketio.Client]) -> None:
    def close(client: socketio.Client) -> None:
        try:
            client.disconnect()
        except Exception:
            pass

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(close, clients))


def gauge(server, name: str) -> float:
    return metrics(server).get((name, ()), 0.0)


def settle_rss(pid: int, seconds: float = 1.5) -> int:
    time.sleep(seconds)
    return rss_kib(pid)


def throughput(server, pid: int, applicants: list[str], approvers: list[str], pairs: int, threads: int,
               deadline: Deadline) -> dict[str, Any]:
    """`threads` clients, each submitting and approving its share of `pairs` as fast as it can."""
    share = [pairs // threads + (1 if i < pairs % threads else 0) for i in range(threads)]
    submit_lat: list[float] = []
    approve_lat: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def count_error(label: str) -> None:
        with lock:
            errors[label] = errors.get(label, 0) + 1

    def client(index: int) -> None:
        applicant = Session(server.url, applicants[index % len(applicants)])
        approver = Session(server.url, approvers[index % len(approvers)])
        local_submit, local_approve = [], []
        try:
            barrier.wait(timeout=WAIT)
            for n in range(share[index]):
                if deadline.left() <= 0:
                    count_error("stopped by deadline")
                    return
                try:
                    started = time.perf_counter()
                    response = applicant.submit_acquire(f"tp {index}-{n}")
                    local_submit.append(time.perf_counter() - started)
                    if response.status_code != 201:
                        count_error(f"submit {response.status_code}")
                        continue
                    request_id = response.json()["id"]
                    started = time.perf_counter()
                    response = approver.post(f"/api/requests/{request_id}/approve", {})
                    local_approve.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        count_error(f"approve {response.status_code}")
                except requests.RequestException as error:
                    count_error(type(error).__name__)
        finally:
            applicant.close()
            approver.close()
            with lock:
                submit_lat.extend(local_submit)
                approve_lat.extend(local_approve)

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(threads)]
    server_cpu, client_cpu = cpu_s(pid), time.process_time()
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=max(1.0, deadline.left()))
    wall = time.perf_counter() - started
    server_cpu, client_cpu = cpu_s(pid) - server_cpu, time.process_time() - client_cpu
    calls = len(submit_lat) + len(approve_lat)
    failed = sum(errors.values())
    return {"pairs": pairs, "threads": threads, "wall_s": round(wall, 3), "calls": calls,
            "requests_per_s": round(calls / wall, 1) if wall else None,
            "pairs_per_s": round((calls / 2) / wall, 1) if wall else None,
            "submit_ms": summary_ms(submit_lat), "approve_ms": summary_ms(approve_lat),
            "all_calls_median_ms": percentile([v * 1000 for v in submit_lat + approve_lat], 50),
            "errors": errors, "error_rate": round(failed / calls, 4) if calls else None,
            "server_cpu_s": round(server_cpu, 3), "client_cpu_s": round(client_cpu, 3),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / calls, 2) if calls else None,
            "server_cpu_busy": round(server_cpu / wall, 2) if wall else None}


def top_up_notifications(server, alice: dict, bob: dict, needed: int, deadline: Deadline) -> None:
    """Give alice at least `needed` notifications: acquire submissions, bulk-approved by bob."""
    have = current_seq(server, alice["access_token"])
    if have >= needed:
        return
    applicant = Session(server.url, alice["access_token"])
    approver = Session(server.url, bob["access_token"])
    try:
        ids = []
        for index in range(math.ceil((needed - have) / 2) + 1):  # each pair: pending + approved
            deadline.check()
            response = applicant.submit_acquire(f"replay {index}")
            if response.status_code == 201:
                ids.append(response.json()["id"])
        for start in range(0, len(ids), 100):
            deadline.check()
            approver.post("/api/requests/bulk-approve", {"ids": ids[start:start + 100]})
    finally:
        applicant.close()
        approver.close()


def replay_problem(seqs: list[int], expected: list[int], updates: list[dict]) -> str:
    """What was wrong with a replay, in a few words and numbers."""
    first_bad = next((i for i, (a, b) in enumerate(zip(seqs, expected, strict=False)) if a != b), None)
    return (f"got {len(seqs)} events (expected {len(expected)}), {len(seqs) - len(set(seqs))} duplicate seqs, "
            f"{sum(1 for u in updates if not u.get('replayed'))} not marked replayed, first mismatch at "
            f"{first_bad}: {seqs[first_bad - 2:first_bad + 3] if first_bad is not None else '-'}, "
            f"missing {sorted(set(expected) - set(seqs))[:5]}, unexpected {sorted(set(seqs) - set(expected))[:5]}")


def wire_replay(server_url: str, token: str, last_seq: int, k: int) -> dict[str, Any]:
    """A raw Engine.IO v4 / Socket.IO v5 WebSocket client: connect with last_seq, read K events.

    python-socketio's threaded client hands every incoming message to a new thread, so it can
    deliver events out of wire order and adds a thread start per event; this client reads the
    frames in the order the server wrote them, with no per-event overhead.
    """
    import websocket  # websocket-client, from requirements-dev.txt

    url = server_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    end = time.monotonic() + 3 * WAIT
    started = time.perf_counter()
    ws = websocket.create_connection(url, timeout=WAIT)
    seqs, replayed, connected_at, last_at, error = [], 0, None, None, None
    try:
        if not ws.recv().startswith("0"):
            return {"error": "no Engine.IO open packet"}
        ws.send("40" + json.dumps({"token": token, "last_seq": last_seq}))
        while (len(seqs) < k or connected_at is None) and time.monotonic() < end and error is None:
            message = ws.recv()
            now = time.perf_counter()
            if message == "2":
                ws.send("3")
            elif message.startswith("40"):
                connected_at = now
            elif message.startswith("44"):
                error = message
            elif message.startswith("42"):
                name, data = json.loads(message[2:])[:2]
                if name == "approval_update":
                    seqs.append(data["seq"])
                    replayed += bool(data.get("replayed"))
                    last_at = now
    finally:
        ws.close()
    return {"seqs": seqs, "replayed": replayed, "error": error,
            "connect_ack_s": None if connected_at is None else connected_at - started,
            "last_event_s": None if last_at is None else last_at - started}


def replay(server, alice: dict, bob: dict, ks: tuple[int, ...], reps: int, deadline: Deadline) -> dict:
    """Connect with last_seq = newest - K; time from connect() to the K-th replayed event."""
    top_up_notifications(server, alice, bob, max(ks) + 1, deadline)
    newest = current_seq(server, alice["access_token"])
    results = {}
    for k in ks:
        expected = list(range(newest - k + 1, newest + 1))
        wire_totals, wire_acks, wire_problems = [], [], []
        for _ in range(reps):
            deadline.check()
            got = wire_replay(server.url, alice["access_token"], newest - k, k)
            if got.get("error") or got["seqs"] != expected or got["replayed"] != k:
                wire_problems.append(got.get("error") or replay_problem(
                    got["seqs"], expected, [{"replayed": True}] * got["replayed"]))
                continue
            wire_totals.append(got["last_event_s"])
            wire_acks.append(got["connect_ack_s"])
        totals, connects, problems = [], [], []
        for _ in range(reps):
            deadline.check()
            probe = TimedProbe(server.url, alice["access_token"], newest - k)
            started = time.perf_counter()
            try:
                probe.connect()
                connected = time.perf_counter()
                ok = probe.wait(lambda p=probe, n=k: len(p.approval_updates()) >= n, timeout=3 * WAIT)
                updates = probe.approval_updates()
                if not ok:
                    problems.append(f"got {len(updates)} of {k}")
                    continue
                last = max(s for (e, _), s in zip(probe.events, probe.stamps, strict=True) if e == "approval_update")
                seqs = [u["seq"] for u in updates]
                expected = list(range(newest - k + 1, newest + 1))
                if seqs != expected or not all(u["replayed"] for u in updates):
                    problems.append(replay_problem(seqs, expected, updates))
                totals.append(last - started)
                connects.append(connected - started)
            finally:
                probe.close()
        med, wire_med = percentile(totals, 50), percentile(wire_totals, 50)
        results[str(k)] = {
            "wire": {"connect_to_last_ms": summary_ms(wire_totals), "connect_to_ack_ms": summary_ms(wire_acks),
                     "events_per_s": round(k / wire_med) if wire_med else None, "problems": wire_problems},
            "python_socketio": {"connect_to_last_ms": summary_ms(totals), "connect_call_ms": summary_ms(connects),
                                "events_per_s": round(k / med) if med else None, "problems": problems},
        }
    return results


# ---------------------------------------------------------------------------------------------
# orchestration


class Run:
    """Servers, databases and the temporary directory of one benchmark run; cleaned up once."""

    def __init__(self, params: dict, deadline: Deadline):
        self.params = params
        self.deadline = deadline
        self.tmp = Path(tempfile.mkdtemp(prefix="assetflow-bench-"))
        self.servers: list = []
        self.pg: PostgresDatabases | None = None
        self.sqlite_tpl: Path | None = None
        self.lock = threading.Lock()

    def env(self, database_url: str, mode: str, **extra: str) -> dict[str, str]:
        # Product defaults for heartbeats (the harness's 1 s pings would add 500 pings/s of load),
        # tokens that outlive the run, WARNING logs so per-socket log lines do not cost disk I/O.
        return base_env(database_url, mode, PING_INTERVAL="25", PING_TIMEOUT="20",
                        ACCESS_TOKEN_MINUTES="120", LOG_LEVEL="WARNING", **extra)

    def database(self, kind: str, name: str) -> str:
        if kind == "sqlite":
            if self.sqlite_tpl is None:
                self.sqlite_tpl = sqlite_template(self.tmp)
            return sqlite_copy(self.sqlite_tpl, self.tmp, name)
        if self.pg is None:
            from config import database_url

            self.pg = PostgresDatabases(database_url(POSTGRES_ADMIN_URL))
            self.pg.prefix = f"assetflow_bench_{os.getpid()}"
        return self.pg.create(name)

    def start(self, env: dict[str, str], name: str, app: str = "wsgi:app"):
        server = start_server(env, self.tmp, name, app=app)
        with self.lock:
            self.servers.append(server)
        return server

    def stop(self, server) -> None:
        server.stop()

    def cleanup(self) -> None:
        with self.lock:
            servers, self.servers = self.servers, []
        for server in servers:
            try:
                stop_process_group(server.process)
            except Exception:
                traceback.print_exc()
        if self.pg is not None:
            try:
                self.pg.drop_all()
            except Exception:
                traceback.print_exc()
            self.pg = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def kill_now(self) -> None:
        """Last resort from the watchdog thread: SIGKILL every server group."""
        for server in list(self.servers):
            try:
                os.killpg(server.process.pid, signal.SIGKILL)
            except OSError:
                pass



def guarded(run: Run, timeout: float, body: Callable[[], int], report: dict[str, Any]) -> int:
    """Run body under one hard limit (SIGALRM, then a watchdog that SIGKILLs the servers) and
    always clean up; body's status, or 1 with report["error"] when it raised."""

    def on_alarm(signum, frame):
        raise BenchTimeout(f"hard time limit of {timeout} s reached")

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(int(timeout))
    # If cleanup itself hangs, a watchdog kills the servers and leaves.
    watchdog = threading.Timer(timeout + 60, lambda: (run.kill_now(), os._exit(3)))
    watchdog.daemon = True
    watchdog.start()
    try:
        return body()
    except (BenchTimeout, KeyboardInterrupt, Exception) as error:
        report["error"] = f"{type(error).__name__}: {error}"
        traceback.print_exc()
        return 1
    finally:
        signal.alarm(0)
        try:
            run.cleanup()
        finally:
            watchdog.cancel()

def bench_config(run: Run, mode: str, db_kind: str) -> dict[str, Any]:
    """All single-process benchmarks for one async mode and database."""
    p, deadline = run.params, run.deadline
    name = f"{mode}-{db_kind}"
    print(f"\n== {name}", flush=True)
    url = run.database(db_kind, name.replace("-", "_"))
    env = run.env(url, mode)
    idle_users = mint_users(env, "idle", p["idle"] + 3)  # three applicants, then the idle sockets
    server = run.start(env, name)
    result: dict[str, Any] = {"async_mode": mode, "database": db_kind, "loadavg_start": loadavg()}
    try:
        pid = worker_pid(server)
        # Engineering's applicant and approvers: the demo company routes alice's requests to bob or erik.
        alice, bob = server.login("alice"), server.login("bob")
        erik = server.login("erik")
        result["rss_start_kib"] = rss_kib(pid)

        print("   push latency, no idle sockets", flush=True)
        result["latency_idle_0"] = push_latency(server, alice, bob, p["decisions"], p["warmup"], deadline)

        rss_before = settle_rss(pid, 1.0)
        gauge_before = gauge(server, "assetflow_sockets_connected")
        print(f"   opening {p['idle']} idle sockets", flush=True)
        idle, opened = open_idle(server, idle_users[3:], deadline)
        rss_after = settle_rss(pid)
        gauge_after = gauge(server, "assetflow_sockets_connected")
        try:
            print(f"   push latency, {len(idle)} idle sockets", flush=True)
            result[f"latency_idle_{p['idle']}"] = push_latency(server, alice, bob, p["decisions"], p["warmup"],
                                                               deadline)
            result[f"latency_idle_{p['idle']}"]["idle_sockets"] = len(idle)
        finally:
            close_idle(idle)
        rss_closed = settle_rss(pid, 2.0)
        gauge_closed = gauge(server, "assetflow_sockets_connected")
        # A second open/close cycle tells a leak (RSS keeps growing) from the allocator keeping
        # freed memory for reuse (RSS stays where the first cycle left it).
        cycles = []
        for cycle in range(p["memory_cycles"]):
            print(f"   memory: open/close cycle {cycle + 2}", flush=True)
            again, _ = open_idle(server, idle_users[3:], deadline)
            rss_again = settle_rss(pid)
            close_idle(again)
            cycles.append({"opened": len(again), "rss_open_kib": rss_again,
                           "rss_after_close_kib": settle_rss(pid, 2.0)})
        result["memory"] = {
            **opened, "rss_before_kib": rss_before, "rss_after_kib": rss_after, "rss_after_close_kib": rss_closed,
            "kib_per_socket": round((rss_after - rss_before) / len(idle), 1) if idle else None,
            "sockets_gauge": {"before": gauge_before, "open": gauge_after, "after_close": gauge_closed,
                              "after_second_cycle": gauge(server, "assetflow_sockets_connected")},
            "more_cycles": cycles,
            "growth_per_cycle_kib": round((cycles[-1]["rss_after_close_kib"] - rss_closed) / len(cycles), 1)
            if cycles else None,
        }

        last_close = time.monotonic()

        print(f"   throughput, {p['pairs']} submit+approve pairs from {p['threads']} threads", flush=True)
        applicants = [alice["access_token"], *(user["token"] for user in idle_users[:3])]
        result["throughput"] = throughput(server, pid, applicants, [bob["access_token"], erik["access_token"]],
                                          p["pairs"], p["threads"], deadline)

        print(f"   reconnect replay K={list(p['replay_k'])}", flush=True)
        result["replay"] = replay(server, alice, bob, p["replay_k"], p["replay_reps"], deadline)
        if p["memory_settle"]:
            # A closed engine.io socket stays referenced by its ping task until that task wakes up,
            # up to PING_INTERVAL (25 s) later: only after that is a rise in RSS a leak.
            wait = last_close + 25 + 5 - time.monotonic()
            print(f"   waiting {max(wait, 0):.0f} s for ping tasks of closed sockets to end", flush=True)
            time.sleep(max(0.0, min(wait, deadline.left() - 5)))
            result["memory"]["rss_settled_kib"] = rss_kib(pid)
            result["memory"]["settled_s_after_last_close"] = round(time.monotonic() - last_close, 1)
        result["rss_end_kib"] = rss_kib(pid)
        result["loadavg_end"] = loadavg()
    finally:
        result["server_log_problems"] = log_problems(server)
        run.stop(server)
    return result


def bench_scaleout(run: Run, mode: str) -> dict[str, Any]:
    """Two processes, one PostgreSQL database, Redis pub/sub: applicant on A, decisions on B (and A)."""
    p, deadline = run.params, run.deadline
    name = f"scaleout-{mode}"
    print(f"\n== {name}", flush=True)
    url = run.database("postgres", name.replace("-", "_"))
    # Redis pub/sub ignores the database index: the channel name is what isolates this run.
    env = run.env(url, mode, SOCKETIO_MESSAGE_QUEUE=REDIS_URL,
                  SOCKETIO_CHANNEL=f"assetflow-bench-{os.getpid()}-{mode}")
    a = run.start(env, f"{name}-a")
    b = run.start(env, f"{name}-b")
    result: dict[str, Any] = {"async_mode": mode, "database": "postgres", "queue": "redis"}
    try:
        alice, bob = a.login("alice"), b.login("bob")
        print("   applicant on A, decisions through B", flush=True)
        result["a_to_b"] = push_latency(a, alice, bob, p["scaleout_decisions"], p["warmup"], deadline, approve_via=b)
        print("   applicant on A, decisions through A (still via Redis)", flush=True)
        result["a_to_a"] = push_latency(a, alice, bob, p["scaleout_decisions"], p["warmup"], deadline)
    finally:
        result["server_log_problems"] = {"a": log_problems(a), "b": log_problems(b)}
        run.stop(a)
        run.stop(b)
    return result


def reachable_postgres() -> str | None:
    import sqlalchemy as sa

    from config import database_url

    try:
        engine = sa.create_engine(database_url(POSTGRES_ADMIN_URL), poolclass=sa.pool.NullPool)
        engine.connect().close()
        return None
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def reachable_redis() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        return None
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), 0)
    versions = {}
    from importlib.metadata import PackageNotFoundError, version

    for package in ("flask", "flask-socketio", "python-socketio", "python-engineio", "eventlet", "gevent",
                    "gunicorn", "sqlalchemy", "psycopg2-binary", "simple-websocket", "redis"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_total_mib": mem // 1024, "python": platform.python_version(),
            "kernel": platform.release(), "packages": versions, "git_commit": commit}


# ---------------------------------------------------------------------------------------------
# report


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[fmt(c) if not isinstance(c, str) else c for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    return "\n".join([line, sep, *body])


def render(report: dict[str, Any]) -> str:
    params, configs = report["params"], report["configs"]
    idle_key = f"latency_idle_{params['idle']}"
    out = []
    rows = []
    for name, c in configs.items():
        for key, label in (("latency_idle_0", "0"), (idle_key, str(c.get(idle_key, {}).get("idle_sockets", "")))):
            lat = c.get(key)
            if not lat:
                continue
            s, r = lat["send_to_push_ms"], lat["response_to_push_ms"]
            rows.append([name, label, s["n"], s["median"], s["p95"], s["p99"], s["max"], r["median"], r["p95"],
                         r["p99"], r["max"], lat["http_approve_ms"]["median"],
                         fmt(lat["server_commit_to_emit"]["median_le_ms"], 1),
                         lat["missed"] + sum(lat["errors"].values()),
                         f"{lat['delivery']['duplicates']}/{lat['delivery']['seq_breaks']}"])
    out.append("Push latency, ms (send = approve request sent -> applicant's socket has the event;"
               " resp = approve response received -> event; negative = event before response)")
    out.append(table(["config", "idle", "n", "send p50", "p95", "p99", "max", "resp p50", "p95", "p99", "max",
                      "http p50", "srv c->e p50<=", "miss/err", "dup/gap"], rows))

    rows = []
    for name, c in configs.items():
        t = c.get("throughput")
        if t:
            rows.append([name, t["pairs"], t["threads"], t["wall_s"], t["requests_per_s"], t["pairs_per_s"],
                         t["all_calls_median_ms"], t["submit_ms"]["median"], t["approve_ms"]["median"],
                         t["approve_ms"]["p95"], t["server_cpu_ms_per_request"], t["server_cpu_busy"],
                         sum(t["errors"].values()), "/".join(f"{x:.1f}" for x in c.get("loadavg_start", []))])
    out.append("\nDecision throughput (submit+approve pairs over HTTP)")
    out.append(table(["config", "pairs", "threads", "wall s", "req/s", "pairs/s", "call p50 ms", "submit p50",
                      "approve p50", "approve p95", "srv CPU ms/req", "srv busy", "errors", "loadavg"], rows))

    rows = []
    for name, c in configs.items():
        for k, r in (c.get("replay") or {}).items():
            w, p = r["wire"], r["python_socketio"]
            rows.append([name, k, w["connect_to_last_ms"]["n"], w["connect_to_last_ms"]["median"],
                         w["connect_to_last_ms"]["max"], w["connect_to_ack_ms"]["median"], w["events_per_s"],
                         "; ".join(w["problems"]) or "ok", p["connect_to_last_ms"]["median"],
                         p["connect_to_last_ms"]["max"], "; ".join(p["problems"]) or "ok"])
    out.append("\nReconnect replay (connect with last_seq = newest - K -> K-th replayed event, ms;"
               " wire = raw WebSocket client, py-sio = python-socketio client)")
    out.append(table(["config", "K", "reps", "wire p50", "max", "CONNECT ack p50", "events/s", "wire order",
                      "py-sio p50", "max", "py-sio order (client-side reordering)"], rows))

    rows = []
    for name, c in configs.items():
        m = c.get("memory")
        if m:
            g = m["sockets_gauge"]
            closed = "/".join(f"{x / 1024:.1f}" for x in [m["rss_after_close_kib"]] + [
                c["rss_after_close_kib"] for c in m.get("more_cycles", [])])
            rows.append([name, m["opened"], m["connect_wall_s"], m["connects_per_s"], m["rss_before_kib"] / 1024,
                         m["rss_after_kib"] / 1024, m["kib_per_socket"], closed, m.get("growth_per_cycle_kib"),
                         (m.get("rss_settled_kib") or 0) / 1024 or None,
                         f"{g['before']:.0f}/{g['open']:.0f}/{g['after_close']:.0f}"])
    out.append("\nMemory of the gunicorn worker (RSS) around opening idle sockets")
    out.append(table(["config", "sockets", "open s", "opens/s", "RSS before MiB", "RSS open MiB", "KiB/socket",
                      "RSS after each close MiB", "KiB/cycle", "RSS +30s MiB", "gauge b/o/c"], rows))

    if report.get("scaleout"):
        rows = []
        for name, c in report["scaleout"].items():
            single = configs.get(f"{c['async_mode']}-postgres", {}).get("latency_idle_0", {})
            base = (single.get("send_to_push_ms") or {}).get("median")
            for key, label in (("a_to_b", "listen A, decide B"), ("a_to_a", "listen A, decide A")):
                lat = c.get(key)
                if lat:
                    s = lat["send_to_push_ms"]
                    rows.append([name, label, s["n"], s["median"], s["p95"], s["max"],
                                 lat["response_to_push_ms"]["median"], base, ratio(s["median"], base),
                                 lat["missed"] + sum(lat["errors"].values()),
                                 f"{lat['delivery']['duplicates']}/{lat['delivery']['seq_breaks']}"])
        out.append("\nScale-out: 2 gunicorn processes, PostgreSQL + Redis (send -> push, ms;"
                   " single = same mode, one process, no queue, same run)")
        out.append(table(["config", "path", "n", "p50", "p95", "max", "resp p50", "single p50", "x single",
                          "miss/err", "dup/gap"], rows))

    if report.get("ratios"):
        out.append("\nRatios (same run)")
        out.append(table(["ratio", "value"], [[k, v] for k, v in report["ratios"].items()]))
    problems = {n: c.get("server_log_problems") for n, c in {**configs, **report.get("scaleout", {})}.items()}
    flagged = {n: p for n, p in problems.items() if p and (p.get("count") or any(
        isinstance(v, dict) and v.get("count") for v in p.values()))}
    out.append(f"\nServer log errors: {json.dumps(flagged) if flagged else 'none'}")
    if report.get("skipped"):
        out.append(f"Skipped: {json.dumps(report['skipped'])}")
    if report.get("error"):
        out.append(f"INCOMPLETE: {report['error']}")
    return "\n".join(out)


def ratios(report: dict[str, Any]) -> dict[str, float | None]:
    configs, idle = report["configs"], report["params"]["idle"]

    def med(name: str, key: str, metric: str = "send_to_push_ms") -> float | None:
        return ((configs.get(name) or {}).get(key) or {}).get(metric, {}).get("median")

    out = {}
    for name in configs:
        out[f"{name}: p50 push with {idle} idle / with 0"] = ratio(med(name, f"latency_idle_{idle}"),
                                                                  med(name, "latency_idle_0"))
    for db_kind in ("sqlite", "postgres"):
        out[f"{db_kind}: gevent / eventlet p50 push"] = ratio(med(f"gevent-{db_kind}", "latency_idle_0"),
                                                            med(f"eventlet-{db_kind}", "latency_idle_0"))
        tp = {m: (configs.get(f"{m}-{db_kind}") or {}).get("throughput", {}).get("requests_per_s")
              for m in ("eventlet", "gevent")}
        out[f"{db_kind}: gevent / eventlet req/s"] = ratio(tp["gevent"], tp["eventlet"])
    for mode in ("eventlet", "gevent"):
        tp = {d: (configs.get(f"{mode}-{d}") or {}).get("throughput", {}).get("requests_per_s")
              for d in ("sqlite", "postgres")}
        out[f"{mode}: postgres / sqlite req/s"] = ratio(tp["postgres"], tp["sqlite"])
    return {k: v for k, v in out.items() if v is not None}


def save(report: dict[str, Any], prefix: str, suffix: str) -> Path:
    """Write the report as results/<prefix><start time><suffix>.json and results/<prefix>latest.json."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str)
    stamped = RESULTS_DIR / f"{prefix}{report['started_at'].replace(':', '').replace('-', '')}{suffix}.json"
    stamped.write_text(text)
    (RESULTS_DIR / f"{prefix}latest.json").write_text(text)
    return stamped


def finish(report: dict[str, Any], render: Callable[[dict[str, Any]], str], started: float,
           prefix: str = "", suffix: str = "") -> None:
    """Print the tables, save the report and say how long the run took and under what load."""
    report["wall_s"] = round(time.monotonic() - started, 1)
    report["loadavg_end"] = loadavg()
    print("\n" + render(report))
    path = save(report, prefix, suffix)
    print(f"\nload average at start {report['loadavg_start']}, at end {report['loadavg_end']} "
          f"({report['machine']['nproc']} CPUs shared by the load generator, the servers and anything else)")
    print(f"wall time {report['wall_s']} s; results in {path.relative_to(ROOT)} and bench/results/{prefix}latest.json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer decisions; 3 minute limit instead of 15")
    parser.add_argument("--no-scaleout", action="store_true", help="skip the two-process PostgreSQL+Redis run")
    args = parser.parse_args()
    params = dict(QUICK if args.quick else FULL)
    deadline = Deadline(params["timeout"])
    run = Run(params, deadline)
    wall_start = time.monotonic()
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": "quick" if args.quick else "full",
        "mode_suffix": "-quick" if args.quick else "", "params": {**params, "replay_k": list(params["replay_k"])},
        "machine": machine(), "loadavg_start": loadavg(), "configs": {}, "scaleout": {}, "skipped": {},
    }

    def body() -> int:
        status = 0
        pg_problem = reachable_postgres()
        for mode, db_kind in CONFIGS:
            if db_kind == "postgres" and pg_problem:
                report["skipped"][f"{mode}-{db_kind}"] = pg_problem
                continue
            try:
                report["configs"][f"{mode}-{db_kind}"] = bench_config(run, mode, db_kind)
            except (BenchTimeout, KeyboardInterrupt):
                raise
            except Exception as error:  # one broken configuration does not hide the others
                traceback.print_exc()
                report["skipped"][f"{mode}-{db_kind}"] = f"failed: {type(error).__name__}: {error}"
                status = 1
        redis_problem = reachable_redis()
        if args.no_scaleout:
            report["skipped"]["scaleout"] = "--no-scaleout"
        elif pg_problem or redis_problem:
            report["skipped"]["scaleout"] = pg_problem or redis_problem
        else:
            for mode in ("eventlet", "gevent"):
                if deadline.left() < 45:  # not enough left for two servers and two latency runs
                    report["skipped"][f"scaleout-{mode}"] = f"only {deadline.left():.0f} s left of the time limit"
                    continue
                report["scaleout"][f"{mode}-postgres+redis"] = bench_scaleout(run, mode)
        return status

    status = guarded(run, params["timeout"], body, report)
    report["ratios"] = ratios(report)
    finish(report, render, wall_start, suffix=report["mode_suffix"])
    return status


if __name__ == "__main__":
    sys.exit(main())
