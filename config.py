"""Configuration, read once from the environment (12-factor)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from limits import parse_many

BASE_DIR = Path(__file__).resolve().parent
DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"
# HS256 keys shorter than the hash output can be brute-forced offline from a single token.
MIN_JWT_SECRET_BYTES = 32


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_url(url: str) -> str:
    """Pin PostgreSQL to psycopg2: green under eventlet's and (with psycogreen) gevent's patching.

    SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which eventlet cannot make cooperative.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url.removeprefix(prefix)
    return url


def webhook_networks(setting: list[str] | str) -> list[str]:
    """Check WEBHOOK_ALLOWED_NETWORKS at start-up; raise naming the entry that is not a network."""
    items = [item.strip() for item in setting.split(",") if item.strip()] if isinstance(setting, str) else list(setting)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise RuntimeError(
                f"WEBHOOK_ALLOWED_NETWORKS must be comma-separated networks such as 10.20.0.0/16 or fd12::/48, "
                f"not {item!r}"
            ) from None
    return items


def login_rate_limits(setting: str) -> tuple[str, str]:
    """Split LOGIN_RATE_LIMIT into (per username, per client address); raise if malformed."""
    parts = tuple(part.strip() for part in setting.split(";"))
    try:
        if len(parts) != 2:
            raise ValueError(setting)
        for part in parts:
            parse_many(part)
    except ValueError:
        raise RuntimeError(
            f"LOGIN_RATE_LIMIT must be '<per username>;<per client address>' in Flask-Limiter's "
            f"notation, e.g. '10 per 15 minutes;60 per minute', not {setting!r}"
        ) from None
    return parts


# The writes each user may make, by budget (assetflow/api/budgets.py, docs/deploy.md "Write budgets"):
# budget -> its default. Each is set by <BUDGET>_RATE_LIMIT, e.g. COMMENTS_RATE_LIMIT.
WRITE_BUDGETS = {
    "comments": "30 per minute",
    "submits": "30 per minute",
    "decisions": "120 per minute",
    "rules": "30 per minute",
    "users": "120 per minute",
    "departments": "60 per minute",
    "assets": "120 per minute",
    "webhooks": "30 per minute",
    "delegations": "30 per minute",
    "preferences": "30 per minute",
    "notifications": "300 per minute",
    "uploads": "60 per minute",
    # Not a write, but each one resolves a whole rule list (a draft's routing check runs over every
    # department): counted like one, so a form typing into it cannot be turned into a load loop.
    "simulations": "120 per minute",
    "imports": "10 per minute",
    "tokens": "30 per minute",
}


def budget_setting(budget: str) -> str:
    """The setting that holds a write budget's limit."""
    return f"{budget.upper()}_RATE_LIMIT"


def write_budgets(config: Mapping[str, Any]) -> dict[str, str]:
    """Each write budget's limit from its setting; raise if one is not in Flask-Limiter's notation."""
    return {budget: rate_limit(budget_setting(budget), config[budget_setting(budget)], WRITE_BUDGETS[budget])
            for budget in WRITE_BUDGETS}


def rate_limit(setting: str, value: Any, example: str) -> str:
    """A limit setting in Flask-Limiter's notation, stripped; raise naming the setting if malformed."""
    text = str(value).strip()
    try:
        if not parse_many(text):
            raise ValueError(text)
    except ValueError:
        raise RuntimeError(f"{setting} must be a limit in Flask-Limiter's notation, e.g. "
                           f"{example!r}, not {value!r}") from None
    return text


def role_map(setting: str, roles: tuple[str, ...]) -> dict[str, str]:
    """OIDC_ROLE_MAP ("group=role,…") as {group: role}; raise naming an entry that is malformed or no role."""
    mapping = {}
    for entry in (item.strip() for item in setting.split(",")):
        if not entry:
            continue
        group, _, role = (part.strip() for part in entry.rpartition("="))
        if not group or role not in roles:
            raise RuntimeError(f"OIDC_ROLE_MAP must be 'group=role,…' with a role among {', '.join(roles)}, "
                               f"not {entry!r}")
        mapping[group] = role
    return mapping


