"""The import formats ``dialoga import`` knows, and the network each one feeds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dialoga.channels.base import FileSource
from dialoga.channels.importers.twcs import CustomerSupportCsv


@dataclass(frozen=True, slots=True)
class ImportFormat:
    """A format name, what it is, the network it implies and how to open a file of it."""

    name: str
    description: str
    network: str
    open: Callable[[Path, tuple[str, ...]], FileSource]


FORMATS: dict[str, ImportFormat] = {
    spec.name: spec
    for spec in (
        ImportFormat(
            "twcs",
            "Customer Support on Twitter CSV (tweet_id, author_id, inbound, ...)",
            "twitter",
            lambda path, _brand_ids: CustomerSupportCsv(path),
        ),
    )
}
