"""Fixtures: an isolated app per test, a client, and users that log in."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from assetflow import create_app
from assetflow.extensions import db
from config import TestingConfig, database_url

from .actions import Person
from .factories import PASSWORD, make_user
from .live_server import NODE_DIR, PostgresDatabases, Probe, current_seq, flask_cli
from .live_server import base_env as live_env

POSTGRES_URL = os.environ.get("POSTGRES_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")
QUEUE_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")


def require_service(check, name: str) -> None:
    """Skip when a service is down on a laptop; fail in CI, where it must be up."""
    try:
        check()
    except Exception as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI but unreachable: {error}")
        pytest.skip(f"{name} not reachable: {error}")


def require_redis() -> None:
    """Redis at QUEUE_URL, the Socket.IO message queue of the scale-out tests."""
    import redis

    require_service(lambda: redis.Redis.from_url(QUEUE_URL, socket_connect_timeout=2).ping(), "Redis")


@pytest.fixture(scope="module")
def databases():
    """Migrated, seeded PostgreSQL databases for live servers, made per test module and dropped after it."""
    admin_url = database_url(POSTGRES_URL)
    require_service(lambda: sa.create_engine(admin_url).connect().close(), "PostgreSQL")
    dbs = PostgresDatabases(admin_url)
    yield dbs
    dbs.drop_all()


def reset_schema(url: str) -> None:
    """Drop every table of a PostgreSQL database, so migrations start from nothing."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path):
    """A database migrated up to the test module's PREVIOUS revision (SQLite, then PostgreSQL); its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_schema(url)
    flask_cli(live_env(url), "db", "upgrade", request.module.PREVIOUS)
    yield url
    if request.param == "postgresql":
        reset_schema(url)  # the other PostgreSQL tests build their own tables on this database


@pytest.fixture(scope="session")
def postgres_url():
    """A scratch PostgreSQL database for this test run, dropped at the end."""
    admin_url = database_url(POSTGRES_URL)
    require_service(lambda: sa.create_engine(admin_url).connect().close(), "PostgreSQL")
    name = f"assetflow_pytest_{os.getpid()}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def build_app(database_uri: str = "sqlite://", **overrides):
    """An app on a fresh schema (tests may use create_all; the product uses migrations)."""
    config = type("TestConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": database_uri, **overrides})
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@contextmanager
def app_on(uri: str):
    """An app on a fresh schema at `uri`, in its context; the schema is dropped afterwards."""
    app = build_app(uri)
    with app.app_context():
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_app(request, tmp_path):
    """An app on SQLite (a file, so that threads share it) and on PostgreSQL, one test each."""
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'race.db'}"
    else:
        uri = request.getfixturevalue("postgres_url")
    with app_on(uri) as app:
        yield app


@pytest.fixture
def app():
    app = build_app()
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def loopback_receivers(app):
    """Let webhooks reach the suite's receivers on 127.0.0.1, as WEBHOOK_ALLOWED_NETWORKS does for an on-premises one.

    Only where a test asks: the default test app refuses loopback, as production does.
    """
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]
    return app


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Log users in and build their headers."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = PASSWORD) -> dict:
        response = self.client.post("/api/auth/login", json={"username": user.username, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def headers(self, user) -> dict:
        return {"Authorization": f"Bearer {self.login(user)['access_token']}"}

    def person(self, user) -> Person:
        """The user, logged in."""
        return Person(user, self.headers(user))


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def people(app, auth):
    """Two employees, two approvers and two admins, logged in: {name: Person}."""
    users = {
        "alice": make_user("employee", "alice"),
        "erin": make_user("employee", "erin"),
        "bob": make_user("approver", "bob"),
        "carol": make_user("approver", "carol"),
        "admin": make_user("admin", "admin"),
        "root": make_user("admin", "root"),
    }
    return {name: auth.person(user) for name, user in users.items()}


@pytest.fixture
def probes():
    """Connect Socket.IO Probes to live servers through this; they are closed after the test."""
    opened: list[Probe] = []

    def open_probe(server, login, last_seq=None, **kwargs) -> Probe:
        if last_seq is None:  # caught up, like a client that has seen everything so far
            last_seq = current_seq(server, login["access_token"])
        probe = Probe(server.url, login["access_token"], last_seq, **kwargs)
        opened.append(probe)
        return probe.connect()

    yield open_probe
    for probe in opened:
        probe.close()


@pytest.fixture(scope="session")
def node_client():
    """`node` with the official socket.io-client and oidc-provider, installed from tests/node's lock file if missing."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node (20+) is required in CI for the socket.io-client tests")
        pytest.skip("node is not installed; the official socket.io-client tests need Node 20+")
    if not all((NODE_DIR / "node_modules" / package).is_dir() for package in ("socket.io-client", "oidc-provider")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return node
