"""The e-mail channel: a notification still unread after EMAIL_DELAY_SECONDS is e-mailed, in the
user's language, at once or gathered into a digest; an approver's e-mail carries one-click links.

The outbox row is written with the notification; at send time the worker looks again, so someone
who read it in the browser meanwhile gets no e-mail (Novu and Knock call this a delayed fallback).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from flask import current_app, render_template

from ..events import RequestChange
from ..extensions import db
from ..models import Notification, OutboxMessage, Request, User
from ..models.base import utcnow
from ..services import email_links, routing
from ..services.notify import InboxRows
from ..services.transaction import committing
from .worker import DeliveryFailed, NothingToSend

CHANNEL = "email"
SMTP_TIMEOUT_SECONDS = 10

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello {name},", "open": "Open in AssetFlow", "approve": "Approve", "reject": "Reject",
        "footer": "You get these e-mails for notifications you have not read in AssetFlow. Change how:",
        "digest": "[AssetFlow] {count} updates waiting for you",
        "request": "Request #{id} ({kind}{tag})",
        "approval_update": "{request}: {status} — {actor}",
        "approval_reminder": "Reminder: {request} is waiting for a decision",
        "request_comment": "{actor} commented on {request}",
        "request_comments": "{count} comments on {request}, the latest by {actor}",
        "your_turn": "It waits for your decision (step {step} of {steps_total}).",
        "status_line": "Status: {status}, step {step} of {steps_total}.",
    },
    "zh-CN": {
        "greeting": "{name}，您好：", "open": "在 AssetFlow 中打开", "approve": "批准", "reject": "驳回",
        "footer": "您在 AssetFlow 中未读的通知会通过邮件发送给您。修改设置：",
        "digest": "[AssetFlow] 您有 {count} 条待处理的更新",
        "request": "申请 #{id}（{kind}{tag}）",
        "approval_update": "{request}：{status} — {actor}",
        "approval_reminder": "提醒：{request} 正在等待审批",
        "request_comment": "{actor} 评论了 {request}",
        "request_comments": "{request} 有 {count} 条评论，最新一条来自 {actor}",
        "your_turn": "等待您审批（第 {step} / {steps_total} 步）。",
        "status_line": "状态：{status}，第 {step} / {steps_total} 步。",
    },
}
STATUS = {
    "en": {"pending": "pending", "returned": "returned for changes", "approved": "approved", "rejected": "rejected",
           "withdrawn": "withdrawn"},
    "zh-CN": {"pending": "待审批", "returned": "已退回修改", "approved": "已批准", "rejected": "已驳回",
              "withdrawn": "已撤回"},
}


def request_changed(change: RequestChange, rows: InboxRows) -> None:
    """An e-mail row for each notification the inbox just added (a folded comment's row was e-mailed already)."""
    enqueue_for(rows.added)


def enqueue_for(notifications: Iterable[Notification]) -> int:
    """Add an e-mail outbox row for each notification whose user wants e-mail, in the caller's transaction."""
    if not current_app.config["MAIL_URL"]:
        return 0
    rows = list(notifications)
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_({n.user_id for n in rows})))}
    delay = timedelta(seconds=current_app.config["EMAIL_DELAY_SECONDS"])
    now, messages = utcnow(), []
    for note in rows:
        user = users.get(note.user_id)
        if user is None or user.email_mode == "off" or not user.email:
            continue
        wait = timedelta(minutes=user.digest_minutes) if user.email_mode == "digest" else delay
        messages.append(OutboxMessage(channel=CHANNEL, target_id=user.id, event=note.type, due_at=now + wait,
                                      payload={"notification_id": note.id, "mode": user.email_mode}))
    db.session.add_all(messages)
    return len(messages)


def send(message: OutboxMessage) -> None:
    """Send the message's notification, or, for a digest, every unread one gathered for the user."""
    user = db.session.get(User, message.target_id)
    if user is None or not user.active or user.email_mode == "off" or not user.email:
        raise NothingToSend("the user wants no e-mail any more")
    ids = [message.payload["notification_id"]]
    if message.payload.get("mode") == "digest":
        ids += _gather_digest(message)
    notes = list(db.session.scalars(
        sa.select(Notification).where(Notification.id.in_(ids), Notification.read_at.is_(None))
        .order_by(Notification.seq)))
    if not notes:
        raise NothingToSend("read in the app before the e-mail was due")
    _deliver(compose(user, notes, message.message_id))


