"""A reader for tests that reads by keywords, so a test knows what each text is read as
(the shipped models are tested in ``tests/understand``), and counts its calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dialoga.understand.reading import INTENTS, SENTIMENTS, UNDETERMINED, Reading

# keyword: (sentiment, intent, spam)
KEYWORDS = {
    "vergogna": ("negative", "complaint", 0.05),
    "rimborso": ("neutral", "complaint", 0.05),
    "pessimo": ("negative", "other", 0.05),
    "grazie": ("positive", "praise", 0.02),
    "prezzo": ("neutral", "lead", 0.05),
    "bitcoin": ("neutral", "spam", 0.95),
}


@dataclass
class KeywordReader:
    """Reads the first keyword of ``KEYWORDS`` found (else a neutral question); the
    language is ``en`` for texts with "the", ``und`` for texts without letters, else
    ``it``. ``calls`` keeps the size of each batch read."""

    calls: list[int] = field(default_factory=list)

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Reading]:
        self.calls.append(len(texts))
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> Reading:
        lowered = text.lower()
        sentiment, intent, spam = next(
            (found for word, found in KEYWORDS.items() if word in lowered),
            ("neutral", "question", 0.01),
        )
        if not any(c.isalpha() for c in text):
            language = UNDETERMINED
        else:
            language = "en" if " the " in f" {lowered} " else "it"
        return Reading(
            language,
            sentiment,
            {s: float(s == sentiment) for s in SENTIMENTS},
            intent,
            {i: float(i == intent) for i in INTENTS},
            spam,
        )
