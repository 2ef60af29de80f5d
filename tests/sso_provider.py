"""A real OpenID provider for the single sign-on tests: tests/node/oidc_provider.mjs (panva's oidc-provider)
on a loopback port, and a browser (a requests session) that signs in at its login form.

The app under test is a Flask test client; the browser carries the provider's cookies, the test
client the app's, and each redirect from one to the other is handed across by hand, as a browser would.
"""

from __future__ import annotations

import json
import selectors
import subprocess
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests

from .live_server import NODE_DIR, stop_process_group

CALLBACK = "http://localhost/api/auth/oidc/callback"  # the Flask test client's host
SECRET = "sso-test-secret"
START_TIMEOUT = 30


@dataclass
class Provider:
    """The running provider and its test controls."""

    issuer: str
    process: subprocess.Popen

    def account(self, sub: str, **claims) -> None:
        """Create or replace the account `sub` and the claims it releases."""
        response = requests.put(f"{self.issuer}/__test/accounts/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def rotate(self) -> list[str]:
        """Sign with a new key from now on; the key ids published, newest first."""
        response = requests.post(f"{self.issuer}/__test/rotate", timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["kids"]

    def token_requests(self) -> list[dict]:
        """Every token request so far: [{client_id, code_verifier}]."""
        return requests.get(f"{self.issuer}/__test/token-requests", timeout=5).json()

    def published_kids(self) -> list[str]:
        return [key["kid"] for key in requests.get(f"{self.issuer}/jwks", timeout=5).json()["keys"]]


def start_provider(node: str, *redirect_uris: str) -> Provider:
    """Start the provider; it prints its issuer once it listens."""
    process = subprocess.Popen([node, "oidc_provider.mjs", *(redirect_uris or (CALLBACK,))], cwd=NODE_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    try:
        line = _first_json_line(process)
    except Exception:
        stop_process_group(process)
        raise
    return Provider(json.loads(line)["issuer"], process)


def _first_json_line(process: subprocess.Popen) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=START_TIMEOUT):
        raise RuntimeError("the OpenID provider did not start")
    line = process.stdout.readline()
    if not line.startswith("{"):
        raise RuntimeError(f"the OpenID provider said {line!r}")
    return line


@dataclass
class Browser:
    """A person's browser at the provider: it follows the provider's redirects and fills in its login form."""

    provider: Provider
    session: requests.Session = field(default_factory=requests.Session)
    pages: list[str] = field(default_factory=list)

    def authorize(self, url: str, login: str) -> str:
        """Follow the provider from its authorization URL, signing in as `login` at its form if asked;
        return the URL it finally sends the browser to (the app's callback)."""
        for _ in range(10):
            response = self.session.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and "<form" in response.text:
                self.pages.append(response.text)
                action = response.text.split('action="', 1)[1].split('"', 1)[0]
                response = self.session.post(urljoin(url, action), data={"login": login}, allow_redirects=False,
                                             timeout=10)
            assert response.status_code in (302, 303), (response.status_code, response.text[:500])
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(self.provider.issuer):
                return url
        raise AssertionError("the provider kept redirecting")


def path_of(url: str) -> str:
    """The path and query of a URL, as the Flask test client takes them."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
