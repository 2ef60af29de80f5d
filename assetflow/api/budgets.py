"""Write budgets: how many writes of a kind one user may make, so nobody can flood the others.

Each write route carries one `@write_budget("<budget>")` line, under `@jwt_required()` so that the
user is known. The routes of a budget share one counter per user — per token when the call is made with
an API token, so an integration cannot spend its owner's budget — kept in RATELIMIT_STORAGE_URI
(Redis in a deployment of several processes, so they share it too); over it, the write is refused
before its body is read: 429 `rate_limited` with `Retry-After` and `details.budget`. The budgets,
their defaults and settings are listed in config.py (WRITE_BUDGETS) and docs/deploy.md. The line
also declares the scope an API token needs for the route (auth/scopes.py, WRITE_SCOPES).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_jwt_extended import get_jwt, get_jwt_identity
from flask_limiter.util import get_remote_address

from config import WRITE_BUDGETS

from ..auth.scopes import WRITE_SCOPES, token_scope
from ..ratelimits import spend
from ..services import email_links
from .base import ApiBlueprint

# Only to document the 429 on each budgeted operation; never registered.
_doc = ApiBlueprint("write_budgets", __name__)


def by_user() -> str:
    """The limiter key of the caller: the user id, never the address (an office shares one); an API token's id
    when the call is made with one."""
    token_id = get_jwt().get("api_token")
    return f"token:{token_id}" if token_id is not None else f"user:{get_jwt_identity()}"


def by_link_signer() -> str:
    """The limiter key of an e-mail link's user, so a confirm spends the same budget as the app's buttons.

    A token that is not ours is counted by the client's address: it changes nothing, but is still work.
    """
    body = request.get_json(silent=True)
    user_id = email_links.signer_of(body.get("token") if isinstance(body, dict) else None)
    return f"user:{user_id}" if user_id is not None else f"address:{get_remote_address()}"


def write_budget(budget: str, key: Callable[[], str] = by_user) -> Callable[[Any], Any]:
    """Count each call of the view against the caller's `budget`; past it, 429 with Retry-After.

    `uploads` is ready for the attachment endpoints: `@write_budget("uploads")` under their `@jwt_required()`.
    """
    if budget not in WRITE_BUDGETS:
        raise KeyError(f"no write budget {budget!r}; the budgets are config.WRITE_BUDGETS")
    scope, refusal = f"budget:{budget}", f"Too many {budget} for now"
    documented = _doc.alt_response(429, response="TOO_MANY_REQUESTS")
    scoped = token_scope(WRITE_SCOPES[budget])

    def decorator(view):
        @wraps(view)
        def spending(*args, **kwargs):
            spend(current_app.config["WRITE_BUDGETS"][budget], key(), scope, refusal)
            return view(*args, **kwargs)
        return scoped(documented(spending))
    return decorator
