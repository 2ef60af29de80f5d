"""Flask-JWT-Extended's manager, verifying each access token once instead of on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cachetools import TLRUCache
from flask import Flask, current_app
from flask_jwt_extended import JWTManager, view_decorators

# Verified tokens a process remembers, the most recently used: ~1.8 KB each (claims and token), so
# ~2 MB at most. Every socket's connect verifies a token too; remembering all of them would add
# ~1.8 KB to each of 10,000 sockets, for tokens mostly used once.
REMEMBERED = 1024
CACHE = "assetflow_verified_tokens"  # app.extensions key: one cache per app (and secret)


class VerifyOnceJWTManager(JWTManager):
    """Flask-JWT-Extended parses a token four times and checks its HMAC on every request, about a
    thousand Python calls; a browser tab sends the same token with each request until it expires.

    This manager remembers the claims of each exact token string it verified, until the token's
    `exp`. A string it has not verified (another signature, a forged payload) is verified in full;
    an expired one is decoded afresh and refused as before; revocation and the user are still
    checked on every request (auth.tokens.token_revoked). The override is of a private method:
    requirements.txt keeps Flask-JWT-Extended to the 4.x releases it was read against.

    A token of another kind — an API token, `af_…` — is not a JWT: the loader given to
    `other_tokens_loader` recognises it and reads its claims (auth/api_tokens.py, from the database
    on every call); they are never remembered.
    """

    _other: tuple[Callable[[str], bool], Callable[[str], dict]] | None = None

    def other_tokens_loader(self, recognise: Callable[[str], bool], read: Callable[[str], dict]) -> None:
        """Let `@jwt_required()` accept tokens that `recognise` knows, with the claims `read` gives (or raises
        jwt.InvalidTokenError for)."""
        self._other = (recognise, read)

    def is_other(self, encoded_token: str) -> bool:
        return self._other is not None and self._other[0](encoded_token)

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        super().init_app(app, add_context_processor)
        app.extensions[CACHE] = (TLRUCache(REMEMBERED, _until_exp, timer=time.time), threading.Lock())

    def _decode_jwt_from_config(self, encoded_token: str, csrf_value=None, allow_expired: bool = False) -> dict:
        if self.is_other(encoded_token):
            return self._other[1](encoded_token)
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        verified, lock = current_app.extensions[CACHE]
        with lock:
            claims = verified.get(encoded_token)
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token)
            if "exp" in claims:  # tokens without one are never issued here: verify them every time
                with lock:
                    verified[encoded_token] = claims
        return dict(claims)  # the caller's own copy


# After decoding a token, jwt_required reads its JOSE header, which a token of another kind has none of.
# Read against Flask-JWT-Extended 4.7 (view_decorators imports the function by name); a JWT is read as before.
_jose_header = view_decorators.get_unverified_jwt_headers


def _header_of(encoded_token: str) -> dict:
    manager = current_app.extensions["flask-jwt-extended"]
    return {"typ": "other"} if manager.is_other(encoded_token) else _jose_header(encoded_token)


view_decorators.get_unverified_jwt_headers = _header_of


def _until_exp(token: str, claims: dict, now: float) -> float:
    return claims["exp"]
