"""What can happen to a request, and the one table of what each action implies.

An action's value is its wire name: the `action` of a notification, a queue update and a webhook's
body, and the key the SPA's and the e-mails' wording is looked up by. Never rename a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The inbox's notification types (a socket event is named by its row's type).
APPROVAL_UPDATE = "approval_update"
APPROVAL_REMINDER = "approval_reminder"
REQUEST_COMMENT = "request_comment"


class Action(StrEnum):
    """Something that happened to a request; compares equal to its wire name."""

    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    # An approval of a step that is not the last: the request stays pending, one step on.
    ADVANCE = "advance"
    APPROVE = "approve"
    REJECT = "reject"
    # Sent back to the applicant for changes (a comment says which); not a decision of the step.
    RETURN = "return"
    WITHDRAW = "withdraw"
    # The applicant changes a returned request, or a pending one before any decision.
    EDIT = "edit"
    # The applicant sends a returned request back to its deciders.
    RESUME = "resume"
    COMMENT = "comment"
    REMIND = "remind"
    ESCALATE = "escalate"
    # An organisation change gave or took the right to decide a pending step (no inbox row, no webhook).
    REQUALIFY = "requalify"
    # A file added to or removed from a request: its audit trail only (the request page's list shows it).
    ATTACH = "attach"
    DETACH = "detach"


@dataclass(frozen=True)
class Implies:
    """What one action means to every channel."""

    event: str | None  # the domain event webhooks subscribe to; None: not published to them
    notification: str | None  # the inbox row's type; None: nobody's inbox
    metric: str | None  # the `outcome` label of assetflow_decisions_total; None: not counted
    moves_queue: bool  # whether approvers' queues (the dashboards) and the actor's other tabs change
    decision: str | None = None  # the outcome of the Decision row it writes; None: not a decision


IMPLIES: dict[Action, Implies] = {
    Action.SUBMIT: Implies("request.submitted", APPROVAL_UPDATE, "submitted", True),
    Action.RESUBMIT: Implies("request.resubmitted", APPROVAL_UPDATE, "submitted", True),
    Action.ADVANCE: Implies("request.advanced", APPROVAL_UPDATE, "advanced", True, decision="approved"),
    Action.APPROVE: Implies("request.approved", APPROVAL_UPDATE, "approved", True, decision="approved"),
    Action.REJECT: Implies("request.rejected", APPROVAL_UPDATE, "rejected", True, decision="rejected"),
    Action.RETURN: Implies("request.returned", APPROVAL_UPDATE, "returned", True),
    Action.WITHDRAW: Implies("request.withdrawn", APPROVAL_UPDATE, "withdrawn", True),
    # Told to whoever may decide it now (nobody while it is returned: they hear of it when it resumes).
    Action.EDIT: Implies("request.edited", APPROVAL_UPDATE, None, True),
    Action.RESUME: Implies("request.resumed", APPROVAL_UPDATE, "resumed", True),
    Action.COMMENT: Implies("request.commented", REQUEST_COMMENT, None, False),
    Action.REMIND: Implies("request.reminded", APPROVAL_REMINDER, None, False),
    Action.ESCALATE: Implies("request.escalated", APPROVAL_UPDATE, None, True),
    Action.REQUALIFY: Implies(None, None, None, True),
    Action.ATTACH: Implies(None, None, None, False),
    Action.DETACH: Implies(None, None, None, False),
}
# Every event a webhook may subscribe to, in the table's order.
DOMAIN_EVENTS = tuple(i.event for i in IMPLIES.values() if i.event is not None)
