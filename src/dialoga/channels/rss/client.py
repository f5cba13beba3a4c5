"""Fetching one feed: a guarded, bounded, conditional GET, decoded by feedparser from the
bytes fetched (feedparser is never handed a URL or a path, so it fetches and opens nothing).

The answer is read as ``channels/http.py`` reads API answers: 429 is ``RateLimitedError``
with the wait the site asked for, 5xx and unreachable sites are
``NetworkUnavailableError``; any other answer but 200 and 304 (a 404, a 403), and a fetch
the guard refuses (a private address, a feed past the size limit), is a
``ConnectorError`` with its reason.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import feedparser

from dialoga.channels.base import ConnectorError, NetworkUnavailableError, RateLimitedError
from dialoga.channels.http import retry_after
from dialoga.core.fetch import FetchFailedError, FetchPolicy, FetchRefusedError, guarded_get

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
USER_AGENT = "Dialoga feed reader"


@dataclass(frozen=True, slots=True)
class FeedAnswer:
    """A feed as fetched: feedparser's document, or None when unchanged (304), and the
    validators to send next time."""

    document: dict[str, Any] | None
    etag: str | None = None
    last_modified: str | None = None


def fetch_feed(
    url: str, policy: FetchPolicy, etag: str | None = None, last_modified: str | None = None
) -> FeedAnswer:
    """GET the feed at ``url``, conditionally when validators from the last fetch are given."""
    headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        fetched = guarded_get(url, policy, headers=headers)
    except FetchFailedError as error:
        raise NetworkUnavailableError(f"feed {url}: {error}") from None
    except FetchRefusedError as error:
        raise ConnectorError(f"feed {url}: {error}") from None
    status = fetched.status
    if status == 304:
        return FeedAnswer(None, etag, last_modified)
    if status == 429:
        wait = retry_after(fetched.headers)
        raise RateLimitedError(f"feed {url}: rate limited (429)", retry_after=wait)
    if status >= 500:
        wait = retry_after(fetched.headers)
        raise NetworkUnavailableError(f"feed {url}: the site answered {status}", wait)
    if status != 200:
        raise ConnectorError(f"feed {url}: the site answered {status}, not a feed")
    document = decode_feed(fetched.content, fetched.url, fetched.headers.get("content-type"))
    return FeedAnswer(document, fetched.headers.get("etag"), fetched.headers.get("last-modified"))


def decode_feed(content: bytes, url: str, content_type: str | None = None) -> dict[str, Any]:
    """feedparser's reading of a feed's bytes; relative links resolve against ``url``. A
    site that names no content type is taken to send XML (feedparser would call the feed
    broken for that alone)."""
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    return dict(feedparser.parse(io.BytesIO(content), response_headers=headers))
