"""The shapes every connector and importer produces: normalized messages and profiles.

Parsers turn a network's payloads or a file's rows into these; ``inbox.actions.ingest``
and the audience store take nothing else. Importers and parsers import only this module
(which re-exports the one error they raise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, Literal, Protocol

from dialoga.core.errors import DialogaError
from dialoga.core.errors import ImportFormatError as ImportFormatError  # noqa: PLC0414

Direction = Literal["inbound", "outbound"]
MessageKind = Literal["mention", "comment", "reply", "dm", "email", "post"]


@dataclass(slots=True, frozen=True)
class NormalizedAuthor:
    """Who wrote a message, as the network names them."""

    network: str
    external_id: str
    handle: str | None = None
    display_name: str | None = None
    email: str | None = None
    is_brand: bool = False


@dataclass(slots=True)
class NormalizedMessage:
    """One message, whatever network or file it came from.

    ``direction`` may be left ``None``: ingest then decides from whether the author is
    one of the brand's own identities. ``thread_key`` names a thread explicitly (a DM
    conversation); otherwise threads follow ``in_reply_to`` and ``references``.
    """

    external_id: str
    author: NormalizedAuthor
    created_at: datetime
    text: str
    kind: MessageKind = "mention"
    direction: Direction | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    thread_key: str | None = None
    subject: str | None = None
    language: str | None = None
    url: str | None = None


@dataclass(slots=True)
class NormalizedProfile:
    """A follower's (or followed account's) public profile; ``None`` means unknown."""

    network: str
    external_id: str
    relation: Literal["follower", "following"] = "follower"
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None
    followers_count: int | None = None
    following_count: int | None = None
    posts_count: int | None = None
    account_created_at: datetime | None = None
    last_post_at: datetime | None = None
    default_avatar: bool | None = None
    default_banner: bool | None = None
    profile_url: str | None = None
    website: str | None = None
    location: str | None = None
    verified: bool | None = None
    declared_bot: bool | None = None
    seen_at: datetime | None = None  # when the source captured it; None: when it was read


@dataclass(slots=True, frozen=True)
class Rejection:
    """A row an importer could not accept: where it was and why."""

    source: str
    line: int
    reason: str
    raw: str = ""


Parsed = NormalizedMessage | NormalizedProfile | Rejection


def _nothing_read() -> int:
    return 0


@dataclass(slots=True)
class SourceProgress:
    """How far a reader has got through its input, in bytes (``position`` asks the file)."""

    total: int = 0
    position: Callable[[], int] = _nothing_read

    @property
    def done(self) -> int:
        return self.position()


class FileSource(Protocol):
    """A file importer: yields parsed items in file order and reports its progress."""

    progress: SourceProgress

    def __iter__(self) -> Iterator[Parsed]: ...


# --- live connectors -------------------------------------------------------------------
# A connector polls one channel's network and sends its replies. Each network's package
# has ``client.py`` (network I/O only), ``parse.py`` (pure: payload -> Normalized*, imports
# only this module) and ``connector.py`` (glue implementing ``Connector``).


class ConnectorError(DialogaError):
    """A network call did not succeed; ``retry_after`` (seconds) when the network said."""

    retry_after: float | None = None

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NetworkUnavailableError(ConnectorError):
    """The network is down, slow or answered 5xx: try again later, with backoff."""


class RateLimitedError(ConnectorError):
    """The network answered 429: wait ``retry_after`` seconds before the next call."""


class AuthExpiredError(ConnectorError):
    """The credentials were refused (expired or revoked token, wrong app password):
    nothing works until someone authorises the channel again."""


class MalformedPayloadError(ConnectorError):
    """The network answered, but not in the documented shape (parse.py raises it)."""


class SendRefusedError(ConnectorError):
    """The network refused this reply for good (too long, deleted parent, blocked):
    sending it again would not help."""


@dataclass(slots=True)
class Poll:
    """What one poll brought, and where the next one starts.

    ``cursor`` is stored in the transaction that stores the messages, so a poll killed
    half-way is simply done again. ``more``: another page is waiting right now.
    ``problems``: parts of the source that failed while the rest was read (one dead feed
    of several): the channel shows them as trouble, and polling goes on.
    """

    messages: list[NormalizedMessage]
    profiles: list[NormalizedProfile]
    cursor: dict[str, Any]
    more: bool = False
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OutgoingReply:
    """A reply written in Dialoga, as a connector needs it to send it.

    ``key`` is Dialoga's own id for the reply, the same on every attempt: connectors
    whose network supports it pass it as an idempotency key (Mastodon), record key
    (Bluesky) or Message-ID (e-mail). ``in_reply_to`` is the external id of the message
    answered; ``references`` the thread's external ids, oldest first; ``recipient`` the
    author of the message answered.
    """

    key: str
    text: str
    kind: MessageKind
    in_reply_to: str | None
    references: tuple[str, ...] = ()
    subject: str | None = None
    recipient: NormalizedAuthor | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """A reply the network accepted: its id there (becomes the message's external id)."""

    external_id: str
    url: str | None = None


class Connector(Protocol):
    """One channel's connection to its network.

    ``idempotent_sends``: a send repeated with the same ``key`` cannot post twice, so a
    send interrupted before its outcome was recorded may be retried; otherwise it is
    marked failed for a person to check. ``renewed_credentials``: after a call, the
    credentials to store in place of the old ones (refreshed tokens), else ``None``.
    """

    idempotent_sends: bool
    renewed_credentials: dict[str, Any] | None

    def poll(self, cursor: dict[str, Any]) -> Poll: ...

    def send(self, reply: OutgoingReply) -> Sent: ...


class _TextOfHtml(HTMLParser):
    """Collects the text of an HTML fragment; block ends and ``<br>`` become new lines."""

    BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "tr", "h1", "h2", "h3", "h4"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """The plain text of an HTML fragment from a network (a toot, a blog comment, a feed
    summary): tags dropped, entities decoded, paragraphs kept as lines. The result is
    text, still to be escaped wherever it is shown."""
    parser = _TextOfHtml()
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
