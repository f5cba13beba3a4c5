"""Typed values out of an import record (a JSON object, or a CSV row by column name).

Pure functions shared by the readers of record-shaped files; each raises ``ValueError``
with a message fit for a rejects file. Absent, null, empty and blank all mean none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from dialoga.channels.importers.fields import boolean, bounded, checked_text, iso_date

ID_CHARS = 400
_TYPE_NAMES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "a list",
    dict: "an object",
}

Values = Mapping[str, object]
_Choice = TypeVar("_Choice", bound=str)


def text_value(values: Values, name: str, *, numbers: bool = False) -> str | None:
    """A text field as it came; absent, null, empty and blank all mean none."""
    value = values.get(name)
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None:
        return None
    if not isinstance(value, str):
        wanted = "a string or an integer" if numbers else "a string"
        raise ValueError(f"{name} must be {wanted}, not {type_name(value)}")
    return checked_text(value, name) if value.strip() else None


def identifier(values: Values, name: str, limit: int = ID_CHARS) -> str | None:
    value = text_value(values, name, numbers=True)
    return None if value is None else bounded(value.strip(), name, limit)


def required(values: Values, name: str, limit: int = ID_CHARS) -> str:
    value = identifier(values, name, limit)
    if value is None:
        raise ValueError(f"{name} is missing")
    return value


def cut(values: Values, name: str, limit: int) -> str | None:
    """A name or subject, cut to what the database keeps."""
    value = text_value(values, name)
    return None if value is None else " ".join(value.split())[:limit]


def choice(values: Values, name: str, options: Mapping[str, _Choice]) -> _Choice | None:
    value = text_value(values, name)
    if value is None:
        return None
    found = options.get(value.strip().lower())
    if found is None:
        raise ValueError(f"{name} must be one of {', '.join(options)}, not {value[:40]!r}")
    return found


def date_value(values: Values, name: str) -> datetime | None:
    value = text_value(values, name)
    if value is None:
        return None
    try:
        return iso_date(value)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def count_value(values: Values, name: str) -> int | None:
    value = values.get(name)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    raise ValueError(f"{name} must be a whole number of zero or more, not {shown_value(value)}")


def flag(values: Values, name: str) -> bool | None:
    value = values.get(name)
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return boolean(value, name)
    raise ValueError(f"{name} must be true or false, not {shown_value(value)}")


def url(values: Values, name: str) -> str | None:
    value = text_value(values, name)
    if value is None:
        return None
    address = value.strip()
    if not address.lower().startswith(("http://", "https://")) or any(c.isspace() for c in address):
        raise ValueError(f"{name} must be an http:// or https:// address, not {address[:40]!r}")
    return address


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), "null" if value is None else "a string")


def shown_value(value: object) -> str:
    return repr(value)[:40] if isinstance(value, str | int | float) else type_name(value)
