"""A news site on loopback serving the listening feed fixture (``tests/fixtures/rss``),
for the tests that run real commands or a real browser against a feed; ``status``
makes it fail (500, say) from the next request on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FEED = (Path(__file__).parent / "fixtures" / "rss" / "listening.xml").read_bytes()


class FeedSite(ThreadingHTTPServer):
    """The site: ``url`` of its feed, and the ``status`` it answers with."""

    status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/feed/"


class _Feed(BaseHTTPRequestHandler):
    server: FeedSite

    def do_GET(self) -> None:
        status = self.server.status
        body = FEED if status == 200 else b"gone"
        self.send_response(status)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def serving_feed() -> Iterator[FeedSite]:
    site = FeedSite(("127.0.0.1", 0), _Feed)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        site.shutdown()
        site.server_close()
