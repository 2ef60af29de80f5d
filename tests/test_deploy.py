"""deploy/: the nginx site, the systemd unit and the environment file, and a rolling restart through them.

The shipped nginx site runs as it is, with only the addresses of its `listen` and upstream `server`
lines moved to free loopback ports (render_site). nginx is Debian's package (`make nginx`); it runs as
the test's own process, on its own prefix in a temporary directory. The rolling restart: two gunicorn
processes on PostgreSQL + Redis behind that nginx, 200 clients of the official Node socket.io-client
(tests/node/chaos.mjs) receiving a steady stream of decisions through it while each process in turn
is stopped (SIGTERM), started again and waited for: nothing lost, doubled or out of order, and no 5xx
but 503s with Retry-After.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from .conftest import QUEUE_URL, require_redis, require_service
from .live_server import (
    DEMO_PASSWORD,
    ROOT,
    LiveServer,
    base_env,
    free_port,
    metric,
    start_server,
    stop_process_group,
    wait_until,
)

DEPLOY = ROOT / "deploy"
START_TIMEOUT = 20.0


def nginx_binary() -> str:
    """Debian's nginx (`make nginx` installs it); fails in CI when missing, skips elsewhere."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")

    def check() -> None:
        if found is None:
            raise RuntimeError("nginx is not installed (make nginx, or apt-get install nginx)")

    require_service(check, "nginx")
    return found


def render_site(upstream_ports: list[int], listen_port: int) -> str:
    """deploy/nginx.conf with its `listen` and upstream addresses on loopback test ports, nothing else changed."""
    text = (DEPLOY / "nginx.conf").read_text()
    text, listens = re.subn(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{listen_port};", text, flags=re.M)
    shipped = re.findall(r"^\s*server 127\.0\.0\.1:(\d+)", text, flags=re.M)
    assert listens == 1 and len(shipped) == 2, "deploy/nginx.conf changed shape: update render_site"
    for port, new in zip(shipped, upstream_ports, strict=True):
        text = text.replace(f"server 127.0.0.1:{port} ", f"server 127.0.0.1:{new} ", 1)
    return text


def nginx_main_conf(directory: Path, site: Path) -> Path:
    """What Debian's /etc/nginx/nginx.conf gives a site, with every path in `directory`."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temporary directory
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};" for kind in
                     ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = directory / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
error_log {directory / 'error.log'} warn;
events {{ worker_connections 4096; }}
http {{
    log_format deploy '$status $request_method $uri retry_after=$sent_http_retry_after upstream=$upstream_status '
                      'via=$upstream_addr';
    access_log {directory / 'access.log'} deploy;
{temp}
    include {site};
}}
""")
    return conf


@dataclass
class Nginx:
    """nginx with the shipped site, started by the test (own prefix, loopback ports, no daemon)."""

    binary: str
    directory: Path
    upstream_ports: list[int]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def conf(self) -> Path:
        site = self.directory / "assetflow.conf"
        site.write_text(render_site(self.upstream_ports, self.port))
        return nginx_main_conf(self.directory, site)

    def command(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.directory), "-c", str(self.conf()),
                "-g", f"daemon off; pid {self.directory / 'nginx.pid'};", *extra]

    def start(self) -> Nginx:
        log = (self.directory / "nginx.out").open("wb")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.directory / "nginx.out").read_text()
            try:
                requests.get(self.url + "/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"nginx did not listen within {START_TIMEOUT}s")

    def access_log(self) -> list[str]:
        return (self.directory / "access.log").read_text().splitlines()

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)


