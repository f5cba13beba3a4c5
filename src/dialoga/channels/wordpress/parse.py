"""WordPress REST API v2 payloads into messages: approved comments, the brand's own user,
the comment a reply created, WordPress' error bodies. Pure: imports only ``channels.base``.

Ids: a comment is ``comment-<id>``. People are named per site (user ids and guests are
only unique on their own blog): ``<host>/user/<id>`` for registered users,
``<host>/guest/<hash of name and URL>`` for guests (author 0). Threads: a top-level
comment opens its own conversation; a reply names its parent comment, so each commenter's
thread under a post is one conversation (a post with ten commenters is ten).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from dialoga.channels.base import (
    MalformedPayloadError,
    NormalizedAuthor,
    NormalizedMessage,
    Sent,
    html_to_text,
)

NETWORK = "wordpress"
_COMMENT_ID = re.compile(r"comment-([1-9][0-9]*)")


def comments_of(payload: Any, site: str, own_user: int) -> list[NormalizedMessage]:
    """The messages of a ``GET /wp/v2/comments`` answer (a JSON array of comments)."""
    if not isinstance(payload, list):
        raise MalformedPayloadError("WordPress comments: the answer is not a list")
    return [comment_message(item, site, own_user) for item in payload]


def comment_message(item: Any, site: str, own_user: int) -> NormalizedMessage:
    """One comment (view context) of the blog at ``site``; ``own_user`` is the brand's
    WordPress user id."""
    comment = _object(item, "comment")
    parent = _int(comment, "parent")
    content = _object(comment.get("content"), "comment content")
    link = _optional_str(comment, "link")
    return NormalizedMessage(
        external_id=comment_external_id(_int(comment, "id")),
        author=_author(comment, _host(site), own_user),
        created_at=_gmt(comment, "date_gmt"),
        text=html_to_text(_str(content, "rendered")),
        kind="comment",
        in_reply_to=comment_external_id(parent) if parent else None,
        url=link if link and urlsplit(link).scheme in {"http", "https"} else None,
    )


def comment_external_id(comment_id: int) -> str:
    """The external id of WordPress comment ``comment_id``."""
    return f"comment-{comment_id}"


def comment_number(external_id: str | None) -> int | None:
    """The WordPress id inside a ``comment-<id>`` external id; None for anything else."""
    found = _COMMENT_ID.fullmatch(external_id or "")
    return int(found.group(1)) if found else None


def post_of(item: Any) -> int:
    """The id of the post a comment belongs to."""
    return _int(_object(item, "comment"), "post")


def own_user_id(payload: Any) -> int:
    """The brand's user id, from ``GET /wp/v2/users/me``."""
    return _int(_object(payload, "user"), "id")


def sent_comment(payload: Any) -> Sent:
    """The comment ``POST /wp/v2/comments`` created, as ``Sent``."""
    comment = _object(payload, "comment")
    link = _optional_str(comment, "link")
    return Sent(external_id=comment_external_id(_int(comment, "id")), url=link)


def reply_content(text: str) -> str:
    """A reply typed as plain text, as comment content: WordPress reads content as HTML,
    so ``<``, ``>`` and ``&`` are escaped (its own formatting turns new lines into
    paragraphs)."""
    return html.escape(text, quote=False)


def error_code(payload: Any) -> str | None:
    """The ``code`` of a WordPress error body (``rest_comment_closed``), if it is one."""
    code = payload.get("code") if isinstance(payload, Mapping) else None
    return code if isinstance(code, str) else None


def error_reason(payload: Any) -> str:
    """What a WordPress error body says, as text: ``message (code)``."""
    if not isinstance(payload, Mapping):
        return "no reason given"
    message = payload.get("message")
    text = html_to_text(message) if isinstance(message, str) else ""
    code = error_code(payload)
    return f"{text} ({code})" if code and text else text or code or "no reason given"


def _author(comment: Mapping[str, Any], host: str, own_user: int) -> NormalizedAuthor:
    user = _int(comment, "author")
    name = _optional_str(comment, "author_name") or ""
    if user:
        external_id = f"{host}/user/{user}"
    else:
        url = _optional_str(comment, "author_url") or ""
        digest = hashlib.sha256(f"{name.casefold()}\n{url.casefold()}".encode()).hexdigest()
        external_id = f"{host}/guest/{digest[:16]}"
    return NormalizedAuthor(
        network=NETWORK,
        external_id=external_id,
        display_name=name or None,
        is_brand=bool(user) and user == own_user,
    )


def _gmt(item: Mapping[str, Any], key: str) -> datetime:
    """A ``date_gmt`` field: ISO 8601 without offset, in UTC."""
    value = _str(item, key)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedPayloadError(f"WordPress {key} is not a date: {value[:40]!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _host(site: str) -> str:
    return (urlsplit(site).hostname or site).lower()


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedPayloadError(f"WordPress {what}: not a JSON object")
    return value


def _int(item: Mapping[str, Any], key: str) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedPayloadError(f"WordPress answer: {key} is missing or not a number")
    return value


def _str(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise MalformedPayloadError(f"WordPress answer: {key} is missing or not text")
    return value


def _optional_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedPayloadError(f"WordPress answer: {key} is not text")
    return value or None
