"""Replies that are personal, not canned: placeholders, and warnings before sending.

Saved replies carry placeholders (``{first_name}``, ``{name}``, ``{handle}``,
``{agent}``) filled for the person at hand; a value that is missing falls back to
another one, or leaves no stray space or comma behind. Before a reply goes out,
``personalisation_warnings`` says when it is a saved reply sent as is, or when it does
not address the person by any of their names. Pure text logic, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

PLACEHOLDERS = ("first_name", "name", "handle", "agent")
IDENTICAL_TO_SAVED_REPLY = "identical_to_saved_reply"
NOT_ADDRESSED = "not_addressed"

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A placeholder with the blanks before it and a separator after it, dropped with it when
# its value is empty: "Ciao {first_name}, grazie" → "Ciao, grazie".
# (Blanks before it are bounded so that a long run of blanks is not read again and again.)
_FILLED = re.compile(r"(?P<lead>[ \t]{0,16})\{(?P<name>\w+)\}(?P<trail>[,;:]?[ \t]*)")
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[\w.-]+(?:@[\w.-]+)?)+")
_SPACE_BEFORE_MARK = re.compile(r" ([,.;:!?])")
_SPACES = re.compile(r"\s+")
_SHORTEST_DERIVED_NAME = 4  # words of a full name shorter than this ("di", "del") are not names


def placeholders_in(body: str) -> set[str]:
    """The names written as ``{name}`` in a text."""
    return set(_PLACEHOLDER.findall(body))


def fill_placeholders(
    body: str,
    *,
    first_name: str | None,
    name: str | None,
    handle: str | None,
    agent: str | None,
) -> str:
    """``body`` with its placeholders filled; unknown placeholders are left as written.

    A missing first name falls back to the first word of the name, then to the handle;
    a missing name to the first name, then the handle; a missing handle to the name. The
    handle is written as a mention (``@giulia_r``). A placeholder with nothing to put in
    it disappears with the blanks before it (and a comma after it at the start of a line).
    """
    mention = _mention(handle)
    first_word = (name or "").strip().split(" ", 1)[0]
    values = {
        "first_name": _first((first_name, first_word, mention)),
        "name": _first((name, first_name, mention)),
        "handle": _first((mention, name, first_name)),
        "agent": _first((agent,)),
    }

    def replace(match: re.Match[str]) -> str:
        key = match["name"]
        if key not in values:
            return match[0]
        if values[key]:
            return match["lead"] + values[key] + match["trail"]
        at_line_start = match.start() == 0 or body[match.start() - 1] == "\n"
        return "" if at_line_start else match["trail"]

    return _FILLED.sub(replace, body)


def personalisation_warnings(
    text: str, *, saved_bodies: Iterable[str], person_names: Iterable[str | None]
) -> list[str]:
    """Why a reply may read as canned: codes ``identical_to_saved_reply``, ``not_addressed``.

    A reply is identical to a saved reply when, leading @mentions aside, it equals one
    (case and blanks aside) as saved or with its placeholders left blank. It is not
    addressed when it names none of ``person_names`` (full name, first name, handle with
    or without @, or a word of four letters or more of a full name), case and accents
    aside, as whole words. With no name known there is nobody to address: no warning.
    """
    warnings = []
    if _is_saved_reply(text, saved_bodies):
        warnings.append(IDENTICAL_TO_SAVED_REPLY)
    names = _names_to_look_for(person_names)
    if names and not any(_mentions(folded(text), name) for name in names):
        warnings.append(NOT_ADDRESSED)
    return warnings


def _first(candidates: Iterable[str | None]) -> str:
    return next((c.strip() for c in candidates if c and c.strip()), "")


def _mention(handle: str | None) -> str:
    bare = (handle or "").strip().lstrip("@")
    return f"@{bare}" if bare else ""


def _normalised(text: str) -> str:
    """Lower case, blanks collapsed, no blank before punctuation, no leading @mentions."""
    text = _SPACES.sub(" ", _LEADING_MENTIONS.sub("", text))
    return _SPACE_BEFORE_MARK.sub(r"\1", text).strip().casefold()


def _is_saved_reply(text: str, saved_bodies: Iterable[str]) -> bool:
    sent = _normalised(text)
    for body in saved_bodies:
        blank = fill_placeholders(body, first_name=None, name=None, handle=None, agent=None)
        if sent in {_normalised(body), _normalised(blank)}:
            return True
    return False


def folded(text: str) -> str:
    """Case and accents folded away: "NICCOLÒ" and "niccolo" read the same."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _names_to_look_for(person_names: Iterable[str | None]) -> set[str]:
    names: set[str] = set()
    for given in person_names:
        name = folded((given or "").strip()).lstrip("@")
        if not name:
            continue
        names.add(name)
        local, at, _server = name.partition("@")
        if at and local:
            names.add(local)  # user@server.social is addressed as @user too
        words = name.split()
        if len(words) > 1:
            names.update(
                w.strip(".,") for w in words if len(w.strip(".,")) >= _SHORTEST_DERIVED_NAME
            )
    return names


def _mentions(folded_text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded_text) is not None
