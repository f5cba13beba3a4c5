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
    NormalizedAuthor,
    NormalizedMessage,
    Parsed,
    Rejection,
    SourceProgress,
)
from dialoga.channels.importers.fields import (
    MAX_TEXT_CHARS,
    boolean,
    checked_text,
    has_invalid_utf8,
    numeric_id,
    optional_numeric_id,
    raw_excerpt,
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
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    yield Rejection(self.path.name, reader.line_num, f"unreadable CSV: {error}")
                    continue
                yield parse_row(row, self.path.name, reader.line_num)

    def _check_header(self, header: list[str] | None) -> None:
        names = [name.strip() for name in header or []]
        if [name.lower() for name in names] != COLUMNS:
            shown = raw_excerpt(", ".join(names[:8]))[:200] if names else "nothing"
            raise ImportFormatError(
                f"{self.path.name} is not a Customer Support on Twitter CSV: its first line "
                f"should name the columns {', '.join(COLUMNS)}, but it has {shown}."
            )


def parse_row(row: list[str], source: str, line: int) -> Parsed:
    """One CSV row as a normalized message, or the reason it cannot be one."""
    if len(row) != len(COLUMNS):
        return Rejection(
            source,
            line,
            f"expected {len(COLUMNS)} fields, found {len(row)}",
            raw_excerpt(",".join(row)),
        )
    tweet_id, author_id, inbound, created_at, text, _responses, parent = row
    # The other fields are digits, booleans and dates: their parsers refuse stray bytes.
    if has_invalid_utf8([author_id, text]):
        return Rejection(source, line, "the row is not valid UTF-8", raw_excerpt(",".join(row)))
    try:
        external_id = numeric_id(tweet_id, "tweet_id")
        is_inbound = boolean(inbound, "inbound")
        moment = twitter_date(created_at)
        parent_id = optional_numeric_id(parent, "in_response_to_tweet_id")
        body = checked_text(text)
    except ValueError as error:
        return Rejection(source, line, str(error), raw_excerpt(",".join(row)))
    author = author_id.strip()
    if not author:
        return Rejection(source, line, "author_id is empty", raw_excerpt(",".join(row)))
    return NormalizedMessage(
        external_id=external_id,
        author=NormalizedAuthor(NETWORK, author, handle=author, is_brand=not is_inbound),
        created_at=moment,
        text=body,
        kind=("reply" if parent_id else "mention")
        if is_inbound
        else ("reply" if parent_id else "post"),
        direction="inbound" if is_inbound else "outbound",
        in_reply_to=parent_id,
    )
