"""Reader of mbox mailboxes (a Thunderbird folder, a Google Takeout export) into e-mails.

Messages stream one at a time between ``From `` separator lines, so memory does not
grow with the mailbox; each one is parsed by the standard library's ``email`` package.
Replies thread through In-Reply-To and References. The direction is left to ingest,
which makes messages from the brand's own addresses outbound.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from typing import IO

from dialoga.channels.base import (
    ImportFormatError,
    NormalizedAuthor,
    NormalizedMessage,
    Parsed,
    Rejection,
    SourceProgress,
)
from dialoga.channels.importers.fields import MAX_RAW_CHARS, bounded, checked_text, raw_excerpt

NETWORK = "email"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
ID_CHARS = 400
ADDRESS_CHARS = 320
NAME_CHARS = 200
SUBJECT_CHARS = 400
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_POSTMARK = re.compile(rb"From \S+ +[A-Z][a-z]{2},? +[A-Z][a-z]{2} +\d")
_QUOTED_FROM = re.compile(rb">+From ")
_BLANK = (b"\n", b"\r\n")
_UNREADABLE = (LookupError, TypeError, AttributeError, AssertionError, MessageError)


class MboxFile:
    """Yields one e-mail message (or rejection) per message of an mbox file."""

    def __init__(self, path: Path, brand_ids: Iterable[str]) -> None:
        self.path = path
        self.progress = SourceProgress()
        self._brand = frozenset(given.strip().lower() for given in brand_ids)

    def __iter__(self) -> Iterator[Parsed]:
        with _open_bytes(self.path, self.progress) as handle:
            if handle.read(5) not in (b"From ", b""):  # before reading a first line of any size
                raise _not_mbox(self.path.name)
            handle.seek(0)
            for line, data in split_mbox(handle, self.path.name):
                if data is None:
                    reason = f"the message is larger than {MAX_MESSAGE_BYTES // 2**20} MiB"
                    yield Rejection(self.path.name, line, reason)
                else:
                    yield parse_message(data, self.path.name, line, self._brand)


@contextmanager
def _open_bytes(path: Path, progress: SourceProgress) -> Iterator[IO[bytes]]:
    """Open ``path`` as bytes (a mailbox mixes charsets) with ``progress`` following it."""
    with path.open("rb") as handle:
        progress.total = path.stat().st_size
        progress.position = handle.tell
        try:
            yield handle
        finally:
            progress.position = lambda: progress.total


def split_mbox(lines: Iterable[bytes], source: str) -> Iterator[tuple[int, bytes | None]]:
    """Each message as (line of its ``From `` separator, its bytes); ``None`` when too large.

    A separator is a ``From `` line at the start, after a blank line, or shaped like a
    postmark (``From sender Mon Jan  1 ...``); ``>From `` lines lose one ``>`` (mboxrd).
    """
    start, size, previous_blank = 0, 0, True
    chunks: list[bytes] = []
    for number, line in enumerate(lines, 1):
        if line.startswith(b"From ") and (previous_blank or _POSTMARK.match(line)):
            if start:
                yield start, _joined(chunks, size)
            start, chunks, size = number, [], 0
        elif not start:
            raise _not_mbox(source)
        else:
            size += len(line)
            if size > MAX_MESSAGE_BYTES:
                chunks.clear()
            else:
                chunks.append(line[1:] if _QUOTED_FROM.match(line) else line)
        previous_blank = line in _BLANK
    if start:
        yield start, _joined(chunks, size)


def _not_mbox(source: str) -> ImportFormatError:
    return ImportFormatError(f"{source} is not an mbox file: it should start with a 'From ' line.")


def _joined(chunks: list[bytes], size: int) -> bytes | None:
    return None if size > MAX_MESSAGE_BYTES else b"".join(chunks)


def parse_message(
    data: bytes, source: str, line: int, brand: frozenset[str]
) -> NormalizedMessage | Rejection:
    """One message's bytes as a normalized e-mail, or the reason it cannot be one."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        return _normalized(message, brand)
    except ValueError as error:
        reason = str(error)
    except _UNREADABLE as error:
        reason = f"unreadable message: {type(error).__name__}: {error}"
    raw = data[: MAX_RAW_CHARS * 4].decode("utf-8", "surrogateescape")
    return Rejection(source, line, reason, raw_excerpt(raw))


