"""Opening input files for importers: UTF-8 text that reports how far it has been read."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dialoga.channels.base import SourceProgress


@contextmanager
def open_text(path: Path, progress: SourceProgress) -> Iterator[io.TextIOWrapper]:
    """Open ``path`` as UTF-8 text; bytes that are not UTF-8 survive as surrogates.

    Readers check rows (``fields.checked_text``, ``fields.has_invalid_utf8``) and reject
    them, instead of failing the whole file or silently changing the text. ``progress``
    follows the bytes the text layer has consumed.
    """
    raw = path.open("rb")
    progress.total = path.stat().st_size
    progress.position = raw.tell
    text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
    try:
        yield text
    finally:
        progress.position = lambda: progress.total
        text.close()
