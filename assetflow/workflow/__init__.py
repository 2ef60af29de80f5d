"""The approval workflow: a state machine declared as data, with no database access."""

from .actions import IMPLIES, Action, Implies
from .machine import ACTIONS, STATES, Actor, Approval, Outcome, allowed_actions, fire

__all__ = ["ACTIONS", "IMPLIES", "STATES", "Action", "Actor", "Approval", "Implies", "Outcome", "allowed_actions",
           "fire"]