def currency(setting: str) -> str:
    """DEFAULT_CURRENCY as stored (an ISO 4217 code, three capital letters); raise if malformed."""
    if re.fullmatch(r"[A-Z]{3}", setting) is None:
        raise RuntimeError(f"DEFAULT_CURRENCY must be three capital letters (ISO 4217, e.g. CNY), not {setting!r}")
    return setting


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    TESTING = False
    HOST = os.environ.get("HOST", "127.0.0.1")
    PORT = _int("PORT", 5000)
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'assetflow.db'}")
    )
    # Seconds a request waits for a free database connection; past it, 503 with Retry-After.
    DATABASE_POOL_TIMEOUT = float(os.environ.get("DATABASE_POOL_TIMEOUT", 10))
    # API requests one process works on at once; the rest wait as long as for a connection (assetflow/admission.py).
    # 0: no limit.
    REQUEST_CONCURRENCY = _int("REQUEST_CONCURRENCY", 4)
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", "")
    ACCESS_TOKEN_MINUTES = _int("ACCESS_TOKEN_MINUTES", 15)
    REFRESH_TOKEN_DAYS = _int("REFRESH_TOKEN_DAYS", 30)
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    # Pub/sub channels ignore Redis database numbers: deployments sharing a Redis need their own.
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "assetflow")
    # Origins allowed to open a socket besides the page's own, which is always allowed.
    CORS_ORIGINS = _list("CORS_ORIGINS")
    ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")
    PING_INTERVAL = _int("PING_INTERVAL", 25)
    PING_TIMEOUT = _int("PING_TIMEOUT", 20)
    # What one socket may send (docs/realtime.md, "Limits"): packets per second, how many it may
    # save up, how many more past that are dropped before it is cut off; the largest message.
    SOCKET_EVENTS_PER_SECOND = _int("SOCKET_EVENTS_PER_SECOND", 10)
    SOCKET_EVENT_BURST = _int("SOCKET_EVENT_BURST", 20)
    SOCKET_EVENT_OVERFLOW = _int("SOCKET_EVENT_OVERFLOW", 100)
    SOCKET_MAX_PAYLOAD = _int("SOCKET_MAX_PAYLOAD", 16 * 1024)
    # Database reads for socket connects at once, each for every connect waiting in line then (one statement);
    # a connect not read within SOCKET_CONNECT_WAIT seconds is refused with a time to come back
    # (assetflow/realtime/pacing.py). 0: no line, each connect reads alone.
    SOCKET_CONNECT_CONCURRENCY = _int("SOCKET_CONNECT_CONCURRENCY", 4)
    SOCKET_CONNECT_WAIT = float(os.environ.get("SOCKET_CONNECT_WAIT", 10))
    # How often each process drops its sockets of users deactivated where it could not hear it
    # (another process with no message queue between them); 0 turns the sweep off.
    SOCKET_SWEEP_SECONDS = float(os.environ.get("SOCKET_SWEEP_SECONDS", 10))
    # How often each process fires the due reminders and escalations (services/timers.py); 0 turns it off.
    TIMER_SECONDS = float(os.environ.get("TIMER_SECONDS", 60))
    # permessage-deflate keeps ~200 KiB of zlib state per socket (assetflow/realtime/compression.py).
    WEBSOCKET_COMPRESSION = _int("WEBSOCKET_COMPRESSION", 0) == 1
    # The value from which the default approval rules add an admin step (used until an admin saves rules).
    HIGH_VALUE_THRESHOLD = _int("HIGH_VALUE_THRESHOLD", 10000)
    # Attachments (docs/api.md, "Attachments"): the largest file, and how many files one request may carry.
    ATTACHMENT_MAX_BYTES = _int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    ATTACHMENTS_PER_REQUEST = _int("ATTACHMENTS_PER_REQUEST", 10)
    # The currency of an acquire request that names none: stored on the request, prefilled in the SPA's form.
    DEFAULT_CURRENCY = currency(os.environ.get("DEFAULT_CURRENCY", "CNY"))
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # How many reverse proxies (nginx, a load balancer) stand in front; their X-Forwarded-For
    # then gives the client's address for the login limits and logs. 0: trust no header.
    PROXY_COUNT = _int("PROXY_COUNT", 0)
    # "<per username>;<per client address>" in Flask-Limiter's notation; only failures count.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per 15 minutes;60 per minute")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "local://")
    # What one user may write per budget, in Flask-Limiter's notation ("30 per minute", or several
    # joined by ";"); counted in RATELIMIT_STORAGE_URI, so shared by every process that uses it.
    COMMENTS_RATE_LIMIT = os.environ.get("COMMENTS_RATE_LIMIT", WRITE_BUDGETS["comments"])
    SUBMITS_RATE_LIMIT = os.environ.get("SUBMITS_RATE_LIMIT", WRITE_BUDGETS["submits"])
    DECISIONS_RATE_LIMIT = os.environ.get("DECISIONS_RATE_LIMIT", WRITE_BUDGETS["decisions"])
    RULES_RATE_LIMIT = os.environ.get("RULES_RATE_LIMIT", WRITE_BUDGETS["rules"])
    USERS_RATE_LIMIT = os.environ.get("USERS_RATE_LIMIT", WRITE_BUDGETS["users"])
    DEPARTMENTS_RATE_LIMIT = os.environ.get("DEPARTMENTS_RATE_LIMIT", WRITE_BUDGETS["departments"])
    ASSETS_RATE_LIMIT = os.environ.get("ASSETS_RATE_LIMIT", WRITE_BUDGETS["assets"])
    WEBHOOKS_RATE_LIMIT = os.environ.get("WEBHOOKS_RATE_LIMIT", WRITE_BUDGETS["webhooks"])
    DELEGATIONS_RATE_LIMIT = os.environ.get("DELEGATIONS_RATE_LIMIT", WRITE_BUDGETS["delegations"])
    PREFERENCES_RATE_LIMIT = os.environ.get("PREFERENCES_RATE_LIMIT", WRITE_BUDGETS["preferences"])
    NOTIFICATIONS_RATE_LIMIT = os.environ.get("NOTIFICATIONS_RATE_LIMIT", WRITE_BUDGETS["notifications"])
    UPLOADS_RATE_LIMIT = os.environ.get("UPLOADS_RATE_LIMIT", WRITE_BUDGETS["uploads"])
    SIMULATIONS_RATE_LIMIT = os.environ.get("SIMULATIONS_RATE_LIMIT", WRITE_BUDGETS["simulations"])
    IMPORTS_RATE_LIMIT = os.environ.get("IMPORTS_RATE_LIMIT", WRITE_BUDGETS["imports"])
    TOKENS_RATE_LIMIT = os.environ.get("TOKENS_RATE_LIMIT", WRITE_BUDGETS["tokens"])
    # Every call one API token may make, reads included (its writes also spend the write budgets,
    # counted per token rather than per user); Flask-Limiter's notation.
    API_TOKEN_RATE_LIMIT = os.environ.get("API_TOKEN_RATE_LIMIT", "600 per minute")
    # The largest file an import takes, and its most data rows (docs/api.md, "Imports").
    IMPORT_MAX_BYTES = _int("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
    IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 20_000)
    REPLAY_LIMIT = 500
    # The outbox worker (e-mail, webhooks): how often an idle server process looks for due messages
    # (0: never), how many it claims at once, how long a claim lasts before another process may retry
    # it, the first retry's wait (doubling, at most an hour), and when a message is given up.
    DELIVERY_POLL_SECONDS = float(os.environ.get("DELIVERY_POLL_SECONDS", 1))
    DELIVERY_BATCH = _int("DELIVERY_BATCH", 20)
    DELIVERY_LEASE_SECONDS = _int("DELIVERY_LEASE_SECONDS", 60)
    DELIVERY_RETRY_SECONDS = float(os.environ.get("DELIVERY_RETRY_SECONDS", 30))
    DELIVERY_GIVE_UP_HOURS = float(os.environ.get("DELIVERY_GIVE_UP_HOURS", 24))
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", 5))
    # Webhooks may call only public addresses (assetflow/egress.py), except in these networks
    # (CIDR, comma-separated), e.g. "10.20.0.0/16" for an on-premises receiver. Empty: none.
    WEBHOOK_ALLOWED_NETWORKS = _list("WEBHOOK_ALLOWED_NETWORKS")
    # E-mail: unset MAIL_URL sends none. smtp://[user:password@]host:port, smtps:// for TLS from the
    # start, smtp://…?starttls=1 to upgrade. A notification is e-mailed only if still unread after
    # EMAIL_DELAY_SECONDS; one-click links expire after EMAIL_LINK_HOURS.
    MAIL_URL = os.environ.get("MAIL_URL", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "AssetFlow <assetflow@localhost>")
    EMAIL_DELAY_SECONDS = _int("EMAIL_DELAY_SECONDS", 120)
    EMAIL_LINK_HOURS = _int("EMAIL_LINK_HOURS", 72)
    # Where people open the app, for links in e-mails (default: this server's own address).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
    # Single sign-on with OpenID Connect (docs/deploy.md, "Single sign-on"); off while OIDC_ISSUER is empty.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid profile email")
    OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
    # The claim holding the user's department code; empty: SSO leaves departments to the admins.
    OIDC_DEPARTMENT_CLAIM = os.environ.get("OIDC_DEPARTMENT_CLAIM", "")
    OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "groups")
    # "group=role,…"; empty: SSO leaves roles to the admins (new users are employees).
    OIDC_ROLE_MAP = os.environ.get("OIDC_ROLE_MAP", "")
    # The provider's name on the login page's button: "Sign in with <OIDC_DISPLAY_NAME>".
    OIDC_DISPLAY_NAME = os.environ.get("OIDC_DISPLAY_NAME", "")
    # 0: no local passwords (POST /api/auth/login answers 403); admins keep `flask break-glass`.
    PASSWORD_LOGIN = _int("PASSWORD_LOGIN", 1) == 1
    FRONTEND_DIST = Path(os.environ.get("FRONTEND_DIST", BASE_DIR / "frontend" / "dist"))


