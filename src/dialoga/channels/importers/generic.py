"""Reader of Dialoga's own generic import format, as JSON Lines or as CSV.

Any source without an importer of its own (a helpdesk, a forum, a spreadsheet of
comments) can be reshaped into one record per line; docs/import-formats.md is the
schema. Both readers turn a line or a row into a mapping of field names to values and
hand it to the one ``parse_record``; lines stream, so memory does not grow with the file.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import IO, Literal, get_args

from dialoga.channels.base import (
    Direction,
    ImportFormatError,
    MessageKind,
    NormalizedAuthor,
    NormalizedMessage,
    NormalizedProfile,
    Parsed,
    Rejection,
    SourceProgress,
)
from dialoga.channels.importers.csv_records import csv_records
from dialoga.channels.importers.fields import (
    MAX_TEXT_CHARS,
    bounded,
    has_invalid_utf8,
    raw_excerpt,
)
from dialoga.channels.importers.fields import (
    shown as shown_text,
)
from dialoga.channels.importers.textfile import open_text
from dialoga.channels.importers.values import (
    ID_CHARS,
    Values,
    choice,
    count_value,
    cut,
    date_value,
    flag,
    identifier,
    required,
    text_value,
    type_name,
    url,
)

MESSAGE_COLUMNS = ("external_id", "created_at", "text", "author_id")
MAX_LINE_CHARS = MAX_TEXT_CHARS * 8
ACCOUNT_CHARS = 320
NAME_CHARS = 200
THREAD_CHARS = 390
_NETWORK = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,4})?")
_KINDS: dict[str, MessageKind] = {kind: kind for kind in get_args(MessageKind)}
_DIRECTIONS: dict[str, Direction] = {name: name for name in get_args(Direction)}
_RELATIONS: dict[str, Literal["follower", "following"]] = {
    "follower": "follower",
    "following": "following",
}
_RECORDS = {"message": "message", "profile": "profile"}


@dataclass(frozen=True, slots=True)
class RecordContext:
    """What the records of one file share: its name, default network and brand accounts."""

    source: str
    network: str
    brand_ids: frozenset[str]
    brand_emails: frozenset[str]

    @classmethod
    def of(cls, path: Path, network: str, brand_ids: Iterable[str]) -> RecordContext:
        ids = frozenset(given.strip() for given in brand_ids if given.strip())
        return cls(path.name, network, ids, frozenset(given.lower() for given in ids))

    def is_brand(self, author_id: str, email: str | None) -> bool:
        """True when the author id or e-mail address is one of the brand's own."""
        return author_id in self.brand_ids or (email or "").lower() in self.brand_emails


class GenericJsonl:
    """Yields one message, profile or rejection per line of a generic JSON Lines file."""

    def __init__(self, path: Path, brand_ids: Iterable[str], network: str) -> None:
        self.path = path
        self.progress = SourceProgress()
        self._context = RecordContext.of(path, network, brand_ids)

    def __iter__(self) -> Iterator[Parsed]:
        started = False
        with open_text(self.path, self.progress) as handle:
            for number, line, complete in _numbered_lines(handle):
                if not complete:
                    reason = f"the line is longer than {MAX_LINE_CHARS:,} characters"
                    yield Rejection(self.path.name, number, reason, raw_excerpt(line))
                elif line.strip():
                    text = line.rstrip("\r\n")
                    yield self._line(text.removeprefix("\ufeff"), number, first=not started)
                    started = True

    def _line(self, line: str, number: int, *, first: bool) -> Parsed:
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as error:
            if first:
                raise ImportFormatError(
                    f"{self.path.name} is not a JSON Lines file: each line should hold one "
                    f"JSON object, but line {number} is not JSON."
                ) from None
            return Rejection(self.path.name, number, f"not JSON: {error}", raw_excerpt(line))
        if has_invalid_utf8([line]):
            return Rejection(
                self.path.name, number, "the line is not valid UTF-8", raw_excerpt(line)
            )
        if not isinstance(value, dict):
            reason = f"the line holds {type_name(value)}, not a JSON object"
            return Rejection(self.path.name, number, reason, raw_excerpt(line))
        return parse_record(value, self._context, number, line)


class GenericCsv:
    """Yields one message, profile or rejection per row of a generic CSV file."""

    def __init__(self, path: Path, brand_ids: Iterable[str], network: str) -> None:
        self.path = path
        self.progress = SourceProgress()
        self._context = RecordContext.of(path, network, brand_ids)
        csv.field_size_limit(MAX_LINE_CHARS)

    def __iter__(self) -> Iterator[Parsed]:
        yield from csv_records(self.path, self.progress, self._header, self._record)

    def _header(self, first: list[str]) -> list[str]:
        names = [name.lower() for name in first]
        has_messages = all(column in names for column in MESSAGE_COLUMNS)
        if "external_id" in names and (has_messages or "record" in names):
            return names
        shown = ", ".join(names[:8])[:200] if names else "nothing"
        raise ImportFormatError(
            f"{self.path.name} is not a generic CSV file: its first line should name the "
            f"columns {', '.join(MESSAGE_COLUMNS)} (or external_id and record, for a file of "
            f"profiles), but it has {shown_text(shown)}."
        )

    def _record(self, values: dict[str, str], line: int, raw: str) -> Parsed:
        return parse_record(values, self._context, line, raw)


