"""Where the server may send a request: the one check on webhook addresses, at save and at every connection.

An address is refused when it is not reachable from the internet (loopback, private, link-local and cloud
metadata, CGNAT, multicast, reserved, unspecified, and IPv6 forms that carry such an IPv4 address), unless
it lies in WEBHOOK_ALLOWED_NETWORKS. A host name is resolved once per connection, every address it gives is
checked, and the socket goes to a checked address: no second lookup a rebinding DNS server could answer
differently. The host name still goes in `Host`, TLS SNI and the certificate check.

requests-hardened (PyPI) does the same pinning but allows only loopback as an exception (no networks), checks
only the first address, misses site-local fec0::/10, and says only the address when it refuses.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
from collections.abc import Iterable
from functools import lru_cache, partial
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection, parse_url

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*cidrs: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# First match names the reason; anything else that Python does not call global is refused last.
REFUSED: tuple[tuple[str, tuple[Network, ...]], ...] = (
    ("a cloud metadata address", _nets("169.254.169.254/32", "169.254.170.2/32", "fd00:ec2::254/128",
                                       "100.100.100.200/32")),
    ("a loopback address", _nets("127.0.0.0/8", "::1/128")),
    ("an unspecified address", _nets("0.0.0.0/8", "::/128")),
    ("a private address", _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")),
    ("a link-local address", _nets("169.254.0.0/16", "fe80::/10")),
    ("a shared (CGNAT) address", _nets("100.64.0.0/10")),
    ("a multicast address", _nets("224.0.0.0/4", "ff00::/8")),
    # IETF assignments, documentation, benchmarking, 6to4 relays, class E and broadcast; IPv6 discard,
    # IETF assignments (Teredo, ORCHID), documentation, site-local, SRv6, local-use NAT64.
    ("a reserved address", _nets("192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
                                 "203.0.113.0/24", "192.88.99.0/24", "240.0.0.0/4", "100::/64", "2001::/23",
                                 "2001:db8::/32", "3fff::/20", "fec0::/10", "5f00::/16", "64:ff9b:1::/48")),
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# What inet_aton reads as an IPv4 address: 1 to 4 parts, each decimal, octal (0…) or hex (0x…).
NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


class EgressError(Exception):
    """A call the server did not make; the message is safe to show an admin."""


class Refused(EgressError):
    """The host is, or resolves to, an address the server may not call."""


class Unresolvable(EgressError):
    """The host name does not resolve (now)."""


@lru_cache(maxsize=8)
def _networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def networks(items: Iterable[str] | str) -> tuple[Network, ...]:
    """WEBHOOK_ALLOWED_NETWORKS as networks; ValueError names a malformed entry."""
    if isinstance(items, str):
        items = items.split(",")
    return _networks(tuple(item.strip() for item in items if item.strip()))


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, IPv4-compatible, NAT64, 6to4), if any."""
    if address.version == 4:
        return None
    for carried in (address.ipv4_mapped, address.sixtofour):
        if carried is not None:
            return carried
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_refused(address: Address, allowed: Iterable[Network] = ()) -> str | None:
    """Why the server may not call this address, or None when it may."""
    allowed = tuple(allowed)
    inner = embedded_ipv4(address)
    if _within(address, allowed) or (inner is not None and _within(inner, allowed)):
        return None
    if inner is not None and (reason := _kind(inner)):
        return f"{address} carries {inner}, {reason}"
    if reason := _kind(address):
        return f"{address} is {reason}"
    return None


def _within(address: Address, nets: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def _kind(address: Address) -> str | None:
    for reason, nets in REFUSED:
        if _within(address, nets):
            return reason
    return None if address.is_global else "not a public address"


def literal_address(host: str) -> Address | None:
    """The address a host written as an IP literal means, in any spelling inet_aton takes (127.1, 0x7f.1, …)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address the host stands for, literal or looked up, in the resolver's order."""
    host = host.strip("[]").rstrip(".")  # as urllib3 connects: "localhost." is "localhost"
    # Our own reading of numeric spellings: eventlet's resolver does not take "127.1", glibc's does.
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as failure:
        raise Unresolvable(f"could not resolve {host}") from failure
    found = [ipaddress.ip_address(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not found:
        raise Unresolvable(f"could not resolve {host}")
    return list(dict.fromkeys(found))


def checked(host: str, port: int, allowed: Iterable[Network]) -> list[Address]:
    """The host's addresses when every one of them may be called; Refused names the first that may not."""
    addresses = resolve(host, port)
    for address in addresses:
        if reason := why_refused(address, allowed):
            raise Refused(reason)
    return addresses


def check_url(url: str, allowed: Iterable[Network]) -> None:
    """Save-time check: Refused when the URL's host is or resolves to a refused address.

    A host that does not resolve now passes: DNS may not have the name yet, and every delivery checks again.
    """
    parts = parse_url(url)
    if not parts.host:
        raise Refused("the URL has no host")
    try:
        checked(parts.host, parts.port or (443 if parts.scheme == "https" else 80), allowed)
    except Unresolvable:
        pass


class _Pinned:
    """A urllib3 connection that opens its socket only to an address the check allowed."""

    def __init__(self, *args: Any, allowed: tuple[Network, ...] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.allowed = allowed

    def _new_conn(self) -> socket.socket:
        # The address is resolved and checked here, at every connection, and used as it is: no second lookup.
        failure: OSError | None = None
        for address in checked(self.host, self.port, self.allowed):
            try:
                sock = connection.create_connection((str(address), self.port), self.timeout,
                                                    source_address=self.source_address,
                                                    socket_options=self.socket_options)
            except TimeoutError as timeout:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from timeout
            except OSError as error:
                failure = error
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}") from failure


class PinnedHTTPConnection(_Pinned, HTTPConnection):
    """Plain HTTP to a checked address."""


class PinnedHTTPSConnection(_Pinned, HTTPSConnection):
    """TLS to a checked address; SNI and the certificate are still checked against the host name."""


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """A requests adapter whose every connection is checked, and that never goes through a proxy."""

    def __init__(self, allowed: tuple[Network, ...] = (), **kwargs: Any):
        self.allowed = allowed
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The default pool manager, building pools of pinned connections."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": partial(_PinnedHTTPPool, allowed=self.allowed),
            "https": partial(_PinnedHTTPSPool, allowed=self.allowed),
        }

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send directly: a proxy (HTTP_PROXY…) would connect to addresses nobody checked."""
        kwargs["proxies"] = {}
        return super().send(request, **kwargs)


def post(url: str, allowed: Iterable[Network], **kwargs: Any) -> requests.Response:
    """POST to a URL the server may call; a redirect is answered as it is, never followed."""
    with requests.Session() as session:
        adapter = PinnedAdapter(tuple(allowed))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session.post(url, allow_redirects=False, **kwargs)
