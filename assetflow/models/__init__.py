"""The persistent nouns; one module each."""

from .api_token import ApiToken
from .asset import Asset
from .asset_event import AssetEvent
from .attachment import Attachment, AttachmentContent
from .delegation import Delegation
from .department import ROOT_DEPARTMENT_ID, Department
from .identity import SpentSignInValue, UserIdentity
from .notification import Notification
from .outbox import OutboxMessage, UsedLink
from .report_indexes import REPORT_INDEXES  # noqa: F401 (the reports' indexes join their tables' metadata)
from .request import Decision, Request, RequestEvent, RequestStep, StepDecider
from .rule import ApprovalRule, ApprovalRuleChange
from .token import RevokedToken
from .user import User
from .webhook import Webhook, WebhookAttempt

__all__ = [
    "ROOT_DEPARTMENT_ID", "ApiToken", "ApprovalRule", "ApprovalRuleChange", "Asset", "AssetEvent", "Attachment",
    "AttachmentContent", "Decision", "Delegation",
    "Department", "Notification", "OutboxMessage", "Request", "RequestEvent", "RequestStep", "RevokedToken",
    "SpentSignInValue", "StepDecider", "UsedLink", "User", "UserIdentity", "Webhook", "WebhookAttempt",
]
