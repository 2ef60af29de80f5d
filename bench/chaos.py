"""Chaos: nothing lost, nothing shown twice while servers are killed and the queue restarts.

    .venv/bin/python bench/chaos.py [--mode eventlet|gevent] [--clients 200] [--decisions 500]
    make chaos                         (the same, eventlet; CHAOS_ARGS="--mode gevent" for gevent)

Two gunicorn processes (A, B) on one PostgreSQL database with their own redis-server (started
here on a free port, never the machine's shared one) as the Socket.IO queue. 200 clients of the
official Node socket.io-client (tests/node/chaos.mjs) follow docs/realtime.md's recovery rules
while 4 threads submit `acquire` requests and decide 500 of them over HTTP, spreading calls over
whichever process answers. Meanwhile A is SIGKILLed twice (at 20 % and 70 % of the decisions)
and restarted on its port, and Redis is restarted once (at 45 %). At the end every client's
applied inbox is compared with the server's notification rows of that user: in seq order,
nothing missing, nothing twice. Prints a table and writes bench/results/chaos-latest.json;
exits 1 when anything was lost, duplicated or out of order. See docs/realtime.md, "Chaos".

Everything listens on 127.0.0.1; every loop is bounded; servers, Redis, Node and the databases
are removed at the end, also on failure and at the hard time limit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.run import Deadline, log_problems, mint_users  # noqa: E402
from config import database_url  # noqa: E402
from tests.live_server import (  # noqa: E402
    DEMO_PASSWORD,
    PostgresDatabases,
    base_env,
    free_port,
    start_server,
    stop_process_group,
)

RESULTS_DIR = ROOT / "bench" / "results"
NODE_DIR = ROOT / "tests" / "node"
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
APPROVERS = ("bob", "erik")  # the approvers of Engineering, where bench users work (mint_users.py)
HTTP_TIMEOUT = 10.0


class RedisServer:
    """Our own redis-server on a free port, so it can be restarted without touching anyone else's."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (no persistence) and wait until it answers PING."""
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def restart(self, down_seconds: float) -> None:
        """Stop it, stay down a moment (every message published meanwhile is lost), start again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)
            self.process = None


class Cluster:
    """Processes A and B of one deployment; A can be SIGKILLed and restarted on its port."""

    def __init__(self, env: dict[str, str], directory: Path):
        self.env, self.directory = env, directory
        self.servers = {name: start_server(env, directory, name) for name in ("a", "b")}
        self.up = {"a": True, "b": True}

    def urls(self) -> list[str]:
        """The base URLs of the processes that are up, in random order (a load balancer's pick)."""
        urls = [s.url for name, s in self.servers.items() if self.up[name]]
        random.shuffle(urls)
        return urls

    def kill_and_restart(self, name: str) -> float:
        """SIGKILL the process group (no clean shutdown), then start it again; seconds it was down."""
        server = self.servers[name]
        self.up[name] = False
        killed = time.monotonic()
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        port = int(server.url.rsplit(":", 1)[1])
        self.servers[name] = start_server(self.env, self.directory, name, port=port)
        self.up[name] = True
        return time.monotonic() - killed

    def stop(self) -> None:
        for server in self.servers.values():
            stop_process_group(server.process)


class Driver:
    """Submits and decides over HTTP through whichever process answers, like users behind a balancer."""

    def __init__(self, cluster: Cluster, employees: list[dict], approvers: dict[str, str], target: int):
        self.cluster, self.employees, self.approvers, self.target = cluster, employees, approvers, target
        self.decided = 0
        self.lock = threading.Lock()
        self.errors: dict[str, int] = {}
        self.retries = 0

    def _count_error(self, label: str) -> None:
        with self.lock:
            self.errors[label] = self.errors.get(label, 0) + 1

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> requests.Response | None:
        """One call, on the first process that takes it; None if the outcome is unknown."""
        for _ in range(20):
            for url in self.cluster.urls():
                try:
                    return requests.request(method, url + path, json=body, timeout=HTTP_TIMEOUT,
                                            headers={"Authorization": f"Bearer {token}"})
                except requests.ConnectionError as error:
                    if "refused" not in str(error).lower():
                        return None  # sent, then the process died: it may have committed
                    with self.lock:
                        self.retries += 1
                except requests.Timeout:
                    return None
            time.sleep(0.2)
        return None

    def _decide(self, request_id: int, index: int) -> bool:
        approver = APPROVERS[index % 2]
        action, body = ("reject", {"comment": f"chaos {index}"}) if index % 5 == 0 else ("approve", {"comment": ""})
        for _ in range(10):
            response = self.call("POST", f"/api/requests/{request_id}/{action}", self.approvers[approver], body)
            if response is not None and response.status_code == 200:
                return True
            if response is not None and response.status_code != 409:
                self._count_error(f"{action} {response.status_code}")
                return False
            # Unknown outcome or a 409: look at the request itself.
            state = self.call("GET", f"/api/requests/{request_id}", self.approvers[approver])
            if state is not None and state.status_code == 200 and state.json()["state"] != "pending":
                return True
        self._count_error(f"{action} gave up")
        return False

    def pair(self, index: int) -> None:
        """One submission by a random employee and its decision."""
        employee = random.choice(self.employees)
        response = self.call("POST", "/api/requests", employee["token"],
                             {"kind": "acquire", "reason": "chaos", "name": f"Chaos {index}",
                              "category": "Chaos", "value": "100.00"})
        if response is None or response.status_code != 201:
            self._count_error("submit " + ("lost" if response is None else str(response.status_code)))
            return
        if self._decide(response.json()["id"], index):
            with self.lock:
                self.decided += 1

    def run(self, deadline: Deadline, chaos: threading.Thread, threads: int = 4) -> None:
        """Pairs on `threads` threads until `target` decisions are committed and the chaos is over."""
        counter = iter(range(10**9))
        lock = threading.Lock()

        def worker() -> None:
            while self.decided < self.target or chaos.is_alive():
                deadline.check()
                with lock:
                    index = next(counter)
                self.pair(index)

        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(worker) for _ in range(threads)]:
                future.result()


