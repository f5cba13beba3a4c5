"""The ``dialoga classify`` command's work: JSON lines in, one reading per line out, streamed.

Lines are read as bytes, at most ``MAX_LINE_BYTES`` of each kept, and read by the models
``batch_size`` lines at a time, each batch written before the next is read: memory stays
flat however long the file. A line that is not valid UTF-8 is decoded with replacement
characters and counted as repaired; a line that cannot be read (not JSON, not an object,
no ``id`` or ``text``, too long) becomes an error line in its place, and the rest goes on.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dialoga.core.errors import DialogaError, ValidationError
from dialoga.understand.queries import SUPPORTED_LANGUAGES
from dialoga.understand.reading import TIERS, Reader, Reading

STANDARD_STREAM = "-"
DEFAULT_BATCH_SIZE = 1000
MAX_LINE_BYTES = 1_000_000
SCORE_DIGITS = 4
_CHUNK_BYTES = 64 * 1024
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

Record = dict[str, Any]


@dataclass(slots=True)
class ClassifySummary:
    """What a run did, for the line printed at its end."""

    lines: int = 0
    classified: int = 0
    errors: int = 0
    repaired: int = 0


@dataclass(slots=True)
class _Pending:
    """The lines of the batch being gathered: readable ones and error lines, in order."""

    records: list[Record | None] = field(default_factory=list)
    ids: list[object] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    hints: list[str | None] = field(default_factory=list)


class LineError(ValueError):
    """One input line that cannot be classified; the message says why, and ``identifier``
    is its id when one was found."""

    def __init__(self, reason: str, identifier: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.identifier = identifier


def classify_lines(
    lines: Iterable[bytes],
    reader: Reader,
    batch_size: int = DEFAULT_BATCH_SIZE,
    summary: ClassifySummary | None = None,
) -> Iterator[Record]:
    """One output record per non-blank line of ``lines``, in their order, read
    ``batch_size`` lines at a time: each batch is yielded before the next is drawn."""
    summary = summary if summary is not None else ClassifySummary()
    pending = _Pending()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        summary.lines += 1
        _gather(pending, number, raw, summary)
        if len(pending.records) >= batch_size:
            yield from _flush(pending, reader, summary)
            pending = _Pending()
    yield from _flush(pending, reader, summary)


def _gather(pending: _Pending, number: int, raw: bytes, summary: ClassifySummary) -> None:
    try:
        identifier, text, hint = parse_line(raw, summary)
    except LineError as error:
        summary.errors += 1
        pending.records.append({"id": error.identifier, "error": error.reason, "line": number})
        return
    pending.records.append(None)
    pending.ids.append(identifier)
    pending.texts.append(text)
    pending.hints.append(hint)


def _flush(pending: _Pending, reader: Reader, summary: ClassifySummary) -> Iterator[Record]:
    readings = iter(reader.read(pending.texts, pending.hints) if pending.texts else [])
    ids = iter(pending.ids)
    for record in pending.records:
        if record is None:
            summary.classified += 1
            yield reading_record(next(ids), next(readings))
        else:
            yield record


def parse_line(raw: bytes, summary: ClassifySummary) -> tuple[object, str, str | None]:
    """The ``id``, ``text`` and language hint of one line, or ``LineError`` (with the id
    when it was found) saying what is wrong with it."""
    if len(raw) > MAX_LINE_BYTES:
        raise LineError(f"text too long: the line is over {MAX_LINE_BYTES:,} bytes")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        line = raw.decode("utf-8", errors="replace")
        summary.repaired += 1
    try:
        item = json.loads(line.removeprefix("\ufeff"))  # a byte order mark, from some editors
    except (ValueError, RecursionError) as error:
        raise LineError(f"not JSON: {_json_reason(error)}") from None
    if not isinstance(item, dict):
        raise LineError(f"not a JSON object but a {type(item).__name__}")
    return _fields(item, summary)


def _json_reason(error: ValueError | RecursionError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at character {error.pos + 1}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)


def _fields(item: dict[str, Any], summary: ClassifySummary) -> tuple[object, str, str | None]:
    if "id" not in item:
        raise LineError("no id")
    identifier = item["id"]
    if isinstance(identifier, bool) or not isinstance(identifier, (str, int)):
        raise LineError("id must be a string or an integer")
    if "text" not in item:
        raise LineError("no text", identifier)
    text, hint = item["text"], item.get("lang")
    if not isinstance(text, str):
        raise LineError("text must be a string", identifier)
    if hint is not None and not isinstance(hint, str):
        raise LineError("lang must be a string (an ISO 639-1 code such as it)", identifier)
    clean = _LONE_SURROGATE.sub("\ufffd", text)
    if clean != text:
        summary.repaired += 1
    return identifier, clean, hint or None


def reading_record(identifier: object, reading: Reading) -> Record:
    """The documented output line of a message read."""
    return {
        "id": identifier,
        "language": reading.language,
        "sentiment": reading.sentiment,
        "sentiment_scores": {
            name: round(value, SCORE_DIGITS) for name, value in reading.sentiment_scores.items()
        },
        "intent": reading.intent,
        "spam": round(reading.spam, SCORE_DIGITS),
    }


def bounded_lines(stream: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of ``stream``, each cut to ``limit + 1`` bytes (the rest of a longer line
    is skipped in chunks), so one huge line never sits in memory."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(_CHUNK_BYTES)) and not rest.endswith(b"\n"):
                pass
        yield line


def check_options(tier: str, languages: Sequence[str], batch_size: int) -> tuple[str, ...]:
    """The languages as a tuple, once the tier, languages and batch size are known good."""
    if tier not in TIERS:
        raise ValidationError(f"unknown tier {tier!r}; known: {', '.join(TIERS)}")
    chosen = tuple(code.strip().lower() for code in languages if code.strip())
    unknown = [code for code in chosen if code not in SUPPORTED_LANGUAGES]
    if unknown or not chosen:
        raise ValidationError(
            f"unsupported languages {', '.join(unknown) or '(none given)'}; "
            f"supported: {', '.join(SUPPORTED_LANGUAGES)}"
        )
    if batch_size < 1:
        raise ValidationError("the batch size must be at least 1")
    return chosen


def load_reader(tier: str, languages: tuple[str, ...]) -> Reader:
    """The shipped reader of ``tier``; a missing model file is a clear error."""
    from dialoga.understand.readers import shipped_reader

    try:
        return shipped_reader(tier, languages)
    except OSError as error:
        raise DialogaError(f"cannot load the {tier} tier's model: {error}") from None


def run_classify(
    source: str, destination: str, reader: Reader, batch_size: int = DEFAULT_BATCH_SIZE
) -> ClassifySummary:
    """Classify the JSON lines of ``source`` into ``destination`` (``-``: standard input
    and output); a file that cannot be opened is a ``DialogaError``."""
    summary = ClassifySummary()
    with ExitStack() as stack:
        lines = stack.enter_context(_open_input(source))
        output = stack.enter_context(_open_output(source, destination))
        for record in classify_lines(bounded_lines(lines), reader, batch_size, summary):
            output.write(json.dumps(record) + "\n")
        output.flush()
    return summary


def _open_input(source: str) -> AbstractContextManager[IO[bytes]]:
    if source == STANDARD_STREAM:
        return nullcontext(sys.stdin.buffer)
    try:
        return Path(source).open("rb")
    except OSError as error:
        raise DialogaError(f"cannot read {source}: {error.strerror or error}") from None


def _open_output(source: str, destination: str) -> AbstractContextManager[IO[str]]:
    if destination == STANDARD_STREAM:
        return nullcontext(sys.stdout)
    path = Path(destination)
    if source != STANDARD_STREAM and path.exists() and path.samefile(source):
        raise DialogaError(f"the output {destination} is the input: it would be overwritten")
    try:
        return path.open("w", encoding="utf-8", newline="\n")
    except OSError as error:
        raise DialogaError(f"cannot write {destination}: {error.strerror or error}") from None
