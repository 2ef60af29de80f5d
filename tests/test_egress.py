"""Webhooks never reach inside the network: refused at save and at every delivery, in every spelling of an
internal address, pinned to the address that was checked, never redirected, and logged without a port's story."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import sqlalchemy as sa

from assetflow import egress
from assetflow.delivery import worker
from assetflow.extensions import db
from assetflow.models import OutboxMessage, Webhook, WebhookAttempt

from .conftest import build_app
from .factories import make_user
from .receivers import WebhookReceiver

SECRET = "a-secret-of-16-chars+"
LOOPBACK_BOTH = ["127.0.0.1/32", "::1/128"]  # `localhost` may resolve to either


def create(client, headers, url: str):
    return client.post("/api/webhooks", headers=headers,
                       json={"url": url, "events": ["request.approved"], "secret": SECRET})


def saved_earlier(url: str) -> Webhook:
    """A webhook stored without the API's check: saved before this check existed, or while allowed."""
    hook = Webhook(url=url, events=["request.approved"], secret=SECRET, created_by_id=make_user("admin").id)
    db.session.add(hook)
    db.session.commit()
    return hook


def ping_and_deliver(client, headers, hook_id: int) -> WebhookAttempt:
    """Queue a ping, run the worker once, and return the logged call."""
    assert client.post(f"/api/webhooks/{hook_id}/ping", headers=headers).status_code == 202
    worker.run_once()
    return db.session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id.desc())).first()


# --- the check itself ---------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "127.1", "0x7f.1", "017700000001", "0177.0.0.1",
                                  "0x7f000001", "0x7F.0.0.1", "127.0.1"])
def test_every_spelling_of_an_ipv4_literal_is_read_as_the_address_it_means(host):
    assert egress.literal_address(host) == ipaddress.IPv4Address("127.0.0.1")


@pytest.mark.parametrize("address, reason", [
    ("169.254.169.254", "a cloud metadata address"), ("fd00:ec2::254", "a cloud metadata address"),
    ("127.0.0.1", "a loopback address"), ("::1", "a loopback address"), ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"), ("10.0.0.1", "a private address"), ("172.16.0.1", "a private address"),
    ("192.168.1.1", "a private address"), ("fd12:3456::1", "a private address"),
    ("169.254.1.1", "a link-local address"), ("fe80::1", "a link-local address"),
    ("100.64.0.1", "a shared (CGNAT) address"), ("224.0.0.1", "a multicast address"), ("ff02::1", "a multicast address"),
    ("240.0.0.1", "a reserved address"), ("255.255.255.255", "a reserved address"), ("fec0::1", "a reserved address"),
    ("192.0.2.1", "a reserved address"), ("2001:db8::1", "a reserved address"),
    ("::ffff:127.0.0.1", "carries 127.0.0.1, a loopback address"),
    ("::ffff:169.254.169.254", "carries 169.254.169.254, a cloud metadata address"),
    ("2002:a00:1::", "carries 10.0.0.1, a private address"),  # 6to4
    ("64:ff9b::a9fe:a9fe", "carries 169.254.169.254, a cloud metadata address"),  # NAT64
    ("::7f00:1", "carries 127.0.0.1, a loopback address"),  # IPv4-compatible
])
def test_internal_addresses_are_refused_with_the_reason(address, reason):
    assert reason in egress.why_refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert egress.why_refused(ipaddress.ip_address(address)) is None


