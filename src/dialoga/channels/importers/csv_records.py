"""CSV files of records, one per row by column name: the reading loop importers share.

Each non-blank row comes out as the importer's parse of its values by column, or as a
rejection that says where and why: unreadable CSV, the wrong number of fields, bytes
that are not UTF-8. A rejection carries the row's raw lines, as they were in the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from dialoga.channels.base import Parsed, Rejection, SourceProgress
from dialoga.channels.importers.fields import has_invalid_utf8, raw_excerpt
from dialoga.channels.importers.textfile import open_text

HeaderCheck = Callable[[list[str]], list[str]]  # the column names to use, or raise
RowParser = Callable[[dict[str, str], int, str], Parsed]  # values, line, raw text


def csv_records(
    path: Path, progress: SourceProgress, check_header: HeaderCheck, parse: RowParser
) -> Iterator[Parsed]:
    """Every row of the file after its header, parsed or rejected."""
    with open_text(path, progress) as handle:
        lines = _RecordedLines(handle)
        reader = csv.reader(lines)
        header = check_header(_first_row(reader))
        while True:
            lines.taken.clear()
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                reason = f"unreadable CSV: {error}"
                yield Rejection(path.name, start, reason, raw_excerpt(lines.text()))
                continue
            if any(cell.strip() for cell in row):
                yield _record(path.name, header, row, start, lines.text(), parse)


def _first_row(reader: Iterator[list[str]]) -> list[str]:
    """The header's names, without a byte-order mark or spaces; none when unreadable."""
    try:
        first = next(reader, None) or []
    except csv.Error:
        first = []
    return [cell.removeprefix("\ufeff").strip() for cell in first]


def _record(
    source: str, header: list[str], row: list[str], line: int, raw: str, parse: RowParser
) -> Parsed:
    if len(row) != len(header):
        reason = f"expected {len(header)} fields, found {len(row)}"
        return Rejection(source, line, reason, raw_excerpt(raw))
    if has_invalid_utf8(row):
        return Rejection(source, line, "the row is not valid UTF-8", raw_excerpt(raw))
    return parse(dict(zip(header, row, strict=True)), line, raw)


class _RecordedLines:
    """The lines of a text file, remembering those taken since the last ``clear``."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self.taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._handle)
        self.taken.append(line)
        return line

    def text(self) -> str:
        return "".join(self.taken).rstrip("\r\n")
