"""Where things may live: green-thread libraries only in wsgi.py, emits only in the realtime module.
Also /readyz with and without a reachable message queue.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from .conftest import build_app, require_service

ROOT = Path(__file__).resolve().parent.parent
QUEUE_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")
GREEN = {"eventlet", "gevent", "psycogreen"}


def _app_sources() -> list[Path]:
    return [ROOT / "config.py", *sorted((ROOT / "assetflow").rglob("*.py"))]


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_entry_point_imports_green_thread_libraries():
    offenders = {str(p.relative_to(ROOT)): _imported_roots(p) & GREEN for p in _app_sources()}
    assert {name: libs for name, libs in offenders.items() if libs} == {}
    assert _imported_roots(ROOT / "wsgi.py") >= GREEN


def test_building_the_app_loads_no_green_thread_library():
    code = (
        "import sys\n"
        "from assetflow import create_app\n"
        "from config import TestingConfig\n"
        "app = create_app(TestingConfig)\n"
        "assert app.extensions['socketio'].async_mode == 'threading'\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'eventlet', 'gevent', 'psycogreen'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "FLASK_ENV": "testing"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_nothing_outside_the_realtime_module_emits():
    """Every push goes through realtime.emitter; handlers and services never call Socket.IO."""
    offenders = []
    for path in _app_sources():
        if "realtime" in path.parts:
            continue
        text = path.read_text()
        if any(needle in text for needle in ("emit(", "socketio.")) or "socketio" in _imported_roots(path):
            offenders.append(str(path.relative_to(ROOT)))
    assert [p for p in offenders if p not in ("assetflow/extensions.py", "assetflow/__init__.py")] == []


def test_readyz_without_a_queue_checks_the_database():
    app = build_app()
    body = app.test_client().get("/readyz").get_json()
    assert body == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_reports_an_unreachable_queue():
    app = build_app(SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["error"]["details"]["checks"]
    assert checks["database"] == "ok" and checks["message_queue"].startswith("error")


def test_readyz_checks_a_reachable_queue():
    require_service(lambda: redis.Redis.from_url(QUEUE_URL, socket_connect_timeout=2).ping(), "Redis")
    app = build_app(SOCKETIO_MESSAGE_QUEUE=QUEUE_URL, SOCKETIO_CHANNEL=f"assetflow-readyz-{os.getpid()}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "message_queue": "ok"}


@pytest.mark.parametrize("url, manager", [
    (None, "LocalManager"), ("redis://127.0.0.1:6379/0", "RedisManager"),
    ("rediss://cache.internal:6380/0", "RedisManager"),
])
def test_message_queue_url_picks_a_manager_that_can_disconnect_rooms(url, manager):
    from assetflow.realtime.manager import client_manager

    chosen = client_manager(url, "assetflow")
    assert type(chosen).__name__ == manager and hasattr(chosen, "disconnect_room")


@pytest.mark.parametrize("patch, expected", [
    ("import eventlet; eventlet.monkey_patch(psycopg=False)", "psycopg2 is not cooperative"),
    ("import eventlet; eventlet.monkey_patch()", "started"),
])
def test_wsgi_refuses_a_blocking_postgres_driver_on_green_threads(patch, expected):
    code = f"{patch}\nimport wsgi\nprint('started')\n"
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60,
                            env={**os.environ, "ASYNC_MODE": "eventlet", "FLASK_ENV": "development"})
    assert expected in result.stdout + result.stderr


def _relative_imports(path: Path) -> set[str]:
    """The package-relative modules a file imports, as dotted names under assetflow ("realtime.emitter")."""
    package = path.relative_to(ROOT / "assetflow").parent.parts
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - (node.level - 1)])
            module = [*base, *(node.module.split(".") if node.module else [])]
            names |= {".".join(module + ([alias.name] if not node.module else [])) for alias in node.names}
    return names


def test_services_never_import_the_realtime_layer():
    """Services publish domain events; the push is a subscriber (assetflow/channels.py), so no cycle."""
    offenders = {str(path.relative_to(ROOT)): sorted(n for n in _relative_imports(path) if n.startswith("realtime"))
                 for path in sorted((ROOT / "assetflow" / "services").rglob("*.py"))}
    assert {name: found for name, found in offenders.items() if found} == {}
