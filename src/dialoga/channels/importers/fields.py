"""Parsing of the field values importers meet: dates, booleans, ids, text limits.

Pure functions; each raises ``ValueError`` with a message fit for a rejects file.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

MAX_TEXT_CHARS = 200_000
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
MAX_RAW_CHARS = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
_TRUE = {"true", "1", "yes", "y", "t", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "0.0", ""}


def twitter_date(value: str) -> datetime:
    """Parse Twitter's ``Tue Oct 31 22:10:47 +0000 2017`` quickly; ISO 8601 also accepted."""
    parts = value.split()
    if len(parts) == 6 and parts[1] in _MONTHS:
        hour, minute, second = parts[3].split(":")
        zone = _offset(parts[4])
        moment = datetime(
            int(parts[5]),
            _MONTHS[parts[1]],
            int(parts[2]),
            int(hour),
            int(minute),
            int(second),
            tzinfo=zone,
        )
        return moment if zone is UTC else moment.astimezone(UTC)
    return iso_date(value)


def _offset(text: str) -> timezone:
    if text in ("+0000", "-0000", "Z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[3:5])))


def iso_date(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; a value without a time zone is taken as UTC."""
    text = value.strip()
    if not text:
        raise ValueError("the date is empty")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date (expected ISO 8601)") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def boolean(value: str, name: str) -> bool:
    """Parse a boolean written as True/False, 1/0 or yes/no (empty means false)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {value[:40]!r}")


def numeric_id(value: str, name: str) -> str:
    """A numeric id as text; pandas' ``123.0`` spelling is accepted and normalised."""
    text = value.strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        raise ValueError(f"{name} must be a number, not {value[:40]!r}")
    return text


def optional_numeric_id(value: str, name: str) -> str | None:
    """Like ``numeric_id`` but an empty value (or NaN) means none."""
    if not value.strip() or value.strip().lower() == "nan":
        return None
    return numeric_id(value, name)


def checked_text(value: str, name: str = "text") -> str:
    """Text as it came, refused when it is not valid UTF-8, holds NUL or is unreasonably long.

    NUL and lone surrogates are refused because no database can store them.
    """
    if _SURROGATE.search(value):
        raise ValueError(f"{name} is not valid UTF-8")
    if "\x00" in value:
        raise ValueError(f"{name} contains a NUL character")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"{name} is longer than {MAX_TEXT_CHARS:,} characters ({len(value):,})")
    return value


def has_invalid_utf8(values: list[str]) -> bool:
    """True when a row read with ``surrogateescape`` held bytes that are not UTF-8."""
    return _SURROGATE.search("".join(values)) is not None


def bounded(value: str, name: str, limit: int) -> str:
    """``value`` as it is, refused when longer than the ``limit`` the database keeps."""
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return value


def raw_excerpt(text: str) -> str:
    """The start of a rejected row for the rejects file; bytes that are not UTF-8 read ``\\xNN``."""
    return _SURROGATE.sub(_escaped, text[:MAX_RAW_CHARS])


def shown(text: str, limit: int = 80) -> str:
    """Text fit to quote in a one-line message: invisible and control characters escaped."""
    excerpt = raw_excerpt(text[:limit])
    visible = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in excerpt)
    return visible + ("..." if len(text) > limit else "")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