def test_the_allow_list_admits_its_networks_and_nothing_beside_them():
    allowed = egress.networks("10.20.0.0/16, 127.0.0.1/32")
    assert egress.why_refused(ipaddress.ip_address("10.20.3.4"), allowed) is None
    assert egress.why_refused(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None  # the same host
    assert egress.why_refused(ipaddress.ip_address("10.21.0.1"), allowed) == "10.21.0.1 is a private address"
    assert egress.why_refused(ipaddress.ip_address("127.0.0.2"), allowed) == "127.0.0.2 is a loopback address"


def test_a_malformed_allow_list_stops_the_app_at_start_up():
    with pytest.raises(RuntimeError, match="WEBHOOK_ALLOWED_NETWORKS .* not '10.0.0.0/33'"):
        build_app(WEBHOOK_ALLOWED_NETWORKS=["10.0.0.0/8", "10.0.0.0/33"])


# --- at save -------------------------------------------------------------------

INTERNAL_URLS = [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://[fd00:ec2::254]/latest/", "fd00:ec2::254 is a cloud metadata address"),
    ("http://10.0.0.1/", "10.0.0.1 is a private address"),
    ("http://localhost:22/", "is a loopback address"),
    ("http://LOCALHOST./x", "is a loopback address"),
    ("http://0.0.0.0:80/", "0.0.0.0 is an unspecified address"),
    ("http://[::]/", ":: is an unspecified address"),
    ("http://2130706433/", "127.0.0.1 is a loopback address"),
    ("http://017700000001/", "127.0.0.1 is a loopback address"),
    ("http://0x7f000001/", "127.0.0.1 is a loopback address"),
    ("http://127.1/", None), ("http://0x7f.1/", None), ("http://0177.0.0.1/", None),  # the URL check refuses these
    ("http://[::1]/", "::1 is a loopback address"),
    ("http://[::ffff:7f00:1]/", "carries 127.0.0.1, a loopback address"),
    ("http://[::ffff:127.0.0.1]/", None),
    ("http://[2002:a9fe:a9fe::]/", "carries 169.254.169.254, a cloud metadata address"),
    ("http://[64:ff9b::a00:1]/", "carries 10.0.0.1, a private address"),
    ("http://100.64.0.1/", "100.64.0.1 is a shared (CGNAT) address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("https://127.0.0.1:5000/api/auth/logout", "127.0.0.1 is a loopback address"),  # the app itself
]


@pytest.mark.parametrize("url, reason", INTERNAL_URLS)
def test_internal_urls_are_refused_at_save_with_the_url_named(client, people, url, reason):
    admin_h = people["admin"].headers
    response = create(client, admin_h, url)
    error = response.get_json()["error"]
    assert response.status_code == 422 and error["code"] == "validation_error"
    [message] = error["details"]["fields"]["url"]
    assert reason is None or reason in message
    assert client.get("/api/webhooks", headers=admin_h).get_json()["items"] == []


def test_an_update_to_an_internal_url_is_refused_and_changes_nothing(client, people):
    admin_h = people["admin"].headers
    hook = create(client, admin_h, "http://192.0.32.10/hook").get_json()
    response = client.patch(f"/api/webhooks/{hook['id']}", headers=admin_h,
                            json={"url": "http://169.254.169.254/latest/meta-data/", "active": False})
    assert response.status_code == 422 and "url" in response.get_json()["error"]["details"]["fields"]
    [stored] = client.get("/api/webhooks", headers=admin_h).get_json()["items"]
    assert (stored["url"], stored["active"]) == ("http://192.0.32.10/hook", True)


def test_a_host_that_does_not_resolve_is_saved_and_checked_again_at_delivery(client, people):
    admin_h = people["admin"].headers
    response = create(client, admin_h, "https://receiver.invalid/hook")  # .invalid never resolves (RFC 6761)
    assert response.status_code == 201
    attempt = ping_and_deliver(client, admin_h, response.get_json()["id"])
    assert attempt.status_code is None and attempt.error == "could not resolve receiver.invalid"


# --- at delivery ---------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "127.1", "0x7f.1", "017700000001",
                                  "[::ffff:127.0.0.1]"])
def test_a_url_saved_before_is_refused_at_delivery_and_nothing_is_called(client, people, host):
    admin_h = people["admin"].headers
    with WebhookReceiver() as receiver:
        hook = saved_earlier(f"http://{host}:{receiver.port}/hook")
        attempt = ping_and_deliver(client, admin_h, hook.id)
    assert receiver.received == []
    assert attempt.status_code is None and attempt.error.startswith("refused: ")
    assert "127.0.0.1, a loopback address" in attempt.error or "127.0.0.1 is a loopback address" in attempt.error


def test_an_address_allowed_at_save_is_refused_once_the_allow_list_drops_it(app, client, people):
    admin_h = people["admin"].headers
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK_BOTH
    with WebhookReceiver() as receiver:
        hook = create(client, admin_h, f"http://localhost:{receiver.port}/hook").get_json()
        assert ping_and_deliver(client, admin_h, hook["id"]).status_code == 200
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = []
        attempt = ping_and_deliver(client, admin_h, hook["id"])
    assert len(receiver.received) == 1  # only the call made while allowed
    assert attempt.status_code is None and attempt.error == "refused: 127.0.0.1 is a loopback address"


def test_the_allow_list_admits_a_loopback_receiver_and_the_host_name_stays_in_host(app, client, people):
    admin_h = people["admin"].headers
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK_BOTH
    with WebhookReceiver() as receiver:
        hook = create(client, admin_h, f"http://localhost:{receiver.port}/hook")
        assert hook.status_code == 201
        attempt = ping_and_deliver(client, admin_h, hook.get_json()["id"])
    [call] = receiver.received
    assert attempt.status_code == 200 and attempt.error == ""
    assert call.headers["Host"] == f"localhost:{receiver.port}" and call.path == "/hook"


