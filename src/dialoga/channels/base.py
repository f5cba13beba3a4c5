"""The shapes every connector and importer produces: normalized messages and profiles.

Parsers turn a network's payloads or a file's rows into these; ``inbox.actions.ingest``
and the audience store take nothing else. Importers and parsers import only this module
(which re-exports the one error they raise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

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
