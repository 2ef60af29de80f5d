"""Single sign-on against a real OpenID provider (oidc-provider on Node, tests/node/oidc_provider.mjs).

Each sign-in runs the whole protocol: the app's redirect, the provider's login form, the code's
exchange with the PKCE verifier, the ID token's checks against the provider's JWKS, the ticket
hand-off. The refusals come from the provider itself: clients whose ID tokens it sends with another
audience, a foreign signature, no nonce or an expiry in the past (see the script's header).
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from assetflow.auth import oidc
from assetflow.extensions import db
from assetflow.models import ROOT_DEPARTMENT_ID, StepDecider, User, UserIdentity
from assetflow.services import sso, users

from .actions import Person, submit
from .conftest import Auth, build_app
from .factories import make_department, make_user
from .live_server import stop_process_group
from .races import race
from .sso_provider import SECRET, Browser, Provider, path_of, start_provider

ROLE_MAP = "af-approvers=approver,af-admins=admin"


@pytest.fixture(scope="module")
def provider(node_client):
    started = start_provider(node_client)
    yield started
    stop_process_group(started.process)


def sso_settings(provider: Provider, client_id: str = "assetflow", **overrides) -> dict:
    return {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": SECRET,
            "OIDC_DEPARTMENT_CLAIM": "department", "OIDC_ROLE_MAP": ROLE_MAP, "OIDC_DISPLAY_NAME": "Test IdP",
            **overrides}


@pytest.fixture(params=["sqlite", "postgresql"])
def sso_app(request, provider):
    """An app signing in through the test provider, on SQLite and on PostgreSQL."""
    uri = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    app = build_app(uri, **sso_settings(provider))
    with app.app_context():
        yield app
        db.session.remove()
        if request.param == "postgresql":
            db.drop_all()
            db.engine.dispose()


def misbehaving_app(provider: Provider, client_id: str):
    return build_app(**sso_settings(provider, client_id))


class SignIn:
    """One person's sign-in: their browser at the provider, the app's test client."""

    def __init__(self, app, provider: Provider, login: str):
        self.client = app.test_client()
        self.browser = Browser(provider)
        self.login = login
        self.authorization_url = ""
        self.callback = ""

    def to_callback(self) -> str:
        """Leave for the provider, sign in there; the callback path and query the provider sends back."""
        response = self.client.get("/api/auth/oidc/login?next=/requests/7")
        assert response.status_code == 302, response.get_data(as_text=True)
        self.authorization_url = response.headers["Location"]
        self.callback = path_of(self.browser.authorize(self.authorization_url, self.login))
        return self.callback

    def finish(self):
        """The app's answer to the provider's redirect."""
        return self.client.get(self.to_callback())

    def session(self) -> dict:
        """Sign in all the way: the callback, then the SPA's POST for its tokens."""
        response = self.finish()
        assert login_query(response) == {"sso": "done", "redirect": "/requests/7"}, response.headers.get("Location")
        answer = self.client.post("/api/auth/oidc/session")
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()


def login_query(response) -> dict[str, str]:
    """Where the app sent the browser: its SPA login page, and the query it carries."""
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def refusal(response) -> str:
    query = login_query(response)
    assert set(query) == {"sso_error"}, query
    return query["sso_error"]


def identity(sub: str) -> UserIdentity | None:
    return db.session.scalar(sa.select(UserIdentity).where(UserIdentity.subject == sub))


def test_first_sign_in_creates_the_user_and_later_ones_update_them(sso_app, provider):
    eng = make_department("Engineering")
    sales = make_department("Sales")
    provider.account("sub-kim-1", preferred_username="Kim.Lee", name="Kim Lee", email="kim@corp.example",
                     groups=["af-approvers", "staff"], department=eng.code.lower())

    signed_in = SignIn(sso_app, provider, "sub-kim-1").session()

    kim = identity("sub-kim-1").user
    assert signed_in["user"]["username"] == "kim.lee" == kim.username  # the credential rules' canonical form
    assert (kim.display_name, kim.email, kim.role, kim.department_id) == (
        "Kim Lee", "kim@corp.example", "approver", eng.id)
    assert identity("sub-kim-1").issuer == provider.issuer
    me = sso_app.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {signed_in['access_token']}"})
    assert me.get_json()["username"] == "kim.lee"

    # The provider renames her, moves her, makes her an admin; the username claim changes too.
    provider.account("sub-kim-1", preferred_username="kim.park", name="Kim Park", email="kim.park@corp.example",
                     groups=["af-admins", "af-approvers"], department=sales.code)
    old_generation = kim.token_generation
    SignIn(sso_app, provider, "sub-kim-1").session()

    db.session.expire_all()
    kim = identity("sub-kim-1").user
    assert (kim.username, kim.display_name, kim.email, kim.role, kim.department_id) == (
        "kim.lee", "Kim Park", "kim.park@corp.example", "admin", sales.id)  # linked by sub, not by username
    assert kim.token_generation == old_generation + 1  # a role change ends the old sessions, as an admin's edit does
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1

    # Groups that map to no role give an employee, but never by demoting the last active admin.
    provider.account("sub-kim-1", preferred_username="kim.park", name="Kim Park", groups=["staff"],
                     department=sales.code)
    assert refusal(SignIn(sso_app, provider, "sub-kim-1").finish()) == "account_refused"
    make_user("admin")
    SignIn(sso_app, provider, "sub-kim-1").session()
    db.session.expire_all()
    assert identity("sub-kim-1").user.role == "employee"