def test_the_socket_goes_to_the_address_that_was_checked():
    allowed = egress.networks(LOOPBACK_BOTH)
    with WebhookReceiver() as receiver:
        conn = egress.PinnedHTTPConnection("localhost", receiver.port, allowed=allowed)
        conn.connect()
        try:
            peer = conn.sock.getpeername()[0]
        finally:
            conn.close()
        refused = egress.PinnedHTTPConnection("localhost", receiver.port, allowed=())
        with pytest.raises(egress.Refused, match="loopback"):
            refused.connect()
    assert ipaddress.ip_address(peer) in egress.checked("localhost", receiver.port, allowed)
    assert receiver.received == []


def test_a_redirect_to_an_internal_address_is_not_followed(app, client, people):
    admin_h = people["admin"].headers
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]  # the receiver only, not 127.0.0.2
    with WebhookReceiver(host="127.0.0.2") as inside:
        with WebhookReceiver([302], location=inside.url) as receiver:
            hook = create(client, admin_h, receiver.url).get_json()
            redirected = ping_and_deliver(client, admin_h, hook["id"])
        direct = ping_and_deliver(client, admin_h, saved_earlier(inside.url).id)
    assert len(receiver.received) == 1 and inside.received == []
    assert (redirected.status_code, redirected.error) == (302, "HTTP 302")
    assert direct.status_code is None and direct.error == "refused: 127.0.0.2 is a loopback address"


@contextmanager
def banner_service(banner: bytes) -> Iterator[socket.socket]:
    """A TCP service on 127.0.0.1 that greets every connection with a banner, as SSH or SMTP do."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_log_shows_no_banner_and_an_open_port_reads_like_a_closed_one(app, client, people):
    admin_h = people["admin"].headers
    banner = b"SSH-2.0-OpenSSH_9.6p1 build-host-7.internal\r\n"
    with banner_service(banner) as service:
        url = f"http://127.0.0.1:{service.getsockname()[1]}/"
        refused = ping_and_deliver(client, admin_h, saved_earlier(url).id)
        app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]  # even when an admin let it through
        open_port = ping_and_deliver(client, admin_h, saved_earlier(url).id)
    closed = ping_and_deliver(client, admin_h, saved_earlier(f"http://127.0.0.1:{closed_port()}/").id)
    assert refused.error == "refused: 127.0.0.1 is a loopback address"
    assert open_port.error == closed.error == "could not connect"
    messages = db.session.scalars(sa.select(OutboxMessage.last_error)).all()
    assert all("SSH" not in text and "build-host" not in text for text in messages + [open_port.error])


def test_a_silent_receiver_is_logged_as_timed_out(app, client, people):
    admin_h = people["admin"].headers
    app.config.update(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.1/32"], WEBHOOK_TIMEOUT_SECONDS=0.3)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody ever answers
        attempt = ping_and_deliver(client, admin_h, saved_earlier(f"http://127.0.0.1:{silent.getsockname()[1]}/").id)
    assert attempt.status_code is None and attempt.error == "timed out"


def test_deliveries_never_go_through_a_proxy(app, client, people, monkeypatch):
    admin_h = people["admin"].headers
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ["127.0.0.1/32"]
    with WebhookReceiver() as proxy, WebhookReceiver() as receiver:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):  # would forward the call unchecked
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        attempt = ping_and_deliver(client, admin_h, saved_earlier(receiver.url).id)
    assert attempt.status_code == 200 and len(receiver.received) == 1 and proxy.received == []


# --- TLS keeps the host name -----------------------------------------------------

@pytest.fixture(scope="module")
def localhost_cert(tmp_path_factory):
    """A self-signed certificate for the name `localhost` only (not for 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@contextmanager
def tls_receiver(cert, key) -> Iterator[tuple[int, list[str]]]:
    """An HTTPS server on 127.0.0.1 that records the SNI name of every handshake."""
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # the name http.server calls
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, names
    finally:
        server.shutdown()
        server.server_close()


def test_tls_to_a_pinned_address_sends_sni_and_checks_the_certificate_for_the_host_name(localhost_cert):
    cert, key = localhost_cert
    allowed = egress.networks(LOOPBACK_BOTH)
    with tls_receiver(cert, key) as (port, names):
        answer = egress.post(f"https://localhost:{port}/hook", allowed, data=b"{}", verify=str(cert), timeout=10)
        with pytest.raises(requests.exceptions.SSLError):  # the certificate does not name 127.0.0.1
            egress.post(f"https://127.0.0.1:{port}/hook", allowed, data=b"{}", verify=str(cert), timeout=10)
    assert answer.status_code == 204 and names[0] == "localhost"


def test_a_certificate_the_server_does_not_trust_is_logged_as_a_failed_handshake(app, client, people, localhost_cert):
    admin_h = people["admin"].headers
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK_BOTH
    with tls_receiver(*localhost_cert) as (port, names):  # self-signed: not in the CA bundle deliveries trust
        attempt = ping_and_deliver(client, admin_h, saved_earlier(f"https://localhost:{port}/hook").id)
    assert attempt.status_code is None and attempt.error == "TLS handshake failed"
