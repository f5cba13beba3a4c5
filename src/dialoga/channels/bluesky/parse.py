"""Bluesky's XRPC answers turned into Dialoga's shapes: pure functions, no I/O.

Shapes follow the lexicons: ``com.atproto.server.createSession`` / ``refreshSession``,
``app.bsky.notification.listNotifications``, ``app.bsky.graph.getFollowers``,
``app.bsky.actor.getProfiles``, ``app.bsky.feed.getPosts``, ``com.atproto.repo.createRecord``
and ``getRecord``. Anything not in the documented shape is ``MalformedPayloadError``; post
text is plain text (the lexicon has no markup), so it is kept exactly as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialoga.channels.base import (
    MalformedPayloadError,
    MessageKind,
    NormalizedAuthor,
    NormalizedMessage,
    NormalizedProfile,
)

NETWORK = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
# The notification reasons that are conversations; likes, reposts and follows are not.
MESSAGE_REASONS = frozenset({"mention", "reply", "quote"})
INVALID_HANDLE = "handle.invalid"
APP_URL = "https://bsky.app"


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in session: the account's DID and handle, and its two tokens (never shown
    in a repr)."""

    did: str
    handle: str | None
    access_jwt: str = field(repr=False)
    refresh_jwt: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Notification:
    """One entry of ``listNotifications``, checked; ``record`` is the post it is about."""

    uri: str
    reason: str
    indexed_at: datetime
    author: Mapping[str, Any]
    record: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated list and the cursor of the next (older) page, if any."""

    items: list[Any]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class ExistingPost:
    """A post record read back with ``getRecord``: enough to tell whether we wrote it."""

    uri: str
    text: str
    parent_uri: str | None


def session_of(payload: Any) -> Session:
    """The session in a ``createSession`` or ``refreshSession`` answer."""
    body = _mapping(payload, "Bluesky session")
    return Session(
        did=_did(body.get("did"), "Bluesky session"),
        handle=_optional_text(body, "handle", "Bluesky session"),
        access_jwt=_text(body, "accessJwt", "Bluesky session"),
        refresh_jwt=_text(body, "refreshJwt", "Bluesky session"),
    )


def xrpc_error(payload: Any) -> tuple[str, str]:
    """The ``error`` name and ``message`` of an XRPC error body ("" when absent)."""
    if not isinstance(payload, Mapping):
        return "", ""
    error, message = payload.get("error"), payload.get("message")
    return (error if isinstance(error, str) else ""), (message if isinstance(message, str) else "")


def notifications_page(payload: Any) -> Page:
    """A ``listNotifications`` page, newest first, each entry checked."""
    body = _mapping(payload, "Bluesky notifications")
    items = [
        _notification(entry) for entry in _list(body, "notifications", "Bluesky notifications")
    ]
    return Page(items, _optional_text(body, "cursor", "Bluesky notifications"))


def message_of(notification: Notification, brand_did: str | None) -> NormalizedMessage | None:
    """The message a mention, reply or quote notification carries; ``None`` for the
    other reasons (like, repost, follow, ...)."""
    if notification.reason not in MESSAGE_REASONS:
        return None
    where = f"Bluesky post {notification.uri}"
    record = notification.record
    author = author_of(notification.author, brand_did)
    parent, root = _reply_uris(record, where)
    quoted = _quoted_uri(record, where)
    kind: MessageKind = "reply" if notification.reason == "reply" else "mention"
    return NormalizedMessage(
        external_id=notification.uri,
        author=author,
        created_at=moment_or_none(record.get("createdAt")) or notification.indexed_at,
        text=_text(record, "text", where, allow_empty=True),
        kind=kind,
        in_reply_to=parent,
        references=tuple(dict.fromkeys(uri for uri in (root, parent, quoted) if uri)),
        language=_first_language(record.get("langs")),
        url=post_url(notification.uri, author.handle),
    )


def author_of(view: Any, brand_did: str | None) -> NormalizedAuthor:
    """The author of a post, from its ``profileView``."""
    body = _mapping(view, "Bluesky author")
    did = _did(body.get("did"), "Bluesky author")
    return NormalizedAuthor(
        network=NETWORK,
        external_id=did,
        handle=_text(body, "handle", "Bluesky author"),
        display_name=_optional_text(body, "displayName", "Bluesky author") or None,
        is_brand=did == brand_did,
    )


def followers_page(payload: Any) -> Page:
    """A ``getFollowers`` page: its ``profileView`` entries (each a mapping with a DID)."""
    body = _mapping(payload, "Bluesky followers")
    views = _list(body, "followers", "Bluesky followers")
    for view in views:
        _did(_mapping(view, "Bluesky follower").get("did"), "Bluesky follower")
    return Page(views, _optional_text(body, "cursor", "Bluesky followers"))


def detailed_profiles(payload: Any) -> dict[str, Mapping[str, Any]]:
    """The ``profileViewDetailed`` entries of a ``getProfiles`` answer, by DID."""
    body = _mapping(payload, "Bluesky profiles")
    views = [
        _mapping(view, "Bluesky profile") for view in _list(body, "profiles", "Bluesky profiles")
    ]
    return {_did(view.get("did"), "Bluesky profile"): view for view in views}


def profile_of(
    view: Any, detailed: Mapping[str, Any] | None, seen_at: datetime
) -> NormalizedProfile:
    """A follower's profile: counts, banner and website come only from the detailed view
    (``None`` when it is missing, e.g. an account deleted meanwhile)."""
    basic = _mapping(view, "Bluesky follower")
    body = detailed or basic
    where = "Bluesky profile"
    handle = _text(body, "handle", where)
    return NormalizedProfile(
        network=NETWORK,
        external_id=_did(body.get("did"), where),
        relation="follower",
        handle=handle,
        display_name=_optional_text(body, "displayName", where) or None,
        bio=_optional_text(body, "description", where) or None,
        followers_count=_count(body, "followersCount"),
        following_count=_count(body, "followsCount"),
        posts_count=_count(body, "postsCount"),
        account_created_at=moment_or_none(body.get("createdAt")),
        default_avatar=not body.get("avatar"),
        default_banner=None if detailed is None else not detailed.get("banner"),
        profile_url=f"{APP_URL}/profile/{handle}",
        website=None if detailed is None else _optional_text(detailed, "website", where),
        verified=_verified(body.get("verification")),
        seen_at=seen_at,
    )


def reply_refs(payload: Any, parent_uri: str) -> dict[str, dict[str, str]] | None:
    """The ``reply`` field of a post answering ``parent_uri``, from a ``getPosts`` answer:
    the parent's strong ref, and the root of its thread (the parent's own root when the
    parent is a reply, else the parent). ``None`` when the parent is not there (deleted)."""
    body = _mapping(payload, "Bluesky posts")
    for entry in _list(body, "posts", "Bluesky posts"):
        post = _mapping(entry, "Bluesky post")
        if post.get("uri") != parent_uri:
            continue
        where = f"Bluesky post {parent_uri}"
        parent = {"uri": parent_uri, "cid": _text(post, "cid", where)}
        thread = _mapping(post.get("record"), where).get("reply")
        if thread is None:
            return {"root": parent, "parent": parent}
        return {"root": _strong_ref(_mapping(thread, where).get("root"), where), "parent": parent}
    return None


def created_uri(payload: Any) -> str:
    """The AT URI of the record a ``createRecord`` answer says it made."""
    return _at_uri(_mapping(payload, "Bluesky new post").get("uri"), "Bluesky new post")


def existing_post(payload: Any) -> ExistingPost:
    """The post record in a ``getRecord`` answer."""
    body = _mapping(payload, "Bluesky record")
    uri = _at_uri(body.get("uri"), "Bluesky record")
    value = _mapping(body.get("value"), f"Bluesky record {uri}")
    parent, _root = _reply_uris(value, f"Bluesky record {uri}")
    return ExistingPost(
        uri, _text(value, "text", f"Bluesky record {uri}", allow_empty=True), parent
    )


def post_url(uri: str, handle: str | None) -> str:
    """The bsky.app address of a post, by its author's handle (the DID when the handle
    does not resolve)."""
    did, collection, rkey = _uri_parts(uri)
    if collection != POST_COLLECTION:
        raise MalformedPayloadError(f"Bluesky: {uri[:120]!r} is not a post")
    profile = handle if handle and handle != INVALID_HANDLE else did
    return f"{APP_URL}/profile/{profile}/post/{rkey}"


def moment(value: Any, where: str) -> datetime:
    """An atproto datetime (RFC 3339, any fraction) as aware UTC."""
    found = moment_or_none(value)
    if found is None:
        raise MalformedPayloadError(f"{where}: {str(value)[:40]!r} is not a date and time")
    return found


def moment_or_none(value: Any) -> datetime | None:
    """An atproto datetime as aware UTC, or ``None`` when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace("z", "Z")
    head, dot, rest = text.partition(".")
    if dot:  # atproto allows any number of fraction digits; Python reads at most six
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}" if digits else head + rest
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


