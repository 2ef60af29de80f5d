"""Reconnect storm: every socket of one process comes back after a restart, beside bare Flask-SocketIO and Node.

    .venv/bin/python bench/reconnect_storm.py [--quick] [--sockets N] [--rounds R] [--modes eventlet]

For each round, each target in turn — AssetFlow (one gunicorn process, PostgreSQL), the bare
Flask-SocketIO app (bench/bare_app.py, same worker) and a bare Node socket.io server
(bench/node/server.mjs) — is started, `sockets` official socket.io-client sockets connect to it
(bench/node/storm.mjs: the SPA's own backoff, `going_away` and paced-refusal handling, imported from
frontend/src/services/reconnect.js), and the process is restarted on the same port twice:

- **term**: SIGTERM to the gunicorn master (systemd's stop), wait for it to exit, start it again;
- **kill**: SIGKILL to the whole process group, start it again.

Measured per restart, from the signal (and from the moment /healthz answers again): when each socket is
back (connected again; for AssetFlow, with the replay of what it missed, which arrives before the
CONNECT), the connects/s over the storm (all sockets / first to last reconnect) and in its busiest
second, the worker's CPU per reconnect, and HTTP latency during the storm (from /healthz answering to
the last socket back): `GET /healthz` on every target, `GET /api/requests` on AssetFlow and on the bare
app (there its stand-in: the same round trips to PostgreSQL, each a `SELECT 1` — the floor of such a call),
and on AssetFlow the approvals that write the events the sockets miss. AssetFlow's approvals (`approvals`
per restart, to applicants whose sockets are away or coming back) are checked by event id: every notification in the
database reached its user's socket, none twice on the screen (the client drops a repeated id, as the
SPA does), and how many came twice on the wire.

Prints the tables (medians over the rounds, and AssetFlow / bare, AssetFlow / Node as ratios of the
medians), the load average with every restart, and writes bench/results/storm-<time>.json and
bench/results/storm-latest.json. Everything on 127.0.0.1, bounded in count and time (SIGALRM, a
watchdog, the Node processes' own limits), cleaned up at the end. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from run import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    BenchTimeout,
    Deadline,
    Run,
    cpu_s,
    finish,
    fmt,
    guarded,
    loadavg,
    machine,
    percentile,
    ratio,
    reachable_postgres,
    table,
    worker_pid,
)
from scale import (  # noqa: E402
    Load,
    Target,
    bare_command,
    node_command,
    start_assetflow,
    start_bare,
    start_node,
    start_process,
)

from tests.live_server import start_server, stop_process_group  # noqa: E402

FULL = dict(sockets=5000, rounds=3, approvals=100, approval_rate=10, api_rate=4, calm_s=5, back_timeout_s=90,
            timeout=45 * 60)
QUICK = dict(sockets=1000, rounds=1, approvals=40, approval_rate=10, api_rate=4, calm_s=5, back_timeout_s=60,
             timeout=12 * 60)
HOWS = ("term", "kill")
# Production's graceful timeout (gunicorn.conf.py); the drain exits long before it.
GRACEFUL_TIMEOUT = 5


# ---------------------------------------------------------------------------------------------
# restarting a target on its port


def restart(run: Run, target: Target, how: str, deadline: Deadline) -> tuple[float, float]:
    """Stop the target's process (SIGTERM to the master, or SIGKILL to its group), start it again on
    the same port; (seconds from the signal to the old process gone, to /healthz answering again)."""
    old = target.servers[0]
    started = time.monotonic()
    if how == "term":
        old.process.send_signal(signal.SIGTERM)  # the master: gunicorn's worker drains (realtime/drain.py)
    else:
        os.killpg(old.process.pid, signal.SIGKILL)
    try:
        old.process.wait(timeout=min(30, deadline.left()))
    except Exception:
        stop_process_group(old.process)
    gone = time.monotonic() - started
    with run.lock:
        run.servers.remove(old)
    port = int(old.url.rsplit(":", 1)[1])
    if target.kind == "assetflow":
        new = start_server(target.env, run.tmp, target.name, port=port, graceful_timeout=GRACEFUL_TIMEOUT)
        with run.lock:
            run.servers.append(new)
    elif target.kind == "bare":
        cmd, env = bare_command(target.mode)
        new = start_process(run, cmd, env, target.name, target.mode, port=port)
    else:
        new = start_process(run, node_command(deadline.left()), dict(os.environ), target.name, "node", port=port)
    up = time.monotonic() - started
    target.servers = [new]
    target.pids = [new.process.pid if target.kind == "node" else worker_pid(new)]
    return gone, up


# ---------------------------------------------------------------------------------------------
# HTTP during the storm


class HttpDuringStorm:
    """Open-loop HTTP calls from /healthz answering until `stop()`: each (name, method, path, token, body)
    call every 1/rate s, on a pool of threads so a slow answer does not delay the next send."""

    def __init__(self, base_url: str, calls: list[tuple[str, str, str, str | None, dict | None]], rate: float,
                 limit_s: float):
        self.url, self.calls, self.rate, self.limit_s = base_url, calls, rate, limit_s
        self.results: dict[str, list[float | None]] = {}
        self.statuses: Counter = Counter()
        self.done = threading.Event()
        self.pool = ThreadPoolExecutor(32)
        self.local = threading.local()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> HttpDuringStorm:
        self.thread.start()
        return self

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def _one(self, name: str, method: str, path: str, token: str | None, body: dict | None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        started = time.perf_counter()
        try:
            status = self._session().request(method, self.url + path, json=body, headers=headers,
                                             timeout=30).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        ms = (time.perf_counter() - started) * 1000
        self.statuses[f"{name} {status}"] += 1
        self.results.setdefault(name, []).append(ms if status in (200, 201) else None)

    def _loop(self) -> None:
        started, i = time.monotonic(), 0
        while not self.done.is_set() and time.monotonic() - started < self.limit_s:
            for call in self.calls:
                self.pool.submit(self._one, *call)
            i += 1
            self.done.wait(max(0.0, started + i / self.rate - time.monotonic()))

    def stop(self) -> dict[str, Any]:
        self.done.set()
        self.thread.join(timeout=10)
        self.pool.shutdown(wait=True)
        out = {name: ms_stats(values) for name, values in self.results.items()}
        out["statuses"] = dict(self.statuses)
        return out


class Approvals(HttpDuringStorm):
    """The approvals of a list of pending requests, one per 1/rate s, each once."""

    def __init__(self, base_url: str, jobs: list[tuple[str, dict]], token: str, rate: float):
        super().__init__(base_url, [], rate, limit_s=len(jobs) / rate + 60)
        self.jobs, self.token = jobs, token

    def _loop(self) -> None:
        started = time.monotonic()
        for i, (path, body) in enumerate(self.jobs):
            if self.done.wait(max(0.0, started + i / self.rate - time.monotonic())):
                return
            self.pool.submit(self._one, "approve", "POST", path, self.token, body)

    def finish(self) -> dict[str, Any]:
        self.thread.join(timeout=self.limit_s)
        return self.stop()


def ms_stats(values: list[float | None]) -> dict[str, Any]:
    got = [v for v in values if v is not None]
    return {"n": len(values), "failed": len(values) - len(got), "p50": percentile(got, 50),
            "p99": percentile(got, 99), "max": max(got, default=None)}


# ---------------------------------------------------------------------------------------------
# one storm


def submit_pending(target: Target, applicants: list[dict]) -> list[int]:
    """One pending acquire per applicant (over HTTP, 4 at a time); their request ids."""
    url = target.urls[0]

    def submit(applicant: dict) -> int:
        response = requests.post(f"{url}/api/requests", headers=target.header(applicant), timeout=30,
                                 json={"kind": "acquire", "reason": "storm", "name": "Storm laptop",
                                       "category": "Bench", "value": "100.00"})
        if response.status_code != 201:
            raise RuntimeError(f"submit failed: {response.status_code} {response.text[:300]}")
        return response.json()["id"]

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(submit, applicants))


def delivery(target: Target, users: list[dict], events: list[list[list]], since_ms: float,
             back: list[bool]) -> dict[str, Any]:
    """Every notification of the socket users in the database against what their sockets received (a socket
    not back yet has not had its replay: counted apart)."""
    engine = sa.create_engine(target.env["DATABASE_URL"], poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_id, id FROM notifications WHERE user_id = ANY(:ids)"),
                            {"ids": [u["id"] for u in users]}).all()
    engine.dispose()
    expected: dict[int, set[int]] = {}
    for user_id, notification_id in rows:
        expected.setdefault(user_id, set()).add(notification_id)
    lost = not_back = wire_twice = replayed = 0
    for user, got, is_back in zip(users, events, back, strict=True):
        ids = Counter(e[0] for e in got)
        missing = len(expected.get(user["id"], set()) - set(ids))
        if is_back:
            lost += missing
        else:
            not_back += missing
        wire_twice += sum(n - 1 for n in ids.values())
        replayed += sum(1 for e in got if e[2] and e[3] >= since_ms)
    # The client keeps one row per notification_id (docs/realtime.md, recovery rule 3): what it shows.
    return {"notifications": len(rows), "lost": lost, "not_back_yet": not_back, "shown_twice": 0,
            "wire_twice": wire_twice, "replayed_this_storm": replayed}


def caught_up_ms(back_ms: list[float | None], events: list[list[list]], dropped_ms: list[float | None]) -> list:
    """Per socket: when it was back and had every replayed event (replay comes before the CONNECT)."""
    out = []
    for back, dropped, got in zip(back_ms, dropped_ms, events, strict=True):
        if back is None:
            out.append(None)
            continue
        replays = [e[3] for e in got if e[2] and dropped is not None and e[3] >= dropped]
        out.append(max([back, *replays]))
    return out


def busiest_second(times_ms: list[float]) -> int:
    """The most reconnects in any 1 s window."""
    times = sorted(times_ms)
    best, low = 0, 0
    for high, t in enumerate(times):
        while t - times[low] > 1000:
            low += 1
        best = max(best, high - low + 1)
    return best


def probe_calls(target: Target, approver: dict | None) -> list[tuple[str, str, str, str | None, dict | None]]:
    """The HTTP calls timed during a storm: /healthz, and an approver's inbox on AssetFlow (on the bare app its
    stand-in, the same round trips to PostgreSQL and nothing else: bench/bare_app.py)."""
    calls = [("healthz", "GET", "/healthz", None, None)]
    if target.kind in ("assetflow", "bare"):
        calls.append(("api_requests", "GET", "/api/requests?scope=inbox&per_page=20",
                      approver["token"] if approver else None, None))
    return calls


def storm(run: Run, target: Target, clients: Load, how: str, p: dict, deadline: Deadline,
          users: list[dict], approver: dict | None, round_no: int) -> dict[str, Any]:
    """One restart of the target with its sockets connected; what it took them to come back."""
    out: dict[str, Any] = {"how": how, "round": round_no, "loadavg": loadavg()}
    jobs: list[tuple[str, dict]] = []
    if target.kind == "assetflow":
        # Applicants whose sockets will be away when their request is approved: a slice per storm.
        start = (round_no * len(HOWS) + HOWS.index(how)) * p["approvals"] % len(users)
        applicants = (users + users)[start:start + p["approvals"]]
        jobs = [(f"/api/requests/{rid}/approve", {}) for rid in submit_pending(target, applicants)]
    time.sleep(1)  # the submissions' own pushes are out
    # The same HTTP probe with every socket connected and no storm: what the storm's figures compare with.
    calm = HttpDuringStorm(target.urls[0], probe_calls(target, approver), p["api_rate"], p["calm_s"]).start()
    time.sleep(p["calm_s"])
    out["http_calm"] = calm.stop()
    clients.call("mark")
    gone_s, up_s = restart(run, target, how, deadline)
    up_ms = up_s * 1000
    cpu0, t0 = cpu_s(target.pids[0]), time.monotonic()
    url = target.urls[0] = target.servers[0].url
    http = HttpDuringStorm(url, probe_calls(target, approver), p["api_rate"], p["back_timeout_s"]).start()
    approvals = Approvals(url, jobs, approver["token"], p["approval_rate"]).start() if jobs else None
    back = clients.call("wait", timeout_ms=p["back_timeout_s"] * 1000, timeout=p["back_timeout_s"] + 30)
    storm_s = time.monotonic() - t0
    cpu = cpu_s(target.pids[0]) - cpu0
    out["http"] = http.stop()
    if approvals:
        out["approvals"] = approvals.finish()
    back_ms = back.pop("back_ms")
    dropped_ms = back.pop("dropped_ms")
    got = [t for t in back_ms if t is not None]
    out.update(back)
    out["gone_ms"], out["up_ms"] = round(gone_s * 1000), round(up_ms)
    if target.kind == "assetflow":
        time.sleep(1)  # the last approvals' live pushes
        events = clients.call("events", timeout=60)["events"]
        out["delivery"] = delivery(target, users, events, 0, [t is not None for t in back_ms])
        caught = caught_up_ms(back_ms, events, dropped_ms)
    else:
        caught = back_ms
    caught_got = [t for t in caught if t is not None]
    out["all_back_ms"] = max(caught_got) if len(caught_got) == len(caught) else None
    out["all_back_after_up_ms"] = round(out["all_back_ms"] - up_ms) if out["all_back_ms"] is not None else None
    out["back_p50_ms"] = percentile(caught_got, 50)
    first = min(got, default=None)
    out["first_back_after_up_ms"] = round(first - up_ms) if first is not None else None
    span_s = (max(got) - min(got)) / 1000 if len(got) > 1 else None
    out["connects_per_s"] = round(len(got) / span_s, 1) if span_s else None
    out["busiest_second"] = busiest_second(got)
    out["worker_cpu_s"] = round(cpu, 2)
    out["cpu_ms_per_connect"] = round(cpu * 1000 / max(len(got), 1), 2)
    out["storm_s"] = round(storm_s, 1)
    return out


# ---------------------------------------------------------------------------------------------
# targets and rounds


def start_target(run: Run, kind: str, mode: str, deadline: Deadline) -> Target:
    if kind == "assetflow":
        return start_assetflow(run, mode, 1, f"storm-{mode}", **run.params.get("assetflow_env", {}))
    if kind == "bare":
        return start_bare(run, mode, f"bare-{mode}")
    return start_node(run, deadline.left())


def bench_target(run: Run, target: Target, p: dict, deadline: Deadline, round_no: int) -> dict[str, Any]:
    """Open the sockets, then one storm per way of stopping."""
    out: dict[str, Any] = {"loadavg_start": loadavg(), "storms": []}
    clients = Load(deadline.left(), script="storm.mjs")
    try:
        # Each round's AssetFlow has a fresh database: its users are minted for it.
        users = target.users("employee", p["sockets"])
        approver = target.users("approver", 1)[0] if target.kind == "assetflow" else None
        specs = [{"auth": target.auth(u, "employee")} for u in users]
        if target.kind == "assetflow":
            # Connect with the highest seq each user has: a fresh tab's last_seq.
            engine = sa.create_engine(target.env["DATABASE_URL"], poolclass=sa.pool.NullPool)
            with engine.connect() as conn:
                seqs = dict(conn.execute(sa.text("SELECT id, notification_seq FROM users WHERE id = ANY(:ids)"),
                                         {"ids": [u["id"] for u in users]}).all())
            engine.dispose()
            for spec, user in zip(specs, users, strict=True):
                spec["auth"]["last_seq"] = seqs.get(user["id"], 0)
        cpu0 = cpu_s(target.pids[0])
        out["open"] = clients.call("open", url=target.urls[0], clients=specs, concurrency=100,
                                   timeout_ms=60_000, timeout=600, backoff_max_ms=p.get("backoff_max_ms"))
        # The worker's CPU per connect with nothing else to do (a storm's CPU includes its HTTP calls).
        out["open"]["cpu_ms_per_connect"] = round((cpu_s(target.pids[0]) - cpu0) * 1000
                                                  / max(out["open"]["opened"], 1), 2)
        for how in HOWS:
            deadline.check()
            result = storm(run, target, clients, how, p, deadline, users, approver, round_no)
            out["storms"].append(result)
            print(f"  {target.name} {how}: {summarise(result)}", flush=True)
    finally:
        clients.close()
    return out


def summarise(s: dict[str, Any]) -> str:
    d = s.get("delivery") or {}
    api = (s.get("http") or {}).get("api_requests") or {}
    return (f"back {s['back']}/{s['clients']}, all back {fmt(s.get('all_back_ms'), 0)} ms after the signal "
            f"({fmt(s.get('all_back_after_up_ms'), 0)} after /healthz at {s['up_ms']}), {fmt(s.get('connects_per_s'))}"
            f" connects/s (busiest second {s['busiest_second']}), {s['cpu_ms_per_connect']} ms CPU/connect, "
            f"API p50/p99 {fmt(api.get('p50'))}/{fmt(api.get('p99'))} ms, lost {d.get('lost', '-')}, "
            f"wire twice {d.get('wire_twice', '-')}, replayed {d.get('replayed_this_storm', '-')}, "
            f"counts {s.get('counts')}, load {s['loadavg']}")


def run_all(run: Run, report: dict[str, Any], p: dict, deadline: Deadline) -> int:
    """Round by round, every target in turn (each stopped before the next starts)."""
    targets = [(f"assetflow-{m}", "assetflow", m) for m in report["modes"]]
    targets += [(f"bare-{m}", "bare", m) for m in report["modes"]] + [("node", "node", "node")]
    targets = [t for t in targets if t[1] in p["targets"]]
    status = 0
    for round_no in range(p["rounds"]):
        for name, kind, mode in targets:
            deadline.check()
            target = None
            print(f"round {round_no + 1}: {name}", flush=True)
            try:
                target = start_target(run, kind, mode, deadline)
                result = bench_target(run, target, p, deadline, round_no)
                report["rounds"].setdefault(name, []).append(result)
            except BenchTimeout:
                raise
            except Exception as error:  # one broken target does not hide the others
                traceback.print_exc()
                report["skipped"][f"{name} round {round_no + 1}"] = f"failed: {type(error).__name__}: {error}"[:500]
                status = 1
            finally:
                for server in target.servers if target else []:
                    run.stop(server)
    return status


# ---------------------------------------------------------------------------------------------
# report

METRICS = {  # label -> (key in a storm, lower is better)
    "all back after signal ms": "all_back_ms",
    "all back after /healthz ms": "all_back_after_up_ms",
    "/healthz up after signal ms": "up_ms",
    "first back after /healthz ms": "first_back_after_up_ms",
    "connects/s (storm)": "connects_per_s",
    "busiest second": "busiest_second",
    "CPU ms per connect": "cpu_ms_per_connect",  # the storm's: its HTTP calls included
}


def medians(report: dict[str, Any]) -> dict[str, dict[str, dict[str, float | None]]]:
    """target -> how -> metric -> median over the rounds."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for name, rounds in report["rounds"].items():
        for how in HOWS:
            storms = [s for r in rounds for s in r["storms"] if s["how"] == how]
            row = {label: percentile([s[key] for s in storms if s.get(key) is not None], 50)
                   for label, key in METRICS.items()}
            for label, path in (("API p50 ms", ("http", "api_requests", "p50")),
                                ("API p99 ms", ("http", "api_requests", "p99")),
                                ("calm API p50 ms", ("http_calm", "api_requests", "p50")),
                                ("calm API p99 ms", ("http_calm", "api_requests", "p99")),
                                ("approve p99 ms", ("approvals", "approve", "p99")),
                                ("healthz p99 ms", ("http", "healthz", "p99"))):
                values = [_get(s, *path) for s in storms]
                row[label] = percentile([v for v in values if v is not None], 50)
            row["not back"] = sum(s["clients"] - s["back"] for s in storms)
            app = name.startswith("assetflow")
            row["lost"] = sum(_get(s, "delivery", "lost") or 0 for s in storms) if app else None
            row["wire twice"] = sum(_get(s, "delivery", "wire_twice") or 0 for s in storms) if app else None
            row["rounds"] = len(storms)
            row["open connects/s"] = percentile([r["open"]["connects_per_s"] for r in rounds], 50)
            row["open CPU ms/connect"] = percentile([r["open"]["cpu_ms_per_connect"] for r in rounds], 50)
            out.setdefault(name, {})[how] = row
    return out


