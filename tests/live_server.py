"""Real servers for tests: migrated and seeded databases, gunicorn processes, Socket.IO clients.

Everything here listens on 127.0.0.1 only, every wait is bounded, and every process runs in its
own process group so that teardown can end it and its workers.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import socketio
import sqlalchemy as sa

from config import WRITE_BUDGETS, budget_setting

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(__file__).resolve().parent / "node"
DEMO_PASSWORD = "assetflow-demo"
ALLOWED_ORIGIN = "http://app.assetflow.test"
START_TIMEOUT = 40.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(database_url: str, async_mode: str = "threading", **extra: str) -> dict[str, str]:
    """The environment of a server or CLI process: only what the product reads, set explicitly."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ASSETFLOW_", "SOCKETIO_", "DATABASE_URL", "TEST_DATABASE_URL"))}
    env.update(
        FLASK_ENV="development", DATABASE_URL=database_url, ASYNC_MODE=async_mode,
        JWT_SECRET_KEY=extra.pop("JWT_SECRET_KEY", "live-test-secret-" + "x" * 32),
        CORS_ORIGINS=ALLOWED_ORIGIN, PING_INTERVAL="1", PING_TIMEOUT="2", LOG_LEVEL="INFO", SOCKET_SWEEP_SECONDS="1",
        PYTHONUNBUFFERED="1",
        # Live tests, benchmarks and chaos runs decide far faster than a person; tests of the budgets set their own.
        **{budget_setting(budget): "100000 per minute" for budget in WRITE_BUDGETS},
    )
    env.update(extra)
    return env


