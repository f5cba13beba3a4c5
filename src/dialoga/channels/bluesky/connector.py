"""The Bluesky connector: polls the brand account's notifications for mentions, replies
and quotes, sweeps its followers once a day, and sends replies with correct thread
references under a record key derived from the reply's key (so a repeated send cannot
post twice).

Cursor (JSON): ``{"seen": <mark>, "walk": {"page": <listNotifications cursor>, "top":
<mark>}, "followers_page": <getFollowers cursor, during a sweep>, "followers_swept_at":
<ISO time the last sweep ended>}``, where a mark is ``{"at": <indexedAt>, "uris": [the
notification uris with exactly that indexedAt]}``.

Notifications come newest first, with a cursor to older pages. ``seen`` marks the newest
notification already delivered. A poll reads the newest page and keeps what is newer
than ``seen``; when that page is entirely newer (more arrived since the last poll than
one page holds), the poll returns it with ``more=True`` and a ``walk``: the cursor of the
next older page and the ``top`` mark of the first page. The following polls continue
down those older pages, one per poll, until a page reaches back past ``seen``. Only then
does ``seen`` move up to ``top``. So: the cursor never moves past what a Poll returned;
a poll killed mid-walk is redone from the stored page; and notifications that arrive
during a walk are newer than ``top``, so the next walk from the head picks them up.
Older pages stay put while new notifications arrive (their cursor is a time), so a walk
neither skips nor repeats. The first poll (``{}``) takes the newest page only.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dialoga.channels.base import (
    NetworkUnavailableError,
    NormalizedMessage,
    NormalizedProfile,
    OutgoingReply,
    Poll,
    SendRefusedError,
    Sent,
)
from dialoga.channels.bluesky import parse
from dialoga.channels.bluesky.client import DEFAULT_SERVICE, BlueskyClient, Login
from dialoga.channels.bluesky.parse import POST_COLLECTION, Notification, Session
from dialoga.channels.context import ConnectorContext
from dialoga.core.fetch import FetchPolicy

NETWORK = parse.NETWORK
NOTIFICATIONS_PAGE = 50
FOLLOWERS_PAGE = 100
PROFILES_PER_CALL = 25  # getProfiles takes at most 25 actors
FOLLOWER_SWEEP_EVERY = timedelta(days=1)
MAX_GRAPHEMES = 300  # app.bsky.feed.post text: maxGraphemes 300, maxLength 3000 (bytes)
MAX_BYTES = 3000

# Record keys: a TID is 13 base32-sortable characters for a 64-bit number (top bit 0, 53
# bits of microseconds since 1970, 10 bits of "clock id"). Ours come from a hash of the
# reply's key, so every attempt at the same reply names the same record and a repeat
# cannot make a second post. The timestamp part is kept inside a fixed window in the past
# (2023-01-01 plus up to 2^44 µs, about 203 days): a TID is only a sort hint for the
# repository (the app orders posts by createdAt), and one dated in the future could be
# refused or misfiled by services; hash collisions between replies stay negligible
# (54 bits).
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_WINDOW_START_US = 1_672_531_200_000_000
TID_WINDOW_BITS = 44


@dataclass(frozen=True, slots=True)
class Mark:
    """How far notifications were read: the newest ``indexedAt`` and the uris at it."""

    at: datetime
    uris: frozenset[str]

    def covers(self, notification: Notification) -> bool:
        """True when ``notification`` was already delivered up to this mark."""
        if notification.indexed_at == self.at:
            return notification.uri in self.uris
        return notification.indexed_at < self.at

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "uris": sorted(self.uris)}


class BlueskyConnector:
    """One Bluesky account on its service (config ``service``)."""

    idempotent_sends = True

    def __init__(
        self,
        service: str,
        credentials: Mapping[str, Any],
        policy: FetchPolicy,
        clock: Callable[[], datetime],
        identifier: str | None = None,
    ) -> None:
        self.service = service
        self.credentials = dict(credentials)
        self.policy = policy
        self.clock = clock
        self.identifier = _text(credentials.get("identifier")) or identifier
        self.renewed_credentials: dict[str, Any] | None = None

    def poll(self, cursor: dict[str, Any]) -> Poll:
        """One page of notifications, then one page of followers when a sweep is due."""
        with self._client() as client:
            brand = client.session.did
            messages, notes, more_messages = _notifications(client, cursor, brand)
            profiles, sweep = self._followers(client, cursor, brand)
        more = more_messages or "followers_page" in sweep
        return Poll(messages=messages, profiles=profiles, cursor=notes | sweep, more=more)

    def send(self, reply: OutgoingReply) -> Sent:
        """Post ``reply.text`` as an answer to the post ``reply.in_reply_to``, under the
        record key derived from ``reply.key``."""
        parent_uri = _checked(reply)
        with self._client() as client:
            found = client.query("app.bsky.feed.getPosts", {"uris": [parent_uri]}, SendRefusedError)
            refs = parse.reply_refs(found, parent_uri)
            if refs is None:
                raise SendRefusedError(f"Bluesky: the post {parent_uri} is gone; not answered")
            record = {
                "$type": POST_COLLECTION,
                "text": reply.text,
                "createdAt": _atproto_time(self.clock()),
                "reply": refs,
            }
            return _create_post(client, record, reply, parent_uri)

    def _client(self) -> BlueskyClient:
        return BlueskyClient(
            self.service,
            self.policy,
            _stored_session(self.credentials),
            Login(self.identifier, _text(self.credentials.get("app_password"))),
            self._store_session,
        )

    def _store_session(self, session: Session) -> None:
        """Keep a new session, for this connector's next call and for the caller to store."""
        self.credentials |= {
            "identifier": self.identifier or session.handle or session.did,
            "access_jwt": session.access_jwt,
            "refresh_jwt": session.refresh_jwt,
            "did": session.did,
            "handle": session.handle,
        }
        self.renewed_credentials = dict(self.credentials)

    def _followers(
        self, client: BlueskyClient, cursor: Mapping[str, Any], brand: str
    ) -> tuple[list[NormalizedProfile], dict[str, Any]]:
        """One page of followers when a sweep is due or under way, and the sweep's cursor.
        ``getFollowers`` gives no counts, so each page costs one ``getProfiles`` call per
        25 followers more."""
        swept_at = parse.moment_or_none(cursor.get("followers_swept_at"))
        page_cursor = _text(cursor.get("followers_page"))
        done = {"followers_swept_at": swept_at.isoformat()} if swept_at else {}
        now = self.clock()
        if page_cursor is None and swept_at is not None and now - swept_at < FOLLOWER_SWEEP_EVERY:
            return [], done
        params: dict[str, Any] = {"actor": brand, "limit": FOLLOWERS_PAGE}
        if page_cursor:
            params["cursor"] = page_cursor
        page = parse.followers_page(client.query("app.bsky.graph.getFollowers", params))
        detailed = _detailed(client, [view["did"] for view in page.items])
        profiles = [parse.profile_of(view, detailed.get(view["did"]), now) for view in page.items]
        if page.cursor and page.items:
            return profiles, done | {"followers_page": page.cursor}
        return profiles, {"followers_swept_at": now.isoformat()}