# --- checks ----------------------------------------------------------------------------


def _notification(entry: Any) -> Notification:
    body = _mapping(entry, "Bluesky notification")
    uri = _at_uri(body.get("uri"), "Bluesky notification")
    where = f"Bluesky notification {uri}"
    return Notification(
        uri=uri,
        reason=_text(body, "reason", where),
        indexed_at=moment(body.get("indexedAt"), where),
        author=_mapping(body.get("author"), where),
        record=_mapping(body.get("record"), where),
    )


def _reply_uris(record: Mapping[str, Any], where: str) -> tuple[str | None, str | None]:
    """(parent, root) AT URIs of a post that is a reply, else (None, None)."""
    thread = record.get("reply")
    if thread is None:
        return None, None
    thread = _mapping(thread, where)
    return (
        _strong_ref(thread.get("parent"), where)["uri"],
        _strong_ref(thread.get("root"), where)["uri"],
    )


def _quoted_uri(record: Mapping[str, Any], where: str) -> str | None:
    """The post a quote embeds: ``app.bsky.embed.record`` carries it in ``record``,
    ``app.bsky.embed.recordWithMedia`` one level deeper."""
    embed = record.get("embed")
    if not isinstance(embed, Mapping):
        return None
    kind = embed.get("$type")
    if kind == "app.bsky.embed.record":
        return _strong_ref(embed.get("record"), where)["uri"]
    if kind == "app.bsky.embed.recordWithMedia":
        inner = _mapping(embed.get("record"), where)
        return _strong_ref(inner.get("record"), where)["uri"]
    return None


