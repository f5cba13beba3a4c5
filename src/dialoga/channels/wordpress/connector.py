"""The WordPress connector: reads the blog's approved comments in sweeps, oldest first, and
posts the brand's replies as comments under them.

Why sweeps overlap: WordPress holds a first-time commenter's comment for moderation
(its default), and an approved comment keeps the date it was written, so a cursor at the
last date seen would miss it. Each sweep asks for the comments written after ``since``
= the newest date seen less ``LOOKBACK`` (three days), page by page; the ids read in
that window are kept (``seen``) and not given again. Comments written in the same second
as the last one read are inside the window too, so none is missed at the boundary.

Cursor: ``{"user_id", "since", "page", "newest", "seen": {<external id>: <date>}}``;
``page`` is the next page of the current sweep (``more`` while pages remain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from dialoga.channels.base import (
    AuthExpiredError,
    ConnectorError,
    NormalizedMessage,
    OutgoingReply,
    Poll,
    SendRefusedError,
    Sent,
)
from dialoga.channels.context import ConnectorContext
from dialoga.channels.wordpress import parse
from dialoga.channels.wordpress.client import PER_PAGE, WordPressClient
from dialoga.channels.wordpress.parse import (
    comment_number,
    comments_of,
    own_user_id,
    post_of,
    reply_content,
    sent_comment,
)

NETWORK = parse.NETWORK
IDEMPOTENT_SENDS = False
LOOKBACK = timedelta(days=3)
SEEN_LIMIT = 5000


class WordPressConnector:
    """One blog's comments, read and answered as the user of its Application Password."""

    idempotent_sends = IDEMPOTENT_SENDS

    def __init__(self, site: str, client: WordPressClient, clock: Callable[[], datetime]) -> None:
        self.site = site
        self.client = client
        self.clock = clock
        self.renewed_credentials: dict[str, Any] | None = None

    def poll(self, cursor: dict[str, Any]) -> Poll:
        """Read the next page of the current sweep; a new sweep starts when one ends."""
        user = cursor.get("user_id")
        if not isinstance(user, int) or isinstance(user, bool):
            user = own_user_id(self.client.me())
        now = self.clock()
        since = _moment(cursor.get("since")) or now - LOOKBACK
        page = _page(cursor.get("page"))
        seen = _seen(cursor.get("seen"))
        payload, pages = self.client.comments(since, page)
        read = comments_of(payload, self.site, user)
        fresh = [message for message in read if message.external_id not in seen]
        seen.update({message.external_id: message.created_at.isoformat() for message in read})
        newest = _newest(_moment(cursor.get("newest")), read, now)
        more = page < pages if pages is not None else len(read) == PER_PAGE
        if more:
            page += 1
        else:  # the sweep is over: the next one starts LOOKBACK before the newest comment
            page = 1
            since = max(since, newest - LOOKBACK) if newest else since
            seen = _window(seen, since)
        following = {
            "user_id": user,
            "since": since.isoformat(),
            "page": page,
            "newest": newest.isoformat() if newest else None,
            "seen": seen,
        }
        return Poll(messages=fresh, profiles=[], cursor=following, more=more)

    def send(self, reply: OutgoingReply) -> Sent:
        """Post ``reply`` as a comment under the comment it answers, on that comment's post."""
        parent = comment_number(reply.in_reply_to)
        if parent is None:
            raise SendRefusedError(
                f"a WordPress reply answers a comment; {reply.in_reply_to!r} is not one"
            )
        post = post_of(self.client.comment(parent))
        return sent_comment(self.client.create_comment(post, parent, reply_content(reply.text)))


def build(context: ConnectorContext) -> WordPressConnector:
    """The connector of a WordPress channel: ``config["site"]``, and the credentials
    ``username`` and ``application_password``."""
    site = site_of(context.config)
    username = context.credentials.get("username")
    password = context.credentials.get("application_password")
    if not (isinstance(username, str) and username and isinstance(password, str) and password):
        raise AuthExpiredError("a WordPress channel needs a username and an application password")
    client = WordPressClient(site, username, password, context.fetch_policy)
    return WordPressConnector(site, client, context.clock)


def site_of(config: Mapping[str, Any]) -> str:
    """The blog's base address from the channel's config; https only, since the
    Application Password travels with every call."""
    site = config.get("site")
    parts = urlsplit(site.strip()) if isinstance(site, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise ConnectorError(f"site must be the blog's https:// address, not {site!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConnectorError("site must be a plain address, without query or user name")
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def _newest(
    earlier: datetime | None, read: list[NormalizedMessage], now: datetime
) -> datetime | None:
    """The newest date read so far (a comment dated in the future counts as now)."""
    dates = [min(message.created_at, now) for message in read]
    if earlier is not None:
        dates.append(earlier)
    return max(dates, default=None)


def _window(seen: dict[str, str], since: datetime) -> dict[str, str]:
    """The ids read that the next sweep can meet again: dated after ``since``, at most
    ``SEEN_LIMIT`` of the newest."""
    kept = [
        (key, date)
        for key, date in seen.items()
        if (moment := _moment(date)) is not None and moment >= since
    ]
    kept.sort(key=lambda item: item[1], reverse=True)
    return dict(kept[:SEEN_LIMIT])


def _seen(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _page(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1