def test_the_shipped_nginx_site_passes_nginx_t(tmp_path):
    nginx = Nginx(nginx_binary(), tmp_path, [free_port(), free_port()])
    result = subprocess.run(nginx.command("-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    # A broken site is refused: the check is real.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "site.conf").write_text(render_site([1, 2], 3).replace("least_conn;", "least_conn"))
    command = [nginx.binary, "-t", "-p", str(broken), "-c", str(nginx_main_conf(broken, broken / "site.conf")),
               "-g", f"pid {broken / 'nginx.pid'};"]
    assert subprocess.run(command, capture_output=True, text=True, timeout=30).returncode != 0


def test_the_docs_show_the_shipped_nginx_site_verbatim():
    docs = (ROOT / "docs" / "deploy.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", docs, flags=re.S)
    assert block is not None and block.group(1) == (DEPLOY / "nginx.conf").read_text()


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")

    def check() -> None:
        if found is None:
            raise RuntimeError("systemd-analyze is not installed (Debian: the systemd package)")

    require_service(check, "systemd-analyze")
    return found


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = _systemd_analyze()
    # verify also checks that ExecStart exists: point the unit's venv at this checkout's, nothing else changed.
    text = (DEPLOY / "assetflow@.service").read_text().replace("/opt/assetflow/.venv", sys.prefix)
    assert Path(sys.prefix, "bin", "gunicorn").exists()
    unit = tmp_path / "assetflow@.service"
    unit.write_text(text)
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    assert re.search(r"^LimitNOFILE=(\d+)$", text, flags=re.M).group(1) == "16384"
    # A typo is reported: the check is real.
    unit.write_text(text.replace("KillMode=mixed", "KillMode=mixd"))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert "kill mode" in result.stderr


def test_the_unit_leaves_room_for_every_socket_gunicorn_conf_asks_for():
    unit = (DEPLOY / "assetflow@.service").read_text()
    limit = int(re.search(r"^LimitNOFILE=(\d+)$", unit, flags=re.M).group(1))
    probe = subprocess.run([sys.executable, "-c", "import runpy; print(runpy.run_path('gunicorn.conf.py')"
                            "['FDS_PER_WORKER'])"], cwd=ROOT, capture_output=True, text=True, timeout=30,
                           env={**os.environ, "FLASK_ENV": "development"}, check=True)
    assert limit >= int(probe.stdout)


def _config_from(env_file: Path, **extra: str) -> subprocess.CompletedProcess:
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines()
                  if line and not line.startswith("#"))
    env = {"PATH": os.environ["PATH"], **values, **extra}
    code = "import config; c = config.config_from_env(); c.validate(); print(c.__name__, c.PROXY_COUNT, c.ASYNC_MODE)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


def test_the_example_environment_is_production_once_the_secret_is_filled_in():
    example = DEPLOY / "assetflow.env.example"
    refused = _config_from(example)  # as shipped: no secret, so it cannot be deployed by mistake
    assert refused.returncode != 0 and "JWT_SECRET_KEY must be set in production" in refused.stderr
    accepted = _config_from(example, JWT_SECRET_KEY="s" * 64)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.split() == ["ProductionConfig", "1", "gevent"]


# --- the rolling restart -------------------------------------------------------------------------------

CLIENTS = 200
APPROVERS = ("bob", "erik")  # the approvers of Engineering, where minted users work (bench/mint_users.py)
DECISIONS_BETWEEN = 10  # decisions before the first restart, between them and after the last


class Decisions:
    """A steady stream of submit + approve pairs through nginx, every HTTP status recorded."""

    def __init__(self, url: str, employees: list[dict], approvers: list[str]):
        self.url, self.employees, self.approvers = url, employees, approvers
        self.decided = 0
        self.statuses: list[tuple[str, int, str | None]] = []  # (what, status, Retry-After)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def _call(self, what: str, path: str, token: str, body: dict) -> requests.Response:
        """POST until answered other than 503 + Retry-After, which says when to try again."""
        while True:
            # Long: a POST that timed out has an unknown outcome and may not be sent again.
            response = requests.post(self.url + path, json=body, timeout=60,
                                     headers={"Authorization": f"Bearer {token}"})
            with self.lock:
                self.statuses.append((what, response.status_code, response.headers.get("Retry-After")))
            if response.status_code != 503 or "Retry-After" not in response.headers or self.stop.is_set():
                return response
            time.sleep(min(1.0, float(response.headers["Retry-After"])))

    def _pair(self, index: int) -> None:
        employee = self.employees[index % len(self.employees)]
        submitted = self._call("submit", "/api/requests", employee["token"],
                               {"kind": "acquire", "reason": "rolling", "name": f"Rolling {index}",
                                "category": "Rolling", "value": "100.00"})
        assert submitted.status_code == 201, submitted.text
        approved = self._call("approve", f"/api/requests/{submitted.json()['id']}/approve",
                              self.approvers[index % len(self.approvers)], {"comment": ""})
        assert approved.status_code == 200, approved.text
        with self.lock:
            self.decided += 1

    def run(self, worker: int, workers: int) -> None:
        index = worker
        try:
            while not self.stop.is_set():
                self._pair(index)
                index += workers
        except BaseException as error:
            self.failure = error
            self.stop.set()

    def wait_for(self, count: int, timeout: float = 60) -> None:
        assert wait_until(lambda: self.decided >= count or self.stop.is_set(), timeout), (self.decided, count)
        assert self.failure is None, self.failure


def _restart(server: LiveServer, other: LiveServer, name: str, directory: Path, nginx: Nginx,
             decisions: Decisions) -> tuple[LiveServer, dict]:
    """SIGTERM (as systemd stops a unit), wait for the exit, start again on the port, wait until ready."""
    held = metric(server, "assetflow_sockets_connected")
    exited: list[float] = []
    waiter = threading.Thread(target=lambda: (server.process.wait(timeout=30), exited.append(time.monotonic())))
    stopped = time.monotonic()
    os.kill(server.process.pid, signal.SIGTERM)
    waiter.start()
    # How fast depends on the other process's connect rate on this machine (docs/deploy.md): bounded, not timed.
    moved = wait_until(lambda: metric(other, "assetflow_sockets_connected") >= CLIENTS, 60)
    moved_s = time.monotonic() - stopped
    waiter.join(timeout=30)
    exited_s = exited[0] - stopped
    port = int(server.url.rsplit(":", 1)[1])
    fresh = start_server(server.env, directory, name, port=port)
    assert wait_until(lambda: fresh.api("GET", "/readyz").status_code == 200, 20)
    # The next process may stop only once nginx sends requests here again (deploy/nginx.conf, fail_timeout).
    served = len(nginx.access_log())
    routed = wait_until(lambda: any(line.endswith(f" via={fresh.url[7:]}") for line in nginx.access_log()[served:]), 20)
    assert routed, (decisions.failure, nginx.access_log()[-5:], (nginx.directory / "error.log").read_text()[-2000:])
    return fresh, {"process": name, "sockets_held": int(held), "all_on_the_other_within_s": round(moved_s, 2),
                   "moved": moved, "exited_within_s": round(exited_s, 2),
                   "back_within_s": round(time.monotonic() - stopped, 2), "returncode": server.process.returncode}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_a_rolling_restart_behind_nginx_loses_nothing(mode, databases, node_client, tmp_path):
    from bench.chaos import NodeClients, compare, server_inboxes
    from bench.run import mint_users

    require_redis()
    binary = nginx_binary()
    started = time.monotonic()
    db_url = databases.create(f"rolling_{mode}")
    env = base_env(db_url, mode, SOCKETIO_MESSAGE_QUEUE=QUEUE_URL, PROXY_COUNT="1",
                   SOCKETIO_CHANNEL=f"assetflow-rolling-{os.getpid()}-{mode}",
                   PING_INTERVAL="25", PING_TIMEOUT="20", ACCESS_TOKEN_MINUTES="120")
    employees = mint_users(env, f"roll{mode[0]}", CLIENTS - 2 * len(APPROVERS))
    ports = [free_port(), free_port()]
    servers = {name: start_server(env, tmp_path, name, port=port) for name, port in zip("ab", ports, strict=True)}
    nginx = Nginx(binary, tmp_path, ports).start()
    node = decisions = None
    threads: list[threading.Thread] = []
    try:
        logins = {name: requests.post(nginx.url + "/api/auth/login", timeout=15,
                                      json={"username": name, "password": DEMO_PASSWORD}).json()
                  for name in APPROVERS}
        specs = [{"url": nginx.url, "token": u["token"], "user_id": u["id"], "last_seq": 0} for u in employees]
        for name in APPROVERS:  # each approver has two tabs open
            login = logins[name]
            seq = requests.get(nginx.url + "/api/notifications", params={"limit": 1}, timeout=15,
                               headers={"Authorization": f"Bearer {login['access_token']}"}).json()["last_seq"]
            specs += [{"url": nginx.url, "token": login["access_token"], "user_id": login["user"]["id"],
                       "last_seq": seq}] * 2
        spec_path = tmp_path / "clients.json"
        spec_path.write_text(json.dumps({"clients": specs, "http": [nginx.url], "sync_every_ms": 5000,
                                         "deadline_ms": 180_000, "report_path": str(tmp_path / "report.json")}))
        node = NodeClients(spec_path, 180)
        assert node.expect("connected", 60)["count"] == CLIENTS
        assert sum(metric(s, "assetflow_sockets_connected") for s in servers.values()) == CLIENTS

        decisions = Decisions(nginx.url, employees, [logins[n]["access_token"] for n in APPROVERS])
        threads = [threading.Thread(target=decisions.run, args=(i, 2)) for i in range(2)]
        for thread in threads:
            thread.start()
        restarts = []
        decisions.wait_for(DECISIONS_BETWEEN)
        servers["a"], record = _restart(servers["a"], servers["b"], "a", tmp_path, nginx, decisions)
        restarts.append(record)
        decisions.wait_for(decisions.decided + DECISIONS_BETWEEN)
        servers["b"], record = _restart(servers["b"], servers["a"], "b", tmp_path, nginx, decisions)
        restarts.append(record)
        decisions.wait_for(decisions.decided + DECISIONS_BETWEEN)
        decisions.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert decisions.failure is None, decisions.failure
        report = node.finish(tmp_path / "report.json", 60)
    finally:
        if decisions is not None:
            decisions.stop.set()
        if node is not None:
            node.stop()
        nginx.stop()
        for server in servers.values():
            server.stop()

    outcome = compare(report, server_inboxes(db_url, {spec["user_id"]: spec["last_seq"] for spec in specs}))
    counts = outcome["counts"]
    http = {(what, status, retry) for what, status, retry in decisions.statuses if status >= 500}
    nginx_5xx = [line for line in nginx.access_log() if line[0] == "5"]
    summary = {"mode": mode, "clients": CLIENTS, "decisions": decisions.decided, "restarts": restarts,
               "lost": outcome["lost"], "duplicated": outcome["duplicated"], "out_of_order": outcome["out_of_order"],
               "expected": outcome["expected"], "counts": counts, "http_5xx": sorted(http),
               "nginx_5xx": nginx_5xx[:5], "seconds": round(time.monotonic() - started, 1)}
    print("rolling restart:", json.dumps(summary))

    assert (outcome["lost"], outcome["duplicated"], outcome["out_of_order"]) == (0, 0, 0), summary
    assert outcome["clients_equal"] == CLIENTS and outcome["expected"] == outcome["applied"] > 0, summary
    assert report["all_connected"], summary
    for record in restarts:
        assert record["returncode"] == 0 and record["moved"], summary
        assert record["exited_within_s"] < 5, summary  # gunicorn.conf.py's graceful_timeout; it waited that out before
    # Every socket of each stopped process was told, and came back through nginx on the other one.
    assert counts["going_away"] == sum(record["sockets_held"] for record in restarts) >= CLIENTS, summary
    assert counts["reconnects"] >= CLIENTS + counts["going_away"], summary
    # No 5xx reached a client but the documented 503 with Retry-After (nginx passes a stopping process's
    # 503 to a socket handshake on to the other process; what it answers itself is in its access log).
    assert all(status == 503 and retry for _, status, retry in http), summary
    assert counts["http_5xx"] == 0, summary
    assert all(re.match(r"503 .* retry_after=\d+ ", line) for line in nginx_5xx), summary
    assert decisions.decided >= 3 * DECISIONS_BETWEEN