def _gather_digest(message: OutboxMessage) -> list[int]:
    """Take over the user's other waiting digest rows, so one e-mail carries them: those no worker
    holds, and those this worker claimed in the same batch (same lease)."""
    now = utcnow()
    with committing():
        taken = db.session.scalars(
            sa.update(OutboxMessage)
            .where(OutboxMessage.channel == CHANNEL, OutboxMessage.target_id == message.target_id,
                   OutboxMessage.state == "pending", OutboxMessage.id != message.id,
                   sa.or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= now,
                          OutboxMessage.lease_until == message.lease_until))
            .values(state="sent", finished_at=now, last_error=f"in digest {message.message_id}")
            .returning(OutboxMessage.payload),
            execution_options={"synchronize_session": False},
        ).all()
    return [payload["notification_id"] for payload in taken if payload.get("mode") == "digest"]


def compose(user: User, notes: list[Notification], message_id: str) -> EmailMessage:
    """The e-mail for these notifications, in the user's language, text and HTML."""
    language = user.language if user.language in TEXT else "en"
    t = TEXT[language]
    items = [_item(user, note, t, language) for note in notes]
    subject = items[0]["headline"] if len(items) == 1 else t["digest"].format(count=len(items))
    context = {"t": t, "user": user, "items": items, "language": language,
               "preferences_url": f"{public_url()}/preferences"}
    mail = EmailMessage()
    mail["Subject"] = f"[AssetFlow] {subject}" if len(items) == 1 else subject
    mail["From"] = current_app.config["MAIL_FROM"]
    mail["To"] = user.email
    # The outbox id, so a resend after a crash is recognisably the same e-mail.
    mail["Message-ID"] = make_msgid(idstring=message_id.replace("-", ""), domain="assetflow")
    mail["X-AssetFlow-Delivery"] = message_id
    mail.set_content(render_template("email/message.txt", **context))
    mail.add_alternative(render_template("email/message.html", **context), subtype="html")
    return mail


def _item(user: User, note: Notification, t: dict[str, str], language: str) -> dict[str, Any]:
    data = note.payload
    tag = f" {data['asset_tag']}" if data.get("asset_tag") else ""
    request = t["request"].format(id=data["request_id"], kind=data.get("kind", ""), tag=tag)
    status = STATUS[language].get(data.get("status", ""), data.get("status", ""))
    actor = (data.get("actor") or {}).get("name", "")
    # A comment notification may stand for several (assetflow/services/notify.py folds a burst into one).
    key = "request_comments" if data.get("count", 1) > 1 else note.type
    headline = t.get(key, t["approval_update"]).format(request=request, status=status, actor=actor,
                                                       count=data.get("count", 1))
    item = {"headline": headline, "comment": data.get("comment") or data.get("body") or "",
            "url": f"{public_url()}/requests/{data['request_id']}", "approve_url": None, "reject_url": None}
    req = db.session.get(Request, data["request_id"])
    steps = {"step": getattr(req, "step", 0), "steps_total": getattr(req, "steps_total", 0)}
    if req is not None and user.id in routing.may_decide_now(req):
        item["detail"] = t["your_turn"].format(**steps)
        item["approve_url"] = _action_url(email_links.sign(user.id, req, "approve"))
        item["reject_url"] = _action_url(email_links.sign(user.id, req, "reject"))
    else:
        now = STATUS[language].get(getattr(req, "state", ""), "")
        item["detail"] = t["status_line"].format(status=now, **steps)
    return item


def _action_url(token: str) -> str:
    # The SPA's confirmation page: a GET never changes anything.
    return f"{public_url()}/email-action?token={token}"


def public_url() -> str:
    """Where people open the app: PUBLIC_URL, else this server's own address."""
    config = current_app.config
    return config["PUBLIC_URL"] or f"http://{config['HOST']}:{config['PORT']}"


def _deliver(mail: EmailMessage) -> None:
    """Hand the e-mail to the SMTP server of MAIL_URL; a refusal or an outage is retried."""
    url = urlsplit(current_app.config["MAIL_URL"])
    options = parse_qs(url.query)
    timeout = SMTP_TIMEOUT_SECONDS
    try:
        client = (smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=timeout) if url.scheme == "smtps"
                  else smtplib.SMTP(url.hostname, url.port or 25, timeout=timeout))
        with client:
            if options.get("starttls") == ["1"]:
                client.starttls(context=ssl.create_default_context())
            if url.username:
                client.login(url.username, url.password or "")
            client.send_message(mail)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
