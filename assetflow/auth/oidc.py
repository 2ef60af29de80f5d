"""The OpenID Connect protocol, through Authlib: the authorization URL (code flow, PKCE S256, state,
nonce) and the code's exchange for a checked ID token. What a sign-in does with the claims is
`services/sso.py`'s business; this module only says whether the provider's answer is genuine.

Authlib reads the provider's discovery document (`OIDC_ISSUER/.well-known/openid-configuration`)
once per process and its JWKS when first needed; an ID token signed by a key id it does not know
makes it fetch the JWKS once more (the provider rotated its keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oauth2 import OAuth2Error
from flask import current_app
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)

EXTENSION = "assetflow.oidc"
CLIENT = "sso"
HTTP_TIMEOUT_SECONDS = 10
# Clock skew allowed between us and the provider when checking exp and iat.
LEEWAY_SECONDS = 60


class SignInRefused(Exception):
    """A sign-in that cannot go on; `reason` is the code the login page explains (docs/api.md)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and what the callback must be given back to finish."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def configured() -> bool:
    """Whether single sign-on is set up (OIDC_ISSUER)."""
    return bool(current_app.config["OIDC_ISSUER"])


def _client():
    """This app's Authlib client, made on first use (it caches the discovery document and the JWKS)."""
    oauth = current_app.extensions.get(EXTENSION)
    if oauth is None:
        config = current_app.config
        oauth = current_app.extensions[EXTENSION] = OAuth(current_app)
        oauth.register(
            CLIENT, client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"] or None,
            server_metadata_url=f"{config['OIDC_ISSUER']}/.well-known/openid-configuration",
            client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256",
                           "default_timeout": HTTP_TIMEOUT_SECONDS})
    return oauth.create_client(CLIENT)


def _metadata(client) -> dict[str, Any]:
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused("provider_error", f"discovery failed: {error}") from None
    # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was fetched for.
    if metadata.get("issuer") != current_app.config["OIDC_ISSUER"]:
        raise SignInRefused("provider_error", f"discovery names issuer {metadata.get('issuer')!r}")
    return metadata


def start(redirect_uri: str) -> Started:
    """The provider's authorization URL for a new sign-in, with a fresh state, nonce and PKCE verifier."""
    client = _client()
    _metadata(client)
    made = client.create_authorization_url(redirect_uri)
    return Started(made["url"], made["state"], made["nonce"], made["code_verifier"])


def finish(redirect_uri: str, code: str, nonce: str, code_verifier: str) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and return the ID token's claims once its signature,
    issuer, audience, expiry and nonce are checked; raise SignInRefused saying which failed."""
    client = _client()
    _metadata(client)
    try:
        token = client.fetch_access_token(redirect_uri, code=code, code_verifier=code_verifier)
    except (OAuthError, OAuth2Error, requests.RequestException, ValueError) as error:
        raise SignInRefused("provider_error", f"token request failed: {error}") from None
    if "id_token" not in token:
        raise SignInRefused("token_invalid", "the provider sent no ID token")
    config = current_app.config
    # Authlib checks the audience only through azp; the token must name this client itself.
    options = {"iss": {"essential": True, "value": config["OIDC_ISSUER"]},
               "aud": {"essential": True, "value": config["OIDC_CLIENT_ID"]}}
    try:
        return dict(client.parse_id_token(token, nonce=nonce, claims_options=options, leeway=LEEWAY_SECONDS))
    except JoseError as error:
        raise _refusal(error) from None
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused("provider_error", f"the JWKS could not be read: {error}") from None


def _refusal(error: JoseError) -> SignInRefused:
    """Which check an ID token failed, as the login page's code."""
    if isinstance(error, ExpiredTokenError):
        return SignInRefused("token_expired", str(error))
    if isinstance(error, BadSignatureError | InvalidKeyIdError):
        return SignInRefused("bad_signature", str(error))
    if isinstance(error, ClaimError):
        claim = error.claim
        if claim in ("aud", "azp"):
            return SignInRefused("wrong_audience", str(error))
        if claim == "nonce":
            return SignInRefused("nonce_invalid", str(error))
    return SignInRefused("token_invalid", str(error))
