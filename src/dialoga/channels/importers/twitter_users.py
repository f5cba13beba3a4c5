"""Reader of Twitter API v1.1 user objects: the followers a brand exported, for the audit.

Three shapes are read, all streamed so memory does not grow with the file:

- CSV with the user object's fields as columns (``id``, ``screen_name``,
  ``followers_count``, ``friends_count``, ``statuses_count``, ``created_at``, ...), as
  research datasets and export tools write them;
- JSON Lines: one user object per line, or one ``followers/list`` page (``{"users": [...]}``)
  per line;
- a JSON array of user objects, read element by element.

Booleans are accepted as ``true``/``1``/``1.0`` and empty as false, because exports
disagree. A missing count stays unknown (``None``) rather than becoming zero.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO

from dialoga.channels.base import (
    ImportFormatError,
    NormalizedProfile,
    Parsed,
    Rejection,
    SourceProgress,
)
from dialoga.channels.importers.csv_records import csv_records
from dialoga.channels.importers.fields import (
    MAX_TEXT_CHARS,
    boolean,
    numeric_id,
    raw_excerpt,
    twitter_date,
)
from dialoga.channels.importers.textfile import open_text
from dialoga.channels.importers.values import (
    Values,
    count_value,
    cut,
    identifier,
    text_value,
    type_name,
)

USER_COLUMNS = ("screen_name", "followers_count", "friends_count")
NAME_CHARS = 200
HANDLE_CHARS = 320
MAX_RECORD_CHARS = MAX_TEXT_CHARS * 8
_DEFAULT_IMAGE = "default_profile_images"
_CHUNK_CHARS = 1 << 20


def looks_like_user_objects(names: Mapping[str, object] | list[str]) -> bool:
    """True when the field names are those of a Twitter user object."""
    return all(name in names for name in USER_COLUMNS)


def parse_user(values: Values, source: str, line: int, raw: str) -> Parsed:
    """One user object (a JSON object, or a CSV row by column) as a profile, or why not."""
    try:
        return _profile(values)
    except ValueError as error:
        return Rejection(source, line, str(error), raw_excerpt(raw))


def _profile(values: Values) -> NormalizedProfile:
    handle = identifier(values, "screen_name", HANDLE_CHARS)
    external_id = _user_id(values)
    return NormalizedProfile(
        network="twitter",
        external_id=external_id,
        handle=handle,
        display_name=cut(values, "name", NAME_CHARS),
        bio=text_value(values, "description"),
        followers_count=count_value(values, "followers_count"),
        following_count=count_value(values, "friends_count"),
        posts_count=count_value(values, "statuses_count"),
        account_created_at=_moment(values, "created_at"),
        last_post_at=_last_post(values),
        default_avatar=_default_avatar(values),
        default_banner=_default_banner(values),
        profile_url=f"https://x.com/{handle}" if handle else None,
        website=_website(values),
        location=cut(values, "location", NAME_CHARS),
        verified=_flag(values, "verified"),
        seen_at=_moment(values, "updated"),
    )


def _user_id(values: Values) -> str:
    for name in ("id_str", "id"):
        value = values.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.strip():
            return numeric_id(value, name)
    raise ValueError("id is missing")


def _moment(values: Values, name: str) -> datetime | None:
    value = text_value(values, name)
    if value is None:
        return None
    try:
        return twitter_date(value.strip())
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _last_post(values: Values) -> datetime | None:
    status = values.get("status")
    if isinstance(status, dict):
        return _moment(status, "created_at")
    return None


def _flag(values: Values, name: str) -> bool | None:
    value = values.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        return boolean(value, name)
    raise ValueError(f"{name} must be true or false, not {type_name(value)}")


def _default_avatar(values: Values) -> bool | None:
    if _flag(values, "default_profile_image"):
        return True
    image = values.get("profile_image_url_https") or values.get("profile_image_url")
    if isinstance(image, str) and image.strip():
        return _DEFAULT_IMAGE in image
    return False if "default_profile_image" in values else None


def _default_banner(values: Values) -> bool | None:
    """No header image: the API leaves ``profile_banner_url`` out (or empty) when there is none."""
    banner = values.get("profile_banner_url")
    if isinstance(banner, str) and banner.strip():
        return False
    if "profile_banner_url" in values or "profile_image_url_https" in values:
        return True
    return None


def _website(values: Values) -> str | None:
    """The link in the profile, expanded when the object carries its entities."""
    entities = values.get("entities")
    if isinstance(entities, dict):
        for link in (entities.get("url") or {}).get("urls") or []:
            if isinstance(link, dict) and isinstance(link.get("expanded_url"), str):
                return str(link["expanded_url"])
    address = text_value(values, "url")
    if address is None:
        return None
    address = address.strip()
    if not address.lower().startswith(("http://", "https://")):
        raise ValueError(f"url must be an http:// or https:// address, not {address[:40]!r}")
    return address


class TwitterUsersCsv:
    """Yields one profile or rejection per row of a CSV of Twitter user objects."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.progress = SourceProgress()
        csv.field_size_limit(MAX_RECORD_CHARS)

    def __iter__(self) -> Iterator[Parsed]:
        yield from csv_records(self.path, self.progress, self._header, self._record)

    def _header(self, names: list[str]) -> list[str]:
        if looks_like_user_objects(names) and ("id" in names or "id_str" in names):
            return names
        raise ImportFormatError(
            f"{self.path.name} is not a CSV of Twitter user objects: its first line should "
            f"name the columns id, {', '.join(USER_COLUMNS)}, but it has "
            f"{', '.join(names[:8])[:200] or 'nothing'}."
        )

    def _record(self, values: dict[str, str], line: int, raw: str) -> Parsed:
        return parse_user(values, self.path.name, line, raw)


