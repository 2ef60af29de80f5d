"""The e-mail channel against a real SMTP server: delayed fallback, preferences, digest, one-click links."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from assetflow.delivery import worker
from assetflow.extensions import db
from assetflow.models import OutboxMessage
from assetflow.models.base import utcnow

from .actions import assert_refused, submit
from .receivers import MailReceiver


@pytest.fixture
def mail(app):
    with MailReceiver() as receiver:
        app.config.update(MAIL_URL=receiver.url, EMAIL_DELAY_SECONDS=120, PUBLIC_URL="https://assets.example.com")
        yield receiver


def email_rows() -> int:
    """E-mail outbox rows written so far (the e-mail subscriber writes them with each change)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.channel == "email"))


def after(seconds: float):
    return utcnow() + timedelta(seconds=seconds)


def test_an_unread_notification_is_emailed_once_after_the_delay(client, people, mail):
    req = submit(client, people["alice"])
    assert email_rows() == 2  # Bob and Carol may decide it; Alice acted and is not notified
    assert worker.run_once().sent == 0  # not before EMAIL_DELAY_SECONDS
    assert worker.run_once(after(121)).sent == 2
    assert worker.run_once(after(500)).sent == 0
    [to_bob] = mail.to(people["bob"].user.email)
    assert len(mail.to(people["carol"].user.email)) == 1 and mail.to(people["alice"].user.email) == []
    assert f"#{req['id']}" in to_bob["Subject"]
    text = to_bob.get_body(("plain",)).get_content()
    assert f"https://assets.example.com/requests/{req['id']}" in text
    assert "https://assets.example.com/email-action?token=" in text  # Bob may decide: one-click links
    assert to_bob["X-AssetFlow-Delivery"] == db.session.scalars(
        sa.select(OutboxMessage.message_id).where(OutboxMessage.target_id == people["bob"].user.id)).one()


def test_a_notification_read_in_the_browser_is_not_emailed(client, people, mail):
    submit(client, people["alice"])
    bob = people["bob"].user
    assert client.post("/api/notifications/read-all", headers=people["bob"].headers).status_code == 200
    tally = worker.run_once(after(121))
    assert (tally.sent, tally.skipped) == (1, 1)
    assert mail.to(bob.email) == [] and len(mail.to(people["carol"].user.email)) == 1


def test_preferences_off_and_language(client, people, mail):
    bob_h, carol_h = people["bob"].headers, people["carol"].headers
    assert client.put("/api/me/preferences", headers=bob_h, json={"email": "off"}).status_code == 200
    response = client.put("/api/me/preferences", headers=carol_h, json={"email": "instant", "language": "zh-CN"})
    assert response.get_json() == {"email": "instant", "digest_minutes": 60, "language": "zh-CN"}
    submit(client, people["alice"])
    assert email_rows() == 1
    worker.run_once(after(121))
    assert mail.to(people["bob"].user.email) == []
    [to_carol] = mail.to(people["carol"].user.email)
    assert "等待您审批" in to_carol.get_body(("plain",)).get_content()


@pytest.mark.parametrize("body", [{"email": "sometimes"}, {"email": "digest", "digest_minutes": 5},
                                  {"email": "instant", "language": "fr"}, {}, {"email": "off", "digest_minutes": "60"}])
def test_bad_preferences_are_422_and_change_nothing(client, people, body):
    bob_h = people["bob"].headers
    response = client.put("/api/me/preferences", headers=bob_h, json=body)
    assert_refused(response, 422, "validation_error")
    assert client.get("/api/me/preferences", headers=bob_h).get_json()["email"] == "instant"


def test_a_digest_gathers_what_waited_into_one_email(client, people, mail):
    bob = people["bob"].user
    client.put("/api/me/preferences", headers=people["bob"].headers, json={"email": "digest", "digest_minutes": 30})
    for _ in range(3):
        submit(client, people["alice"])
    assert worker.run_once(after(121)).sent == 3  # Carol (instant) gets her three
    assert mail.to(bob.email) == []
    worker.run_once(after(31 * 60))
    [digest] = mail.to(bob.email)
    assert "3" in digest["Subject"] and digest.get_body(("plain",)).get_content().count("* ") == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.state == "pending")) == 0


def test_no_mail_url_no_rows(app, client, people):
    app.config["MAIL_URL"] = ""
    submit(client, people["alice"])
    assert email_rows() == 0
