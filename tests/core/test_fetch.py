"""The guarded fetch client against a real HTTP server on loopback: what it refuses, what
it follows, and where it stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dialoga.core.fetch import (
    FetchFailedError,
    FetchPolicy,
    FetchRefusedError,
    Resolver,
    guarded_get,
    policy_from,
)
from dialoga.core.settings import Settings


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/feed":
            self._answer(200, b"<rss>" + self.headers["Host"].encode() + b"</rss>")
        elif self.path == "/hop":
            self._answer(302, b"", location="/feed")
        elif self.path == "/loop":
            self._answer(302, b"", location="/loop")
        elif self.path == "/away":
            port = self.server.server_address[1]
            self._answer(302, b"", location=f"http://127.0.0.1:{port}/feed")
        elif self.path == "/big":
            self._answer(200, b"x" * 5000)
        elif self.path == "/slow":
            time.sleep(1.5)
            self._answer(200, b"late")

    def _answer(self, status: int, body: bytes, location: str | None = None) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _resolver(names: dict[str, str]) -> Resolver:
    return lambda host, _port: [names.get(host, host)]


TRUSTED_BLOG = FetchPolicy(
    trusted_hosts=frozenset({"blog.internal"}),
    resolver=_resolver({"blog.internal": "127.0.0.1"}),
    max_bytes=1000,
    timeout_seconds=1.0,
)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.1.2.3/feed",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchRefusedError, match="private, loopback or link-local"):
        guarded_get(url, FetchPolicy())


def test_a_public_name_that_resolves_to_a_private_address_is_refused() -> None:
    policy = FetchPolicy(resolver=_resolver({"feeds.example.com": "10.0.0.7"}))
    with pytest.raises(FetchRefusedError, match=r"feeds\.example\.com .*10\.0\.0\.7"):
        guarded_get("https://feeds.example.com/rss", policy)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/x", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http:///nohost", "names no host"),
    ],
)
def test_other_schemes_and_credentials_are_refused(url: str, message: str) -> None:
    with pytest.raises(FetchRefusedError, match=message):
        guarded_get(url, FetchPolicy())


def test_a_trusted_host_is_fetched_at_the_checked_address_under_its_own_name(port: int) -> None:
    fetched = guarded_get(f"http://blog.internal:{port}/feed", TRUSTED_BLOG)
    assert fetched.status == 200
    assert fetched.content == f"<rss>blog.internal:{port}</rss>".encode()


def test_redirects_are_followed_and_each_hop_is_checked_again(port: int) -> None:
    followed = guarded_get(f"http://blog.internal:{port}/hop", TRUSTED_BLOG)
    assert followed.url.endswith("/feed") and followed.status == 200
    with pytest.raises(FetchRefusedError, match=r"127\.0\.0\.1"):
        guarded_get(f"http://blog.internal:{port}/away", TRUSTED_BLOG)
    with pytest.raises(FetchRefusedError, match="more than 5 redirects"):
        guarded_get(f"http://blog.internal:{port}/loop", TRUSTED_BLOG)


def test_size_and_time_are_bounded(port: int) -> None:
    with pytest.raises(FetchRefusedError, match="larger than 1,000 bytes"):
        guarded_get(f"http://blog.internal:{port}/big", TRUSTED_BLOG)
    started = time.monotonic()
    with pytest.raises(FetchFailedError, match="took longer than 1 s"):
        guarded_get(f"http://blog.internal:{port}/slow", TRUSTED_BLOG)
    assert time.monotonic() - started < 1.4


def test_an_admin_may_allow_private_addresses(port: int) -> None:
    fetched = guarded_get(f"http://127.0.0.1:{port}/feed", FetchPolicy(allow_private=True))
    assert fetched.status == 200


def test_an_unreachable_host_is_a_failure_not_a_crash() -> None:
    policy = FetchPolicy(allow_private=True, timeout_seconds=2)
    with pytest.raises(FetchFailedError, match="cannot fetch"):
        guarded_get("http://127.0.0.1:9/", policy)


def test_the_operator_settings_make_the_policy() -> None:
    policy = policy_from(Settings(trusted_fetch_hosts=" Blog.Internal, ,wp.lan"))
    assert policy.trusted_hosts == {"blog.internal", "wp.lan"} and not policy.allow_private
    assert policy_from(Settings(allow_private_fetches=True)).allow_private