def _numbered_lines(handle: IO[str]) -> Iterator[tuple[int, str, bool]]:
    """Each line, its number and whether it is whole; the rest of an over-long line is skipped."""
    for number in count(1):
        line = handle.readline(MAX_LINE_CHARS)
        if not line:
            return
        complete = _ends_line(line)
        if not complete:
            while not _ends_line(handle.readline(MAX_LINE_CHARS)):
                pass
        yield number, line, complete


def _ends_line(part: str) -> bool:
    return len(part) < MAX_LINE_CHARS or part.endswith(("\n", "\r"))


def parse_record(values: Values, context: RecordContext, line: int, raw: str) -> Parsed:
    """One record (a JSON object, or a CSV row by column) as a message or profile, or why not."""
    try:
        if choice(values, "record", _RECORDS) == "profile":
            return _profile(values, context)
        return _message(values, context)
    except ValueError as error:
        return Rejection(context.source, line, str(error), raw_excerpt(raw))


def _message(values: Values, context: RecordContext) -> NormalizedMessage:
    in_reply_to = identifier(values, "in_reply_to")
    direction = choice(values, "direction", _DIRECTIONS)
    subject = cut(values, "subject", ID_CHARS)
    return NormalizedMessage(
        external_id=required(values, "external_id"),
        author=_author(values, context, direction),
        created_at=_required_date(values, "created_at"),
        text=_body(values, subject),
        kind=choice(values, "kind", _KINDS) or _default_kind(in_reply_to),
        direction=direction,
        in_reply_to=in_reply_to,
        thread_key=identifier(values, "thread_id", THREAD_CHARS),
        subject=subject,
        language=_language(values),
        url=url(values, "url"),
    )


def _author(
    values: Values, context: RecordContext, direction: Direction | None
) -> NormalizedAuthor:
    author_id = required(values, "author_id", ACCOUNT_CHARS)
    email = _email(values, "author_email")
    return NormalizedAuthor(
        network=_network(values, context.network),
        external_id=author_id,
        handle=identifier(values, "author_handle", ACCOUNT_CHARS),
        display_name=cut(values, "author_name", NAME_CHARS),
        email=email,
        is_brand=direction == "outbound" or context.is_brand(author_id, email),
    )


def _profile(values: Values, context: RecordContext) -> NormalizedProfile:
    return NormalizedProfile(
        network=_network(values, context.network),
        external_id=required(values, "external_id", ACCOUNT_CHARS),
        relation=choice(values, "relation", _RELATIONS) or "follower",
        handle=identifier(values, "handle", ACCOUNT_CHARS),
        display_name=cut(values, "display_name", NAME_CHARS),
        bio=text_value(values, "bio"),
        followers_count=count_value(values, "followers_count"),
        following_count=count_value(values, "following_count"),
        posts_count=count_value(values, "posts_count"),
        account_created_at=date_value(values, "account_created_at"),
        last_post_at=date_value(values, "last_post_at"),
        default_avatar=flag(values, "default_avatar"),
        default_banner=flag(values, "default_banner"),
        profile_url=url(values, "profile_url"),
        website=url(values, "website"),
        location=cut(values, "location", NAME_CHARS),
        verified=flag(values, "verified"),
        declared_bot=flag(values, "declared_bot"),
        seen_at=date_value(values, "seen_at"),
    )


def _default_kind(in_reply_to: str | None) -> MessageKind:
    return "reply" if in_reply_to else "mention"


def _body(values: Values, subject: str | None) -> str:
    if "text" not in values:
        raise ValueError("text is missing")
    text = text_value(values, "text")
    if text is None and subject is None:
        raise ValueError("text is empty (it may be empty only when there is a subject)")
    return text or ""


def _required_date(values: Values, name: str) -> datetime:
    moment = date_value(values, name)
    if moment is None:
        raise ValueError(f"{name} is missing")
    return moment


def _email(values: Values, name: str) -> str | None:
    value = text_value(values, name)
    if value is None:
        return None
    address = bounded(value.strip(), name, ACCOUNT_CHARS)
    if "@" not in address or any(c.isspace() for c in address):
        raise ValueError(f"{name} must be an e-mail address, not {address[:40]!r}")
    return address


def _network(values: Values, default: str) -> str:
    value = text_value(values, "network")
    if value is None:
        return default
    name = value.strip().lower()
    if not _NETWORK.fullmatch(name):
        raise ValueError(f"network must be a short name such as mastodon, not {value[:40]!r}")
    return name


def _language(values: Values) -> str | None:
    value = text_value(values, "language")
    if value is None:
        return None
    code = value.strip().lower()
    if not _LANGUAGE.fullmatch(code):
        raise ValueError(f"language must be a code such as it, en or pt-br, not {value[:40]!r}")
    return code
