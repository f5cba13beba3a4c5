"""The import formats ``dialoga import`` knows, and the network each one feeds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dialoga.channels.base import FileSource
from dialoga.channels.importers.generic import GenericCsv, GenericJsonl
from dialoga.channels.importers.mbox import MboxFile
from dialoga.channels.importers.twcs import CustomerSupportCsv
from dialoga.channels.importers.twitter_users import TwitterUsersCsv, TwitterUsersJson
from dialoga.channels.importers.x_archive import XArchive


@dataclass(frozen=True, slots=True)
class ImportFormat:
    """A format name, what it is, the network it implies and how to open a file of it.

    ``open`` takes the path, the brand's own ids and the channel's network.
    """

    name: str
    description: str
    network: str
    open: Callable[[Path, tuple[str, ...], str], FileSource]


FORMATS: dict[str, ImportFormat] = {
    spec.name: spec
    for spec in (
        ImportFormat(
            "twcs",
            "Customer Support on Twitter CSV (tweet_id, author_id, inbound, ...)",
            "twitter",
            lambda path, _brand_ids, _network: CustomerSupportCsv(path),
        ),
        ImportFormat(
            "x-archive",
            "X (Twitter) account archive, as a zip or unzipped folder (tweets, DMs, followers)",
            "twitter",
            lambda path, brand_ids, _network: XArchive(path, brand_ids),
        ),
        ImportFormat(
            "jsonl",
            "Generic JSON Lines: one message or profile object per line (docs/import-formats.md)",
            "generic",
            GenericJsonl,
        ),
        ImportFormat(
            "csv",
            "Generic CSV: external_id, created_at, text, author_id, ... (docs/import-formats.md)",
            "generic",
            GenericCsv,
        ),
        ImportFormat(
            "mbox",
            "An mbox mailbox of e-mails (Thunderbird, Google Takeout), threaded by References",
            "email",
            lambda path, brand_ids, _network: MboxFile(path, brand_ids),
        ),
        ImportFormat(
            "twitter-users",
            "Twitter API v1.1 user objects (CSV, JSON Lines or JSON array): followers",
            "twitter",
            lambda path, _brand_ids, _network: twitter_users(path),
        ),
    )
}


def twitter_users(path: Path) -> FileSource:
    """The reader of a file of user objects: CSV by its name, else JSON."""
    return TwitterUsersCsv(path) if path.suffix.lower() == ".csv" else TwitterUsersJson(path)
