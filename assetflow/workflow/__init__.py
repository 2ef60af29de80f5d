"""The approval workflow: a state machine declared as data, with no database access."""

from .chain import approval_chain
from .machine import ACTIONS, Actor, Approval, allowed_actions, fire

__all__ = ["ACTIONS", "Actor", "Approval", "allowed_actions", "approval_chain", "fire"]
