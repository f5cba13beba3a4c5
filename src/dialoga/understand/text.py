"""Text as the models see it: bounded, valid, with URLs and handles folded into tokens.

A 100 kB e-mail and a tweet cost the models about the same: only the first
``MODEL_CHARS`` characters are read. Lone surrogates (from invalid UTF-8 read with
``surrogateescape``) are dropped rather than crashing a batch.
"""

from __future__ import annotations

import re

MODEL_CHARS = 2000
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_REPEATS = re.compile(r"(.)\1{3,}")
_SURROGATES = re.compile("[\ud800-\udfff]")
_LETTER = re.compile(r"[^\W\d_]")


def model_text(text: str) -> str:
    """The text the models read: first ``MODEL_CHARS`` characters, URLs and handles as
    tokens, a letter repeated more than three times squeezed to three, lower case."""
    text = without_surrogates(text[:MODEL_CHARS])
    text = _URL.sub(" _url_ ", text)
    text = _HANDLE.sub(" _user_ ", text)
    return _REPEATS.sub(r"\1\1\1", text).lower()


def without_surrogates(text: str) -> str:
    """``text`` without lone surrogates, which no encoder accepts."""
    return _SURROGATES.sub("", text)


def has_letters(text: str) -> bool:
    """Whether a language can be told at all (emoji, digits and URLs alone cannot)."""
    return _LETTER.search(_HANDLE.sub("", _URL.sub("", text[:MODEL_CHARS]))) is not None