def _strong_ref(value: Any, where: str) -> dict[str, str]:
    body = _mapping(value, where)
    return {"uri": _at_uri(body.get("uri"), where), "cid": _text(body, "cid", where)}


def _verified(value: Any) -> bool | None:
    if not isinstance(value, Mapping):
        return None
    status = value.get("verifiedStatus")
    return status == "valid" if isinstance(status, str) else None


def _first_language(value: Any) -> str | None:
    if isinstance(value, Sequence) and not isinstance(value, str) and value:
        first = value[0]
        return first if isinstance(first, str) and first else None
    return None


def _count(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayloadError(f"Bluesky profile: {key} is not a number")
    return value


def _uri_parts(uri: str) -> tuple[str, str, str]:
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts):
        raise MalformedPayloadError(f"Bluesky: {uri[:120]!r} is not a record's AT URI")
    return parts[0], parts[1], parts[2]


def _at_uri(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise MalformedPayloadError(f"{where}: the record's uri is missing")
    _uri_parts(value)
    return value


def _did(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("did:"):
        raise MalformedPayloadError(f"{where}: the account's DID is missing")
    return value


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedPayloadError(f"{where}: expected an object")
    return value


def _list(body: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list):
        raise MalformedPayloadError(f"{where}: {key} is not a list")
    return value


def _text(body: Mapping[str, Any], key: str, where: str, allow_empty: bool = False) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not (value or allow_empty):
        raise MalformedPayloadError(f"{where}: {key} is missing or not text")
    return value


def _optional_text(body: Mapping[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedPayloadError(f"{where}: {key} is not text")
    return value
