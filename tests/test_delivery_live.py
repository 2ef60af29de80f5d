"""The delivery worker in real servers: SIGKILL mid-batch loses nothing and resends at most one message,
in the SQLite default and with two processes on PostgreSQL; a dead receiver slows no API call."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from .live_server import base_env, sqlite_copy, sqlite_template, start_server, wait_until
from .receivers import WebhookReceiver

pytestmark = pytest.mark.timeout(240)
MESSAGES = 25
SECRET = "live-test-secret-0123456789"
WORKER = {"DELIVERY_POLL_SECONDS": "0.2", "DELIVERY_LEASE_SECONDS": "3", "DELIVERY_BATCH": "5",
          "DELIVERY_RETRY_SECONDS": "1", "WEBHOOK_TIMEOUT_SECONDS": "5",
          "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}  # the receivers below listen on loopback


def subscribe(server, url: str) -> None:
    admin = server.login("admin")["access_token"]
    response = server.api("POST", "/api/webhooks", admin,
                          json={"url": url, "events": ["request.submitted"], "secret": SECRET})
    assert response.status_code == 201, response.text


def submit_acquires(server, count: int) -> list[float]:
    """Alice asks to buy `count` things; how long each submit took, in seconds."""
    alice = server.login("alice")["access_token"]
    took = []
    for number in range(count):
        started = time.monotonic()
        response = server.api("POST", "/api/requests", alice, json={
            "kind": "acquire", "name": f"Monitor {number}", "category": "Monitor", "value": "300",
            "reason": "live delivery test"})
        took.append(time.monotonic() - started)
        assert response.status_code == 201, response.text
    return took


def outbox_ids(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        ids = set(conn.scalars(sa.text("SELECT message_id FROM outbox WHERE channel = 'webhook'")))
    engine.dispose()
    return ids


def kill(server) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)


def assert_everything_once_but_one(receiver: WebhookReceiver, expected: set[str]) -> None:
    """Every message arrived; at most one arrived twice (the one in flight when its worker died)."""
    counts = Counter(receiver.deliveries())
    assert set(counts) == expected and len(expected) == MESSAGES
    assert sum(n - 1 for n in counts.values()) <= 1, counts.most_common(3)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_sigkill_mid_batch_in_the_sqlite_default_loses_nothing(mode, tmp_path):
    url = sqlite_copy(sqlite_template(tmp_path), tmp_path, "crash")
    env = base_env(url, mode, **WORKER)
    with WebhookReceiver(delay=0.2) as receiver:
        server = start_server(env, tmp_path, "a")
        try:
            subscribe(server, receiver.url)
            submit_acquires(server, MESSAGES)
            assert wait_until(lambda: len(receiver.received) >= 8, 60), "the worker to be mid-way"
            kill(server)
            assert len(set(receiver.deliveries())) < MESSAGES  # it did die mid-way
            server = start_server(env, tmp_path, "a", port=int(server.url.rsplit(":", 1)[1]))
            assert wait_until(lambda: len(set(receiver.deliveries())) == MESSAGES, 60), "every delivery"
        finally:
            server.stop()
    assert_everything_once_but_one(receiver, outbox_ids(url))


def test_two_processes_on_postgresql_never_send_one_message_twice_but_the_one_in_flight(databases, tmp_path):
    url = databases.create("delivery")
    env = base_env(url, "gevent", **WORKER)
    with WebhookReceiver(delay=0.2) as receiver:
        a = start_server(env, tmp_path, "a")
        b = start_server(env, tmp_path, "b")
        try:
            subscribe(a, receiver.url)
            submit_acquires(a, MESSAGES)
            assert wait_until(lambda: len(receiver.received) >= 8, 60), "both workers to be mid-way"
            kill(a)
            assert wait_until(lambda: len(set(receiver.deliveries())) == MESSAGES, 60), "B to deliver the rest"
        finally:
            a.stop()
            b.stop()
    assert_everything_once_but_one(receiver, outbox_ids(url))
    assert "Traceback" not in a.log_text() + b.log_text()


def test_a_receiver_that_never_answers_slows_no_api_call(tmp_path):
    url = sqlite_copy(sqlite_template(tmp_path), tmp_path, "blackhole")
    env = base_env(url, "eventlet", **WORKER)
    with socket.socket() as blackhole:  # accepts connections (the kernel's backlog) and never answers
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen(64)
        server = start_server(env, tmp_path, "a")
        try:
            subscribe(server, f"http://127.0.0.1:{blackhole.getsockname()[1]}/hook")
            took = submit_acquires(server, 10)  # each one queues a call that will hang for 5 s
            time.sleep(1)  # the worker is now waiting on the dead receiver
            took += submit_acquires(server, 5)
        finally:
            server.stop()
    # A call blocked behind the receiver would take the 5 s timeout; none comes near it.
    assert max(took) < 2.0, sorted(took)[-3:]
