"""Mastodon's API entities (Notification, Status, Account, Application, Token) as Dialoga's
normalized shapes.

Pure: it reads decoded JSON and imports only ``channels.base``. An answer not shaped as
docs.joinmastodon.org documents it (an id missing, a number where a string belongs) is
``MalformedPayloadError``, never a ``KeyError``.

A status becomes a ``dm`` when its visibility is ``direct``, a ``reply`` when it answers
another status, else a ``mention``. A direct status reaches exactly the accounts it
mentions, so its ``thread_key`` names those people (the author and the mentioned
accounts, the brand left out): every private exchange with the same people is one
conversation, as in a chat inbox. The content warning (``spoiler_text``, which Mastodon
documents as a subject line) becomes the message's ``subject``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from dialoga.channels.base import (
    MalformedPayloadError,
    MessageKind,
    NormalizedAuthor,
    NormalizedMessage,
    NormalizedProfile,
    Sent,
    html_to_text,
)

NETWORK = "mastodon"
DEFAULT_AVATAR = "/avatars/original/missing.png"
DEFAULT_HEADER = "/headers/original/missing.png"
VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})
DM_THREAD_PREFIX = "mastodon-dm:"
_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_LOCATION_FIELDS = frozenset({"location", "based in", "lives in", "where"})


# --- notifications and statuses --------------------------------------------------------


def read_notifications(
    payload: Any, brand_id: str | None
) -> tuple[list[NormalizedMessage], list[str]]:
    """The messages of a page of notifications (mentions whose status is still there)
    and the ids of every notification on the page, whatever its type."""
    messages: list[NormalizedMessage] = []
    ids: list[str] = []
    for item in _list(payload, "notifications"):
        notification = _dict(item, "notification")
        ids.append(_id(notification, "id", "notification"))
        status = notification.get("status")
        if _text(notification, "type", "notification") == "mention" and status is not None:
            messages.append(status_message(status, brand_id))
    return messages, ids


def newest_id(ids: Iterable[str], since: str | None = None) -> str | None:
    """The newest of ``ids`` and ``since``: Mastodon's ids are numbers written as strings
    (other servers' are fixed-length sortable strings), so a longer id is a newer one."""
    newest = since
    for key in ids:
        if newest is None or (len(key), key) > (len(newest), newest):
            newest = key
    return newest


def status_message(status: Any, brand_id: str | None) -> NormalizedMessage:
    """One Status entity as a message."""
    entry = _dict(status, "status")
    author = author_of(entry.get("account"), brand_id)
    in_reply_to = _optional_id(entry, "in_reply_to_id", "status")
    direct = _visibility(entry) == "direct"
    kind: MessageKind = "dm" if direct else "reply" if in_reply_to else "mention"
    return NormalizedMessage(
        external_id=_id(entry, "id", "status"),
        author=author,
        created_at=_moment(entry, "created_at", "status"),
        text=html_to_text(_text(entry, "content", "status")),
        kind=kind,
        in_reply_to=in_reply_to,
        thread_key=_dm_thread(entry, author, brand_id) if direct else None,
        subject=_optional_text(entry, "spoiler_text", "status") or None,
        language=_optional_text(entry, "language", "status") or None,
        url=_optional_text(entry, "url", "status") or _optional_text(entry, "uri", "status"),
    )


def author_of(account: Any, brand_id: str | None = None) -> NormalizedAuthor:
    """The Account entity that wrote a status, as its author."""
    entry = _dict(account, "account")
    external_id = _id(entry, "id", "account")
    return NormalizedAuthor(
        network=NETWORK,
        external_id=external_id,
        handle=_text(entry, "acct", "account"),
        display_name=_optional_text(entry, "display_name", "account") or None,
        is_brand=external_id == brand_id,
    )


def _dm_thread(status: Mapping[str, Any], author: NormalizedAuthor, brand_id: str | None) -> str:
    people = {author.external_id}
    for item in _optional_list(status, "mentions", "status"):
        people.add(_id(_dict(item, "mention"), "id", "mention"))
    people.discard(brand_id or "")
    return DM_THREAD_PREFIX + ",".join(sorted(people, key=lambda key: (len(key), key)))


def reply_visibility(parent: Any) -> str:
    """The visibility of a public answer to ``parent``: the parent's own, so an answer is
    never seen by more people than the status it answers (``private`` for a visibility
    this code does not know)."""
    visibility = _visibility(_dict(parent, "status"))
    return visibility if visibility in VISIBILITIES else "private"


def parent_author(parent: Any) -> str:
    """The ``acct`` of the author of a status, as this instance names them."""
    return _text(_dict(_dict(parent, "status").get("account"), "account"), "acct", "account")


def mentioned_accts(parent: Any) -> list[str]:
    """The ``acct`` of every account a status mentions, in its order."""
    entry = _dict(parent, "status")
    return [
        _text(_dict(item, "mention"), "acct", "mention")
        for item in _optional_list(entry, "mentions", "status")
    ]


def sent_of(status: Any) -> Sent:
    """The status Mastodon created for a reply."""
    entry = _dict(status, "status")
    return Sent(
        external_id=_id(entry, "id", "status"),
        url=_optional_text(entry, "url", "status") or _optional_text(entry, "uri", "status"),
    )


def _visibility(entry: Mapping[str, Any]) -> str:
    return _text(entry, "visibility", "status")


# --- accounts --------------------------------------------------------------------------


def account_id(account: Any) -> str:
    """The id of an Account entity (the brand's, from ``verify_credentials``)."""
    return _id(_dict(account, "account"), "id", "account")


def follower_profiles(payload: Any, seen_at: datetime) -> list[NormalizedProfile]:
    """A page of followers (an array of Account entities) as profiles."""
    return [profile_of(item, seen_at) for item in _list(payload, "followers")]


def profile_of(account: Any, seen_at: datetime) -> NormalizedProfile:
    """A follower's Account entity as a profile, with every field Mastodon gives."""
    entry = _dict(account, "account")
    fields = [_dict(item, "field") for item in _optional_list(entry, "fields", "account")]
    avatar = _optional_text(entry, "avatar", "account")
    header = _optional_text(entry, "header", "account")
    return NormalizedProfile(
        network=NETWORK,
        external_id=_id(entry, "id", "account"),
        relation="follower",
        handle=_text(entry, "acct", "account"),
        display_name=_optional_text(entry, "display_name", "account") or None,
        bio=html_to_text(_optional_text(entry, "note", "account") or "") or None,
        followers_count=_count(entry, "followers_count"),
        following_count=_count(entry, "following_count"),
        posts_count=_count(entry, "statuses_count"),
        account_created_at=_optional_moment(entry, "created_at"),
        last_post_at=_optional_moment(entry, "last_status_at"),
        default_avatar=None if avatar is None else DEFAULT_AVATAR in avatar,
        default_banner=None if header is None else DEFAULT_HEADER in header,
        profile_url=_optional_text(entry, "url", "account"),
        website=_website(fields),
        location=_location(fields),
        verified=any(field.get("verified_at") for field in fields),
        declared_bot=_flag(entry, "bot"),
        seen_at=seen_at,
    )


def _website(fields: list[Mapping[str, Any]]) -> str | None:
    """The first web address in the profile's fields (their values are HTML links)."""
    for field in fields:
        found = _WEB_ADDRESS.search(html_to_text(_text(field, "value", "field")))
        if found:
            return found.group(0).rstrip(".,;:!?)")
    return None


def _location(fields: list[Mapping[str, Any]]) -> str | None:
    """Mastodon has no location; people often add a field named "Location"."""
    for field in fields:
        if _text(field, "name", "field").strip().lower() in _LOCATION_FIELDS:
            return html_to_text(_text(field, "value", "field")) or None
    return None


# --- apps and tokens -------------------------------------------------------------------


def app_credentials(payload: Any) -> dict[str, str]:
    """The client id and secret of a registered Application."""
    entry = _dict(payload, "application")
    return {
        "client_id": _text(entry, "client_id", "application"),
        "client_secret": _text(entry, "client_secret", "application"),
    }


def access_token(payload: Any) -> str:
    """The access token of a Token entity."""
    return _text(_dict(payload, "token"), "access_token", "token")


def error_reason(payload: Any) -> str | None:
    """The reason Mastodon gives in an error body (``error``, then any
    ``error_description``), at most 300 characters."""
    if not isinstance(payload, Mapping):
        return None
    parts = [payload.get("error"), payload.get("error_description")]
    reason = ": ".join(part for part in parts if isinstance(part, str) and part)
    return reason[:300] or None


# --- reading values --------------------------------------------------------------------


def _dict(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedPayloadError(f"Mastodon {what}: expected an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedPayloadError(f"Mastodon {what}: expected an array")
    return value


def _optional_list(entry: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = entry.get(key)
    return [] if value is None else _list(value, f"{what} {key}")


def _id(entry: Mapping[str, Any], key: str, what: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedPayloadError(f"Mastodon {what}: {key!r} is missing or not a string")
    return value


def _optional_id(entry: Mapping[str, Any], key: str, what: str) -> str | None:
    return None if entry.get(key) is None else _id(entry, key, what)


def _text(entry: Mapping[str, Any], key: str, what: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise MalformedPayloadError(f"Mastodon {what}: {key!r} is missing or not a string")
    return value


def _optional_text(entry: Mapping[str, Any], key: str, what: str) -> str | None:
    return None if entry.get(key) is None else _text(entry, key, what)


def _count(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedPayloadError(f"Mastodon account: {key!r} is not a count")
    return value


def _flag(entry: Mapping[str, Any], key: str) -> bool | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, bool):
        raise MalformedPayloadError(f"Mastodon account: {key!r} is not true or false")
    return value


def _moment(entry: Mapping[str, Any], key: str, what: str) -> datetime:
    moment = _when(_text(entry, key, what))
    if moment is None:
        raise MalformedPayloadError(f"Mastodon {what}: {key!r} is not a date")
    return moment


def _optional_moment(entry: Mapping[str, Any], key: str) -> datetime | None:
    return None if entry.get(key) is None else _moment(entry, key, "account")


def _when(text: str) -> datetime | None:
    """An ISO 8601 datetime, or a bare date (``last_status_at`` is one), in UTC."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
