"""A Mastodon instance on loopback, for the tests and benchmarks that run real workers
against a network: the endpoints Dialoga's connector calls, in the documented shapes
(entities copied from ``tests/fixtures/mastodon``), with ``min_id`` paging, the
``Idempotency-Key`` Mastodon honours, and switches to stall a request (so a worker can be
killed in the middle of it)."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
BRAND = json.loads((FIXTURES / "verify_credentials.json").read_text())
MENTION = json.loads((FIXTURES / "notifications.json").read_text())[0]
TOKEN = "token-of-the-brand"


class FakeMastodon:
    """The instance's state: mentions in id order, statuses the brand posted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.notifications: list[dict[str, Any]] = []
        self.appeared_at: dict[str, float] = {}  # status id -> time.time() it appeared
        self.posted: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.stall_prefix: str | None = None
        self.stall_method = "GET"
        self.stall_after = 0
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._next_id = 1000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.network = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add_mentions(self, count: int, text: str = "Mi aiutate con l'ordine {n}?") -> list[str]:
        """``count`` new mentions of the brand by different people; their status ids."""
        added = []
        with self.lock:
            for _ in range(count):
                self._next_id += 1
                number = self._next_id
                notification = copy.deepcopy(MENTION)
                status = notification["status"]
                account = notification["account"]
                account["id"] = account["username"] = f"fan{number % 97}"
                account["acct"] = f"fan{number % 97}@fedi.example.net"
                status["account"] = account
                notification["id"] = str(number)
                status["id"] = str(10**15 + number)
                status["visibility"] = "public"
                status["content"] = f"<p>@caffe_rossi {text.format(n=number)}</p>"
                moment = datetime.now(UTC).isoformat(timespec="milliseconds")
                notification["created_at"] = status["created_at"] = moment.replace("+00:00", "Z")
                self.notifications.append(notification)
                self.appeared_at[status["id"]] = time.time()
                added.append(status["id"])
        return added

    def notifications_after(self, min_id: str | None, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            if min_id is None:
                page = self.notifications[-limit:]
            else:
                page = [n for n in self.notifications if int(n["id"]) > int(min_id)][:limit]
        return list(reversed(page))  # Mastodon answers newest first

    def post(self, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        with self.lock:
            if key and key in self.by_key:
                return self.by_key[key]
            self._next_id += 1
            status = copy.deepcopy(MENTION["status"])
            status.update(
                id=str(2 * 10**15 + self._next_id),
                content=f"<p>{body.get('status', '')}</p>",
                in_reply_to_id=body.get("in_reply_to_id"),
                visibility=body.get("visibility", "public"),
                account=BRAND,
                url=f"https://mastodon.example/@caffe_rossi/{self._next_id}",
            )
            self.posted.append(status)
            if key:
                self.by_key[key] = status
            return status

    def status(self, status_id: str) -> dict[str, Any] | None:
        with self.lock:
            for notification in self.notifications:
                if notification["status"]["id"] == status_id:
                    return dict(notification["status"])
        return None

    def stall(self, method: str, prefix: str, after: int = 0) -> None:
        """Let ``after`` requests whose path starts with ``prefix`` pass, then hold the
        next one (after acting on it: a post is made) until ``release`` is set."""
        self.release.clear()
        self.stalled.clear()
        self.stall_method, self.stall_after, self.stall_prefix = method, after, prefix

    def should_stall(self, method: str, path: str) -> bool:
        with self.lock:
            if not self.stall_prefix or method != self.stall_method:
                return False
            if not path.startswith(self.stall_prefix):
                return False
            if self.stall_after > 0:
                self.stall_after -= 1
                return False
            self.stall_prefix = None
            return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def network(self) -> FakeMastodon:
        found: FakeMastodon = self.server.network  # type: ignore[attr-defined]
        return found

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        if not self._authorised():
            return
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/api/v1/accounts/verify_credentials":
            self._json(BRAND)
        elif parts.path == "/api/v1/notifications":
            limit = int(query.get("limit", "40"))
            self._json(self.network.notifications_after(query.get("min_id"), limit))
        elif parts.path.endswith("/followers"):
            self._json([])
        elif parts.path.startswith("/api/v1/statuses/"):
            found = self.network.status(parts.path.rsplit("/", 1)[-1])
            self._json(found or {"error": "Record not found"}, 200 if found else 404)
        else:
            self._json({"error": "Not found"}, 404)

    def do_POST(self) -> None:
        if not self._authorised():
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if urlsplit(self.path).path != "/api/v1/statuses":
            self._json({"error": "Not found"}, 404)
            return
        self._json(self.network.post(body, self.headers.get("Idempotency-Key")))

    def _authorised(self) -> bool:
        self.network.requests.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._json({"error": "The access token is invalid"}, 401)
            return False
        return True

    def _json(self, payload: Any, status: int = 200) -> None:
        if self.network.should_stall(self.command, self.path):
            self.network.stalled.set()
            self.network.release.wait(timeout=60)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def running_mastodon() -> Iterator[FakeMastodon]:
    network = FakeMastodon()
    thread = threading.Thread(target=network.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield network
    finally:
        network.release.set()
        network.server.shutdown()
        network.server.server_close()


def connect_channel(runtime: Any, workspace_id: int, network: FakeMastodon, name: str) -> int:
    """A live Mastodon channel of the workspace on ``network``, polled every 5 seconds."""
    from dialoga.channels.actions import do_get_or_create_channel
    from dialoga.channels.credentials import do_set_credentials
    from dialoga.channels.sync import do_connect_live
    from dialoga.core.db import transaction
    from dialoga.core.vault import Secret

    with transaction(runtime.sessions) as session:
        channel = do_get_or_create_channel(
            session, workspace_id, name, "mastodon", actor="test", handle="caffe_rossi"
        )
        secret = Secret({"access_token": TOKEN})
        do_set_credentials(session, channel, secret, runtime.vault, actor="test")
        do_connect_live(session, channel, 5, datetime.now(UTC), {"instance": network.url})
        return int(channel.id)