class NodeClients:
    """tests/node/chaos.mjs with its JSON lines read on a thread."""

    def __init__(self, spec_path: Path, deadline_s: float):
        self.process = subprocess.Popen(["node", "chaos.mjs", str(spec_path)], cwd=NODE_DIR, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)
        self.lines: list[dict] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.cond:
                self.lines.append(json.loads(line))
                self.cond.notify_all()

    def expect(self, what: str, timeout: float) -> dict:
        with self.cond:
            ok = self.cond.wait_for(lambda: any(m["what"] in (what, "timeout") for m in self.lines), timeout)
            found = [m for m in self.lines if m["what"] in (what, "timeout")]
        if not ok or found[0]["what"] != what:
            raise RuntimeError(f"node: no {what!r} within {timeout}s: {self.lines[-3:]} {self.stderr()}")
        return found[0]

    def stderr(self) -> str:
        if self.process.poll() is None:
            return ""
        return self.process.stderr.read()[-2000:]

    def finish(self, report_path: Path, timeout: float) -> dict:
        """Stop the idle syncs, let every client catch up, and read their applied inboxes."""
        self.process.stdin.write("finish\n")
        self.process.stdin.flush()
        self.expect("report", timeout)
        return json.loads(report_path.read_text())

    def stop(self) -> None:
        stop_process_group(self.process)


def server_inboxes(db_url: str, starts: dict[int, int]) -> dict[int, list[list[int]]]:
    """The truth: each user's notifications after its start seq, as [seq, id], in seq order."""
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_id, seq, id FROM notifications ORDER BY user_id, seq")).all()
    engine.dispose()
    inbox: dict[int, list[list[int]]] = {user_id: [] for user_id in starts}
    for user_id, seq, row_id in rows:
        if user_id in inbox and seq > starts[user_id]:
            inbox[user_id].append([seq, row_id])
    return inbox


def compare(report: dict, truth: dict[int, list[list[int]]]) -> dict[str, Any]:
    """Lost, duplicated and out-of-order items over every client, and how items arrived."""
    result = {"lost": 0, "duplicated": 0, "out_of_order": 0, "clients_equal": 0, "expected": 0, "applied": 0}
    vias: dict[str, int] = {}
    for client in report["clients"]:
        applied = [tuple(item) for item in client["applied"]]
        expected = [tuple(item) for item in truth[client["user_id"]]]
        result["expected"] += len(expected)
        result["applied"] += len(applied)
        result["lost"] += len(set(expected) - set(applied))
        result["duplicated"] += len(applied) - len(set(applied))
        result["out_of_order"] += int(applied != sorted(applied))
        result["clients_equal"] += int(applied == expected)
        for key, value in client["counts"].items():
            vias[key] = vias.get(key, 0) + value
    return {**result, "counts": vias}


