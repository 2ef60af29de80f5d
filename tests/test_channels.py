"""The channels of a request change take what they need as arguments: the inbox returns its rows,
the e-mail and the push are handed them; nothing rides on the event for a later channel to read."""

import dataclasses

import pytest
import sqlalchemy as sa

from assetflow.auth.tokens import actor_for
from assetflow.delivery import email
from assetflow.events import Action, RequestChange
from assetflow.extensions import db
from assetflow.models import Notification, OutboxMessage, RequestEvent
from assetflow.services import notify, requests

from .factories import make_asset, make_user


@pytest.fixture
def pending(app):
    """A pending request of an employee, an approver who may decide it, and e-mail switched on."""
    app.config["MAIL_URL"] = "smtp://127.0.0.1:1"  # never reached: the tests only look at the outbox rows
    applicant, approver = make_user("employee"), make_user("approver")
    req = requests.submit(actor_for(applicant), {"kind": "assign", "asset_id": make_asset().id, "reason": "r"})
    return req, applicant, approver


def comment_change(req, author, body: str) -> RequestChange:
    event = RequestEvent(request_id=req.id, actor_id=author.id, action="comment", from_state=req.state,
                         to_state=req.state, step=req.step, comment=body)
    db.session.add(event)
    db.session.flush()
    return RequestChange(Action.COMMENT, req, author, [req.applicant_id], body, extra={"comment": event})


def emails() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.channel == "email")) or 0


def test_a_request_change_has_no_field_a_channel_fills_in(pending):
    req, _, approver = pending
    change = RequestChange("approve", req, approver, [req.applicant_id])
    assert change.action is Action.APPROVE  # a wire name becomes the action it names
    assert not {"notifications", "updated"} & {f.name for f in dataclasses.fields(change)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.comment = "changed by a channel"


def test_the_inbox_returns_its_rows_and_the_email_sends_only_new_ones(pending):
    req, applicant, approver = pending
    before = emails()
    first = comment_change(req, approver, "one")
    rows = notify.record(first)
    assert ([r.user_id for r in rows.added], rows.updated) == ([applicant.id], [])
    email.request_changed(first, rows)
    assert emails() == before + 1

    second = comment_change(req, approver, "two")
    folded = notify.record(second)  # the applicant has not read the first: it is updated, not added
    assert (folded.added, [r.id for r in folded.updated]) == ([], [rows.added[0].id])
    assert folded.pushed == folded.updated and folded.updated[0].payload["count"] == 2
    email.request_changed(second, folded)
    assert emails() == before + 1  # a folded comment is never e-mailed again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == applicant.id, Notification.type == "request_comment")) == 1


def test_an_action_with_no_inbox_type_writes_no_row(pending):
    req, _, approver = pending
    before = notify.last_seq(approver.id)
    rows = notify.record(RequestChange(Action.REQUALIFY, req, None, [approver.id]))
    assert (rows.added, rows.updated, notify.last_seq(approver.id)) == ([], [], before)
