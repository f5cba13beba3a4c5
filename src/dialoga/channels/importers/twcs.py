"""Reader of the "Customer Support on Twitter" CSV (Kaggle ``twcs.csv``) format.

Columns: ``tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id``. Every author of a row that is not inbound is one of the
brand's accounts. Rows stream: memory does not grow with the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from dialoga.channels.base import (
    ImportFormatError,
    MessageKind,
    NormalizedAuthor,
    NormalizedMessage,
    Parsed,
    Rejection,
    SourceProgress,
)
from dialoga.channels.importers.fields import (
    MAX_TEXT_CHARS,
    boolean,
    bounded,
    checked_text,
    numeric_id,
    optional_numeric_id,
    raw_excerpt,
    shown,
    twitter_date,
)
from dialoga.channels.importers.textfile import open_text

COLUMNS = [
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
]
NETWORK = "twitter"
ID_CHARS = 64
ACCOUNT_CHARS = 320
AUTHOR_CACHE_LIMIT = 10_000


class CustomerSupportCsv:
    """Yields one message (or rejection) per row of a twcs-format CSV file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.progress = SourceProgress()
        csv.field_size_limit(MAX_TEXT_CHARS * 8)

    def __iter__(self) -> Iterator[Parsed]:
        with open_text(self.path, self.progress) as handle:
            reader = csv.reader(handle)
            self._check_header(next(reader, None))
            authors: dict[tuple[str, bool], NormalizedAuthor] = {}
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    yield Rejection(self.path.name, reader.line_num, f"unreadable CSV: {error}")
                    continue
                yield parse_row(row, self.path.name, reader.line_num, authors)

    def _check_header(self, header: list[str] | None) -> None:
        names = [name.strip() for name in header or []]
        if [name.lower() for name in names] != COLUMNS:
            found = shown(", ".join(names[:8])) if names else "nothing"
            raise ImportFormatError(
                f"{self.path.name} is not a Customer Support on Twitter CSV: its first line "
                f"should name the columns {', '.join(COLUMNS)}, but it has {found}."
            )


def parse_row(
    row: list[str], source: str, line: int, authors: dict[tuple[str, bool], NormalizedAuthor]
) -> Parsed:
    """One CSV row as a normalized message, or the reason it cannot be one.

    ``authors`` remembers the authors met so far (most rows are by a few brand accounts).
    """
    if len(row) != len(COLUMNS):
        return Rejection(
            source,
            line,
            f"expected {len(COLUMNS)} fields, found {len(row)}",
            raw_excerpt(",".join(row)),
        )
    tweet_id, author_id, inbound, created_at, text, _responses, parent = row
    try:
        external_id = bounded(numeric_id(tweet_id, "tweet_id"), "tweet_id", ID_CHARS)
        is_inbound = boolean(inbound, "inbound")
        moment = twitter_date(created_at)
        parent_id = optional_numeric_id(parent, "in_response_to_tweet_id")
        body = checked_text(text)
        author = _author(author_id, is_inbound, authors)
    except ValueError as error:
        return Rejection(source, line, str(error), raw_excerpt(",".join(row)))
    if is_inbound:
        kind: MessageKind = "reply" if parent_id else "mention"
    else:
        kind = "reply" if parent_id else "post"
    return NormalizedMessage(
        external_id=external_id,
        author=author,
        created_at=moment,
        text=body,
        kind=kind,
        direction="inbound" if is_inbound else "outbound",
        in_reply_to=parent_id and bounded(parent_id, "in_response_to_tweet_id", ID_CHARS),
    )


def _author(
    author_id: str, is_inbound: bool, authors: dict[tuple[str, bool], NormalizedAuthor]
) -> NormalizedAuthor:
    known = authors.get((author_id, is_inbound))
    if known is not None:
        return known
    handle = bounded(checked_text(author_id.strip(), "author_id"), "author_id", ACCOUNT_CHARS)
    if not handle:
        raise ValueError("author_id is empty")
    if len(authors) >= AUTHOR_CACHE_LIMIT:
        authors.clear()
    authors[(author_id, is_inbound)] = author = NormalizedAuthor(
        NETWORK, handle, handle=handle, is_brand=not is_inbound
    )
    return author
