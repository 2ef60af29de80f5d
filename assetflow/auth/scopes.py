"""What an API token may do: its scopes, which of them each role may hand out, and which a route needs.

A call made with a person's own login (a JWT) is limited by their role alone. A call made with an
API token is limited by the role of its owner *and* by the token's scopes:

- a read (GET, HEAD, OPTIONS) needs any scope: every token may read what its owner may read, and
  `read` alone makes a token that writes nothing;
- a write needs the scope its route declares. Every write route spends a write budget
  (api/budgets.py), and `WRITE_SCOPES` says which scope each budget needs; a route that spends
  none may declare one with `@token_scope(...)`. A write route that declares no scope is closed to
  tokens (403 `insufficient_scope`): the default is refusal, so a new route is never opened to
  integrations by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from config import WRITE_BUDGETS

from ..models.api_token import SCOPES

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ = "read"

# The scopes a token of each role may hold; a token never holds more than its owner's role allows.
# Only admins write assets (api/assets.py) or administer anything.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "employee": frozenset({"read", "requests:write"}),
    "approver": frozenset({"read", "requests:write"}),
    "admin": frozenset(SCOPES),
}

# The scope a token needs to spend each write budget; None: only a person signed in may (their own
# preferences, and the tokens themselves: a token never makes or revokes tokens).
WRITE_SCOPES: dict[str, str | None] = {
    "comments": "requests:write",
    "submits": "requests:write",
    "decisions": "requests:write",
    "uploads": "requests:write",
    "delegations": "requests:write",
    "notifications": "requests:write",
    "assets": "assets:write",
    "rules": "admin",
    "users": "admin",
    "departments": "admin",
    "webhooks": "admin",
    "imports": "admin",
    "simulations": READ,  # writes nothing: a read in all but its method
    "preferences": None,
    "tokens": None,
}
assert set(WRITE_SCOPES) == set(WRITE_BUDGETS), "every write budget says which scope spends it"

_ATTRIBUTE = "assetflow_token_scope"  # on a view function; functools.wraps carries it to the outer wrappers


def token_scope(scope: str | None) -> Callable[[Any], Any]:
    """Declare the scope an API token needs to call this write route (None: tokens may not)."""
    if scope is not None and scope not in SCOPES:
        raise KeyError(f"no scope {scope!r}; the scopes are {SCOPES}")

    def decorator(view):
        setattr(view, _ATTRIBUTE, scope)
        return view
    return decorator


def needed_scope(method: str, view: Callable[..., Any] | None) -> str | None:
    """The scope a call of `view` by `method` needs from a token; None when no scope admits it."""
    if method in SAFE_METHODS:
        return READ
    return getattr(view, _ATTRIBUTE, None)


def covers(scopes: Collection[str], needed: str) -> bool:
    """True when a token holding `scopes` may make a call that needs `needed`."""
    return needed == READ or needed in scopes


def beyond_role(scopes: Collection[str], role: str) -> list[str]:
    """The scopes the role may not hold, in the contract's order (empty when it may hold them all)."""
    allowed = ROLE_SCOPES.get(role, frozenset())
    return [scope for scope in SCOPES if scope in scopes and scope not in allowed]
