"""What reading one message tells: its language, sentiment, intent and spam probability.

Every tier (the fast scikit-learn models, the optional deep tier) answers with these
``Reading`` values, so ingest, the inbox and the ``classify`` command need not know which
tier read a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

SENTIMENTS = ("negative", "neutral", "positive", "mixed")
INTENTS = ("question", "complaint", "praise", "lead", "spam", "other")
UNDETERMINED = "und"  # the language of a text with no words (emoji only, a bare URL)
TIERS = ("fast", "deep")


@dataclass(frozen=True, slots=True)
class Reading:
    """One message read: each score is a probability; the scores of a field sum to 1."""

    language: str
    sentiment: str
    sentiment_scores: Mapping[str, float]
    intent: str
    intent_scores: Mapping[str, float]
    spam: float


class Reader(Protocol):
    """Reads texts in batches; ``languages`` (one per text, or none) are hints a source gave."""

    def read(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[Reading]: ...
