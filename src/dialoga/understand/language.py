"""Which language a message is in, among the workspace's languages first.

A text whose function words all belong to one of the workspace's languages is in that
language (``function_words``: a few microseconds, and right more often than lingua on
the public corpora). For the others, lingua is accurate on short texts when it weighs
few candidates, and fast on longer ones in its low-accuracy mode. So a short text
(under ``SHORT_TEXT`` characters) is told among the workspace's languages only, with
lingua's full models; a longer one among those and a small pool of other common
languages, in low-accuracy mode, so a Spanish e-mail is not forced into Italian, yet
the workspace's languages win unless another is clearly ahead
(``benchmarks/understand.py`` times it on one core).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from dialoga.understand.function_words import function_word_language
from dialoga.understand.queries import SUPPORTED_LANGUAGES
from dialoga.understand.reading import UNDETERMINED
from dialoga.understand.text import has_letters, without_surrogates

SHORT_TEXT = 60
CLEAR_LEAD = 0.35  # how far another language must be ahead of the workspace's best
_DETECTION_CHARS = 600  # lingua's answer settles well within this many characters


class LanguageGuesser:
    """Tells the language of texts, preferring ``languages`` (ISO 639-1 codes)."""

    def __init__(self, languages: Sequence[str]) -> None:
        unknown = [code for code in languages if code not in SUPPORTED_LANGUAGES]
        if unknown or not languages:
            raise ValueError(f"unsupported languages: {unknown or 'none given'}")
        self.languages = tuple(languages)
        self._preferred = {_lingua(code) for code in languages}
        self._short = _detector(tuple(sorted(set(languages))), low_accuracy=False)
        self._long = _detector(tuple(sorted(SUPPORTED_LANGUAGES)), low_accuracy=True)

    def __reduce__(self) -> tuple[type[LanguageGuesser], tuple[tuple[str, ...]]]:
        """Pickled as its languages (lingua's detectors are rebuilt, not copied)."""
        return (LanguageGuesser, (self.languages,))

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
        text = without_surrogates(text[:_DETECTION_CHARS])
        screened = function_word_language(text)
        if screened in self.languages:
            return screened
        if len(text) < SHORT_TEXT:
            found = self._short.detect_language_of(text)
            return _code(found) if found is not None else self.languages[0]
        values = self._long.compute_language_confidence_values(text)
        top = values[0]
        if top.language in self._preferred:
            return _code(top.language)
        preferred = next(v for v in values if v.language in self._preferred)
        chosen = top if top.value - preferred.value >= CLEAR_LEAD else preferred
        return _code(chosen.language)


def _lingua(code: str) -> Language:
    return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...], *, low_accuracy: bool) -> LanguageDetector:
    builder = LanguageDetectorBuilder.from_languages(*(_lingua(c) for c in codes))
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()
