"""The feed connector: reads the channel's feeds in turn, one feed a poll, and never
answers (a feed has no way to reply).

Cursor: ``{"next": <index of the feed to read next>, "feeds": {<url>: {"etag",
"last_modified", "seen": [<entry ids of the last fetches, newest first>]}}}``. A poll
reads feed ``next`` and says ``more`` until every feed was read in this round (a feed
that fails is reported as a problem and passed over, so one dead feed does not silence
the others; a channel of one feed raises instead, and backs off); each
fetch is conditional (``If-None-Match`` / ``If-Modified-Since``), and entries whose ids
are in ``seen`` are not given again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from dialoga.channels.base import (
    ConnectorError,
    NormalizedMessage,
    OutgoingReply,
    Poll,
    SendRefusedError,
    Sent,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.rss import parse
from dialoga.channels.rss.client import fetch_feed
from dialoga.channels.rss.parse import FeedSource, read_feed
from dialoga.core.fetch import FetchPolicy

NETWORK = parse.NETWORK
IDEMPOTENT_SENDS = False
SEEN_PER_FEED = 500


class FeedConnector:
    """Polls a channel's feeds (``sources``, in config order) round-robin."""

    idempotent_sends = IDEMPOTENT_SENDS

    def __init__(
        self, sources: list[FeedSource], policy: FetchPolicy, clock: Callable[[], datetime]
    ) -> None:
        self.sources = sources
        self.policy = policy
        self.clock = clock
        self.renewed_credentials: dict[str, Any] | None = None

    def poll(self, cursor: dict[str, Any]) -> Poll:
        """Read the next feed of the round; ``more`` while the round has feeds left."""
        index = _index(cursor.get("next"), len(self.sources))
        source = self.sources[index]
        states = _mapping(cursor.get("feeds"))
        state = dict(_mapping(states.get(source.url)))
        earlier = state.get("seen")
        seen = [k for k in earlier if isinstance(k, str)] if isinstance(earlier, list) else []
        messages: list[NormalizedMessage] = []
        problems: list[str] = []
        try:
            answer = fetch_feed(
                source.url, self.policy, _str(state.get("etag")), _str(state.get("last_modified"))
            )
            if answer.document is not None:
                messages, ids = read_feed(answer.document, source, set(seen), self.clock())
                state = {
                    "etag": answer.etag,
                    "last_modified": answer.last_modified,
                    "seen": _remembered(ids, seen),
                }
        except ConnectorError as error:
            if len(self.sources) == 1:
                raise  # nothing else to read: the channel backs off
            problems.append(f"{source.url}: {error}")  # the other feeds are still read
        following = index + 1
        feeds = {
            s.url: dict(states[s.url])
            for s in self.sources
            if isinstance(states.get(s.url), Mapping)
        }
        feeds[source.url] = state
        return Poll(
            messages=messages,
            profiles=[],
            cursor={"next": following % len(self.sources), "feeds": feeds},
            more=following < len(self.sources),
            problems=problems,
        )

    def send(self, reply: OutgoingReply) -> Sent:
        """Feeds are read-only."""
        raise SendRefusedError("feeds cannot be answered; reply on the site")


def build(context: ConnectorContext) -> FeedConnector:
    """The connector of a feed channel, from its config (``feeds``, ``blog_feed``)."""
    return FeedConnector(sources_of(context.config), context.fetch_policy, context.clock)


def sources_of(config: Mapping[str, Any]) -> list[FeedSource]:
    """The feeds a channel's config names: ``feeds`` (``[{"url", "keywords"}]``) to listen
    to, then ``blog_feed``, the brand's own blog; ``ConnectorError`` when it names none or
    names one badly."""
    listened = config.get("feeds") or []
    if not isinstance(listened, list):
        raise ConnectorError("feeds must be a list of {url, keywords}")
    sources = [_listened(item) for item in listened]
    blog = config.get("blog_feed")
    if blog is not None:
        sources.append(FeedSource(_url(blog), own_blog=True))
    if not sources:
        raise ConnectorError("a feed channel needs at least one feed or a blog_feed")
    if len({source.url for source in sources}) < len(sources):
        raise ConnectorError("each feed may be named only once")
    return sources


def _listened(item: Any) -> FeedSource:
    if not isinstance(item, Mapping):
        raise ConnectorError("each entry of feeds must be {url, keywords}")
    keywords = item.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ConnectorError(f"the keywords of {item.get('url')!r} must be a list of words")
    return FeedSource(_url(item.get("url")), tuple(k for k in keywords if k.strip()))


def _url(value: Any) -> str:
    url = value.strip() if isinstance(value, str) else ""
    if not url.startswith(("http://", "https://")):
        raise ConnectorError(f"a feed address must start with http:// or https://: {value!r}")
    return url


def _remembered(ids: list[str], earlier: list[str]) -> list[str]:
    """The ids of this fetch, then those of earlier fetches, newest first, at most
    ``SEEN_PER_FEED``."""
    current = set(ids)
    return [*ids, *(key for key in earlier if key not in current)][:SEEN_PER_FEED]


def _index(value: Any, count: int) -> int:
    return value % count if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
