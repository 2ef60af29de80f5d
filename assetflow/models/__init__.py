"""The persistent nouns; one module each."""

from .asset import Asset
from .asset_event import AssetEvent
from .notification import Notification
from .request import Decision, Request, RequestEvent
from .token import RevokedToken
from .user import User

__all__ = ["Asset", "AssetEvent", "Decision", "Notification", "Request", "RequestEvent", "RevokedToken", "User"]