def approver_tokens(cluster: Cluster) -> dict[str, str]:
    tokens = {}
    for name in APPROVERS:
        response = requests.post(cluster.urls()[0] + "/api/auth/login", timeout=HTTP_TIMEOUT,
                                 json={"username": name, "password": DEMO_PASSWORD})
        response.raise_for_status()
        tokens[name] = response.json()
    return tokens


def chaos_schedule(args: argparse.Namespace, driver: Driver, cluster: Cluster, queue: RedisServer,
                   events: list[dict], deadline: Deadline) -> None:
    """Kill A at 20 % and 70 % of the decisions, restart Redis at 45 %."""
    plan = [(0.20, "kill a"), (0.45, "restart redis"), (0.70, "kill a")]
    for fraction, action in plan:
        while driver.decided < fraction * args.decisions:
            deadline.check()
            time.sleep(0.05)
        at = driver.decided
        if action == "kill a":
            down = cluster.kill_and_restart("a")
        else:
            started = time.monotonic()
            queue.restart(args.redis_down)
            down = time.monotonic() - started
        events.append({"action": action, "at_decision": at, "down_s": round(down, 2)})
        print(f"   {action} at decision {at}: down {down:.1f} s", flush=True)


def run(args: argparse.Namespace, tmp: Path, deadline: Deadline, cleanup: list) -> dict[str, Any]:
    queue = RedisServer(tmp)
    queue.start()
    cleanup.append(queue.stop)
    pg = PostgresDatabases(database_url(POSTGRES_ADMIN_URL))
    pg.prefix = f"assetflow_chaos_{os.getpid()}"
    cleanup.append(pg.drop_all)
    db_url = pg.create("main")
    env = base_env(db_url, args.mode, SOCKETIO_MESSAGE_QUEUE=queue.url,
                   SOCKETIO_CHANNEL=f"assetflow-chaos-{os.getpid()}", PING_INTERVAL="25", PING_TIMEOUT="20",
                   ACCESS_TOKEN_MINUTES="120", LOG_LEVEL="WARNING")
    employees = mint_users(env, "chaos", args.clients - 2 * len(APPROVERS))
    cluster = Cluster(env, tmp)
    cleanup.append(cluster.stop)
    logins = approver_tokens(cluster)
    a, b = (cluster.servers[name].url for name in ("a", "b"))

    specs = [{"url": (a, b)[i % 2], "token": u["token"], "user_id": u["id"], "last_seq": 0}
             for i, u in enumerate(employees)]
    for name in APPROVERS:  # each approver watches from both processes
        user = logins[name]
        seq = requests.get(a + "/api/notifications", params={"limit": 1}, timeout=HTTP_TIMEOUT,
                           headers={"Authorization": f"Bearer {user['access_token']}"}).json()["last_seq"]
        specs += [{"url": url, "token": user["access_token"], "user_id": user["user"]["id"], "last_seq": seq}
                  for url in (a, b)]
    spec_path = tmp / "clients.json"
    spec_path.write_text(json.dumps({"clients": specs, "http": [a, b], "sync_every_ms": args.sync_every * 1000,
                                     "deadline_ms": int(deadline.left() * 1000),
                                     "report_path": str(tmp / "report.json")}))
    node = NodeClients(spec_path, deadline.left())
    cleanup.append(node.stop)
    connected = node.expect("connected", 60)
    print(f"   {connected['count']} clients connected", flush=True)

    driver = Driver(cluster, employees, {n: logins[n]["access_token"] for n in APPROVERS}, args.decisions)
    events: list[dict] = []
    started = time.monotonic()
    failures: list[BaseException] = []

    def scheduled() -> None:
        try:
            chaos_schedule(args, driver, cluster, queue, events, deadline)
        except BaseException as error:  # reported after the driver stops
            failures.append(error)

    schedule = threading.Thread(target=scheduled)
    schedule.start()
    driver.run(deadline, schedule)
    schedule.join()
    if failures:
        raise failures[0]
    chaos_s = time.monotonic() - started
    report = node.finish(tmp / "report.json", 120)
    settle_s = time.monotonic() - started - chaos_s

    starts = {spec["user_id"]: spec["last_seq"] for spec in specs}
    outcome = compare(report, server_inboxes(db_url, starts))
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        decisions = conn.execute(sa.text("SELECT count(*) FROM decisions")).scalar_one()
        submitted = conn.execute(sa.text("SELECT count(*) FROM requests WHERE reason = 'chaos'")).scalar_one()
    engine.dispose()
    return {
        "mode": args.mode, "clients": len(specs), "all_connected_at_end": report["all_connected"],
        "decisions_committed": decisions, "requests_submitted": submitted, "chaos": events,
        "driver": {"errors": driver.errors, "failovers": driver.retries},
        "chaos_s": round(chaos_s, 1), "settle_s": round(settle_s, 1), **outcome,
        # python-socketio's own word for a push lost while Redis was away.
        "queue_publishes_lost": sum(s.log_text().count("Cannot publish to redis... giving up")
                                    for s in cluster.servers.values()),
        "server_log_problems": {name: log_problems(s) for name, s in cluster.servers.items()},
    }