def build(context: ConnectorContext) -> BlueskyConnector:
    """The connector of one channel: config ``service`` (default ``https://bsky.social``);
    credentials ``identifier`` and ``app_password``, plus the session it stores."""
    service = _text(context.config.get("service")) or DEFAULT_SERVICE
    return BlueskyConnector(
        service, context.credentials, context.fetch_policy, context.clock, context.handle
    )


def record_key(key: str) -> str:
    """The TID record key of the post that sends the reply with Dialoga key ``key``."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    offset = (digest >> 10) & ((1 << TID_WINDOW_BITS) - 1)
    return tid(TID_WINDOW_START_US + offset, digest & 0x3FF)


def tid(timestamp_us: int, clock_id: int) -> str:
    """The TID of a microsecond timestamp and a 10-bit clock id."""
    value = (timestamp_us << 10) | (clock_id & 0x3FF)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def grapheme_count(text: str) -> int:
    """About how many user-perceived characters (UAX #29 grapheme clusters) ``text`` has:
    combining marks, variation selectors, skin tones, tags and ZWJ sequences join the
    character before, regional indicators pair into flags, CR LF is one. The network's
    own count stays final (its refusal is ``SendRefusedError`` too)."""
    count, previous, open_flag = 0, "", False
    for char in text:
        if _extends(char) or previous == "\u200d" or (previous == "\r" and char == "\n"):
            pass
        elif open_flag and _regional(char):
            open_flag = False
        else:
            count += 1
            open_flag = _regional(char)
        previous = char
    return count


def _extends(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in {"Mn", "Me", "Mc"}
        or char == "\u200d"
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0xE0100 <= code <= 0xE01EF
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


# --- polling ---------------------------------------------------------------------------


def _notifications(
    client: BlueskyClient, cursor: Mapping[str, Any], brand: str
) -> tuple[list[NormalizedMessage], dict[str, Any], bool]:
    """One page of notifications (see the module docstring): its messages, the
    notification part of the next cursor, and whether an older unread page waits."""
    seen = _mark(cursor.get("seen"))
    walk = cursor.get("walk") if isinstance(cursor.get("walk"), Mapping) else None
    page_cursor = _text(walk.get("page")) if walk else None
    params: dict[str, Any] = {"limit": NOTIFICATIONS_PAGE, "reasons": sorted(parse.MESSAGE_REASONS)}
    if page_cursor:
        params["cursor"] = page_cursor
    page = parse.notifications_page(client.query("app.bsky.notification.listNotifications", params))
    fresh = [item for item in page.items if seen is None or not seen.covers(item)]
    found = (parse.message_of(item, brand) for item in fresh)
    messages = [message for message in found if message is not None]
    top = (_mark(walk.get("top")) if walk and page_cursor else None) or _top(page.items)
    oldest = min((item.indexed_at for item in page.items), default=None)
    if seen is not None and page.cursor and oldest is not None and oldest >= seen.at:
        # This page is all unread and older ones may be too: go on walking down.
        walk_on = {"page": page.cursor, "top": top.as_json() if top else None}
        return messages, {"seen": seen.as_json(), "walk": walk_on}, True
    newest = _later(seen, top)
    return messages, ({"seen": newest.as_json()} if newest else {}), False


def _top(items: list[Notification]) -> Mark | None:
    if not items:
        return None
    at = max(item.indexed_at for item in items)
    return Mark(at, frozenset(item.uri for item in items if item.indexed_at == at))


def _later(one: Mark | None, other: Mark | None) -> Mark | None:
    if one is None or other is None:
        return one or other
    if one.at == other.at:
        return Mark(one.at, one.uris | other.uris)
    return one if one.at > other.at else other


def _mark(value: Any) -> Mark | None:
    """A mark stored in the cursor; ``None`` when missing or unreadable (start afresh)."""
    at = parse.moment_or_none(value.get("at")) if isinstance(value, Mapping) else None
    if at is None:
        return None
    listed = value.get("uris")
    uris = (
        frozenset(uri for uri in listed if isinstance(uri, str))
        if isinstance(listed, list)
        else frozenset()
    )
    return Mark(at, uris)


def _detailed(client: BlueskyClient, dids: list[str]) -> dict[str, Mapping[str, Any]]:
    """The detailed profiles (with counts) of ``dids``, 25 per ``getProfiles`` call."""
    found: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(dids), PROFILES_PER_CALL):
        batch = dids[start : start + PROFILES_PER_CALL]
        payload = client.query("app.bsky.actor.getProfiles", {"actors": batch})
        found |= parse.detailed_profiles(payload)
    return found


# --- sending ---------------------------------------------------------------------------


def _checked(reply: OutgoingReply) -> str:
    """The AT URI the reply answers, or ``SendRefusedError`` before any call."""
    parent = reply.in_reply_to or ""
    if not parent.startswith("at://did:") or f"/{POST_COLLECTION}/" not in parent:
        raise SendRefusedError("a Bluesky reply needs the AT URI of the post it answers")
    if not reply.text.strip():
        raise SendRefusedError("Bluesky: the reply is empty")
    graphemes, size = grapheme_count(reply.text), len(reply.text.encode())
    if graphemes > MAX_GRAPHEMES or size > MAX_BYTES:
        raise SendRefusedError(
            f"Bluesky posts hold at most {MAX_GRAPHEMES} characters and {MAX_BYTES} bytes; "
            f"this reply has {graphemes} characters, {size} bytes"
        )
    return parent


def _create_post(
    client: BlueskyClient, record: dict[str, Any], reply: OutgoingReply, parent_uri: str
) -> Sent:
    session = client.session
    rkey = record_key(reply.key)
    body = {"repo": session.did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
    try:
        made = client.procedure("com.atproto.repo.createRecord", body, SendRefusedError)
    except (SendRefusedError, NetworkUnavailableError):
        # Bluesky's PDS answers a create at a taken key with a 500 (atproto#3718), other
        # servers with a 4xx: either way, a post already under our key is this reply,
        # made by an earlier attempt whose outcome was lost.
        earlier = _earlier_attempt(client, session, rkey, reply, parent_uri)
        if earlier is None:
            raise
        return earlier
    uri = parse.created_uri(made)
    return Sent(external_id=uri, url=parse.post_url(uri, session.handle))


def _earlier_attempt(
    client: BlueskyClient, session: Session, rkey: str, reply: OutgoingReply, parent_uri: str
) -> Sent | None:
    """The post an earlier attempt at ``reply`` made under ``rkey``, if there is one."""
    payload = client.get_record(session.did, POST_COLLECTION, rkey)
    if payload is None:
        return None
    post = parse.existing_post(payload)
    if post.text != reply.text or post.parent_uri != parent_uri:
        raise SendRefusedError(f"Bluesky: the record key {rkey} holds another post")
    return Sent(external_id=post.uri, url=parse.post_url(post.uri, session.handle))


def _stored_session(credentials: Mapping[str, Any]) -> Session | None:
    access, refresh = _text(credentials.get("access_jwt")), _text(credentials.get("refresh_jwt"))
    did = _text(credentials.get("did"))
    if not (access and refresh and did):
        return None
    return Session(did, _text(credentials.get("handle")), access, refresh)


def _atproto_time(moment: datetime) -> str:
    """A datetime as atproto writes it: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