def _normalized(message: EmailMessage, brand: frozenset[str]) -> NormalizedMessage:
    external_id = _message_id(message)
    address, name = _sender(message)
    references = _ids(message, "References")
    in_reply_to = _ids(message, "In-Reply-To")
    return NormalizedMessage(
        external_id=external_id,
        author=NormalizedAuthor(
            NETWORK, address, display_name=name, email=address, is_brand=address in brand
        ),
        created_at=_date(message),
        text=checked_text(_body(message)),
        kind="email",
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=references,
        subject=_subject(message),
    )


def _header(message: EmailMessage, name: str) -> str | None:
    value = message.get(name)
    return None if value is None else _readable(str(value))


def _message_id(message: EmailMessage) -> str:
    value = (_header(message, "Message-ID") or "").strip()
    found = _MESSAGE_ID.search(value)
    identifier = found.group(1) if found else value.strip("<>")
    if not identifier or any(c.isspace() for c in identifier):
        raise ValueError("no Message-ID header")
    return bounded(checked_text(identifier, "Message-ID"), "Message-ID", ID_CHARS)


def _ids(message: EmailMessage, name: str) -> tuple[str, ...]:
    """The message ids a header names, in order, once each."""
    found = _MESSAGE_ID.findall(_header(message, name) or "")
    return tuple(dict.fromkeys(i for i in found if len(i) <= ID_CHARS and "\x00" not in i))


def _sender(message: EmailMessage) -> tuple[str, str | None]:
    header = message.get("From")
    if header is None:
        raise ValueError("no From header")
    for address in getattr(header, "addresses", ()):
        spec = _readable(str(address.addr_spec)).strip().lower()
        if "@" in spec.strip("@"):
            name = " ".join(_readable(str(address.display_name or "")).split())[:NAME_CHARS]
            return bounded(checked_text(spec, "From"), "From", ADDRESS_CHARS), name or None
    raise ValueError(f"the From header has no e-mail address: {_readable(str(header))[:60]!r}")


def _date(message: EmailMessage) -> datetime:
    header = message.get("Date")
    if header is None or not str(header).strip():
        raise ValueError("no Date header")
    moment = getattr(header, "datetime", None)
    if not isinstance(moment, datetime):
        raise ValueError(f"bad Date header: {_readable(str(header))[:60]!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _subject(message: EmailMessage) -> str | None:
    subject = " ".join((_header(message, "Subject") or "").split())
    return subject[:SUBJECT_CHARS] or None


def _body(message: EmailMessage) -> str:
    """The text/plain body, else the text/html body as plain text, else nothing."""
    for subtype in ("plain", "html"):
        part = message.get_body(preferencelist=(subtype,))
        content = part.get_content() if part is not None else None
        if isinstance(content, str):
            text = _readable(content)
            return (html_to_text(text) if subtype == "html" else text).strip()
    return ""


def _readable(text: str) -> str:
    """Text with raw 8-bit bytes (kept by the parser as surrogates) read as UTF-8, no NUL."""
    try:
        readable = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        readable = text.encode("utf-8", "replace").decode("utf-8")
    return readable.replace("\x00", "")


_HIDDEN = frozenset({"script", "style", "title", "template", "noscript"})
_BLOCKS = frozenset(
    {"p", "div", "li", "tr", "table", "ul", "ol", "blockquote", "pre", "section", "article",
     "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6"}
)  # fmt: skip
_BREAKS = frozenset({"br", "hr"})
_SPACES = re.compile(r"\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")


class _HtmlText(HTMLParser):
    """Collects the readable text of HTML; scripts, styles and heads are dropped unread."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS or tag in _BREAKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS and tag != "li":
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS or tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(_SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    """The text a reader would see in ``markup``, one paragraph per line; never markup."""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = (line.strip() for line in "".join(parser.parts).split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