def test_a_role_taken_away_by_the_provider_requalifies_the_frozen_decider_rows(sso_app, provider):
    """The update goes through users.update_user, so routing.requalify runs: an approver whose group the
    provider removed is no longer entitled to decide the request she was named for."""
    provider.account("sub-ann", preferred_username="ann", name="Ann", groups=["af-approvers"], department="HQ")
    SignIn(sso_app, provider, "sub-ann").session()
    ann = identity("sub-ann").user
    applicant = make_user("employee")
    client = sso_app.test_client()
    request_id = submit(client, Person(applicant, Auth(client).headers(applicant)))["id"]
    assert entitled(request_id, ann.id) is True  # the only approver, named at submit

    provider.account("sub-ann", preferred_username="ann", name="Ann", groups=["staff"], department="HQ")
    SignIn(sso_app, provider, "sub-ann").session()
    assert entitled(request_id, ann.id) is False


def entitled(request_id: int, user_id: int) -> bool:
    db.session.expire_all()
    return db.session.scalar(sa.select(StepDecider.entitled).where(
        StepDecider.request_id == request_id, StepDecider.user_id == user_id))


def test_the_code_is_exchanged_with_the_pkce_verifier(sso_app, provider):
    provider.account("sub-pkce", preferred_username="pat", department="HQ")
    sign_in = SignIn(sso_app, provider, "sub-pkce")
    before = len(provider.token_requests())
    sign_in.to_callback()
    state_cookie = sign_in.client.get_cookie("assetflow_oidc_state", path="/api/auth/oidc/callback").value
    assert login_query(sign_in.client.get(sign_in.callback))["sso"] == "done"

    query = parse_qs(urlsplit(sign_in.authorization_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"] and query["nonce"][0] and query["state"][0]
    with sso_app.test_request_context():
        pending = sso._serializer(sso.STATE_SALT).loads(state_cookie)
    verifier = pending["v"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [challenge]
    # The provider requires PKCE (pkce.required) and was sent this very verifier with the code.
    assert provider.token_requests()[before:] == [{"client_id": "assetflow", "code_verifier": verifier}]


@pytest.mark.parametrize(("client_id", "reason"), [
    ("assetflow-wrong-audience", "wrong_audience"),
    ("assetflow-bad-signature", "bad_signature"),
    ("assetflow-no-nonce", "nonce_invalid"),
    ("assetflow-expired", "token_expired"),
])
def test_an_id_token_that_fails_a_check_is_refused(provider, client_id, reason):
    app = misbehaving_app(provider, client_id)
    provider.account("sub-mallory", preferred_username="mallory", department="HQ")
    with app.app_context():
        sign_in = SignIn(app, provider, "sub-mallory")
        assert refusal(sign_in.finish()) == reason
        assert identity("sub-mallory") is None
        assert db.session.scalar(sa.select(User).where(User.username == "mallory")) is None
        assert sign_in.client.post("/api/auth/oidc/session").status_code == 401  # no ticket was handed out


def test_a_replayed_state_is_refused(sso_app, provider):
    provider.account("sub-rex", preferred_username="rex", department="HQ")
    sign_in = SignIn(sso_app, provider, "sub-rex")
    sign_in.to_callback()
    state_cookie = sign_in.client.get_cookie("assetflow_oidc_state", path="/api/auth/oidc/callback").value
    assert login_query(sign_in.client.get(sign_in.callback))["sso"] == "done"
    assert sign_in.client.get_cookie("assetflow_oidc_state", path="/api/auth/oidc/callback") is None  # spent

    # Someone who captured both the callback URL and the state cookie tries them again.
    attacker = sso_app.test_client()
    attacker.set_cookie("assetflow_oidc_state", state_cookie, path="/api/auth/oidc/callback")
    assert refusal(attacker.get(sign_in.callback)) == "state_replayed"


def test_a_callback_this_browser_did_not_start_is_refused(sso_app, provider):
    provider.account("sub-eve", preferred_username="eve", department="HQ")
    sign_in = SignIn(sso_app, provider, "sub-eve")
    sign_in.to_callback()
    # Another browser (no state cookie), e.g. a victim lured to the attacker's callback URL.
    assert refusal(sso_app.test_client().get(sign_in.callback)) == "state_invalid"
    # This browser, with the state changed.
    forged = sign_in.callback.replace("state=", "state=x")
    assert refusal(sign_in.client.get(forged)) == "state_invalid"
    assert identity("sub-eve") is None


def test_an_unknown_department_is_refused(sso_app, provider):
    provider.account("sub-dan", preferred_username="dan", department="NO-SUCH-DEPT")
    assert refusal(SignIn(sso_app, provider, "sub-dan").finish()) == "unknown_department"
    assert identity("sub-dan") is None
    provider.account("sub-dan", preferred_username="dan")  # no department claim at all
    assert refusal(SignIn(sso_app, provider, "sub-dan").finish()) == "unknown_department"


def test_without_a_department_claim_setting_new_users_join_the_company(provider):
    app = build_app(**sso_settings(provider, OIDC_DEPARTMENT_CLAIM="", OIDC_ROLE_MAP=""))
    provider.account("sub-nod", preferred_username="nod", groups=["af-admins"], department="NO-SUCH-DEPT")
    with app.app_context():
        SignIn(app, provider, "sub-nod").session()
        user = identity("sub-nod").user
        assert (user.department_id, user.role) == (ROOT_DEPARTMENT_ID, "employee")  # neither is managed
        users.update_user(user, {"role": "approver"})
        SignIn(app, provider, "sub-nod").session()
        db.session.expire_all()
        assert identity("sub-nod").user.role == "approver"  # an admin's choice stays


def test_a_deactivated_user_cannot_get_in(sso_app, provider):
    provider.account("sub-dee", preferred_username="dee", department="HQ")
    SignIn(sso_app, provider, "sub-dee").session()
    users.set_active(identity("sub-dee").user_id, False)

    assert refusal(SignIn(sso_app, provider, "sub-dee").finish()) == "deactivated"


def test_a_ticket_deactivated_before_it_is_redeemed_is_refused(sso_app, provider):
    provider.account("sub-tia", preferred_username="tia", department="HQ")
    sign_in = SignIn(sso_app, provider, "sub-tia")
    assert login_query(sign_in.finish())["sso"] == "done"
    users.set_active(identity("sub-tia").user_id, False)
    answer = sign_in.client.post("/api/auth/oidc/session")
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (401, "ticket_invalid")


def test_the_ticket_works_once_and_only_from_its_cookie(sso_app, provider):
    provider.account("sub-tom", preferred_username="tom", department="HQ")
    sign_in = SignIn(sso_app, provider, "sub-tom")
    response = sign_in.finish()
    assert "ticket" not in response.headers["Location"] and "token" not in response.headers["Location"]
    ticket = sign_in.client.get_cookie("assetflow_sso_ticket", path="/api/auth/oidc/session")
    assert ticket.http_only and ticket.same_site == "Lax"

    assert sign_in.client.post("/api/auth/oidc/session").status_code == 200
    assert sign_in.client.get_cookie("assetflow_sso_ticket", path="/api/auth/oidc/session") is None
    replay = sso_app.test_client()
    replay.set_cookie("assetflow_sso_ticket", ticket.value, path="/api/auth/oidc/session")
    answer = replay.post("/api/auth/oidc/session")
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (401, "ticket_invalid")
    nothing = sso_app.test_client().post("/api/auth/oidc/session")
    assert (nothing.status_code, nothing.get_json()["error"]["code"]) == (401, "ticket_invalid")


def test_the_provider_rotating_its_keys_does_not_stop_sign_in(sso_app, provider):
    provider.account("sub-rot", preferred_username="rot", department="HQ")
    SignIn(sso_app, provider, "sub-rot").session()  # the app now holds the JWKS of the key in use
    with sso_app.app_context():
        cached = [key["kid"] for key in oidc._client().server_metadata["jwks"]["keys"]]

    kids = provider.rotate()
    assert kids[0] not in cached and provider.published_kids() == kids

    SignIn(sso_app, provider, "sub-rot").session()  # signed with the new key: its kid makes the app refetch
    with sso_app.app_context():
        assert [key["kid"] for key in oidc._client().server_metadata["jwks"]["keys"]] == kids


def test_a_local_username_is_never_taken_over(sso_app, provider):
    local = make_user("admin", "lee")
    provider.account("sub-lee", preferred_username="LEE", name="Not Lee", groups=["af-admins"], department="HQ")

    assert refusal(SignIn(sso_app, provider, "sub-lee").finish()) == "username_taken"
    assert identity("sub-lee") is None
    db.session.expire_all()
    assert db.session.get(User, local.id).display_name != "Not Lee"

    sso.link("lee", "sub-lee", provider.issuer)  # an admin decides it is the same person (flask sso-link)
    signed_in = SignIn(sso_app, provider, "sub-lee").session()
    assert signed_in["user"]["id"] == local.id


def test_the_providers_own_error_ends_on_the_login_page(sso_app, provider):
    client = sso_app.test_client()
    state = parse_qs(urlsplit(client.get("/api/auth/oidc/login").headers["Location"]).query)["state"][0]
    response = client.get(f"/api/auth/oidc/callback?state={state}&error=access_denied&error_description=no")
    assert refusal(response) == "provider_error"


def test_an_unreachable_provider_ends_on_the_login_page():
    app = build_app(OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="assetflow")
    with app.app_context():
        assert refusal(app.test_client().get("/api/auth/oidc/login")) == "provider_error"


def test_without_sso_configured_the_endpoints_say_so(client):
    assert refusal(client.get("/api/auth/oidc/login")) == "not_configured"
    assert refusal(client.get("/api/auth/oidc/callback?code=x&state=y")) == "not_configured"
    assert client.get("/api/auth/methods").get_json() == {"password": True, "sso": None}


def test_the_login_page_learns_the_sign_in_methods(provider):
    app = build_app(**sso_settings(provider), PASSWORD_LOGIN=False)
    with app.app_context():
        client = app.test_client()
        assert client.get("/api/auth/methods").get_json() == {
            "password": False, "sso": {"display_name": "Test IdP", "login_url": "/api/auth/oidc/login"}}


def test_password_login_off_refuses_passwords(provider):
    app = build_app(PASSWORD_LOGIN=False)
    with app.app_context():
        user = make_user("admin")
        client = app.test_client()
        answer = client.post("/api/auth/login", json={"username": user.username, "password": "whatever1"})
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (403, "password_login_disabled")


def test_break_glass_signs_an_admin_in_once_whatever_password_login_says():
    app = build_app(PASSWORD_LOGIN=False)
    with app.app_context():
        admin, employee = make_user("admin"), make_user("employee")
        client = app.test_client()
        code = sso.break_glass_ticket(admin.username)
        answer = client.post("/api/auth/break-glass", json={"code": code})
        assert answer.status_code == 200 and answer.get_json()["user"]["id"] == admin.id
        again = client.post("/api/auth/break-glass", json={"code": code})
        assert (again.status_code, again.get_json()["error"]["code"]) == (401, "ticket_invalid")
        # An SSO ticket is not a break-glass code, nor the other way round.
        sso_ticket = sso.issue_ticket(admin, "sso")
        assert client.post("/api/auth/break-glass", json={"code": sso_ticket}).status_code == 401
        with pytest.raises(Exception, match="not an active admin"):
            sso.break_glass_ticket(employee.username)


def test_the_break_glass_command_prints_a_link_whose_code_stays_out_of_urls_sent_to_servers(app):
    admin = make_user("admin", "boss")
    result = app.test_cli_runner().invoke(args=["break-glass", "boss"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().split(" ")[-1]
    assert "/login#break_glass=" in link
    code = link.split("#break_glass=", 1)[1]
    answer = app.test_client().post("/api/auth/break-glass", json={"code": code})
    assert answer.get_json()["user"]["id"] == admin.id
    refused = app.test_cli_runner().invoke(args=["break-glass", "nobody"])
    assert refused.exit_code == 1 and "not found" in refused.output


def test_of_concurrent_uses_of_one_ticket_exactly_one_signs_in(shared_app):
    """Spending is one insert-if-absent: racers in separate threads and connections cannot both win."""
    admin = make_user("admin")
    code = sso.break_glass_ticket(admin.username)
    statuses = race(shared_app, [("POST", "/api/auth/break-glass", {}, {"code": code})] * 4)
    assert sorted(statuses) == [200, 401, 401, 401]


@pytest.mark.parametrize(("settings", "message"), [
    ({"OIDC_ROLE_MAP": "af-admins=boss"}, "OIDC_ROLE_MAP must be"),
    ({"OIDC_ROLE_MAP": "=admin"}, "OIDC_ROLE_MAP must be"),
    ({"OIDC_ISSUER": "https://id.example.com"}, "OIDC_CLIENT_ID must be"),
    ({"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "a", "OIDC_SCOPES": "profile"}, "must include openid"),
])
def test_a_malformed_sso_setting_stops_start_up(settings, message):
    with pytest.raises(RuntimeError, match=message):
        build_app(**settings)


def test_a_sub_longer_than_the_spec_allows_is_refused(sso_app, provider):
    sub = "s" * 256
    provider.account(sub, preferred_username="longsub", department="HQ")
    assert refusal(SignIn(sso_app, provider, sub).finish()) == "token_invalid"
