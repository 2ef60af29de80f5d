"""AssetFlow: a fixed-asset approval system with live decisions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env, login_rate_limits, rate_limit, role_map, webhook_networks, write_budgets

from . import admission, api, channels, cli, errors, metrics, ratelimits, security_headers, web
from .auth import tokens
from .extensions import db, jwt, migrate, socketio
from .models.user import ROLES
from .realtime import compression, drain, guard, internals, sockets
from .realtime.manager import client_manager
from .realtime.origins import OriginPolicy

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | Mapping | None = None) -> Flask:
    """Build the app: config, extensions, API, socket handlers, CLI."""
    app = Flask(__name__, static_folder=None, instance_path=str(ROOT / "instance"))
    _configure(app, config)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # `transitions` logs every state callback at INFO: two lines per decision, nothing to act on.
    logging.getLogger("transitions").setLevel(logging.WARNING)

    db.init_app(app)
    # Batch mode lets Alembic alter SQLite tables (it rebuilds them).
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    jwt.init_app(app)
    ratelimits.init_app(app)
    _init_socketio(app)
    drain.init_app(app)  # in front of Socket.IO: a stopping process refuses new sockets
    compression.init_app(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    admission.init_app(app)
    tokens.init_app(app)
    api.init_app(app)
    channels.init_app(app)
    errors.init_app(app)
    metrics.init_app(app)
    web.init_app(app)
    security_headers.init_app(app)
    cli.init_app(app)
    sockets.init_app(app)

    return app


def _configure(app: Flask, config: type[Config] | Mapping | None) -> None:
    base = config if isinstance(config, type) else config_from_env()
    if hasattr(base, "validate"):
        base.validate()
    app.config.from_object(base)
    if isinstance(config, Mapping):
        app.config.update(config)
    app.config.update(
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=app.config["ACCESS_TOKEN_MINUTES"]),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=app.config["REFRESH_TOKEN_DAYS"]),
        # Checked here, at start-up: a malformed value would otherwise fail every login.
        LOGIN_RATE_LIMITS=login_rate_limits(app.config["LOGIN_RATE_LIMIT"]),
        WEBHOOK_ALLOWED_NETWORKS=webhook_networks(app.config["WEBHOOK_ALLOWED_NETWORKS"]),
        WRITE_BUDGETS=write_budgets(app.config),
        OIDC_ROLES=role_map(app.config["OIDC_ROLE_MAP"], ROLES),
        API_TOKEN_RATE_LIMIT=rate_limit("API_TOKEN_RATE_LIMIT", app.config["API_TOKEN_RATE_LIMIT"], "600 per minute"),
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                  app.config["DATABASE_POOL_TIMEOUT"]),
        MAX_CONTENT_LENGTH=1024 * 1024,
        API_TITLE="AssetFlow", API_VERSION="1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json",
    )
    if app.config["OIDC_ISSUER"] and not app.config["OIDC_CLIENT_ID"]:
        raise RuntimeError("OIDC_ISSUER is set, so OIDC_CLIENT_ID must be too (the client registered at the provider)")
    if app.config["OIDC_ISSUER"] and "openid" not in app.config["OIDC_SCOPES"].split():
        raise RuntimeError(f"OIDC_SCOPES must include openid, not {app.config['OIDC_SCOPES']!r}")
    Path(app.instance_path).mkdir(exist_ok=True)


def _engine_options(url: str, pool_timeout: float) -> dict:
    if url in ("sqlite://", "sqlite:///:memory:"):  # one shared connection: no pool to wait for
        return {}
    # How long a request waits for a free database connection before it is answered 503.
    options = {"pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        return options | {"connect_args": {"timeout": 30}}
    return options | {"pool_pre_ping": True}


def _init_socketio(app: Flask) -> None:
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        # A fresh manager per app: Flask-SocketIO would otherwise keep the first app's queue
        # manager for every later app, and ours can disconnect a token's sockets everywhere.
        client_manager=client_manager(app.config["SOCKETIO_MESSAGE_QUEUE"], app.config["SOCKETIO_CHANNEL"]),
        cors_allowed_origins=OriginPolicy(app.config["CORS_ORIGINS"]),
        ping_interval=app.config["PING_INTERVAL"],
        ping_timeout=app.config["PING_TIMEOUT"],
        # Engine.IO's limit for one message from a client (polling body or WebSocket message).
        max_http_buffer_size=app.config["SOCKET_MAX_PAYLOAD"],
        logger=guard.library_logger("socketio"),
        engineio_logger=guard.library_logger("engineio"),
    )
    # One class for every request's environ["eventlet.input"], not one per request (~3 KiB per socket).
    internals.share_socket_input(socketio)