class DevelopmentConfig(Config):
    """Local development: a default JWT secret and the Vite dev server as an extra origin."""

    ENV_NAME = "development"
    JWT_SECRET_KEY = Config.JWT_SECRET_KEY or DEV_JWT_SECRET
    CORS_ORIGINS = Config.CORS_ORIGINS or ["http://127.0.0.1:5173", "http://localhost:5173"]


class TestingConfig(DevelopmentConfig):
    """Tests: an in-memory database unless DATABASE_URL names one, threading async mode."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    ASYNC_MODE = "threading"
    RATELIMIT_STORAGE_URI = "local://"
    SOCKET_SWEEP_SECONDS = 0  # no background loop per test app; tests call sweeper.sweep() themselves
    TIMER_SECONDS = 0  # tests call timers.run_due(now) with their own clock
    # Race tests hold every racer's request in flight at once; tests/test_admission.py sets a limit itself.
    REQUEST_CONCURRENCY = 0


# Fuzzing, property and race tests write far more than a person; the tests of the budgets set low ones.
for _budget in WRITE_BUDGETS:
    setattr(TestingConfig, budget_setting(_budget), "100000 per minute")


class ProductionConfig(Config):
    """Production: refuses to start without a real secret and explicit origins."""

    ENV_NAME = "production"

    @classmethod
    def validate(cls) -> None:
        """Raise when a setting that must be explicit in production is missing."""
        if not cls.JWT_SECRET_KEY or cls.JWT_SECRET_KEY == DEV_JWT_SECRET:
            raise RuntimeError("JWT_SECRET_KEY must be set in production")
        length = len(cls.JWT_SECRET_KEY.encode())
        if length < MIN_JWT_SECRET_BYTES:
            raise RuntimeError(
                f"JWT_SECRET_KEY is {length} bytes; production needs at least {MIN_JWT_SECRET_BYTES} "
                "bytes of random data. Generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if "*" in cls.CORS_ORIGINS:
            raise RuntimeError("CORS_ORIGINS may not be '*' in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the config class named by FLASK_ENV (development when unset)."""
    name = os.environ.get("FLASK_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"FLASK_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
