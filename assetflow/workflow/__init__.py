"""The approval workflow: a state machine declared as data, with no database access."""

from .machine import ACTIONS, Actor, Approval, allowed_actions, fire

__all__ = ["ACTIONS", "Actor", "Approval", "allowed_actions", "fire"]
