"""The outbox worker against a real HTTP receiver: signatures, retries with backoff, leases, giving up."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import timedelta

import pytest
import sqlalchemy as sa

from assetflow.delivery import webhooks, worker
from assetflow.extensions import db
from assetflow.models import OutboxMessage, Webhook, WebhookAttempt
from assetflow.models.base import utcnow

from .factories import make_user
from .receivers import WebhookReceiver

SECRET = "s3cret-for-tests"


def add_webhook(url: str, events=("request.decided",)) -> Webhook:
    hook = Webhook(url=url, events=list(events), secret=SECRET, created_by_id=make_user("admin").id)
    db.session.add(hook)
    db.session.commit()
    return hook


def publish(event: str = "request.decided", data: dict | None = None) -> None:
    """What a service does: enqueue in its own transaction, then commit."""
    webhooks.enqueue(event, data or {"request_id": 7, "status": "approved"})
    db.session.commit()


def later(seconds: float):
    return utcnow() + timedelta(seconds=seconds)


def test_a_committed_event_is_posted_once_signed_and_logged(app, loopback_receivers):
    with WebhookReceiver() as receiver:
        add_webhook(receiver.url)
        publish()
        assert worker.run_once().sent == 1
        assert worker.run_once().sent == 0  # nothing left: never sent twice
    [call] = receiver.received
    expected = "sha256=" + hmac.new(SECRET.encode(), call.body, hashlib.sha256).hexdigest()
    assert call.headers["X-AssetFlow-Signature"] == expected
    envelope = json.loads(call.body)
    message = db.session.scalar(sa.select(OutboxMessage))
    assert call.headers["X-AssetFlow-Delivery"] == envelope["id"] == message.message_id
    assert envelope["event"] == "request.decided" and envelope["data"] == {"request_id": 7, "status": "approved"}
    assert message.state == "sent" and message.attempts == 1
    [attempt] = db.session.scalars(sa.select(WebhookAttempt)).all()
    assert attempt.status_code == 200 and attempt.duration_ms >= 0


def test_a_rolled_back_transaction_sends_nothing(app, loopback_receivers):
    with WebhookReceiver() as receiver:
        add_webhook(receiver.url)
        webhooks.enqueue("request.decided", {"request_id": 1})
        db.session.rollback()
        assert worker.run_once().sent == 0
    assert receiver.received == []


def test_unsubscribed_events_and_inactive_hooks_get_nothing(app, loopback_receivers):
    with WebhookReceiver() as receiver:
        add_webhook(receiver.url, events=["request.submitted"])
        add_webhook(receiver.url).active = False
        db.session.commit()
        publish("request.decided")
        assert worker.run_once().sent == 0
    assert receiver.received == []


def test_three_failures_then_success_posts_four_times_with_one_delivery_id(app, loopback_receivers):
    app.config["DELIVERY_RETRY_SECONDS"] = 10
    with WebhookReceiver([500, 502, 503]) as receiver:
        add_webhook(receiver.url)
        publish()
        assert worker.run_once().retried == 1
        assert worker.run_once().retried == 0  # the backoff holds it back
        # 10 s, then 20 s, then 40 s: each retry waits twice the one before.
        assert worker.run_once(later(11)).retried == 1
        assert worker.run_once(later(11 + 19)).retried == 0
        assert worker.run_once(later(11 + 21)).retried == 1
        assert worker.run_once(later(200)).sent == 1
    assert len(receiver.received) == 4
    assert len({call.headers["X-AssetFlow-Delivery"] for call in receiver.received}) == 1
    assert len({call.body for call in receiver.received}) == 1  # the same signed bytes every time
    log = db.session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.attempt, a.status_code) for a in log] == [(1, 500), (2, 502), (3, 503), (4, 200)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_url_is_retried_then_given_up_with_the_failure_visible(app, loopback_receivers):
    port = closed_port()
    add_webhook(f"http://127.0.0.1:{port}/hook")
    publish()
    assert worker.run_once().retried == 1
    message = db.session.scalar(sa.select(OutboxMessage))
    # A short text, not the library's: no address, no port, no "Connection refused" that tells open from closed.
    assert message.state == "pending" and message.last_error == "could not connect"
    message.created_at = utcnow() - timedelta(hours=24, minutes=1)  # a day of retries later
    db.session.commit()
    assert worker.run_once(later(7200)).failed == 1
    db.session.expire_all()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.state == "failed" and message.finished_at is not None and message.last_error == "could not connect"
    attempt = db.session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id.desc())).first()
    assert attempt.status_code is None and attempt.error == "could not connect" and str(port) not in attempt.error


def test_a_claim_holds_a_lease_and_only_its_attempt_may_mark_the_row(app, loopback_receivers):
    with WebhookReceiver() as receiver:
        add_webhook(receiver.url)
        publish()
        lease = timedelta(seconds=60)
        [first] = worker.claim(utcnow(), 10, lease)
        first_attempt = first.attempts
        assert worker.claim(utcnow(), 10, lease) == []  # leased: no second worker gets it
        # The first worker "crashed" after sending; once the lease ends another claims it again.
        [second] = worker.claim(later(61), 10, lease)
        assert (first.id, first_attempt, second.attempts) == (second.id, 1, 2)
        stale = OutboxMessage(id=first.id, attempts=first_attempt)
        assert worker._finish(stale, state="sent") is False  # the late first worker cannot mark it
        tally = worker.Pass()
        worker.deliver(second, tally)
        assert tally.sent == 1
    assert len(receiver.received) == 1


@pytest.mark.timeout(60)
def test_two_workers_never_claim_the_same_message(shared_app):
    """Two claims at once, each in its own connection (PostgreSQL: SKIP LOCKED; SQLite: the re-check)."""
    import threading

    add_webhook("http://127.0.0.1:9/unused")
    for number in range(40):
        webhooks.enqueue("request.decided", {"n": number})
    db.session.commit()
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def claim_all(index: int) -> None:
        with shared_app.app_context():
            barrier.wait()
            while batch := worker.claim(utcnow(), 3, timedelta(seconds=60)):
                claimed[index] += [message.id for message in batch]
            db.session.remove()

    threads = [threading.Thread(target=claim_all, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(claimed[0] + claimed[1]) == sorted(set(claimed[0] + claimed[1]))
    assert len(claimed[0]) + len(claimed[1]) == 40


def test_the_documented_node_check_accepts_our_signature_and_refuses_a_tampered_body(app, loopback_receivers, node_client,
                                                                                   tmp_path):
    """docs/channels.md's Node snippet, run by node against a body the worker really sent."""
    import subprocess
    from pathlib import Path

    with WebhookReceiver() as receiver:
        add_webhook(receiver.url)
        publish(data={"request_id": 7, "comment": "größer 大"})
        worker.run_once()
    [call] = receiver.received
    script = Path(__file__).parent / "node" / "verify_signature.mjs"

    def node_says(body: bytes) -> str:
        path = tmp_path / "body.json"
        path.write_bytes(body)
        args = [node_client, str(script), str(path), call.headers["X-AssetFlow-Signature"], SECRET]
        return subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout.strip()

    assert node_says(call.body) == "true"
    assert node_says(call.body.replace(b"7", b"8")) == "false"