def _get(entry: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(entry, dict):
            return None
        entry = entry.get(key)
    return entry


def ratios(report: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """AssetFlow / bare and AssetFlow / Node of the medians, per mode, way of stopping and metric."""
    med, out = report["medians"], {}
    for mode in report["modes"]:
        app, bare, node = med.get(f"assetflow-{mode}", {}), med.get(f"bare-{mode}", {}), med.get("node", {})
        for how in HOWS:
            for label in ("all back after /healthz ms", "connects/s (storm)", "busiest second", "CPU ms per connect",
                          "API p99 ms", "healthz p99 ms", "open connects/s", "open CPU ms/connect"):
                a = _get(app, how, label)
                out.setdefault(f"{how}: {label}", {}).update({
                    f"{mode}: AssetFlow/bare": ratio(a, _get(bare, how, label)),
                    f"{mode}: AssetFlow/Node": ratio(a, _get(node, how, label))})
    return out


def render(report: dict[str, Any]) -> str:
    lines = [f"Reconnect storm: {report['params']['sockets']} sockets per process, "
             f"{report['params']['rounds']} round(s); medians over the rounds"]
    labels = list(next(iter(next(iter(report["medians"].values())).values())).keys()) if report["medians"] else []
    rows = [[f"{name} {how}", *[row[label] for label in labels]]
            for name, hows in report["medians"].items() for how, row in hows.items()]
    if rows:
        lines.append(table(["target", *labels], rows))
    rows = []
    for name, rounds in report["rounds"].items():
        for r in rounds:
            for s in r["storms"]:
                rows.append([name, s["round"] + 1, s["how"], "/".join(map(str, s["loadavg"])), s["back"],
                             s.get("all_back_ms"), s.get("all_back_after_up_ms"), s.get("connects_per_s"),
                             s.get("busiest_second"), s.get("cpu_ms_per_connect"),
                             _get(s, "http", "api_requests", "p50"), _get(s, "http", "api_requests", "p99"),
                             _get(s, "delivery", "lost"), _get(s, "delivery", "wire_twice"),
                             _get(s, "delivery", "replayed_this_storm"), _get(s, "counts", "refused_paced")])
    if rows:
        lines += ["", "Every storm", table(["target", "round", "how", "loadavg", "back", "all back ms", "after up",
                                            "conn/s", "busiest s", "CPU ms/conn", "API p50", "API p99", "lost",
                                            "wire twice", "replayed", "paced"], rows)]
    rows = [[label, *[fmt(v, 2) for v in values.values()]] for label, values in report["ratios"].items()]
    if rows:
        lines += ["", "Ratios of the medians (same run)",
                  table(["metric", *next(iter(report["ratios"].values())).keys()], rows)]
    if report["skipped"]:
        lines += ["", "Skipped: " + "; ".join(f"{k}: {v}" for k, v in report["skipped"].items())]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 sockets, one round; 12 minute limit")
    parser.add_argument("--sockets", type=int, help="sockets per process")
    parser.add_argument("--rounds", type=int, help="rounds (each: every target, each restarted twice)")
    parser.add_argument("--modes", default="eventlet", help="async modes of the Python targets (comma-separated)")
    parser.add_argument("--targets", default="assetflow,bare,node", help="which targets (comma-separated)")
    parser.add_argument("--backoff-max-ms", type=int, help="another reconnectionDelayMax than the SPA's, to compare")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting of the AssetFlow process, e.g. SOCKET_CONNECT_CONCURRENCY=0 (no pacing)")
    args = parser.parse_args()
    p = dict(QUICK if args.quick else FULL)
    p.update({k: v for k, v in (("sockets", args.sockets), ("rounds", args.rounds),
                                ("backoff_max_ms", args.backoff_max_ms)) if v})
    p["targets"] = args.targets.split(",")
    p["assetflow_env"] = dict(item.split("=", 1) for item in args.env)
    if problem := reachable_postgres():
        print(f"the storm benchmark needs PostgreSQL ({POSTGRES_ADMIN_URL}): {problem}", file=sys.stderr)
        return 2
    deadline = Deadline(p["timeout"])
    run = Run(p, deadline)
    started = time.monotonic()
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": "quick" if args.quick else "full",
        "params": p, "modes": args.modes.split(","), "machine": machine(), "loadavg_start": loadavg(),
        "rounds": {}, "skipped": {},
    }
    status = guarded(run, p["timeout"], lambda: run_all(run, report, p, deadline), report)
    report["medians"] = medians(report)
    report["ratios"] = ratios(report)
    finish(report, render, started, prefix="storm-", suffix="-quick" if args.quick else "")
    return status


if __name__ == "__main__":
    sys.exit(main())
