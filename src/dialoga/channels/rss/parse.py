"""Feed documents, as feedparser decodes them, into messages: entries that name one of a
feed's keywords become mentions, entries of the brand's own blog become its posts.

Pure: it reads the decoded document (dicts, strings and ``time.struct_time`` in UTC) and
imports only ``channels.base``. Matching is on whole words, ignoring case and accents
("caffe" finds "Caffè"), in the entry's title and summary as plain text.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from dialoga.channels.base import (
    MalformedPayloadError,
    NormalizedAuthor,
    NormalizedMessage,
    html_to_text,
)

NETWORK = "rss"
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
_WEB = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One feed a channel reads: listened to for ``keywords`` (none: every entry counts,
    for feeds that already are searches), or the brand's own blog (``own_blog``)."""

    url: str
    keywords: tuple[str, ...] = ()
    own_blog: bool = False


def read_feed(
    document: Mapping[str, Any], source: FeedSource, seen: Collection[str], now: datetime
) -> tuple[list[NormalizedMessage], list[str]]:
    """The messages of a decoded feed whose entries were not ``seen`` before, and the ids
    of all its entries in feed order. ``now`` dates entries that carry no date."""
    feed = _mapping(document.get("feed"))
    pattern = keyword_pattern(source.keywords)
    messages: list[NormalizedMessage] = []
    ids: dict[str, None] = {}  # ordered, without repeats
    for entry in entries_of(document, source.url):
        key = entry_id(entry)
        if key is None or key in ids:
            continue
        ids[key] = None
        if key in seen:
            continue
        message = _message(entry, key, feed, source, now)
        if message.text and (
            source.own_blog or pattern is None or pattern.search(fold(message.text))
        ):
            messages.append(message)
    return messages, list(ids)


def entries_of(document: Mapping[str, Any], url: str) -> list[Mapping[str, Any]]:
    """The entries of a decoded feed; ``MalformedPayloadError`` with feedparser's reason
    when the answer is no feed at all (a broken feed whose entries could be read is kept)."""
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise MalformedPayloadError(f"feed {url}: the answer has no list of entries")
    if not entries and (document.get("bozo") or not document.get("version")):
        reason = document.get("bozo_exception") or "neither RSS nor Atom"
        raise MalformedPayloadError(f"feed {url}: not a feed ({reason})")
    return [entry for entry in entries if isinstance(entry, Mapping)]


def entry_id(entry: Mapping[str, Any]) -> str | None:
    """The entry's own id (Atom ``id``, RSS ``guid``), else its link; None without both."""
    for key in ("id", "link"):
        value = _text(entry.get(key))
        if value:
            return value
    return None


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern finding any of ``keywords`` as whole words in ``fold``-ed text (spaces in
    a keyword match any run of white space); None when no keyword is given."""
    words = [r"\s+".join(map(re.escape, fold(k).split())) for k in keywords if k.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)")


def fold(text: str) -> str:
    """``text`` without accents and case, for matching ("Caffè" becomes "caffe")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def feed_key(url: str) -> str:
    """A short stable name of a feed URL; it prefixes entry ids, which are unique only
    within their feed."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def _message(
    entry: Mapping[str, Any],
    key: str,
    feed: Mapping[str, Any],
    source: FeedSource,
    now: datetime,
) -> NormalizedMessage:
    link = _text(entry.get("link"))
    return NormalizedMessage(
        external_id=f"{feed_key(source.url)}:{key}",
        author=_author(entry, feed, source),
        created_at=_moment(entry) or now,
        text=_entry_text(entry),
        kind="post" if source.own_blog else "mention",
        direction="outbound" if source.own_blog else None,
        language=_language(entry, feed),
        url=link if link and urlsplit(link).scheme in _WEB else None,
    )


def _author(
    entry: Mapping[str, Any], feed: Mapping[str, Any], source: FeedSource
) -> NormalizedAuthor:
    """The site speaks for its feed: the brand's blog is the brand; a listened entry is
    its site (where the entry links to), or its named author on that site."""
    feed_site = _host(_text(feed.get("link"))) or _host(source.url)
    title = _text(feed.get("title"))
    if source.own_blog:
        return NormalizedAuthor(
            NETWORK, feed_site, handle=feed_site, display_name=title or feed_site, is_brand=True
        )
    site = _host(_text(entry.get("link"))) or feed_site
    name = _text(entry.get("author"))
    if name:
        return NormalizedAuthor(NETWORK, f"{site}/{name}", handle=site, display_name=name)
    shown = title if title and site == feed_site else site
    return NormalizedAuthor(NETWORK, site, handle=site, display_name=shown)


def _entry_text(entry: Mapping[str, Any]) -> str:
    title = _detail_text(entry, "title")
    summary = _detail_text(entry, "summary")
    return "\n".join(part for part in (title, summary if summary != title else "") if part)


def _detail_text(entry: Mapping[str, Any], key: str) -> str:
    """A text construct as plain text: HTML unless feedparser says it is plain."""
    value = _text(entry.get(key))
    if not value:
        return ""
    if _mapping(entry.get(f"{key}_detail")).get("type") == "text/plain":
        return value
    return html_to_text(value)


def _moment(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except ValueError:
                continue
    return None


def _language(entry: Mapping[str, Any], feed: Mapping[str, Any]) -> str | None:
    for value in (_mapping(entry.get("title_detail")).get("language"), feed.get("language")):
        if isinstance(value, str) and _LANGUAGE.fullmatch(code := value.strip().lower()):
            return code
    return None


def _host(url: str | None) -> str:
    return (urlsplit(url).hostname or "") if url else ""


def _text(value: Any) -> str | None:
    """A string value with its white space collapsed; None for anything else or blank."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