def render(result: dict[str, Any]) -> str:
    counts = result["counts"]
    rows = [
        ("mode", result["mode"]), ("clients (Node socket.io-client)", result["clients"]),
        ("decisions committed / requests submitted",
         f"{result['decisions_committed']} / {result['requests_submitted']}"),
        ("chaos", "; ".join(f"{e['action']} at {e['at_decision']} (down {e['down_s']} s)" for e in result["chaos"])),
        ("notifications expected on screens", result["expected"]),
        ("applied: live / replayed on connect / sync / HTTP refetch",
         f"{counts['live']} / {counts['replayed']} / {counts['sync']} / {counts['http']}"),
        ("pushes lost in the queue (python-socketio: giving up)", result["queue_publishes_lost"]),
        ("duplicates dropped by notification_id", counts["duplicates_dropped"]),
        ("gaps seen / resync_required / reconnects",
         f"{counts['gaps']} / {counts['resyncs']} / {counts['reconnects']}"),
        ("lost / duplicated on screen / clients out of order",
         f"{result['lost']} / {result['duplicated']} / {result['out_of_order']}"),
        ("clients whose inbox equals the server's", f"{result['clients_equal']} / {result['clients']}"),
        ("driver calls refused and retried elsewhere / errors",
         f"{result['driver']['failovers']} / {result['driver']['errors'] or 0}"),
        ("chaos phase / settle / whole run",
         f"{result['chaos_s']} s / {result['settle_s']} s / {result.get('wall_s')} s"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("eventlet", "gevent"), default="eventlet")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--sync-every", type=int, default=10, help="seconds between a client's idle syncs")
    parser.add_argument("--redis-down", type=float, default=1.0, help="seconds Redis stays down")
    parser.add_argument("--timeout", type=int, default=8 * 60, help="hard limit for the whole run, seconds")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "chaos-latest.json", help="where the JSON goes")
    args = parser.parse_args()
    for tool in ("node", "redis-server"):
        if shutil.which(tool) is None:
            print(f"{tool} is required", file=sys.stderr)
            return 2
    deadline = Deadline(args.timeout)
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("hard time limit")))
    signal.alarm(args.timeout)
    tmp = Path(tempfile.mkdtemp(prefix="assetflow-chaos-"))
    cleanup: list = []
    wall = time.monotonic()
    try:
        result = run(args, tmp, deadline, cleanup)
    except BaseException:
        traceback.print_exc()
        for name in ("a", "b"):
            log = tmp / f"{name}.log"
            if log.exists():
                print(f"--- {name}.log (tail)\n" + log.read_text(errors="replace")[-3000:], file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        for step in reversed(cleanup):
            try:
                step()
            except Exception:
                traceback.print_exc()
        shutil.rmtree(tmp, ignore_errors=True)
    result["wall_s"] = round(time.monotonic() - wall, 1)
    result["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(render(result))
    ok = result["lost"] == 0 and result["duplicated"] == 0 and result["out_of_order"] == 0 \
        and result["clients_equal"] == result["clients"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