class TwitterUsersJson:
    """Yields one profile or rejection per user object of a JSON Lines file or JSON array."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.progress = SourceProgress()

    def __iter__(self) -> Iterator[Parsed]:
        with open_text(self.path, self.progress) as handle:
            for line, value, raw in _json_values(handle, self.path.name):
                yield from self._value(value, line, raw)

    def _value(self, value: object, line: int, raw: str) -> Iterator[Parsed]:
        if isinstance(value, Rejection):
            yield value
        elif isinstance(value, dict) and isinstance(value.get("users"), list):
            for user in value["users"]:
                yield from self._value(user, line, raw)
        elif isinstance(value, dict):
            yield parse_user(value, self.path.name, line, raw)
        else:
            reason = f"expected a user object, found {type_name(value)}"
            yield Rejection(self.path.name, line, reason, raw_excerpt(raw))


def _json_values(handle: IO[str], source: str) -> Iterator[tuple[int, object, str]]:
    """Each JSON value of the file with its line: one per line, or the items of one array."""
    first = handle.read(1)
    while first and first.isspace():
        first = handle.read(1)
    if first == "[":
        yield from _array_items(handle, source)
        return
    for number, line in enumerate(_lines(first, handle), 1):
        if not line.strip():
            continue
        if len(line) > MAX_RECORD_CHARS:
            reason = f"the line is longer than {MAX_RECORD_CHARS:,} characters"
            yield number, Rejection(source, number, reason, raw_excerpt(line)), line
            continue
        try:
            yield number, json.loads(line), line
        except (ValueError, RecursionError) as error:
            if number == 1:
                raise ImportFormatError(
                    f"{source} is not JSON Lines of Twitter user objects: line 1 is not JSON."
                ) from None
            yield number, Rejection(source, number, f"not JSON: {error}", raw_excerpt(line)), line


def _lines(first: str, handle: IO[str]) -> Iterator[str]:
    line = first + handle.readline()
    while line:
        yield line
        line = handle.readline()


def _array_items(handle: IO[str], source: str) -> Iterator[tuple[int, object, str]]:
    """The items of a top-level JSON array, decoded one at a time from a sliding buffer."""
    decoder = json.JSONDecoder()
    buffer, line, ended = "", 1, False
    while True:
        stripped = buffer.lstrip(" \t\r\n,")
        line += buffer.count("\n", 0, len(buffer) - len(stripped))
        buffer = stripped
        if buffer.startswith("]"):
            return
        try:
            value, end = decoder.raw_decode(buffer)
        except ValueError as error:
            if ended or len(buffer) > MAX_RECORD_CHARS:
                raise ImportFormatError(
                    f"{source} is not a JSON array of user objects: it breaks near line "
                    f"{line} ({error.args[0].split(':')[0]})."
                ) from None
            chunk = handle.read(_CHUNK_CHARS)
            ended = not chunk
            buffer += chunk
            continue
        raw = buffer[:end]
        yield line, value, raw
        line += raw.count("\n")
        buffer = buffer[end:]