def flask_cli(env: dict[str, str], *args: str, timeout: float = 120,
              check: bool = True) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi ARGS` (threading mode: the CLI needs no green threads)."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env={**env, "ASYNC_MODE": "threading"}, check=check, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def prepare_database(database_url: str) -> None:
    """Schema through the migrations (never create_all), then the demo data."""
    env = base_env(database_url)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "seed-demo")


def sqlite_template(directory: Path) -> Path:
    """A migrated, seeded SQLite file that servers copy, so each starts from the same state."""
    path = directory / "template.db"
    prepare_database(f"sqlite:///{path}")
    return path


def sqlite_copy(template: Path, directory: Path, name: str) -> str:
    """A fresh copy of the template database; its URL."""
    target = directory / f"{name}.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


class PostgresDatabases:
    """Databases named after this test run, created from a migrated template and dropped after."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.prefix = f"assetflow_rt_{os.getpid()}"
        self.engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        self.created: list[str] = []
        self.template: str | None = None

    def url(self, name: str) -> str:
        """The URL of one of our databases."""
        return sa.make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text(sql))

    def create(self, suffix: str) -> str:
        """A new database with the migrated, seeded template's contents; its URL."""
        if self.template is None:
            self.template = f"{self.prefix}_template"
            self._execute(f'DROP DATABASE IF EXISTS "{self.template}"')
            self._execute(f'CREATE DATABASE "{self.template}"')
            self.created.append(self.template)
            prepare_database(self.url(self.template))
        name = f"{self.prefix}_{suffix}"
        self._execute(f'DROP DATABASE IF EXISTS "{name}"')
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url(name)

    def drop_all(self) -> None:
        """Drop every database this object created (servers must be stopped first)."""
        for name in reversed(self.created):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
        self.engine.dispose()


@dataclass
class LiveServer:
    """One gunicorn process serving wsgi:app."""

    url: str
    process: subprocess.Popen
    log_path: Path
    async_mode: str
    env: dict[str, str]
    _tokens: dict[str, dict] = field(default_factory=dict)

    def log_text(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        """One HTTP call, with a bearer token when given."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url + path, headers=headers, timeout=15, **kwargs)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> dict:
        """POST /api/auth/login; the whole body (tokens and user)."""
        response = self.api("POST", "/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        """End the process group: TERM, then KILL if it does not go within 10 s."""
        stop_process_group(self.process)


def stop_process_group(process: subprocess.Popen) -> None:
    """TERM the group a process leads, then KILL it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def gunicorn_command(port: int, app: str = "wsgi:app", graceful_timeout: int = 2) -> list[str]:
    """The production command line, as docs/deploy.md shows it (the worker follows ASYNC_MODE).

    Another `app` is a module of bench/, e.g. introspect_app:app (wsgi:app plus its /_bench/ routes)."""
    pythonpath = [] if app == "wsgi:app" else ["--pythonpath", "bench"]
    return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "1",
            "-b", f"127.0.0.1:{port}", "--graceful-timeout", str(graceful_timeout), *pythonpath, app]


def start_server(env: dict[str, str], log_dir: Path, name: str, port: int | None = None,
                 preexec_fn: Callable[[], None] | None = None, app: str = "wsgi:app",
                 graceful_timeout: int = 2) -> LiveServer:
    """Start gunicorn with env's ASYNC_MODE worker and wait until /healthz answers.

    A `port` restarts a server where its clients expect it; the log file is then appended to."""
    restart = port is not None
    port = port or free_port()
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab" if restart else "wb") as log:
        process = subprocess.Popen(gunicorn_command(port, app, graceful_timeout), cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, preexec_fn=preexec_fn)
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path, env["ASYNC_MODE"], env)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server {name} exited with {process.returncode}:\n{server.log_text()}")
        try:
            if requests.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server {name} did not answer within {START_TIMEOUT}s:\n{server.log_text()}")


def wait_until(check: Callable[[], bool], timeout: float = 30) -> bool:
    """Whether `check()` came true within `timeout` seconds (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def by_seq(events: list[dict]) -> list[dict]:
    """Events in seq order. python-engineio's client dispatches each message on its own thread,
    so a burst can reach a Probe out of order; test_server.py checks the wire order raw."""
    return sorted(events, key=lambda event: event["seq"])


class Probe:
    """A python-socketio client that records every event it receives."""

    def __init__(self, server_url: str, token: str, last_seq: int = 0, **connect_kwargs: Any):
        self.url = server_url
        self.auth = {"token": token, "last_seq": last_seq}
        self.events: list[tuple[str, Any]] = []
        self.connect_errors: list[Any] = []
        self.disconnects: list[Any] = []
        self.cond = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.on("connect_error", self._connect_error)
        self.client.on("disconnect", self._disconnected)
        self.connect_kwargs = {"transports": ["websocket"], "wait_timeout": 10, **connect_kwargs}

    def _record(self, event: str, data: Any = None) -> None:
        with self.cond:
            self.events.append((event, data))
            self.cond.notify_all()

    def _connect_error(self, data: Any = None) -> None:
        with self.cond:
            self.connect_errors.append(data)
            self.cond.notify_all()

    def _disconnected(self, reason: Any = None) -> None:
        with self.cond:
            self.disconnects.append(reason)
            self.cond.notify_all()

    def connect(self) -> Probe:
        """Connect (raises socketio.exceptions.ConnectionError when refused)."""
        self.client.connect(self.url, auth=self.auth, **self.connect_kwargs)
        return self

    def named(self, event: str) -> list[Any]:
        """The payloads received so far for one event name."""
        with self.cond:
            return [data for name, data in self.events if name == event]

    def wait(self, predicate: Callable[[], bool], timeout: float = 10) -> bool:
        """Wait until predicate() holds; False on timeout."""
        with self.cond:
            return self.cond.wait_for(predicate, timeout=timeout)

    def wait_for(self, event: str, count: int = 1, timeout: float = 10) -> list[Any]:
        """At least `count` payloads of the event, or an AssertionError after the timeout."""
        ok = self.wait(lambda: len([1 for name, _ in self.events if name == event]) >= count, timeout)
        assert ok, f"expected {count} {event!r} within {timeout}s, got {self.events!r}"
        return self.named(event)

    def close(self) -> None:
        """Disconnect if connected."""
        if self.client.connected:
            self.client.disconnect()
        self.client.shutdown()


_tags = iter(range(1, 1_000_000))


def new_asset(server: LiveServer, admin_token: str, value: str = "1000") -> dict:
    """A fresh in-stock asset, created by an admin over HTTP."""
    tag = f"RT-{os.getpid()}-{secrets.token_hex(3)}-{next(_tags)}"
    response = server.api("POST", "/api/assets", admin_token,
                          json={"tag": tag, "name": f"Test laptop {tag}", "category": "Laptop", "value": value})
    assert response.status_code == 201, response.text
    return response.json()


def submit_assign(server: LiveServer, token: str, asset_id: int) -> dict:
    """The applicant asks for an in-stock asset."""
    response = server.api("POST", "/api/requests", token,
                          json={"kind": "assign", "asset_id": asset_id, "reason": "live test"})
    assert response.status_code == 201, response.text
    return response.json()


def decide(server: LiveServer, token: str, request_id: int, action: str, comment: str = "") -> dict:
    """Approve, reject or withdraw over HTTP; the updated request."""
    body = {"comment": comment} if action != "withdraw" else {}
    response = server.api("POST", f"/api/requests/{request_id}/{action}", token, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def current_seq(server: LiveServer, token: str) -> int:
    """The user's newest notification seq, over HTTP."""
    response = server.api("GET", "/api/notifications", token, params={"limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["last_seq"]


def metric(server: LiveServer, name: str, **labels: str) -> float:
    """One sample of the server's /metrics (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = server.api("GET", "/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


class NodeProcess:
    """A script of tests/node (the official socket.io-client); its JSON lines read on a thread so
    every read has a timeout."""

    def __init__(self, node: str, script: str, *args: str):
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen([node, script, *args], cwd=NODE_DIR, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def expect(self, what: str, timeout: float = 15) -> dict:
        """The next line, which must be a `what` step."""
        try:
            message = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.stderr.seek(0)
            raise AssertionError(f"no {what!r} within {timeout}s; stderr: {self.stderr.read()[-2000:]!r}") from None
        assert message["what"] == what, message
        return message

    def send(self, line: str) -> None:
        """One command line on the script's stdin."""
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        """Kill the script if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.stderr.close()
