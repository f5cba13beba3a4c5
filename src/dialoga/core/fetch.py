"""The one way Dialoga fetches from the internet: guarded against SSRF, bounded in size and time.

Feeds, avatars and instance discovery name URLs that come from users or from the
networks, so every fetch goes through ``guarded_get``:

- only ``http`` and ``https``, no credentials in the URL;
- the host is resolved once and every address must be public (not private, loopback,
  link-local, shared, reserved or multicast, IPv4-mapped forms included) unless the
  admin allowed private addresses or trusts that host by name;
- the check happens where the connection is opened (``GuardedNetwork``), and the
  connection goes to the address that was checked, so DNS cannot swap in another
  address afterwards; TLS still verifies the original host name;
- redirects are followed by hand, each hop checked the same way, up to a limit;
- the connectors' API clients use the same guard (``guarded_client``);
- the body is read in chunks and the fetch stops past ``max_bytes``; the whole fetch,
  redirects included, has one deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from dialoga.core.errors import DialogaError
from dialoga.core.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PORTS = {"http": 80, "https": 443}


class FetchRefusedError(DialogaError):
    """The URL may not be fetched: a scheme, address or size the policy refuses."""


class FetchFailedError(DialogaError):
    """The fetch was allowed but did not succeed: unreachable, too slow, broken."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise FetchFailedError(f"cannot resolve {host}: {error.strerror}") from None
    return sorted({str(entry[4][0]) for entry in found})


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may reach and how much it may take."""

    allow_private: bool = False
    trusted_hosts: frozenset[str] = frozenset()
    max_bytes: int = 5 * 2**20
    timeout_seconds: float = 10.0
    max_redirects: int = 5
    resolver: Resolver = field(default=resolve, compare=False)


def policy_from(settings: Settings) -> FetchPolicy:
    """The operator's fetch policy: private addresses allowed, or only some hosts trusted."""
    trusted = {host.strip().lower() for host in settings.trusted_fetch_hosts.split(",")}
    return FetchPolicy(
        allow_private=settings.allow_private_fetches, trusted_hosts=frozenset(trusted - {""})
    )


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched response: the final URL (after redirects), status, headers and body."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes


class GuardedNetwork(httpcore.SyncBackend):
    """Opens a connection only to an address the policy allows: the one it checked."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = checked_address(host.lower(), port, self.policy)
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, refusing other schemes and URLs with credentials, and connecting
    through ``GuardedNetwork`` (TLS still verifies the original host name)."""

    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__(verify=tls_context())
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls_context(), network_backend=GuardedNetwork(policy)
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url))
        return super().handle_request(request)


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every fetch (system CAs, verified host names), built once:
    loading the CA bundle costs tens of milliseconds, too much for each poll."""
    return httpx.create_ssl_context()


def guarded_client(policy: FetchPolicy, **options: Any) -> httpx.Client:
    """An httpx client whose every request and redirect goes through the guard; the API
    clients of the connectors use it, ``guarded_get`` too."""
    options.setdefault("timeout", policy.timeout_seconds)
    return httpx.Client(transport=GuardedTransport(policy), **options)


def guarded_get(
    url: str,
    policy: FetchPolicy,
    client: httpx.Client | None = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """GET ``url`` under ``policy``; refusals and failures are ``DialogaError`` sentences.
    ``headers`` go with every hop (``If-None-Match`` for a conditional fetch)."""
    check_url(url)
    deadline = time.monotonic() + policy.timeout_seconds
    owned = client is None
    session = client or guarded_client(policy)
    try:
        for _ in range(policy.max_redirects + 1):
            fetched = _one_hop(session, url, policy, deadline, headers or {})
            location = fetched.headers.get("location")
            if fetched.status not in REDIRECTS or not location:
                return fetched
            url = urljoin(url, location)
            check_url(url)
        raise FetchRefusedError(f"more than {policy.max_redirects} redirects, last to {url}")
    finally:
        if owned:
            session.close()


def _one_hop(
    session: httpx.Client, url: str, policy: FetchPolicy, deadline: float, headers: dict[str, str]
) -> Fetched:
    host = urlsplit(url).hostname or ""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchFailedError(f"{host} took longer than {policy.timeout_seconds:g} s")
    request = session.build_request(
        "GET", url, headers=headers, extensions={"timeout": httpx.Timeout(remaining).as_dict()}
    )
    try:
        response = session.send(request, stream=True, follow_redirects=False)
    except httpx.TimeoutException:
        raise FetchFailedError(f"{host} took longer than {policy.timeout_seconds:g} s") from None
    except httpx.HTTPError as error:
        raise FetchFailedError(f"cannot fetch from {host}: {error}") from None
    try:
        content = _bounded_body(response, policy, host, deadline)
    finally:
        response.close()
    return Fetched(url, response.status_code, response.headers, content)


def check_url(url: str) -> None:
    """Refuse a URL that is not http(s), carries credentials or names no host."""
    parts = urlsplit(url)
    if parts.scheme not in _PORTS:
        raise FetchRefusedError(f"only http and https addresses are fetched, not {url[:80]!r}")
    if parts.username or parts.password:
        raise FetchRefusedError("an address with a user name or password is not fetched")
    if not parts.hostname:
        raise FetchRefusedError(f"{url[:80]!r} names no host")


def checked_address(host: str, port: int, policy: FetchPolicy) -> str:
    """The address to connect to for ``host``: every address it resolves to must be
    public, unless the policy allows private ones or trusts the host."""
    addresses = [ipaddress.ip_address(found) for found in policy.resolver(host, port)]
    if not addresses:
        raise FetchFailedError(f"{host} resolves to no address")
    if not (policy.allow_private or host in policy.trusted_hosts):
        for address in addresses:
            if not is_public(address):
                raise FetchRefusedError(
                    f"{host} is a private, loopback or link-local address ({address}): "
                    "not fetched (an admin can allow private addresses)"
                )
    return str(addresses[0])


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _bounded_body(
    response: httpx.Response, policy: FetchPolicy, host: str, deadline: float
) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise FetchRefusedError(_too_large(host, policy))
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchRefusedError(_too_large(host, policy))
            if time.monotonic() > deadline:
                raise FetchFailedError(f"{host} took longer than {policy.timeout_seconds:g} s")
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise FetchFailedError(f"{host} took longer than {policy.timeout_seconds:g} s") from None
    except httpx.HTTPError as error:
        raise FetchFailedError(f"the answer from {host} broke off: {error}") from None
    return b"".join(chunks)


def _too_large(host: str, policy: FetchPolicy) -> str:
    return f"the answer from {host} is larger than {policy.max_bytes:,} bytes: not fetched"
