"""A burst of comments on one request reaches each recipient as one unread notification and one e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from assetflow.delivery import worker
from assetflow.extensions import db
from assetflow.models import Notification, OutboxMessage, Webhook
from assetflow.models.base import utcnow

from .actions import approve, comment, submit
from .conftest import Auth
from .factories import make_user
from .receivers import MailReceiver
from .test_realtime import connect

BURST = 20


def inbox(user_id: int) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.seq)))


def unread_count(client, headers) -> int:
    return client.get("/api/notifications/unread-count", headers=headers).get_json()["count"]


@pytest.fixture
def mail(app):
    with MailReceiver() as receiver:
        app.config.update(MAIL_URL=receiver.url, EMAIL_DELAY_SECONDS=120, PUBLIC_URL="https://assets.example.com")
        yield receiver


def test_a_burst_of_comments_is_one_unread_notification_and_one_email(client, people, mail):
    alice, bob = people["alice"], people["bob"].user
    bob_headers = people["bob"].headers
    hook = Webhook(url="https://hooks.example.com/x", events=["request.commented"], secret="s" * 20,
                   created_by_id=people["admin"].user.id)
    db.session.add(hook)
    db.session.commit()
    req = submit(client, alice)
    before = unread_count(client, bob_headers)
    emails_before = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.target_id == bob.id))

    for n in range(BURST):
        comment(client, alice, req["id"], f"ping {n}")

    assert unread_count(client, bob_headers) == before + 1
    [note] = [n for n in inbox(bob.id) if n.type == "request_comment"]
    assert note.payload["count"] == BURST and note.payload["body"] == f"ping {BURST - 1}"
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.target_id == bob.id)) == emails_before + 1

    # The admin's own integration still hears of every comment (docs/channels.md).
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.channel == "webhook")) == BURST
    db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.channel == "webhook"))
    db.session.commit()

    worker.run_once(utcnow() + timedelta(seconds=121))
    mails = mail.to(bob.email)
    assert len(mails) == 2  # the submit's notification and the burst's one, each once
    [burst] = [m for m in mails if "comments" in m["Subject"]]
    assert f"{BURST} comments on Request #{req['id']}" in burst["Subject"]
    assert f"ping {BURST - 1}" in burst.get_body(("plain",)).get_content()


def test_a_comment_after_the_notification_was_read_is_a_new_one(client, people):
    alice, bob = people["alice"], people["bob"].user
    bob_headers = people["bob"].headers
    req = submit(client, alice)
    comment(client, alice, req["id"], "first")
    comment(client, alice, req["id"], "second")
    [first] = [n for n in inbox(bob.id) if n.type == "request_comment"]
    assert client.post(f"/api/notifications/{first.id}/read", headers=bob_headers).status_code == 200

    comment(client, alice, req["id"], "third")
    comments = [n for n in inbox(bob.id) if n.type == "request_comment"]
    assert [(n.payload["body"], n.payload["count"], n.read_at is None) for n in comments] == [
        ("second", 2, False), ("third", 1, True)]
    assert comments[1].seq > comments[0].seq
    # Comments on another request are their own notification.
    other = submit(client, alice)
    comment(client, alice, other["id"], "elsewhere")
    assert unread_count(client, bob_headers) == sum(1 for n in inbox(bob.id) if n.read_at is None)
    assert len([n for n in inbox(bob.id) if n.type == "request_comment" and n.read_at is None]) == 2


def test_the_coalesced_notification_still_arrives_live_with_the_same_seq(app, client, people):
    alice, bob = people["alice"], people["bob"].user
    req = submit(client, alice)
    socket = connect(app, people["bob"].token)
    socket.get_received()

    for n in range(3):
        comment(client, alice, req["id"], f"ping {n}")
    pushed = [m["args"][0] for m in socket.get_received() if m["name"] == "request_comment"]
    assert [(p["body"], p["count"]) for p in pushed] == [("ping 0", 1), ("ping 1", 2), ("ping 2", 3)]
    # One row, one seq: each push is a newer version of the same notification, not a new seq.
    assert len({(p["notification_id"], p["seq"]) for p in pushed}) == 1

    # The seq stream has no gap: Bob's next notification takes the next seq, and a replay finds the latest version.
    seq = pushed[0]["seq"]
    approve(client, people["bob"], req["id"])
    assert [n.seq for n in inbox(bob.id)] == list(range(1, len(inbox(bob.id)) + 1))
    replayed = connect(app, people["bob"].token, last_seq=seq - 1)
    [again] = [m["args"][0] for m in replayed.get_received() if m["name"] == "request_comment"]
    assert (again["seq"], again["count"], again["body"], again["replayed"]) == (seq, 3, "ping 2", True)


def test_comments_coalesce_on_both_databases(shared_app):
    client = shared_app.test_client()
    auth = Auth(client)
    alice, bob = make_user("employee"), make_user("approver")
    applicant = auth.person(alice)
    req = submit(client, applicant)
    for n in range(3):
        comment(client, applicant, req["id"], f"ping {n}")
    [note] = [n for n in inbox(bob.id) if n.type == "request_comment"]
    assert (note.payload["count"], note.payload["body"]) == (3, "ping 2")
