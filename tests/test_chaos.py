"""Chaos, small enough for the suite: bench/chaos.py with 20 Node clients and 60 decisions while
process A is SIGKILLed twice and Redis restarts once (`make chaos` runs 200 clients and 500)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import database_url

from .conftest import POSTGRES_URL, require_service

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(300)


def _require_tool(name: str, path: Path | None = None) -> None:
    def check() -> None:
        if shutil.which(name) is None or (path is not None and not path.is_dir()):
            raise RuntimeError(f"{name} is not installed ({'make test-python' if path else 'apt'})")

    require_service(check, name)


def test_no_update_is_lost_or_shown_twice_through_kills_and_a_queue_restart(tmp_path):
    require_service(lambda: sa.create_engine(database_url(POSTGRES_URL)).connect().close(), "PostgreSQL")
    _require_tool("redis-server")
    _require_tool("node", ROOT / "tests" / "node" / "node_modules" / "socket.io-client")
    out = tmp_path / "chaos.json"
    run = subprocess.run([sys.executable, "bench/chaos.py", "--mode", "gevent", "--clients", "20",
                          "--decisions", "60", "--sync-every", "3", "--timeout", "240", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=280,
                         env={**os.environ, "BENCH_POSTGRES_URL": POSTGRES_URL})
    assert out.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [event["action"] for event in result["chaos"]] == ["kill a", "restart redis", "kill a"]
    assert result["decisions_committed"] >= 60
    assert (result["lost"], result["duplicated"], result["out_of_order"]) == (0, 0, 0)
    assert result["clients_equal"] == result["clients"] == 20
    assert result["expected"] == result["applied"] > 0
    # The half of the clients on A reconnected after each kill, and replay brought them back.
    assert result["counts"]["reconnects"] >= 20 + 2 * 10
    assert result["counts"]["replayed"] > 0
    assert run.returncode == 0, run.stdout[-3000:]
