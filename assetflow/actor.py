"""Who is acting: built once where the caller is authenticated, then passed to every service explicitly.

The API builds it from the token's query (auth/tokens.py), a one-click e-mail link and the CLI from
the user they name (auth/tokens.actor_for). Services read whom the actor may act for from
here, never from Flask's request or `g`; the workflow's guards read the same value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import User  # only for the type: models import nothing from here


@dataclass(frozen=True)
class Actor:
    """The person acting, and whom they may decide for now: themselves and each delegator with an active
    delegation to them. `user` is the loaded row, for the services that write it or relate to it."""

    id: int
    active: bool = True
    principals: frozenset[int] = frozenset()
    role: str = "employee"
    user: User | None = field(default=None, compare=False, repr=False)
    # Set when the call is made with an API token (auth/api_tokens.py): what the token may do, within the role.
    scopes: frozenset[str] | None = None
    token_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "principals", frozenset(self.principals) | {self.id})

    @classmethod
    def of(cls, user: User, delegators: Iterable[int] = (), scopes: frozenset[str] | None = None,
           token_id: int | None = None) -> Actor:
        """The actor for a loaded user who stands in for `delegators` (through an API token with `scopes`)."""
        return cls(user.id, user.active, frozenset(delegators), user.role, user, scopes, token_id)

    @property
    def display_name(self) -> str:
        return self.user.display_name if self.user is not None else str(self.id)
