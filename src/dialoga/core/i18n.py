"""Italian and English for every string the interface shows: one catalog per language.

Catalogs are JSON files in ``dialoga/locale`` (``it.json``, ``en.json``) mapping a key to
its text, with ``{name}`` placeholders. A key missing from a language falls back to
English, then to the key itself, so a gap shows up instead of breaking a page.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALES = ("it", "en")
DEFAULT_LOCALE = "it"
CATALOGS = Path(__file__).parent.parent / "locale"


@cache
def catalog(locale: str) -> dict[str, str]:
    """The strings of one language (read once)."""
    path = CATALOGS / f"{locale}.json"
    loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def translate(locale: str, key: str, **values: object) -> str:
    """The text of ``key`` in ``locale``, placeholders filled."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    text = catalog(chosen).get(key) or catalog("en").get(key) or key
    return text.format(**values) if values else text


def best_locale(accept_language: str | None) -> str:
    """The first of our languages the browser asks for (``Accept-Language``)."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return DEFAULT_LOCALE


def number(locale: str, value: float, decimals: int = 0) -> str:
    """``value`` written the way the language writes it: 4,800.5 in English, 4.800,5 in Italian."""
    text = f"{value:,.{decimals}f}"
    if locale == "it":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
