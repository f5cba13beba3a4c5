"""Which language a message is in, among the workspace's languages first.

lingua is accurate on short texts when it weighs a few candidates only. The candidates
are the workspace's languages plus a small pool of other common ones, so a Spanish
message is not forced into Italian; on an ambiguous short text ("ok", "grazie!!") the
workspace's own languages win unless another language is clearly ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from dialoga.understand.queries import SUPPORTED_LANGUAGES
from dialoga.understand.reading import UNDETERMINED
from dialoga.understand.text import has_letters

CLEAR_LEAD = 0.35  # how far another language must be ahead of the workspace's best
_DETECTION_CHARS = 600  # lingua's answer settles well within this many characters


def _lingua(code: str) -> Language:
    return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))


class LanguageGuesser:
    """Tells the language of texts, preferring ``languages`` (ISO 639-1 codes)."""

    def __init__(self, languages: Sequence[str]) -> None:
        unknown = [code for code in languages if code not in SUPPORTED_LANGUAGES]
        if unknown or not languages:
            raise ValueError(f"unsupported languages: {unknown or 'none given'}")
        self.languages = tuple(languages)
        self._preferred = {_lingua(code) for code in languages}
        self._detector = _detector(tuple(sorted(SUPPORTED_LANGUAGES)))

    def guess(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[str]:
        """One ISO 639-1 code per text: a supported hint is trusted, a text without
        letters is ``UNDETERMINED``."""
        hints = hints or [None] * len(texts)
        return [self._one(text, hint) for text, hint in zip(texts, hints, strict=True)]

    def _one(self, text: str, hint: str | None) -> str:
        if hint and hint.lower() in SUPPORTED_LANGUAGES:
            return hint.lower()
        if not has_letters(text):
            return UNDETERMINED
        values = self._detector.compute_language_confidence_values(text[:_DETECTION_CHARS])
        top = values[0]
        if top.language in self._preferred:
            return _code(top.language)
        preferred = next(v for v in values if v.language in self._preferred)
        chosen = top if top.value - preferred.value >= CLEAR_LEAD else preferred
        return _code(chosen.language)


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


@lru_cache(maxsize=4)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*(_lingua(c) for c in codes)).build()
